"""`finetune_model` is skipped when another run already registered a version trained on the same data snapshot,
base model and settings (param `force` trains anyway); a real local MLflow registry, training replaced by a stub."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from llmops.config import LLMOpsConfig, load_config
from llmops.errors import Refused
from llmops.registry import tracking
from llmops.run import Run

SNAPSHOT = "a1b2c3d4e5f6a1b2c3d4e5f6"


@pytest.fixture
def cfg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LLMOpsConfig:
    monkeypatch.setenv("LLMOPS_HOME", str(tmp_path / "home"))
    return load_config()


@pytest.fixture
def trained(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Calls of the training engine (which returns at once)."""
    from llmops.training import finetune

    calls: list[dict[str, Any]] = []

    def fake(cfg: LLMOpsConfig, run_key: str, train_path: str, lineage: Any = None, **kwargs: Any) -> dict[str, Any]:
        calls.append({"run_key": run_key, **kwargs})
        summary = {"final_train_loss": 0.5, "steps": 3}
        return {"mlflow_run_id": "r", "model_dir": "/m", "adapter_dir": None, "base_model": "/b", "summary": summary}

    monkeypatch.setattr(finetune, "run_finetune", fake)
    return calls


def _register_earlier(cfg: LLMOpsConfig, tmp_path: Path, run_key: str, fingerprint: str) -> str:
    c = tracking.client(cfg)
    c.create_registered_model(cfg.mlflow.model_name)
    (tmp_path / "model").mkdir()
    tags = {tracking.RUN_KEY_TAG: run_key, tracking.TRAINING_FINGERPRINT_TAG: fingerprint}
    return str(c.create_model_version(cfg.mlflow.model_name, source=str(tmp_path / "model"), tags=tags).version)


def _finetune(cfg: LLMOpsConfig, key: str, snapshot: str = SNAPSHOT, **params: Any) -> Any:
    from llmops.training.steps import finetune_model

    curated: Any = {"snapshot_hash": snapshot, "train_path": f"/snapshots/{snapshot}/train.parquet"}
    return finetune_model(Run.for_test(cfg, key, params=params), {"passed": True}, curated)


def test_the_fingerprint_follows_data_base_and_settings(cfg: LLMOpsConfig) -> None:
    from llmops.training.finetune import training_fingerprint

    fp = training_fingerprint(cfg, SNAPSHOT)
    assert fp == training_fingerprint(load_config(), SNAPSHOT)
    assert fp != training_fingerprint(cfg, "another")
    assert fp != training_fingerprint(load_config(overrides={"training": {"max_steps": 7}}), SNAPSHOT)
    assert fp != training_fingerprint(load_config(overrides={"base_model": {"name_or_path": "/b"}}), SNAPSHOT)
    # where outputs go and how often progress is logged do not change what is learnt
    assert fp == training_fingerprint(load_config(overrides={"training": {"log_every": 3}}), SNAPSHOT)


def test_already_trained_input_is_skipped_with_the_reason(
    cfg: LLMOpsConfig, tmp_path: Path, trained: list[dict[str, Any]]
) -> None:
    from llmops.prompts import champion_prompt
    from llmops.training.finetune import training_fingerprint

    fingerprint = training_fingerprint(cfg, SNAPSHOT, champion_prompt(cfg))  # the run trains with the champion prompt
    version = _register_earlier(cfg, tmp_path, "retrain__night_1", fingerprint)
    with pytest.raises(Refused, match=f"already trained version {version} in run retrain__night_1"):
        _finetune(cfg, "retrain__night_2")
    assert trained == [], "nothing may be trained"
    run_id = tracking.find_run(cfg, "retrain__night_2")
    assert run_id is not None
    tags = tracking.client(cfg).get_run(run_id).data.tags
    assert tags["llmops.verdict.new_training_input"] == "failed"
    assert SNAPSHOT in tags["llmops.verdict.new_training_input.reason"]


def test_force_new_data_or_the_same_run_train(cfg: LLMOpsConfig, tmp_path: Path, trained: list[dict[str, Any]]) -> None:
    from llmops.prompts import champion_prompt
    from llmops.training.finetune import training_fingerprint

    fingerprint = training_fingerprint(cfg, SNAPSHOT, champion_prompt(cfg))
    _register_earlier(cfg, tmp_path, "retrain__night_1", fingerprint)
    out = _finetune(cfg, "retrain__night_2", force=True)
    assert out["training_fingerprint"] == fingerprint and trained[-1]["fingerprint"] == fingerprint
    _finetune(cfg, "retrain__night_3", snapshot="ffff")  # new data
    _finetune(cfg, "retrain__night_1")  # a retry of the run that registered it resumes
    assert [c["run_key"] for c in trained] == ["retrain__night_2", "retrain__night_3", "retrain__night_1"]


def test_the_fingerprint_is_tagged_on_the_registered_version(
    cfg: LLMOpsConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    from llmops.registry import register
    from llmops.registry.registry import RegisteredVersion

    seen: dict[str, str] = {}

    def fake(cfg: LLMOpsConfig, run_id: str, model_dir: Path, run_key: str, tags: dict[str, str], *_: Any) -> Any:
        seen.update(tags)
        return RegisteredVersion("m", "1", "models:/m/1", run_id, True)

    monkeypatch.setattr(register, "log_and_register", fake)
    monkeypatch.setattr(register, "publish_model_card", lambda *a: None)
    finetune = {"mlflow_run_id": "r", "model_dir": "/m", "base_model": "/b", "training_fingerprint": "fp1"}
    register.register_candidate(cfg, "k", finetune, {"eval_loss": 0.5}, {"passed": True, "reason": "ok"}, {})
    assert seen[tracking.TRAINING_FINGERPRINT_TAG] == "fp1"
