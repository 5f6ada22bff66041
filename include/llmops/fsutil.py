"""Crash-safe file writes: write a temporary file in the target's directory, fsync, then ``os.replace``.

A reader (or a crash) sees either the old file or the complete new one, never a half-written file.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any


def fsync_dir(path: Path) -> None:
    """Flush a directory entry (a rename inside it) to disk."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_bytes(path: Path, data: bytes, *, mode: int | None = None, fsync: bool = True) -> Path:
    """Replace ``path`` with ``data`` atomically.

    Args:
        path: target file; its directory is created if needed.
        data: the new content.
        mode: permission bits of the new file (e.g. ``0o600`` for secrets); the process umask applies otherwise.
        fsync: flush the file and the rename to disk before returning.

    Returns:
        ``path``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
    try:
        fd = os.open(tmp, flags, 0o666 if mode is None else mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            if fsync:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, path)
        if fsync:
            fsync_dir(path.parent)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def atomic_write_text(path: Path, text: str, *, mode: int | None = None, fsync: bool = True) -> Path:
    """:func:`atomic_write_bytes` for UTF-8 text."""
    return atomic_write_bytes(path, text.encode("utf-8"), mode=mode, fsync=fsync)


def atomic_write_json(path: Path, obj: Any, *, mode: int | None = None, fsync: bool = True) -> Path:
    """:func:`atomic_write_bytes` for an indented, key-sorted JSON document."""
    return atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True), mode=mode, fsync=fsync)
