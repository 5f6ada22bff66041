"""
# llm_production_monitoring

Every hour, what the served model saw in its data interval comes back through the data stage, is compared with
what the champion was trained on, and is judged.

`curate_interval` → `check_interval_drift` → `notify_alerts`, `curate_feedback` → `watch_champion`

- `curate_interval`: reads the production logs whose timestamp lies in the run's data interval (the serving log
  directory, or `monitoring.source`), applies the production-log contract (malformed records and rows failing the
  `production_logs` suite are quarantined), scrubs PII, drops repeated request ids and writes
  `$LLMOPS_HOME/data/curated/monitoring/prod_logs/interval=<start>/part.parquet` atomically. A re-run replaces the
  partition. An interval with fewer than `monitoring.min_interval_rows` rows is skipped with the reason in the log;
  a broken contract fails the run without retries.
- `check_interval_drift`: Evidently text drift (prompts, responses) plus length, out-of-vocabulary and non-letter
  descriptors and latency, between the champion's training snapshot and the interval, and between it and the
  rolling window of the last `monitoring.window_intervals` partitions; the empty-response rate and latency p95.
  HTML and JSON reports go to `$LLMOPS_HOME/reports/monitoring/<start>/` and to one MLflow run per interval in the
  `llm-monitoring` experiment; the result is tagged on the champion's model version (`llmops.monitoring.*`).
- `notify_alerts`: when the drift share, the empty-response rate, the latency p95 or the server error rate (failed
  requests logged by the served model) is above its bound, writes the alert to the task log, and sends it through
  the webhook and SMTP connections when they exist. A skipped interval still alerts on its server error rate.

- `curate_feedback`: joins the interval's user feedback (`$LLMOPS_HOME/feedback/*.jsonl` or
  `monitoring.feedback_source`: request id, thumbs up/down, optional corrected response) to its requests in the
  window's partitions; accepted and corrected examples pass the training contract, PII scrubbing, dedup against the
  champion's training data and decontamination against the eval set, and land in
  `$LLMOPS_HOME/data/curated/feedback/interval=<start>/candidates.parquet`. Updates the asset
  `llmops://datasets/feedback_candidates` (extra: candidates, latest drift share) when there are new candidates,
  which can trigger `llm_nightly_retrain`.

- `watch_champion`: for `monitoring.rollback_watch_intervals` intervals after a promotion, compares the new champion
  with the version it replaced on live figures (error rate = failed or quarantined share of its requests,
  empty-response rate, latency p95, feedback score). A breach rolls back through the same logic as `llm_rollback`
  (Triton serves the previous version, `champion` moves back, a `rollback` event with the breached figures as reason
  is recorded) and notifies; a failed rollback fails the task and notifies. Skipped outside a watch. Updates the
  champion asset on a rollback.

**Connections** (optional): `llmops_alerts_webhook` (its host, or its `extra.url`, is the URL POSTed to as JSON);
`smtp_default` with `monitoring.notify_email_to` set. Ids configurable in the `monitoring:` section.

**Configuration**: `LLMOPS_CONFIG` / `LLMOPS__MONITORING__*` (`source`, bounds, window), MLflow via
`LLMOPS__MLFLOW__TRACKING_URI`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from airflow.sdk import Asset, CronDataIntervalTimetable, dag, get_current_context, task
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

log = logging.getLogger(__name__)

FEEDBACK_CANDIDATES = Asset("llmops://datasets/feedback_candidates")
CHAMPION_MODEL = Asset("llmops://models/support_assistant/champion")


def _interval() -> tuple[Any, datetime, datetime]:
    """The config and the run's data interval."""
    from llmops.config import load_config

    ctx = get_current_context()
    start, end = ctx["data_interval_start"], ctx["data_interval_end"]
    if start is None or end is None:
        raise AirflowFailException("this DAG needs a data interval (scheduled or backfilled runs)")
    return load_config(), start, end


def _channels(cfg: Any) -> list[Any]:
    """The task log, plus the webhook / SMTP channels whose Airflow connections exist."""
    from airflow.sdk import Connection
    from airflow.sdk.exceptions import AirflowNotFoundException

    from llmops.monitoring.alerts import LogNotifier, WebhookNotifier

    channels: list[Any] = [LogNotifier(log)]
    mcfg = cfg.monitoring
    try:
        conn = Connection.get(mcfg.notify_webhook_conn_id)
    except AirflowNotFoundException:
        conn = None
    if conn is not None:
        url = (conn.extra_dejson or {}).get("url") or conn.host or ""
        channels.append(WebhookNotifier(str(url)))
    if mcfg.notify_email_to:
        try:
            Connection.get(mcfg.notify_smtp_conn_id)
        except AirflowNotFoundException:
            log.info("no connection %s: e-mail alerts off", mcfg.notify_smtp_conn_id)
        else:
            channels.append(_SmtpChannel(mcfg.notify_smtp_conn_id, list(mcfg.notify_email_to)))
    return channels


def _notify(cfg: Any, key: str, alerts: list[dict[str, Any]], context: dict[str, Any]) -> None:
    """Send an interval's alerts (``Alert.to_dict()``) through every channel; nothing when there is none."""
    from llmops.monitoring.alerts import alert_message, notify

    if not alerts:
        return
    subject = f"[llmops] production alert, interval {key}"
    context = {"interval": key, **context}
    errors = notify(_channels(cfg), subject, alert_message(subject, alerts, context), {"alerts": alerts, **context})
    if errors:
        log.error("some alert channels failed: %s", errors)


class _SmtpChannel:
    """E-mail through the SMTP provider's hook."""

    def __init__(self, conn_id: str, to: list[str]) -> None:
        self.conn_id, self.to = conn_id, to

    def send(self, subject: str, body: str, payload: Mapping[str, Any]) -> None:
        import html

        from airflow.providers.smtp.hooks.smtp import SmtpHook

        with SmtpHook(self.conn_id) as hook:
            hook.send_email_smtp(to=self.to, subject=subject, html_content=f"<pre>{html.escape(body)}</pre>")


@dag(
    dag_id="llm_production_monitoring",
    # A data-interval timetable: each run covers [previous hour, this hour) (a plain cron has empty intervals).
    schedule=CronDataIntervalTimetable("0 * * * *", timezone="UTC"),
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    tags=["llmops", "monitoring", "drift"],
    doc_md=__doc__,
    default_args={"owner": "llmops", "retries": 2, "retry_delay": timedelta(minutes=1)},
)
def llm_production_monitoring() -> None:
    @task
    def curate_interval() -> dict[str, Any]:
        from llmops.data.curate import DataContractError
        from llmops.monitoring.alerts import decide_alerts
        from llmops.monitoring.interval import curate_interval as curate

        cfg, start, end = _interval()
        try:
            result = curate(cfg, start, end)
        except DataContractError as exc:  # the logs will not fix themselves on retry
            raise AirflowFailException(str(exc)) from exc
        if result.skipped:
            # Too few answers to judge drift, but a version failing most requests must still be reported.
            alerts = decide_alerts(result.error_figures(), None, cfg.monitoring)
            _notify(cfg, result.key, [a.to_dict() for a in alerts], {})
            raise AirflowSkipException(f"interval {result.key}: {result.reason}")
        return result.to_dict()

    @task
    def check_interval_drift(curated: dict[str, Any]) -> dict[str, Any]:
        from llmops.monitoring.monitor import check_interval_drift as check

        cfg, _, end = _interval()
        return check(cfg, curated["key"], curated["partition_path"], end)

    @task
    def notify_alerts(summary: dict[str, Any]) -> list[str]:
        if not summary["alerts"]:
            log.info("interval %s: no bound breached", summary["key"])
            return []
        cfg, _, _ = _interval()
        context = {"champion": summary["champion_version"], **summary["reports"]}
        _notify(cfg, summary["key"], summary["alerts"], context)
        return [a["name"] for a in summary["alerts"]]

    # Runs after a skipped (tiny) interval too: feedback on earlier requests still counts.
    @task(outlets=[FEEDBACK_CANDIDATES], trigger_rule="none_failed")
    def curate_feedback() -> dict[str, Any]:
        from llmops.monitoring.feedback import curate_feedback as curate
        from llmops.monitoring.monitor import champion_reference
        from llmops.monitoring.retrain import latest_drift_share

        cfg, start, end = _interval()
        _, reference, _ = champion_reference(cfg)
        result = curate(cfg, start, end, reference)
        if not result.candidates:
            raise AirflowSkipException(f"interval {result.key}: no new training candidates ({result.to_dict()})")
        drift_interval, drift_share = latest_drift_share(cfg)
        extra: dict[str, Any] = {
            "interval": result.key,
            "candidates": result.candidates,
            "drift_share": drift_share,
            "drift_interval": drift_interval,
        }
        get_current_context()["outlet_events"][FEEDBACK_CANDIDATES].extra = extra
        return result.to_dict()

    @task(outlets=[CHAMPION_MODEL], trigger_rule="none_failed")
    def watch_champion() -> dict[str, Any]:
        from llmops.config.runtime import run_key
        from llmops.monitoring.alerts import alert_message, notify
        from llmops.monitoring.interval import interval_key
        from llmops.monitoring.rollback_watch import watch_champion as watch
        from llmops.serving.rollback import RollbackError, rollback

        cfg, start, end = _interval()
        if cfg.monitoring.rollback_watch_intervals == 0:
            raise AirflowSkipException("automatic rollback is off (monitoring.rollback_watch_intervals = 0)")
        key = interval_key(start)
        try:
            result = watch(cfg, key, run_key(get_current_context()["run_id"]), end, rollback)
        except RollbackError as exc:  # champion moved meanwhile, or the target cannot serve: needs a human
            notify(_channels(cfg), f"[llmops] automatic rollback FAILED, interval {key}", str(exc), {"interval": key})
            raise AirflowFailException(str(exc)) from exc
        if not result["watching"] or result["rollback"] is None:
            raise AirflowSkipException(result["reason"])
        subject = f"[llmops] champion {result['champion']} rolled back to {result['previous']}, interval {key}"
        body = alert_message(subject, [], {"reason": result["reason"], "new": result["new"], "old": result["old"]})
        notify(_channels(cfg), subject, body, {"interval": key, "decision": result["decision"]})
        return result

    drift = check_interval_drift(curate_interval())
    notify_alerts(drift)
    drift >> curate_feedback() >> watch_champion()


llm_production_monitoring()
