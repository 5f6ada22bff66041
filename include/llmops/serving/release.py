"""The one promotion rule: may this candidate be promoted? Pure, no I/O.

The gate's verdict, drift blocking (``drift.block_promotion``), the approver's answer (when one was required) and the
run's ``promote`` param are combined here and nowhere else; ``promote_to_triton`` only carries out the decision.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from llmops.verdict import Verdict


def approval_verdict(proceed: bool, reason: str) -> Verdict:
    """The human's answer as a verdict (a Reject, or no answer, refuses the promotion)."""
    return Verdict("approval", proceed, reason, on_fail="skip")


def promotion_decision(
    gate: Mapping[str, Any],
    drift: Mapping[str, Any],
    approval: Verdict | None,
    promote: bool,
) -> Verdict:
    """Decide whether the candidate is promoted.

    Args:
        gate: the promotion gate's verdict (``passed``, ``reason``).
        drift: the drift check's result (``block_promotion``, ``reason``).
        approval: the approver's verdict, or ``None`` when the run needed no approval.
        promote: the run's ``promote`` param.

    Returns:
        A ``promotion_decision`` verdict; its reason is what the promotion event records when it passes.
    """
    metrics = {"gate_passed": float(bool(gate.get("passed")))}
    if not promote:
        return Verdict(
            "promotion_decision", False, "promotion switched off for this run (param promote=false)", metrics, "skip"
        )
    if not gate.get("passed"):
        return Verdict("promotion_decision", False, f"not promoted: {gate.get('reason')}", metrics, "skip")
    if drift.get("block_promotion"):
        reason = f"not promoted: drift gate: {drift.get('reason')}"
        return Verdict("promotion_decision", False, reason, metrics, "skip")
    if approval is not None and not approval.passed:
        return Verdict("promotion_decision", False, f"not promoted: {approval.reason}", metrics, "skip")
    reason = str(gate.get("reason")) + (f"; {approval.reason}" if approval is not None else "")
    return Verdict("promotion_decision", True, reason, metrics, "skip")
