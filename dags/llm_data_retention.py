"""
# llm_data_retention

Every day, production data past its retention is deleted from the state folder: raw request logs and raw feedback
whose hour was curated, interval partitions and their curated logs, feedback candidates, quarantined production
records and Evidently monitoring reports. Nothing inside the feedback window (`monitoring.window_intervals` hours)
goes, and raw records whose hour was never curated are kept and counted.

`apply_retention`

Ages are measured from the run's data interval end, never the clock, so a re-run deletes nothing more. A missed day
needs no catch-up: the next run deletes everything past its cutoff. Erasure on request is `llm_data_erasure`.

**Inputs**: the serving log directory (or `monitoring.source`), `$LLMOPS_HOME/feedback`, and the curated, quarantine
and report folders under `$LLMOPS_HOME`.

**Outputs**: the same folders without the expired data; the `retention` verdict (counts per kind) in the task log
and in MLflow.

**Configuration**: `retention:` (days per kind) in `llmops.yaml` or `LLMOPS__RETENTION__*`. No connections needed.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import CronDataIntervalTimetable, dag
from llmops_airflow import START_DATE, default_args, step

from llmops.data import steps as data


@dag(
    dag_id="llm_data_retention",
    dag_display_name="Production data retention",
    description="Daily (0 3 * * * UTC): delete production data past its retention, once curated",
    # A data-interval timetable: the run's interval end is the "as of" of every cutoff.
    schedule=CronDataIntervalTimetable("0 3 * * *", timezone="UTC"),
    start_date=START_DATE,
    # Each run deletes everything past its cutoff, so missed days need no catch-up runs.
    catchup=False,
    max_active_runs=1,
    tags=["llmops", "data", "retention"],
    doc_md=__doc__,
    default_args=default_args(retry_delay=timedelta(minutes=5), alert_on_failure=True),
)
def llm_data_retention() -> None:
    step(data.apply_retention, execution_timeout=timedelta(hours=2))()


llm_data_retention()
