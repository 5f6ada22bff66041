"""The monitoring, retraining and pipeline drift steps.

Task functions only (task id = function name); the engines are ``interval``, ``monitor``, ``alerts``, ``feedback``,
``rollback_watch``, ``retrain`` and ``check`` beside this module.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from llmops.data.payloads import Curated
from llmops.errors import Permanent, Refused
from llmops.run import Run
from llmops.training.steps import Finetune
from llmops.verdict import OnFail, Verdict, VerdictDict, record

if TYPE_CHECKING:
    from llmops.monitoring.interval import IntervalResult

log = logging.getLogger(__name__)


def _send_alerts(run: Run, key: str, alerts: Sequence[Mapping[str, Any]], context: Mapping[str, Any]) -> None:
    from llmops.monitoring.alerts import alert_message

    if alerts:
        subject = f"[llmops] production alert, interval {key}"
        context = {"interval": key, **context}
        run.notify(subject, alert_message(subject, alerts, context), {"alerts": list(alerts), **context})


# --- llm_finetune_pipeline ------------------------------------------------------------------------------------------


def check_drift(run: Run, curated: Curated, finetune: Finetune) -> dict[str, Any]:
    """Evidently report of the curated training data vs the latest production logs (HTML in MLflow).

    Blocks the promotion only when `drift.block_promotion` is set; otherwise drift is recorded and the run goes on.
    """
    from llmops.monitoring.check import check_drift as compare

    out = compare(run.config, run.key, curated["train_path"], finetune.get("mlflow_run_id"))
    metrics = {"drift_share": float(out.get("drift_share") or 0.0), "current_rows": float(out["current_rows"])}
    on_fail: OnFail = "skip" if run.config.drift.block_promotion else "warn"
    record(run, Verdict("drift", bool(out["passed"]), str(out["reason"]) or "drift not assessed", metrics, on_fail))
    return out


# --- llm_production_monitoring --------------------------------------------------------------------------------------


def curate_interval(run: Run) -> dict[str, Any]:
    """Read the production logs of the run's data interval, apply the production-log contract (quarantine with the
    reason), scrub PII, drop repeated requests and write the interval's Parquet partition atomically. Too few
    answered requests skip the interval (a version failing most requests still alerts); a broken contract fails.
    Records the served model could not log in the interval raise an alert. First, the intervals missed since the
    watermark (scheduler down, DAG paused; at most `monitoring.max_backfill_intervals`) are curated the same way;
    the watermark moves to this interval once it is curated."""
    from llmops.data.gates import DataContractError
    from llmops.monitoring.alerts import decide_alerts
    from llmops.monitoring.backfill import advance_watermark, catch_up
    from llmops.monitoring.interval import curate_interval as curate

    cfg = run.config
    start, end = run.interval()
    missed = catch_up(cfg, start, end)
    try:
        result = curate(cfg, start, end)
    except DataContractError as exc:  # the logs will not fix themselves on retry
        record(run, Verdict("interval_contract", False, str(exc)))
        raise
    advance_watermark(cfg, start, end)
    counts = {
        "rows_read": float(result.rows_read),
        "rows_quarantined": float(result.rows_quarantined),
        "duplicate_request_ids": float(result.duplicate_request_ids),  # set aside, not in the contract's ratio
    }
    record(
        run,
        Verdict(
            "interval_contract",
            True,
            f"{result.rows_quarantined} of {result.rows_read} records quarantined, within the contract's bound",
            counts,
        ),
    )
    _check_log_loss(run, result)
    if result.skipped:
        # Too few answers to judge drift, but a version failing most requests must still be reported.
        alerts = [a.to_dict() for a in decide_alerts(result.error_figures(), None, cfg.monitoring)]
        _send_alerts(run, result.key, alerts, {})
        record(run, Verdict("interval_size", False, f"interval {result.key}: {result.reason}", counts, "skip"))
        raise Refused(f"interval {result.key}: {result.reason}")
    minimum = cfg.monitoring.min_interval_rows
    record(
        run,
        Verdict(
            "interval_size",
            True,
            f"{result.rows} rows >= {minimum} (monitoring.min_interval_rows)",
            {"rows": float(result.rows)},
            "skip",
        ),
    )
    out = result.to_dict()
    out["backfill"] = missed.to_dict()
    out["summary"] = (
        f"interval {result.key}: {result.rows} rows, {result.rows_quarantined} quarantined, "
        f"{result.duplicate_request_ids} duplicate request ids; {len(missed.curated)} missed intervals curated"
    )
    return out


def _check_log_loss(run: Run, result: IntervalResult) -> None:
    """A ``prod_log_loss`` verdict, and an alert when the served model lost production-log records: monitoring,
    drift and retraining then judge an incomplete interval."""
    from llmops.monitoring.alerts import Alert

    lost = result.log_records_lost
    figures = {
        "log_records_lost": float(lost),
        "log_records_dropped": float(result.log_records_dropped),
        "log_write_failures": float(result.log_write_failures),
    }
    if not lost:
        record(run, Verdict("prod_log_loss", True, "no production-log record lost", figures, "warn"))
        return
    message = (
        f"{lost} production-log records lost > 0: {result.log_records_dropped} dropped (log writer queue full), "
        f"{result.log_records_failed} in {result.log_write_failures} failed writes; the interval's figures miss them"
    )
    record(run, Verdict("prod_log_loss", False, f"interval {result.key}: {message}", figures, "warn"))
    _send_alerts(run, result.key, [Alert("log_records_lost", float(lost), 0.0, message).to_dict()], {})


def check_interval_drift(run: Run, curated: dict[str, Any]) -> dict[str, Any]:
    """Evidently drift of the interval and of the rolling window against the champion's training snapshot, plus
    empty-response rate, latency p95 and server errors; reports in MLflow (`llm-monitoring`) and on the champion."""
    from llmops.monitoring.monitor import check_interval_drift as check

    _, end = run.interval()
    summary = check(run.config, curated["key"], curated["partition_path"], end)
    share = summary["metrics"].get("drift_share")
    metrics = {} if share is None else {"drift_share": float(share)}
    reason = str(summary["drift_reason"]) or "drift not assessed"
    record(run, Verdict("drift", bool(summary["drift_passed"]), reason, metrics, on_fail="warn"))
    return summary


def notify_alerts(run: Run, summary: dict[str, Any]) -> list[str]:
    """When the drift share, empty-response rate, latency p95 or server error rate is above its bound, send the
    alert through the task log and the webhook/SMTP connections that exist."""
    alerts = list(summary["alerts"])
    figures = {k: float(v) for k, v in summary["metrics"].items() if k in _BOUNDED}
    if not alerts:
        shown = ", ".join(f"{k} {v:.3g}" for k, v in sorted(figures.items())) or "no figures"
        record(
            run,
            Verdict("alert_bounds", True, f"interval {summary['key']}: no bound breached ({shown})", figures, "warn"),
        )
        return []
    reason = f"interval {summary['key']}: " + "; ".join(str(a["message"]) for a in alerts)
    record(run, Verdict("alert_bounds", False, reason, figures, "warn"))
    _send_alerts(run, summary["key"], alerts, {"champion": summary["champion_version"], **summary["reports"]})
    return [a["name"] for a in alerts]


_BOUNDED = ("drift_share", "empty_response_rate", "latency_p95_ms", "server_error_rate")


def curate_feedback(run: Run) -> dict[str, Any]:
    """Join the interval's user feedback to its requests; accepted and corrected examples pass the training
    contract, PII scrubbing, dedup against the champion's data and decontamination, and become training
    candidates. Updates the feedback asset (which can trigger `llm_nightly_retrain`) when there are new ones.
    The feedback of earlier intervals whose logs are curated but whose feedback is not (missed intervals that
    `curate_interval` caught up) is curated first, each under its own interval."""
    from llmops.monitoring.backfill import catch_up_feedback
    from llmops.monitoring.feedback import curate_feedback as curate
    from llmops.monitoring.monitor import champion_reference
    from llmops.monitoring.retrain import latest_drift_share

    cfg = run.config
    start, end = run.interval()
    _, reference, _ = champion_reference(cfg)
    earlier = catch_up_feedback(cfg, start, end, reference)
    result = curate(cfg, start, end, reference)
    candidates = result.candidates + sum(r.candidates for r in earlier)
    if not candidates:
        raise Refused(f"interval {result.key}: no new training candidates ({result.to_dict()})")
    drift_interval, drift_share = latest_drift_share(cfg)
    out = result.to_dict()
    out["backfilled"] = {r.key: r.candidates for r in earlier}
    out["asset_extra"] = {
        "interval": result.key,
        "candidates": candidates,
        "drift_share": drift_share,
        "drift_interval": drift_interval,
    }
    out["summary"] = (
        f"interval {result.key}: {result.candidates} candidates from {result.feedback} feedback records; "
        f"{candidates - result.candidates} from {len(earlier)} missed intervals"
    )
    return out


def watch_champion(run: Run) -> dict[str, Any]:
    """For `monitoring.rollback_watch_intervals` intervals after a promotion, compare the new champion with the
    version it replaced on live figures; a breach rolls back (as `llm_rollback` does) and notifies. Skipped, with
    the reason, outside a watch."""
    from llmops.monitoring.alerts import alert_message
    from llmops.monitoring.interval import interval_key
    from llmops.monitoring.rollback_watch import watch_champion as watch
    from llmops.serving.rollback import RollbackError, rollback

    cfg = run.config
    start, end = run.interval()
    if cfg.monitoring.rollback_watch_intervals == 0:
        reason = "automatic rollback is off (monitoring.rollback_watch_intervals = 0)"
        record(run, Verdict("rollback_watch", True, reason, on_fail="warn"))
        raise Refused(reason)
    key = interval_key(start)
    try:
        result = watch(cfg, key, run.key, end, rollback)
    except RollbackError as exc:  # champion moved meanwhile, or the target cannot serve: needs a human
        record(run, Verdict("rollback", False, f"automatic rollback failed: {exc}"))
        run.notify(f"[llmops] automatic rollback FAILED, interval {key}", str(exc), {"interval": key})
        raise
    champion = result.get("champion")
    if not result["watching"] or result["rollback"] is None:
        record(run, Verdict("rollback_watch", True, f"no rollback: {result['reason']}", on_fail="warn"), champion)
        raise Refused(result["reason"])
    record(run, Verdict("rollback_watch", False, result["reason"], on_fail="warn"), champion)
    record(
        run,
        Verdict("rollback", True, f"version {result['previous']} serves again: {result['reason']}"),
        result["previous"],
    )
    subject = f"[llmops] champion {champion} rolled back to {result['previous']}, interval {key}"
    body = alert_message(subject, [], {"reason": result["reason"], "new": result["new"], "old": result["old"]})
    run.notify(subject, body, {"interval": key, "decision": result["decision"]})
    from llmops.serving.steps import rollback_event_extra

    extra = rollback_event_extra(run, str(result["previous"]), champion, f"automatic: {result['reason']}")
    return {**result, "asset_extra": extra}


def verify_audit(run: Run) -> VerdictDict:
    """Check the audit log's hash chain and that the serving state (``champion``, Triton's pin) matches its last
    promotion or rollback (see :mod:`llmops.audit`); a break names the first bad record and alerts."""
    from llmops.audit import verify

    verdict = record(run, verify(run.config))
    if not verdict.passed:
        run.notify("[llmops] audit log check FAILED", verdict.reason, {"gate": verdict.gate})
    return verdict.to_dict()


# --- llm_nightly_retrain --------------------------------------------------------------------------------------------


def decide_retrain(run: Run) -> dict[str, Any]:
    """Count the pending feedback candidates and read the latest drift share; retrain when enough is pending or
    drift reached its bound (an asset-triggered run needs `monitoring.retrain_min_feedback_rows`)."""
    from llmops.monitoring.retrain import retrain_decision

    decision = retrain_decision(run.config, asset_triggered=run.asset_triggered)
    metrics = {"pending_rows": float(decision["pending_rows"])}
    if decision["drift_share"] is not None:
        metrics["drift_share"] = float(decision["drift_share"])
    record(run, Verdict("retrain_decision", bool(decision["retrain"]), decision["reason"], metrics, "skip")).enforce()
    return decision


def merge_feedback(run: Run, decision: dict[str, Any]) -> str:
    """Write the champion's training snapshot plus the pending candidates to one file named by its content hash
    (same inputs, same file), with `merge.json` beside it; returns its path relative to the data folder, for
    `trigger_finetune`. The snapshot is checked again (location and content hash) right before it is read.
    Candidates over `monitoring.feedback_max_per_source` per giver or `monitoring.feedback_max_share` of the merged
    set wait for a later retrain; added corrections make the triggered pipeline ask for approval
    (`monitoring.approve_corrections`)."""
    from llmops.config.runtime import param_path
    from llmops.monitoring.monitor import champion_reference
    from llmops.monitoring.retrain import merge_feedback as merge

    if not decision.get("reference"):
        raise Permanent("the retrain decision names no training snapshot to extend")
    version, reference, why = champion_reference(run.config)
    if reference is None or str(reference) != str(decision["reference"]):
        raise Refused(
            f"the champion's training snapshot is {reference or why} now, not {decision['reference']} as when "
            f"decide_retrain ran (champion {version}); the next run decides again"
        )
    merged = merge(run.config, reference)
    log.info(
        "merge %s: %d of %d pending feedback candidates added (%d corrected) to %d snapshot rows; %d capped by "
        "monitoring.feedback_max_per_source, %d by monitoring.feedback_max_share (they stay pending)",
        merged["hash"],
        merged["added_rows"],
        merged["pending_rows"],
        merged["added_corrected"],
        merged["base_rows"],
        merged["capped_by_source"],
        merged["capped_by_share"],
    )
    if merged["added_corrected"] and run.config.monitoring.approve_corrections:
        log.info("the triggered pipeline run waits for a human's approval: it adds corrected responses")
    return param_path(run.config, merged["path"])  # the `raw_path` param names files relative to the data folder
