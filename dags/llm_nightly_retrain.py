"""
# llm_nightly_retrain

Closes the loop: curated user feedback becomes part of the training data and `llm_finetune_pipeline` trains,
evaluates and (when its gate passes) promotes a new model.

`decide_retrain` → `merge_feedback` → `trigger_finetune`

Runs nightly at 02:00 UTC, and also whenever `llm_production_monitoring` updates the asset
`llmops://datasets/feedback_candidates`. The retrain decision is recorded as a verdict (task log and the run's MLflow
run in `llm-monitoring`); "nothing to do" skips the run with the reason.

**Inputs**: pending feedback candidates, the champion's training snapshot, the latest drift share.

**Outputs**: `$LLMOPS_HOME/data/curated/retrain/<content hash>/train.parquet`; one `llm_finetune_pipeline` run per
retrain run, with `raw_path` = that file, relative to the data folder as the param requires (a re-run does not trigger
twice).

**Configuration**: the `monitoring:` section (`retrain_min_feedback_rows`, `retrain_drift_share`), MLflow as in the
other DAGs. No connections needed.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import AssetOrTimeSchedule, CronTriggerTimetable, dag
from llmops_airflow import FEEDBACK_CANDIDATES, START_DATE, default_args, step, trigger_finetune_task

from llmops.monitoring import steps as monitoring


@dag(
    dag_id="llm_nightly_retrain",
    dag_display_name="Nightly retrain on feedback",
    description="Nightly at 02:00 UTC (cron 0 2 * * *) and on each update of the feedback_candidates asset: "
    "merge feedback → trigger llm_finetune_pipeline",
    schedule=AssetOrTimeSchedule(
        timetable=CronTriggerTimetable("0 2 * * *", timezone="UTC"), assets=FEEDBACK_CANDIDATES
    ),
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    tags=["llmops", "monitoring", "retrain"],
    doc_md=__doc__,
    default_args=default_args(retry_delay=timedelta(minutes=1)),
)
def llm_nightly_retrain() -> None:
    merged = step(monitoring.merge_feedback)(step(monitoring.decide_retrain)())
    merged >> trigger_finetune_task()


llm_nightly_retrain()
