"""Crash-safe file writes (write a temporary file in the target's directory, fsync, then ``os.replace``) and file
digests.

A reader (or a crash) sees either the old file or the complete new one, never a half-written file.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

_CHUNK = 1 << 20  # model weights are read in 1 MiB blocks, never whole


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


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB chunks.

    Args:
        path: the file.

    Returns:
        64 hex digits.
    """
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def files_manifest(files: Mapping[str, Path]) -> dict[str, dict[str, Any]]:
    """Size and SHA-256 of named files.

    Args:
        files: name in the manifest (e.g. a path relative to a version directory) -> the file to read.

    Returns:
        ``{name: {"bytes": int, "sha256": str}}`` in name order.
    """
    return {
        name: {"bytes": Path(path).stat().st_size, "sha256": file_sha256(Path(path))}
        for name, path in sorted(files.items())
    }


def dir_manifest(root: Path) -> dict[str, dict[str, Any]]:
    """:func:`files_manifest` of every file under ``root``, named by its POSIX path relative to ``root``.

    Args:
        root: the directory (e.g. a saved model).

    Returns:
        ``{"sub/file.ext": {"bytes": int, "sha256": str}}`` in path order.
    """
    root = Path(root)
    return files_manifest({path.relative_to(root).as_posix(): path for path in root.rglob("*") if path.is_file()})


def repair_partial_tail(fh: Any, path: Path, what: str) -> None:
    """Cut a partial last line (a write cut short by power loss or a full disk) off an append-only JSON-lines log
    open as ``fh`` (``a+b``, locked by the caller), keeping it in ``<log>.partial`` with the reason, so the next
    record starts on a line of its own. ``what`` names the log in the reason and the warning."""
    fh.seek(0, os.SEEK_END)
    size = fh.tell()
    if size == 0:
        return
    fh.seek(size - 1)
    if fh.read(1) == b"\n":
        return
    fh.seek(0)
    data = fh.read()
    keep = data.rfind(b"\n") + 1
    fragment = data[keep:]
    note = {"reason": f"partial last line of the {what} (write cut short)", "offset": keep}
    with open(path.with_name(path.name + ".partial"), "ab") as out:
        out.write(json.dumps({**note, "content": fragment.decode("utf-8", errors="replace")}).encode() + b"\n")
        out.flush()
        os.fsync(out.fileno())
    fh.truncate(keep)
    fh.flush()
    os.fsync(fh.fileno())
    log.warning("%s %s ended in a partial line of %d bytes: moved to %s.partial", what, path, len(fragment), path.name)
