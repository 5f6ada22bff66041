"""
# llm_finetune_pipeline

Carries the support-assistant model through its whole life in one run: curate the data, fine-tune with DeepSpeed,
evaluate against the base model and the champion, register, and promote to Triton when every check says yes.

- **data**: validate (Great Expectations; bad rows quarantined with the reason) → scrub PII and sign shards (mapped)
  → deduplicate and decontaminate → content-addressed snapshot whose counts must reconcile.
- **train_and_evaluate**: DeepSpeed fine-tuning in its own process group (queue `training`, resumable) → evaluation
  vs base and champion → the promotion gate → registration (alias `challenger`) → drift vs production traffic.
- **release**: an optional human approval → `decide_promotion` (the one promotion rule) → `candidate_accepted` →
  `promote_to_triton` (atomic version, load, ready, smoke test, then alias `champion`), or `candidate_refused`.

Every decision is a verdict whose reason is in the task log and in MLflow (`llmops.verdict.<gate>` tags). Each task's
own documentation says what it does.

**Inputs**: the trigger form (empty fields keep `include/configs/llmops.yaml`); the raw data and eval set (the demo
data by default); the base model (`base_model.name_or_path`, the project's tiny model when unset).

**Outputs**: curated snapshot and quarantine under `$LLMOPS_HOME/data`, an MLflow run and model version, a drift
report, a Triton model version serving as `champion`; assets `llmops://datasets/curated_training` and
`llmops://models/support_assistant/champion`.

**Configuration**: `LLMOPS_CONFIG` / `LLMOPS__SECTION__KEY`; MLflow via `LLMOPS__MLFLOW__TRACKING_URI` (embedded
SQLite when unset); Triton via `LLMOPS__TRITON__HOST`/`HTTP_PORT`. No connections needed.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import TaskGroup, dag
from llmops_airflow import (
    CHAMPION_MODEL,
    CURATED_DATASET,
    START_DATE,
    approval_task,
    default_args,
    pipeline_params,
    step,
)

from llmops.data import steps as data
from llmops.evaluation import steps as evaluation
from llmops.monitoring import steps as monitoring
from llmops.registry import steps as registry
from llmops.serving import steps as serving
from llmops.training import steps as training


@dag(
    dag_id="llm_finetune_pipeline",
    dag_display_name="Fine-tune, evaluate and release",
    description="Manual: curate data → DeepSpeed fine-tune → evaluate and gate → register → promote to Triton",
    schedule=None,
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    tags=["llmops", "training", "serving"],
    doc_md=__doc__,
    params=pipeline_params(),
    default_args=default_args(),
)
def llm_finetune_pipeline() -> None:
    with TaskGroup("data", prefix_group_id=False, tooltip="validate, scrub, deduplicate, snapshot"):
        validated = step(data.validate_raw_data)()
        shards = step(data.plan_shards)(validated)
        signed = step(data.sign_shard).expand(scrubbed=step(data.scrub_shard).expand(shard_path=shards))
        curated = step(data.snapshot_dataset, outlets=[CURATED_DATASET])(validated, step(data.dedup_dataset)(signed))

    with TaskGroup("train_and_evaluate", prefix_group_id=False, tooltip="fine-tune, evaluate, gate, register"):
        tuned = step(training.finetune_model, queue="training", execution_timeout=timedelta(hours=6))(
            validated, curated
        )
        scored = step(evaluation.evaluate_model)(tuned)
        gate = step(evaluation.gate_model)(tuned, scored)
        registered = step(registry.register_model)(tuned, scored, gate, validated, curated)
        drift = step(monitoring.check_drift)(curated, tuned)
        registered >> drift

    with TaskGroup("release", prefix_group_id=False, tooltip="approve, decide, promote"):
        asked = step(serving.check_approval_required, short_circuit=True)(registered, scored, gate, drift)
        decision = step(
            serving.decide_promotion, branch=("candidate_accepted", "candidate_refused"), trigger_rule="none_failed"
        )(registered, gate, drift)
        asked >> approval_task() >> decision
        step(serving.candidate_refused)(decision["verdict"])
        accepted = step(serving.candidate_accepted)(decision["verdict"])
        promoted = step(serving.promote_to_triton, outlets=[CHAMPION_MODEL], execution_timeout=timedelta(hours=1))(
            registered, tuned, decision["verdict"], scored
        )
        accepted >> promoted


llm_finetune_pipeline()
