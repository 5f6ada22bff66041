from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from llmops.fsutil import atomic_write_bytes, atomic_write_json, atomic_write_text


def test_replaces_content_and_creates_parents(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "f.txt"
    atomic_write_text(target, "one")
    atomic_write_text(target, "two", fsync=False)
    assert target.read_text() == "two"
    assert [p.name for p in target.parent.iterdir()] == ["f.txt"]  # no temporary files left


def test_mode_for_secrets(tmp_path: Path) -> None:
    target = atomic_write_json(tmp_path / "s.json", {"k": 1}, mode=0o600)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert json.loads(target.read_text()) == {"k": 1}


def test_failed_write_keeps_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = atomic_write_bytes(tmp_path / "f.bin", b"old")

    def boom(*_: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("llmops.fsutil.os.replace", boom)
    with pytest.raises(OSError, match="disk full"):
        atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.bin"]
