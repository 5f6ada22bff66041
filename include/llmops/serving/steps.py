"""The release and rollback steps: ask a human when required, decide the promotion once, carry it out.

Task functions only (task id = function name); the engines are ``approval``, ``release``, ``champion`` and
``rollback`` beside this module.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, TypedDict

from llmops.errors import Permanent, Refused
from llmops.evaluation.steps import Evaluation
from llmops.registry.steps import Registration
from llmops.run import Run
from llmops.training.steps import Finetune
from llmops.verdict import Verdict, VerdictDict, record

log = logging.getLogger(__name__)


class ApprovalRequest(TypedDict):
    subject: str
    body: str


class Promotion(TypedDict, total=False):
    served_version: str
    previous_version: str | None
    changed: bool
    smoke_response: str
    smoke_latency_ms: float
    triton_model: str
    asset_extra: dict[str, Any]  # on the champion asset's event (the adapter puts it there)


class RollbackPlan(TypedDict):
    requested: str
    target_version: int
    champion: str | None


def check_approval_required(
    run: Run, registration: Registration, evaluation: Evaluation, gate: VerdictDict, drift: dict[str, Any]
) -> ApprovalRequest | None:
    """Prepare what the approver sees (why they are asked, gate, metrics, drift, sample generations beside the
    reference and the champion's answer, the corrections users typed, the version's model card) when a human must
    approve.

    Nobody is asked when approval is not required (`require_approval` param, `promotion.require_approval`, or raw
    data from a retrain merge that adds corrected responses while `monitoring.approve_corrections` is on),
    promotion is off, or the gate refused the candidate: `approve_promotion` is then skipped.
    """
    from llmops.registry.registry import client
    from llmops.serving.approval import approval_reasons, approval_request

    card = client(run.config).get_model_version(registration["name"], registration["version"]).description or ""
    request = approval_request(
        run.config, registration, evaluation, gate, drift, run.param("require_approval"), run.param("promote", True),
        card,
    )  # fmt: skip
    why = "; ".join(approval_reasons(run.config, run.param("require_approval"))) or "not required"
    log.info(
        "approval %s (%s)", "requested" if request else "not needed (not required, promotion off, or gate failed)", why
    )
    if request is not None:  # whoever may answer learns that an approval waits (and why), through the alert channels
        approvers = ", ".join(run.config.promotion.approvers) or "anyone allowed on the DAG but the run's trigger"
        run.notify(
            f"[llmops] approval waiting: {request['subject']}",
            f"Run {run.key} waits for an answer under Required Actions in the Airflow UI (task approve_promotion; "
            f"no answer in 24 hours means Reject). Approval required: {why}. May answer: {approvers}.",
            {"version": registration["version"], "run": run.key, "approval": "waiting"},
        )
    return None if request is None else ApprovalRequest(subject=request["subject"], body=request["body"])


def decide_promotion(run: Run, registration: Registration, gate: VerdictDict, drift: dict[str, Any]) -> VerdictDict:
    """Decide once whether the candidate is promoted: the gate, drift blocking, the approver's answer and the
    `promote` param. An approval by the user who triggered the run, or by someone outside `promotion.approvers`,
    counts as Reject. Follows `candidate_accepted` or `candidate_refused`; the reason is in the log and in MLflow."""
    from llmops.serving.approval import approval_decision, approval_reasons, needs_approval
    from llmops.serving.release import approval_verdict, promotion_decision

    version = registration.get("version")
    approval = None
    if needs_approval(run.config, gate, run.param("require_approval"), run.param("promote", True)):
        proceed, reason = approval_decision(
            True,
            run.upstream_value("approve_promotion"),
            triggered_by=run.triggered_by,
            approvers=run.config.promotion.approvers,
        )
        why = "; ".join(approval_reasons(run.config, run.param("require_approval")))
        reason = f"{reason} (approval required: {why})" if why else reason
        approval = record(run, approval_verdict(proceed, reason), version)
    verdict = promotion_decision(gate, drift, approval, bool(run.param("promote", True)))
    return record(run, verdict, version).to_dict()


def candidate_accepted(run: Run, decision: VerdictDict) -> VerdictDict:
    """The candidate passed every check: `promote_to_triton` serves it next. Says why."""
    log.info("candidate accepted: %s", decision["reason"])
    return decision


def candidate_refused(run: Run, decision: VerdictDict) -> VerdictDict:
    """The candidate stays registered without the `champion` alias. Says exactly why (also in MLflow)."""
    log.warning("candidate refused: %s", decision["reason"])
    return decision


def promote_to_triton(
    run: Run, registration: Registration, finetune: Finetune, decision: VerdictDict, evaluation: Evaluation
) -> Promotion:
    """Serve the accepted candidate on Triton (atomic version folder, load, ready, smoke test), then move alias
    `champion`. A version that fails to load or answer fails the task without retries; the previous one serves on.
    Skipped, with the reason, when `champion` moved since the gate compared the candidate with it."""
    return serve_decided(run, registration, finetune, decision, evaluation)


def serve_decided(
    run: Run,
    registration: Registration,
    finetune: Finetune,
    decision: VerdictDict,
    evaluation: Evaluation,
    kind: str = "promotion",
) -> Promotion:
    """Carry out an accepted decision: serve the registered version as champion (``kind``: ``promotion`` or
    ``prompt_release``), record the ``promotion`` verdict."""
    from llmops.serving.champion import PromotionFailed, StaleCandidate, serve_as_champion

    accepted = Verdict.from_dict(decision)
    if not accepted.passed:  # a stale or cleared branch: never act on a refused decision
        raise Refused(accepted.reason)
    version = registration["version"]
    expected = evaluation.get("champion_version")
    try:
        result = serve_as_champion(
            run.config, run.key, version, finetune["model_dir"], accepted.reason, run.at, expected_champion=expected,
            triggered_by=run.triggered_by or "", kind=kind,
        )  # fmt: skip
    except StaleCandidate as exc:
        record(run, Verdict("champion_unchanged", False, str(exc), on_fail="skip"), version)
        raise
    except PromotionFailed as exc:
        record(run, Verdict("promotion", False, str(exc), on_fail="fail"), version)
        raise
    served = (
        "already served as champion"
        if not result["changed"]
        else f"serves as champion (was {result['previous_version'] or 'no champion before'})"
    )
    record(run, Verdict("promotion", True, f"version {version} {served}", on_fail="fail"), version)
    out = Promotion(**result)  # type: ignore[typeddict-item]
    out["asset_extra"] = champion_event_extra(run, registration["name"], str(version), result, evaluation, kind)
    return out


def champion_event_extra(
    run: Run, model: str, version: str, result: Mapping[str, Any], evaluation: Evaluation, kind: str
) -> dict[str, Any]:
    """What the champion asset's event says: the version served and the one it replaced, the change's kind, the
    data snapshot's hash and the key evaluation metrics (who reads the asset needs no MLflow lookup)."""
    from llmops.data.snapshot import SNAPSHOT_HASH_TAG
    from llmops.registry.registry import get_version

    mv = get_version(run.config, version)
    metrics = evaluation.get("metrics") or {}
    keys = ("eval_loss", "base_eval_loss", "champion_eval_loss", "rouge_l", "safety_toxicity_rate")
    return {
        "model": model,
        "version": version,
        "previous_version": result.get("previous_version"),
        "kind": kind,
        "data_snapshot_hash": str((getattr(mv, "tags", None) or {}).get(SNAPSHOT_HASH_TAG, "")),
        "metrics": {k: round(float(metrics[k]), 6) for k in keys if k in metrics},
    }


def rollback_event_extra(run: Run, version: str, previous: str | None, reason: str) -> dict[str, Any]:
    """What the champion asset's event says after a rollback: the version that serves again, the one it replaced,
    why, and the data snapshot the restored version was trained on."""
    from llmops.data.snapshot import SNAPSHOT_HASH_TAG
    from llmops.registry.registry import get_version

    mv = get_version(run.config, version)
    return {
        "model": run.config.mlflow.model_name,
        "version": version,
        "previous_version": previous,
        "kind": "rollback",
        "reason": reason,
        "data_snapshot_hash": str((getattr(mv, "tags", None) or {}).get(SNAPSHOT_HASH_TAG, "")),
    }


def reconcile_serving(run: Run) -> dict[str, Any]:
    """Make Triton, the pinned config and `champion` agree: finish or undo a promotion or rollback that a kill
    interrupted, load the champion after a Triton restart, write a missing promotion event. Alerts when anything
    disagreed; fails when it cannot be repaired (e.g. the champion no longer loads)."""
    from llmops.serving.reconcile import TritonUnreachable, reconcile

    try:
        result = reconcile(run.config, purpose=f"hourly reconcile by {run.key}")
    except TritonUnreachable as exc:  # the next hourly run is the retry
        reason = f"{exc}: cannot check that the champion serves"
        record(run, Verdict("serving_consistency", False, reason, on_fail="warn"))
        run.notify(
            f"[llmops] Triton unreachable: {run.config.triton.model_name}",
            reason,
            {"model": run.config.triton.model_name},
        )
        raise Permanent(reason) from exc
    verdict = Verdict("serving_consistency", result.consistent, result.summary(), on_fail="warn")
    record(run, verdict, result.champion)
    if not result.consistent:
        model = run.config.triton.model_name
        run.notify(f"[llmops] serving was inconsistent: {model}", result.summary(), {"model": model})
    if result.problems:
        raise Permanent(f"serving could not be reconciled: {'; '.join(result.problems)}")
    return result.to_dict()


def resolve_rollback_target(run: Run) -> RollbackPlan:
    """Turn the `target_version` param into a registered version (`previous`: the version the champion replaced).
    An invalid or unregistered target fails the run at once, without retries, and changes nothing."""
    from llmops.serving.rollback import RollbackError, resolve_target

    target = run.param("target_version", "previous")
    try:
        plan = resolve_target(run.config, target)
    except (ValueError, RollbackError) as exc:
        record(run, Verdict("rollback_target", False, f"rollback target {target!r}: {exc}"))
        raise Permanent(str(exc)) from exc
    reason = f"rollback target {target!r} is version {plan['target_version']} (champion: {plan['champion']})"
    record(run, Verdict("rollback_target", True, reason), plan["target_version"])
    return RollbackPlan(requested=plan["requested"], target_version=plan["target_version"], champion=plan["champion"])


def rollback_model(run: Run, plan: RollbackPlan) -> dict[str, Any]:
    """Under the repository lock: check `champion` has not moved since the plan, serve the target (written again
    from MLflow if needed), smoke-test it, then move `champion` and record the `rollback` event."""
    from llmops.serving.rollback import RollbackError, rollback

    version = plan["target_version"]
    reason = str(run.param("reason", "manual rollback"))
    try:
        out = rollback(
            run.config, version, run.key, run.at, reason, expected_champion=plan["champion"],
            triggered_by=run.triggered_by or "",
        )  # fmt: skip
    except (ValueError, RollbackError) as exc:
        record(run, Verdict("rollback", False, f"rollback to version {version} failed: {exc}"), version)
        raise Permanent(str(exc)) from exc
    record(run, Verdict("rollback", True, f"version {version} serves as champion: {reason}"), version)
    return {**out, "asset_extra": rollback_event_extra(run, str(version), plan["champion"], reason)}
