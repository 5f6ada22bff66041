"""
# llm_production_monitoring

Every hour, what the served model saw in its data interval comes back through the data stage, is compared with what
the champion was trained on, and is judged; user feedback becomes training candidates; a new champion is watched
and rolled back automatically when its live figures are worse than those of the version it replaced.

`curate_interval` → `check_interval_drift` → `notify_alerts`; `curate_interval` → `curate_feedback`; `watch_champion`
after `curate_interval` and `curate_feedback` whatever their outcome (a failing drift or feedback task never switches
the rollback watch off); on its own, `reconcile_serving` (Triton serves exactly `champion`, the config pins it, no
promotion or rollback left half done), then `verify_audit` (the audit log's hash chain holds and the serving state
matches its last record). Every task that fails for good alerts through the alert channels.
Hours missed while the DAG was paused or the scheduler down are curated by the next run (logs and feedback; a
watermark, `monitoring.max_backfill_intervals`), though `catchup` is off.

**Inputs**: the production logs whose timestamp lies in the run's data interval (the serving log directory, or
`monitoring.source`); user feedback (`$LLMOPS_HOME/feedback/*.jsonl` or `monitoring.feedback_source`).

**Outputs**: the interval's partition `$LLMOPS_HOME/data/curated/monitoring/prod_logs/interval=<start>/`, Evidently
reports under `$LLMOPS_HOME/reports/monitoring/<start>/` and in one MLflow run per interval (`llm-monitoring`,
with a `llmops.verdict.<gate>` tag per decision), training candidates under
`$LLMOPS_HOME/data/curated/feedback/interval=<start>/`; assets `llmops://datasets/feedback_candidates` (extra:
candidates, latest drift share) and, on a rollback, `llmops://models/support_assistant/champion`.

**Connections** (optional): `llmops_alerts_webhook` (its host, or its `extra.url`, is the URL POSTed to as JSON);
`smtp_default` with `monitoring.notify_email_to` set. Ids configurable in the `monitoring:` section.

**Configuration**: `LLMOPS_CONFIG` / `LLMOPS__MONITORING__*` (`source`, bounds, window, rollback watch), MLflow via
`LLMOPS__MLFLOW__TRACKING_URI`.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import CronDataIntervalTimetable, dag
from llmops_airflow import CHAMPION_MODEL, FEEDBACK_CANDIDATES, START_DATE, default_args, step

from llmops.monitoring import steps as monitoring
from llmops.serving import steps as serving

LOCKED = timedelta(minutes=45)  # tasks that take the model repository's lock (its own deadline is shorter)


@dag(
    dag_id="llm_production_monitoring",
    dag_display_name="Production monitoring and rollback watch",
    description="Hourly (0 * * * * UTC): curate the hour's logs → drift and alerts → feedback → rollback watch",
    # A data-interval timetable: each run covers [previous hour, this hour) (a plain cron has empty intervals).
    schedule=CronDataIntervalTimetable("0 * * * *", timezone="UTC"),
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    tags=["llmops", "monitoring", "drift"],
    doc_md=__doc__,
    default_args=default_args(retry_delay=timedelta(minutes=1), alert_on_failure=True),
)
def llm_production_monitoring() -> None:
    curated = step(monitoring.curate_interval)()
    step(monitoring.notify_alerts)(step(monitoring.check_interval_drift)(curated))
    # Feedback runs after a skipped (tiny) interval too: feedback on earlier requests still counts.
    feedback = step(monitoring.curate_feedback, outlets=[FEEDBACK_CANDIDATES], trigger_rule="none_failed")()
    # The watch runs whatever the interval's other tasks did (all_done): drift or feedback failing cannot stop it.
    watched = step(
        monitoring.watch_champion, outlets=[CHAMPION_MODEL], trigger_rule="all_done", execution_timeout=LOCKED
    )()
    curated >> feedback
    [curated, feedback] >> watched
    # Independent of the rest: a kill, a Triton restart or a stuck load is repaired even when monitoring fails.
    reconciled = step(serving.reconcile_serving, execution_timeout=LOCKED)()
    reconciled >> step(monitoring.verify_audit, trigger_rule="all_done")()


llm_production_monitoring()
