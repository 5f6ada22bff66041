"""
# llm_nightly_retrain

Closes the loop: curated user feedback becomes part of the training data and a new model is trained, evaluated and
(when the gate passes) promoted by `llm_finetune_pipeline`.

`decide_retrain` → `merge_feedback` → `trigger_finetune`

Runs nightly at 02:00 UTC, and also whenever `llm_production_monitoring` updates the asset
`llmops://datasets/feedback_candidates`.

- `decide_retrain`: counts the *pending* feedback candidates (curated by the monitoring DAG and not yet in the
  champion's training snapshot) and reads the drift share of the latest monitored interval. The nightly run
  retrains when anything is pending or drift reached `monitoring.retrain_drift_share`; an asset-triggered run needs
  `monitoring.retrain_min_feedback_rows` pending candidates or that drift. Otherwise the run is skipped and the log
  says why.
- `merge_feedback`: writes the champion's training snapshot plus the pending candidates to
  `$LLMOPS_HOME/data/curated/retrain/<content hash>/train.parquet` (same inputs, same file).
- `trigger_finetune`: triggers `llm_finetune_pipeline` with `raw_path` = the merged file; the pipeline validates,
  deduplicates and decontaminates it again, trains, and its gate decides the promotion as usual (the reason is in
  its log and MLflow tags). One pipeline run per retrain run (a re-run does not trigger twice).

**Configuration**: the `monitoring:` section (`retrain_min_feedback_rows`, `retrain_drift_share`), MLflow as in the
other DAGs. No connections needed.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator
from airflow.sdk import Asset, AssetOrTimeSchedule, CronTriggerTimetable, dag, get_current_context, task
from airflow.sdk.exceptions import AirflowSkipException

log = logging.getLogger(__name__)

FEEDBACK_CANDIDATES = Asset("llmops://datasets/feedback_candidates")
FINETUNE_DAG_ID = "llm_finetune_pipeline"


@dag(
    dag_id="llm_nightly_retrain",
    schedule=AssetOrTimeSchedule(
        timetable=CronTriggerTimetable("0 2 * * *", timezone="UTC"), assets=FEEDBACK_CANDIDATES
    ),
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    tags=["llmops", "monitoring", "retrain"],
    doc_md=__doc__,
    default_args={"owner": "llmops", "retries": 2, "retry_delay": timedelta(minutes=1)},
)
def llm_nightly_retrain() -> None:
    @task
    def decide_retrain() -> dict[str, Any]:
        from llmops.config import load_config
        from llmops.monitoring.retrain import retrain_decision

        ctx = get_current_context()
        asset_triggered = bool(ctx.get("triggering_asset_events"))
        decision = retrain_decision(load_config(), asset_triggered=asset_triggered)
        if not decision["retrain"]:
            raise AirflowSkipException(decision["reason"])
        return decision

    @task
    def merge_feedback(decision: dict[str, Any]) -> str:
        from pathlib import Path

        from llmops.config import load_config
        from llmops.monitoring.retrain import merge_feedback as merge

        merged = merge(load_config(), Path(decision["reference"]))
        log.info("%s", merged)
        return str(merged["path"])

    merged_path = merge_feedback(decide_retrain())
    trigger_finetune = TriggerDagRunOperator(
        task_id="trigger_finetune",
        trigger_dag_id=FINETUNE_DAG_ID,
        trigger_run_id="retrain__{{ run_id | replace(':', '-') | replace('+', '_') }}",
        conf={"raw_path": "{{ ti.xcom_pull(task_ids='merge_feedback') }}"},
        skip_when_already_exists=True,
    )
    merged_path >> trigger_finetune


llm_nightly_retrain()
