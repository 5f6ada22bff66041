"""
# llm_finetune_pipeline

Carries the support-assistant model through its whole life in one run:

`validate_raw_data` → `dedup_dataset` → `finetune_model` → `evaluate_model` → `register_model` →
`check_drift` → `promote_to_triton`

- `validate_raw_data`: reads the raw JSONL/Parquet/CSV and runs the Great Expectations suite `raw_training_data`;
  bad rows go to a quarantine Parquet with the reason. A broken contract fails the run without retries.
- `dedup_dataset`: removes exact duplicates and writes the curated training snapshot.
- `finetune_model`: DeepSpeed ZeRO-2 fine-tuning launched as its own process group (queue `training`); a retry
  resumes from the last complete checkpoint; per-step loss, learning rate and tokens/s in MLflow.
- `evaluate_model`: held-out loss/perplexity, exact match and ROUGE-L of fine-tuned vs base vs current champion,
  then the promotion gate.
- `register_model`: logs the model (pyfunc flavor) and registers one version per run, alias `challenger`.
- `check_drift`: Evidently report of the curated training data vs the latest production logs (HTML in MLflow).
- `promote_to_triton`: writes `triton_models/<model>/<version>/` atomically, loads it, waits until ready,
  smoke-tests it, then moves alias `champion`. Skipped, with the reason, when the gate rejects the candidate.

Tasks hand each other paths, run ids and versions through XCom, never data.

**Inputs**: the raw data and eval set named in `include/configs/llmops.yaml` (the demo data by default), the base
model (`base_model.name_or_path`; the project's tiny model when unset), the trigger form below.

**Outputs**: curated snapshot and quarantine under `$LLMOPS_HOME/data`, an MLflow run and model version, a drift
report, a Triton model version serving as `champion`.

**Configuration**: `LLMOPS_CONFIG` / `LLMOPS__SECTION__KEY` environment variables; MLflow via
`LLMOPS__MLFLOW__TRACKING_URI` (embedded SQLite store when unset); Triton via `LLMOPS__TRITON__HOST`/`HTTP_PORT`.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from airflow.sdk import Asset, Param, dag, get_current_context, task
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

log = logging.getLogger(__name__)

CURATED_DATASET = Asset("llmops://datasets/curated_training")
CHAMPION_MODEL = Asset("llmops://models/support_assistant/champion")

PARAMS = {
    "max_steps": Param(None, type=["null", "integer"], minimum=1, description="Training steps (empty: config)."),
    "learning_rate": Param(None, type=["null", "number"], exclusiveMinimum=0, description="Peak learning rate."),
    "micro_batch_size": Param(None, type=["null", "integer"], minimum=1, description="Per-rank micro batch."),
    "deepspeed_config": Param(
        None,
        type=["null", "string"],
        description="DeepSpeed JSON config, e.g. include/configs/deepspeed/zero2.json (empty: config).",
    ),
    "raw_path": Param(None, type=["null", "string"], description="Raw training data file (empty: demo data)."),
    "eval_path": Param(None, type=["null", "string"], description="Held-out eval set (empty: demo eval set)."),
    "promote": Param(True, type="boolean", description="Promote to Triton when the gate passes."),
}


def _run() -> tuple[Any, str, dict[str, Any]]:
    """The run's config, run key and context."""
    from llmops.config.runtime import config_for_run, run_key

    ctx = get_current_context()
    return config_for_run(dict(ctx["params"])), run_key(ctx["run_id"]), dict(ctx)


@dag(
    dag_id="llm_finetune_pipeline",
    schedule=None,
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    tags=["llmops", "training", "serving"],
    doc_md=__doc__,
    params=PARAMS,
    default_args={"owner": "llmops", "retries": 2, "retry_delay": timedelta(seconds=30)},
)
def llm_finetune_pipeline() -> None:
    @task
    def validate_raw_data() -> dict[str, Any]:
        from llmops.data.curate import DataContractError
        from llmops.data.curate import validate_raw_data as run

        cfg, key, _ = _run()
        try:
            return run(cfg, key)
        except DataContractError as exc:  # a broken contract does not get better with retries
            raise AirflowFailException(f"data contract broken: {exc}") from exc

    @task(outlets=[CURATED_DATASET])
    def dedup_dataset(validated: dict[str, Any]) -> dict[str, Any]:
        from llmops.data.curate import dedup_dataset as run

        cfg, key, _ = _run()
        return run(cfg, key, validated["validated_path"])

    @task(queue="training", execution_timeout=timedelta(hours=6))
    def finetune_model(validated: dict[str, Any], curated: dict[str, Any]) -> dict[str, Any]:
        from llmops.training.finetune import finetune_model as run
        from llmops.training.launch import TrainingError

        cfg, key, _ = _run()
        lineage = {**validated, **curated}
        try:
            return run(cfg, key, curated["train_path"], lineage, on_progress=lambda e: log.info("training %s", e))
        except TrainingError as exc:
            if not exc.retryable:
                raise AirflowFailException(str(exc)) from exc
            raise

    @task
    def evaluate_model(finetune: dict[str, Any]) -> dict[str, Any]:
        from llmops.evaluation.evaluate import evaluate_model as run

        cfg, key, _ = _run()
        return run(cfg, key, finetune)

    @task
    def register_model(
        finetune: dict[str, Any], evaluation: dict[str, Any], validated: dict[str, Any], curated: dict[str, Any]
    ) -> dict[str, Any]:
        from llmops.registry.register import register_model as run

        cfg, key, _ = _run()
        data = {**curated, "gx_passed": validated.get("passed")}
        return run(cfg, key, finetune, evaluation, data)

    @task
    def check_drift(curated: dict[str, Any], finetune: dict[str, Any]) -> dict[str, Any]:
        from llmops.monitoring.check import check_drift as run

        cfg, key, _ = _run()
        return run(cfg, key, curated["train_path"], finetune["mlflow_run_id"])

    @task(outlets=[CHAMPION_MODEL])
    def promote_to_triton(
        registration: dict[str, Any], finetune: dict[str, Any], evaluation: dict[str, Any], drift: dict[str, Any]
    ) -> dict[str, Any]:
        from llmops.serving.champion import PromotionRefused
        from llmops.serving.champion import promote_to_triton as run

        cfg, key, ctx = _run()
        if not ctx["params"].get("promote", True):
            raise AirflowSkipException("promotion switched off for this run (param promote=false)")
        dag_run = ctx["dag_run"]
        at = (ctx.get("logical_date") or dag_run.run_after).isoformat()
        try:
            return run(cfg, key, registration, finetune, evaluation, drift, at)
        except PromotionRefused as exc:  # not better than the champion: skip, and say why
            raise AirflowSkipException(str(exc)) from exc

    validated = validate_raw_data()
    curated = dedup_dataset(validated)
    tuned = finetune_model(validated, curated)
    scored = evaluate_model(tuned)
    registered = register_model(tuned, scored, validated, curated)
    drift = check_drift(curated, tuned)
    registered >> drift
    promote_to_triton(registered, tuned, scored, drift)


llm_finetune_pipeline()
