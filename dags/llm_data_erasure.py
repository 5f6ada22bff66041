"""
# llm_data_erasure

Erases the records of given requests or users on request: they are removed from every request log, interval
partition, quarantine file, feedback file, feedback candidate, merged retrain set and training snapshot under the
state folder, future snapshots exclude them, and the answer names the registered model versions trained on a
snapshot that held them, so an operator can decide to retrain.

`erase_records`

A rewritten snapshot keeps its folder; its manifest records the old and new content hash, so lineage still answers.
Every erasure appends hashes and counts (never content, never a raw id) to `$LLMOPS_HOME/privacy/erasures.jsonl`.
A file that still holds an id after the erasure fails the run without retries and is named in the log. Airflow's
own database keeps this run's params: trigger it where that database may hold them, or clear the run afterwards.

**Inputs** (trigger form): `request_ids` (server-issued request ids), `user_ids` (user ids as the feedback endpoint
knows them; the requests their feedback named are erased too).

**Outputs**: the state folder without the records; `privacy/erased_ids.json` (SHA-256 of the ids); the erasure log;
the `erasure` verdict in the task log and in MLflow; tag `llmops.erasure.<id>` on the model versions named.

**Configuration**: as `llm_production_monitoring` (paths, MLflow via `LLMOPS__MLFLOW__TRACKING_URI`).
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import dag
from llmops_airflow import START_DATE, default_args, erasure_params, step

from llmops.data import steps as data


@dag(
    dag_id="llm_data_erasure",
    dag_display_name="Erase a request's or a user's data",
    description="Manual: erase request or user records from the state folder and name the models trained on them",
    schedule=None,
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    tags=["llmops", "data", "erasure"],
    doc_md=__doc__,
    params=erasure_params(),
    default_args=default_args(retry_delay=timedelta(minutes=1)),
)
def llm_data_erasure() -> None:
    step(data.erase_records, execution_timeout=timedelta(hours=2))()


llm_data_erasure()
