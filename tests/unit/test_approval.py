"""Who may approve a promotion: not the user who triggered the run, and one of `promotion.approvers` when set."""

from __future__ import annotations

from typing import Any

import pytest

from llmops.serving.approval import APPROVE, REJECT, approval_decision


def _answer(option: str, user: Any, comment: str = "") -> dict[str, Any]:
    return {"chosen_options": [option], "responded_by_user": user, "params_input": {"comment": comment}}


ANA = {"id": "ana", "name": "ana"}
FAB_BO = {"id": "7", "name": "bo"}  # FAB: numeric ids, names apart


@pytest.mark.parametrize(
    ("response", "triggered_by", "approvers", "proceed", "fragment"),
    [
        (_answer(APPROVE, ANA), "bo", (), True, "approved by ana"),
        (_answer(APPROVE, ANA), None, (), True, "approved by ana"),  # a scheduled run: nobody triggered it
        (_answer(APPROVE, ANA, "lgtm"), "ana", (), False, "who triggered the run"),
        (_answer(APPROVE, FAB_BO), "bo", (), False, "who triggered the run"),  # matched by name
        (_answer(APPROVE, FAB_BO), "7", (), False, "who triggered the run"),  # or by id
        (_answer(APPROVE, ANA), "bo", ("carl", "dora"), False, "not among promotion.approvers (carl, dora)"),
        (_answer(APPROVE, FAB_BO), "ana", ("7",), True, "approved by bo"),
        (_answer(APPROVE, ANA), "bo", ("ana",), True, "approved by ana"),
        (_answer(APPROVE, FAB_BO), "ana", ("bo",), False, "not among promotion.approvers (bo)"),  # ids, not names
        (_answer(APPROVE, "ana"), "bo", ("ana",), False, "not among"),  # no user id to check
        (_answer(APPROVE, None), None, (), False, "names no user"),  # an approval must be attributable
        (_answer(REJECT, ANA, "slow"), "ana", (), False, "rejected by ana: slow"),  # a Reject is a Reject
        (_answer(REJECT, None), "ana", ("carl",), False, "rejected by timeout"),
    ],
)
def test_approval_counts_only_from_someone_else_allowed_to_give_it(
    response: dict[str, Any], triggered_by: str | None, approvers: tuple[str, ...], proceed: bool, fragment: str
) -> None:
    ok, reason = approval_decision(True, response, triggered_by=triggered_by, approvers=approvers)
    assert ok is proceed, reason
    assert fragment in reason


def test_a_self_approval_keeps_the_comment_and_says_who() -> None:
    ok, reason = approval_decision(True, _answer(APPROVE, ANA, "trust me"), triggered_by="ana")
    assert not ok
    assert reason.startswith("rejected: approved by ana") and reason.endswith(": trust me")


def test_the_decision_step_passes_the_trigger_and_the_approvers(tmp_path: Any, monkeypatch: Any) -> None:
    """`decide_promotion` reads the run's triggering user and `promotion.approvers`."""
    from llmops.config import load_config
    from llmops.run import Run
    from llmops.serving import steps

    monkeypatch.setenv("LLMOPS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("LLMOPS__MLFLOW__TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    cfg = load_config()
    recorded: list[Any] = []
    monkeypatch.setattr(steps, "record", lambda run, verdict, version=None: recorded.append(verdict) or verdict)
    gate = {"gate": "promotion_gate", "passed": True, "reason": "ok", "metrics": {}, "on_fail": "skip"}
    run = Run.for_test(
        cfg,
        "manual__self",
        params={"require_approval": True},
        upstream=lambda task_id: _answer(APPROVE, ANA),
        triggered_by="ana",
    )
    decision = steps.decide_promotion(run, {"version": "3"}, gate, {})  # type: ignore[arg-type]
    assert decision["passed"] is False and "who triggered the run" in decision["reason"]
    assert recorded[0].gate == "approval" and not recorded[0].passed
