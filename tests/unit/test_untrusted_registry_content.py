"""Registry content is not trusted blindly: "previous" comes from the platform's promotion log (a tag that disagrees
is refused), a snapshot named by a tag is read only inside the curated folder and with the recorded content, and
weights downloaded again must match the digest recorded when they served. Pure checks on a real local MLflow store
(SQLite in a temporary home); no Triton."""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path

import pandas as pd
import pytest

from llmops.config import LLMOpsConfig, load_config
from llmops.data.snapshot import SNAPSHOT_HASH_TAG, SNAPSHOT_TAG, UntrustedSnapshot, trusted_snapshot
from llmops.errors import Permanent
from llmops.fsutil import file_sha256, files_manifest
from llmops.registry import registry, tracking
from llmops.serving.champion import promotion_log_path
from llmops.serving.trust import (
    UntrustedWeights,
    check_downloaded_weights,
    folder_weights_digest,
    recorded_weights_digest,
    weights_digest,
)

AT = "2026-01-01T00:00:00+00:00"


@pytest.fixture
def cfg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LLMOpsConfig:
    monkeypatch.setenv("LLMOPS_HOME", str(tmp_path / "home"))
    return load_config()


def _event(cfg: LLMOpsConfig, kind: str, from_version: str | None, to_version: str, **kw: str) -> None:
    event = registry.AliasEvent(kind, kw.pop("model", cfg.mlflow.model_name), from_version, to_version, "r", "x", AT)
    registry.append_event(promotion_log_path(cfg), {**asdict(event), **kw})


# "previous" ----------------------------------------------------------------------------------------------------


@pytest.fixture
def registered(cfg: LLMOpsConfig, tmp_path: Path) -> LLMOpsConfig:
    c = tracking.client(cfg)
    c.create_registered_model(cfg.mlflow.model_name)
    (tmp_path / "model").mkdir()
    for _ in range(3):  # versions 1..3 (an empty source folder: nothing loads them)
        c.create_model_version(cfg.mlflow.model_name, source=str(tmp_path / "model"))
    return cfg


def _tag(cfg: LLMOpsConfig, version: str, value: str) -> None:
    tracking.client(cfg).set_model_version_tag(cfg.mlflow.model_name, version, "llmops.promotion.from_version", value)


def test_previous_comes_from_the_promotion_log(registered: LLMOpsConfig) -> None:
    from llmops.serving.rollback import previous_version

    cfg = registered
    _event(cfg, "promotion", None, "1")
    _event(cfg, "promotion", "1", "3")
    _event(cfg, "rollback", "3", "1")  # rollback events do not define "previous"
    _event(cfg, "promotion", "2", "3", model="another-model")  # nor do other models' events
    assert previous_version(cfg, "3") == 1, "no tag: the log alone decides"
    _tag(cfg, "3", "1")
    assert previous_version(cfg, "3") == 1, "the tag agrees"


def test_previous_of_a_prompt_release_is_the_version_it_replaced(registered: LLMOpsConfig) -> None:
    """A prompt release serves the champion's weights with a new prompt as a version of its own: "previous" undoes
    it like a promotion, and its own from_version tag is the one compared with the log."""
    from llmops.serving.rollback import RollbackError, previous_version

    cfg = registered
    _event(cfg, "promotion", None, "2")
    _event(cfg, "prompt_release", "2", "3")
    assert previous_version(cfg, "3") == 2
    _tag(cfg, "3", "1")  # a model promotion's tag on a released version is not the release's record
    assert previous_version(cfg, "3") == 2
    c = tracking.client(cfg)
    c.set_model_version_tag(cfg.mlflow.model_name, "3", "llmops.prompt_release.from_version", "1")
    with pytest.raises(RollbackError, match=r"llmops\.prompt_release\.from_version"):
        previous_version(cfg, "3")


@pytest.mark.parametrize(("tag", "logged"), [("2", "1"), ("", "1"), ("2", None)])
def test_a_from_version_tag_that_disagrees_with_the_log_is_refused(
    registered: LLMOpsConfig, tag: str, logged: str | None
) -> None:
    from llmops.serving.rollback import RollbackError, previous_version

    cfg = registered
    _event(cfg, "promotion", logged, "3")
    _tag(cfg, "3", tag)
    with pytest.raises(RollbackError, match="tampered") as info:
        previous_version(cfg, "3")
    message = str(info.value)
    assert f"says {tag or '(none)'!r}" in message and f"says {logged or '(none)'!r}" in message
    assert "llmops.promotion.from_version" in message and isinstance(info.value, Permanent)


def test_no_promotion_event_means_no_previous(registered: LLMOpsConfig) -> None:
    from llmops.serving.rollback import RollbackError, previous_version

    cfg = registered
    _tag(cfg, "3", "2")  # a tag alone (and older promoted versions) are not enough
    tracking.client(cfg).set_model_version_tag(cfg.mlflow.model_name, "2", "llmops.promotion.at", AT)
    _event(cfg, "rollback", "1", "3")
    with pytest.raises(RollbackError, match="no promotion event in the promotion log"):
        previous_version(cfg, "3")
    _event(cfg, "promotion", None, "3")
    _tag(cfg, "3", "")
    with pytest.raises(RollbackError, match="first promotion"):
        previous_version(cfg, "3")
    with pytest.raises(RollbackError, match="nothing to roll back from"):
        previous_version(cfg, None)


# Snapshots -------------------------------------------------------------------------------------------------------


def _parquet(path: Path, prompts: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = {"id": [f"r{i}" for i in range(len(prompts))], "prompt": prompts, "response": ["ok"] * len(prompts)}
    pd.DataFrame({**rows, "category": "c", "source": "s"}).to_parquet(path)
    return path


def test_a_snapshot_inside_the_curated_folder_with_its_hash_is_trusted(cfg: LLMOpsConfig) -> None:
    path = _parquet(cfg.paths.curated_dir / "snapshots" / "a" / "train.parquet", ["hi"])
    assert trusted_snapshot(cfg, str(path), file_sha256(path)) == path.resolve()
    assert trusted_snapshot(cfg, path, file_sha256(path).upper()) == path.resolve()


def test_a_snapshot_outside_the_curated_folder_is_refused_before_it_is_read(
    cfg: LLMOpsConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import llmops.fsutil

    outside = _parquet(tmp_path / "elsewhere" / "train.parquet", ["hi"])
    inside = cfg.paths.curated_dir / "snapshots" / "link"
    inside.mkdir(parents=True)
    (inside / "train.parquet").symlink_to(outside)
    dotdot = cfg.paths.curated_dir / "snapshots" / ".." / ".." / ".." / ".." / "elsewhere" / "train.parquet"
    assert dotdot.resolve() == outside.resolve()

    def no_read(path: Path) -> str:
        raise AssertionError(f"{path} was read")

    monkeypatch.setattr(llmops.fsutil, "file_sha256", no_read)
    for candidate in (outside, inside / "train.parquet", dotdot, tmp_path / "missing.parquet"):
        with pytest.raises(UntrustedSnapshot, match="outside the curated-data folder") as info:
            trusted_snapshot(cfg, str(candidate), "0" * 64)
        assert SNAPSHOT_TAG in str(info.value) and str(candidate) in str(info.value)
        assert isinstance(info.value, Permanent)


def test_a_snapshot_whose_content_does_not_match_its_hash_is_refused(cfg: LLMOpsConfig) -> None:
    path = _parquet(cfg.paths.curated_dir / "snapshots" / "a" / "train.parquet", ["hi"])
    recorded = file_sha256(path)
    _parquet(path, ["hi", "planted row"])
    with pytest.raises(UntrustedSnapshot, match=f"{SNAPSHOT_HASH_TAG} records {recorded}") as info:
        trusted_snapshot(cfg, str(path), recorded)
    assert str(path) in str(info.value) and "hashes to" in str(info.value)
    with pytest.raises(UntrustedSnapshot, match="no recorded hash"):
        trusted_snapshot(cfg, str(path), "")
    with pytest.raises(UntrustedSnapshot, match=r"no readable manifest\.json"):
        trusted_snapshot(cfg, str(path), "a" * 24)  # a snapshot hash needs the manifest's settings hash
    (path.parent / "manifest.json").write_text(json.dumps({"config_sha256": "c" * 64}))
    with pytest.raises(UntrustedSnapshot, match="hashes to"):
        trusted_snapshot(cfg, str(path), "a" * 24)
    with pytest.raises(FileNotFoundError):
        trusted_snapshot(cfg, str(path.parent / "gone.parquet"), recorded)


# Weights digest --------------------------------------------------------------------------------------------------


def _model_dir(root: Path, weights: bytes) -> Path:
    root.mkdir(parents=True)
    (root / "config.json").write_text("{}")
    (root / "tokenizer.json").write_text("{}")
    (root / "model.safetensors").write_bytes(weights)
    return root


def test_weights_digest_covers_the_weights_and_tokenizer_only() -> None:
    files = {
        "model.py": {"bytes": 1, "sha256": "a"},
        "model/model.safetensors": {"bytes": 2, "sha256": "b"},
        "model/config.json": {"bytes": 3, "sha256": "c"},
    }
    digest = weights_digest(files)
    assert len(digest) == 64
    assert weights_digest({**files, "model.py": {"bytes": 9, "sha256": "z"}}) == digest, "model.py is the platform's"
    assert weights_digest(dict(reversed(files.items()))) == digest
    assert weights_digest({**files, "model/model.safetensors": {"bytes": 2, "sha256": "x"}}) != digest
    assert folder_weights_digest(Path("/nonexistent")) == ""


def test_downloaded_weights_must_match_the_digest_recorded_when_they_served(cfg: LLMOpsConfig, tmp_path: Path) -> None:
    served = _model_dir(tmp_path / "served", b"\x01" * 64)
    digest = weights_digest(files_manifest({f"model/{p.name}": p for p in served.iterdir()}))
    with pytest.raises(UntrustedWeights, match="has no weights digest in the promotion log"):
        check_downloaded_weights(cfg, 2, served)
    _event(cfg, "promotion", "1", "2", weights_digest=digest)
    _event(cfg, "rollback", "3", "2", weights_digest="f" * 64)  # the first record (when it first served) counts
    _event(cfg, "promotion", "1", "3", model="another-model", weights_digest=digest)
    assert recorded_weights_digest(cfg, "2") == digest
    assert recorded_weights_digest(cfg, 3) is None
    assert check_downloaded_weights(cfg, 2, served) == digest

    replaced = _model_dir(tmp_path / "replaced", b"\x02" * 64)
    with pytest.raises(UntrustedWeights, match="may have been replaced") as info:
        check_downloaded_weights(cfg, 2, replaced)
    assert digest in str(info.value) and isinstance(info.value, Permanent)
    (served / "extra.txt").write_text("added")  # a file the writer would copy changes the digest too
    with pytest.raises(UntrustedWeights):
        check_downloaded_weights(cfg, 2, served)


def test_mlflow_is_told_not_to_unpickle() -> None:
    import llmops  # noqa: F401 - sets the default on import

    assert os.environ["MLFLOW_ALLOW_PICKLE_DESERIALIZATION"] == "false"
    from mlflow.environment_variables import MLFLOW_ALLOW_PICKLE_DESERIALIZATION

    assert MLFLOW_ALLOW_PICKLE_DESERIALIZATION.get() is False
