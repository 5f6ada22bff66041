from __future__ import annotations

import hashlib
import json
import stat
from pathlib import Path

import pytest

from llmops.fsutil import (
    atomic_write_bytes,
    atomic_write_json,
    atomic_write_text,
    dir_manifest,
    file_sha256,
    files_manifest,
)


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


def test_file_sha256_streams_in_chunks(tmp_path: Path) -> None:
    data = bytes(range(256)) * 9000  # more than one 1 MiB block
    path = tmp_path / "w.bin"
    path.write_bytes(data)
    assert file_sha256(path) == hashlib.sha256(data).hexdigest()
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    assert file_sha256(empty) == hashlib.sha256(b"").hexdigest()


def test_manifests_name_files_by_relative_path(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "b.json").write_text("{}")
    (tmp_path / "a.safetensors").write_bytes(b"\x00" * 10)
    (tmp_path / "sub" / "c.txt").write_text("c")
    manifest = dir_manifest(tmp_path)
    assert list(manifest) == ["a.safetensors", "b.json", "sub/c.txt"]
    assert manifest["a.safetensors"] == {"bytes": 10, "sha256": hashlib.sha256(b"\x00" * 10).hexdigest()}
    assert list(manifest["b.json"]) == ["bytes", "sha256"]  # the order MLflow's manifest.json shows
    named = files_manifest({"model/b.json": tmp_path / "b.json", "model.py": tmp_path / "sub" / "c.txt"})
    assert named == {"model.py": manifest["sub/c.txt"], "model/b.json": manifest["b.json"]}
    assert list(named) == ["model.py", "model/b.json"]
