"""Evaluation and drift metrics are timestamped by the run's logical date: a re-run overwrites its history point."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from llmops.config import LLMOpsConfig, load_config
from llmops.registry import tracking
from llmops.run import Run

AT = datetime(2026, 1, 1, 2, 0, tzinfo=UTC)
AT_MS = int(AT.timestamp() * 1000)


@pytest.fixture
def cfg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LLMOpsConfig:
    monkeypatch.setenv("LLMOPS_HOME", str(tmp_path / "home"))
    return load_config()


def test_logging_twice_leaves_one_history_point(cfg: LLMOpsConfig) -> None:
    run_id = tracking.get_or_create_run(cfg, "manual__m", "m")
    for _ in range(2):
        tracking.log_metrics(cfg, run_id, {"eval_loss": 0.5, "rouge_l": 0.7}, at=AT)
    c = tracking.client(cfg)
    history = c.get_metric_history(run_id, "eval_loss")
    assert [(m.value, m.timestamp, m.step) for m in history] == [(0.5, AT_MS, 0)]


def test_without_a_date_the_runs_logical_date_tag_then_its_start_decide(cfg: LLMOpsConfig) -> None:
    c = tracking.client(cfg)
    run_id = tracking.get_or_create_run(cfg, "manual__t", "t")
    start = c.get_run(run_id).info.start_time
    assert tracking.metric_timestamp_ms(cfg, run_id) == start
    c.set_tag(run_id, tracking.LOGICAL_DATE_TAG, AT.isoformat())
    assert tracking.metric_timestamp_ms(cfg, run_id) == AT_MS
    tracking.log_metrics(cfg, run_id, {"drift.share": 0.25})
    tracking.log_metrics(cfg, run_id, {"drift.share": 0.25})
    assert [m.timestamp for m in c.get_metric_history(run_id, "drift.share")] == [AT_MS]


def test_a_rerun_of_the_evaluation_step_overwrites_its_point(
    cfg: LLMOpsConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    from llmops.evaluation import evaluate, steps
    from llmops.evaluation.metrics import EvalResult

    def fake_evaluate(
        cfg: LLMOpsConfig, model_dir: Any, prompts: list[str], refs: list[str], extra: list[str], template: Any
    ) -> EvalResult:
        samples = [{"prompt": "p", "reference": "r", "prediction": "x", "rouge_l": 0.5}]
        return EvalResult(0.5, 1.65, 0.1, 0.5, 1, 1, samples, ["" for _ in extra])

    monkeypatch.setattr(evaluate, "_evaluate", fake_evaluate)
    monkeypatch.setattr(evaluate, "load_eval_set", lambda cfg: (["p"], ["r"]))
    run_id = tracking.get_or_create_run(cfg, "manual__e", "e")
    finetune: Any = {"mlflow_run_id": run_id, "model_dir": "/m", "base_model": "/b"}
    run = Run.for_test(cfg, "manual__e", logical_date=AT)
    steps.evaluate_model(run, finetune)
    (cfg.paths.runs_dir / "manual__e" / evaluate.EVAL_FILE).unlink()  # a re-run that evaluates again
    steps.evaluate_model(run, finetune)
    c = tracking.client(cfg)
    for key in ("eval_loss", "base_eval_loss", "eval_rows"):
        assert [(m.timestamp, m.step) for m in c.get_metric_history(run_id, key)] == [(AT_MS, 0)], key
