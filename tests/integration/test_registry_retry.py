"""A registration retried after a crash between logging the model and registering it reuses the logged model: a
REAL MLflow store (SQLite + local artifacts in a temporary state folder) holds one copy of the weights."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from llmops.config import LLMOpsConfig, TinyModelSpec, load_config

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[LLMOpsConfig, Path]:
    from llmops.training.base_model import build_tiny_base_model

    monkeypatch.setenv("LLMOPS_HOME", str(tmp_path / "home"))
    corpus = [f"open settings and share folder {i} with {n}" for i in range(40) for n in ("ann", "bo", "cy")]
    spec = TinyModelSpec(vocab_size=300, n_positions=64, n_embd=32, n_layer=1, n_head=2)
    return load_config(), build_tiny_base_model(spec, corpus, tmp_path / "model")


def _logged_models(cfg: LLMOpsConfig, run_id: str) -> list[Any]:
    from llmops.registry import tracking

    c = tracking.client(cfg)
    experiment_id = str(c.get_run(run_id).info.experiment_id)
    return list(c.search_logged_models([experiment_id], filter_string=f"source_run_id = '{run_id}'"))


def test_a_retry_after_a_crash_before_registration_logs_no_second_copy(
    env: tuple[LLMOpsConfig, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    import mlflow

    from llmops.registry import registry, tracking

    cfg, model_dir = env
    run_id = tracking.get_or_create_run(cfg, "manual__crash", "finetune manual__crash")
    register_model = mlflow.register_model

    def crash(*args: Any, **kwargs: Any) -> Any:
        raise ConnectionError("worker killed between log_model and register_model")

    monkeypatch.setattr(mlflow, "register_model", crash)
    with pytest.raises(ConnectionError):
        registry.log_and_register(cfg, run_id, model_dir, "manual__crash", {})
    assert len(_logged_models(cfg, run_id)) == 1
    assert registry.find_version_for_run(cfg, "manual__crash") is None

    monkeypatch.setattr(mlflow, "register_model", register_model)
    rv = registry.log_and_register(cfg, run_id, model_dir, "manual__crash", {})  # the task's retry
    (logged,) = _logged_models(cfg, run_id)
    assert rv.created and rv.version == "1" and rv.model_uri == logged.model_uri
    assert registry.alias_version(cfg, registry.CHALLENGER) == "1"
    assert registry.logged_model_uri(cfg, run_id) == logged.model_uri
