"""The one promotion rule, and the release step that records it (no Airflow: a `Run` built directly)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from llmops.config import LLMOpsConfig, load_config
from llmops.run import Run
from llmops.serving.release import approval_verdict, promotion_decision

GATE_OK = {"gate": "promotion_gate", "passed": True, "reason": "eval_loss 0.27 beats base 7.66", "metrics": {}}
GATE_NO = {**GATE_OK, "passed": False, "reason": "eval_loss 6.93 worse than champion 0.27 beyond 2.0%"}


@pytest.mark.parametrize(
    ("gate", "drift", "approval", "promote", "passed", "reason"),
    [
        (GATE_OK, {}, None, True, True, "eval_loss 0.27 beats base 7.66"),
        (GATE_OK, {}, approval_verdict(True, "approved by ana"), True, True, "beats base 7.66; approved by ana"),
        (GATE_NO, {}, None, True, False, "not promoted: eval_loss 6.93 worse than champion"),
        (GATE_OK, {"block_promotion": True, "reason": "share 0.9"}, None, True, False, "drift gate: share 0.9"),
        (GATE_OK, {"block_promotion": False, "reason": "share 0.9"}, None, True, True, "beats base"),
        (GATE_OK, {}, approval_verdict(False, "rejected by bo: too slow"), True, False, "rejected by bo: too slow"),
        (GATE_NO, {}, None, False, False, "param promote=false"),
    ],
)
def test_promotion_decision(
    gate: dict[str, Any], drift: dict[str, Any], approval: Any, promote: bool, passed: bool, reason: str
) -> None:
    verdict = promotion_decision(gate, drift, approval, promote)
    assert verdict.gate == "promotion_decision" and verdict.on_fail == "skip"
    assert verdict.passed is passed
    assert reason in verdict.reason


@pytest.fixture
def cfg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LLMOpsConfig:
    monkeypatch.setenv("LLMOPS_HOME", str(tmp_path / "home"))
    return load_config()


def _version(cfg: LLMOpsConfig, tmp_path: Path) -> str:
    """A registered version to tag (its source is an empty folder: nothing here loads it)."""
    from llmops.registry import tracking

    c = tracking.client(cfg)
    c.create_registered_model(cfg.mlflow.model_name)
    (tmp_path / "model").mkdir()
    return str(c.create_model_version(cfg.mlflow.model_name, source=str(tmp_path / "model")).version)


def test_decide_promotion_reads_the_answer_and_records_both_verdicts(cfg: LLMOpsConfig, tmp_path: Path) -> None:
    from llmops.registry import tracking
    from llmops.serving import steps

    answer = {"chosen_options": ["Reject"], "responded_by_user": {"name": "bo"}, "params_input": {"comment": "slow"}}
    asked: list[str] = []

    def upstream(task_id: str) -> Any:
        asked.append(task_id)
        return answer

    run = Run.for_test(cfg, "manual__release", params={"require_approval": True}, upstream=upstream)
    version = _version(cfg, tmp_path)
    registration = {"name": cfg.mlflow.model_name, "version": version, "model_uri": "", "created": True}
    decision = steps.decide_promotion(run, registration, GATE_OK, {})  # type: ignore[arg-type]
    assert asked == ["approve_promotion"]
    assert decision["passed"] is False and "not promoted: rejected by bo" in decision["reason"]

    c = tracking.client(cfg)
    run_tags = c.get_run(tracking.find_run(cfg, "manual__release")).data.tags
    version_tags = c.get_model_version(cfg.mlflow.model_name, version).tags
    for tags in (run_tags, version_tags):
        assert tags["llmops.verdict.approval"] == "failed" and tags["llmops.verdict.promotion_decision"] == "failed"
        assert "rejected by bo" in tags["llmops.verdict.approval.reason"]
        assert "slow" in tags["llmops.verdict.promotion_decision.reason"]


def test_no_approval_asked_when_promotion_is_off(cfg: LLMOpsConfig, tmp_path: Path) -> None:
    from llmops.registry import tracking
    from llmops.serving import steps

    def upstream(task_id: str) -> Any:
        raise AssertionError(f"nobody should read {task_id}")

    run = Run.for_test(cfg, "manual__noapproval", params={"promote": False}, upstream=upstream)
    registration = {"name": cfg.mlflow.model_name, "version": _version(cfg, tmp_path), "model_uri": ""}
    assert steps.decide_promotion(run, registration, GATE_OK, {})["passed"] is False  # type: ignore[arg-type]
    tags = tracking.client(cfg).get_run(tracking.find_run(cfg, "manual__noapproval")).data.tags
    assert tags["llmops.verdict.promotion_decision"] == "failed"
    assert "promote=false" in tags["llmops.verdict.promotion_decision.reason"]
    assert "llmops.verdict.approval" not in tags
