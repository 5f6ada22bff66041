"""
# llm_finetune_pipeline

Carries the support-assistant model through its whole life in one run:

`validate_raw_data` → `plan_shards` → `scrub_shard` ×N → `sign_shard` ×N → `dedup_dataset` →
`snapshot_dataset` → `finetune_model` → `evaluate_model` → `gate_model` → `register_model` →
`check_drift` → `check_approval_required` → `approve_promotion` → `promote_to_triton`

- `validate_raw_data`: reads the raw JSONL/Parquet/CSV and runs the Great Expectations suite `raw_training_data`;
  bad rows go to a quarantine Parquet with the reason. A broken contract fails the run without retries.
- `plan_shards`: splits the validated rows into shards of `data.shard_rows` (the mapped tasks below get one each).
- `scrub_shard` (mapped): replaces PII (emails, phones, cards, IBANs, IPs, secrets, SSNs) with typed placeholders.
- `sign_shard` (mapped): exact-duplicate keys and MinHash/LSH signatures of a shard.
- `dedup_dataset`: the merge step; removes training rows that near-duplicate the eval set, then exact and near
  duplicates (one representative per cluster, the earliest row); every removed row is recorded with its cluster.
- `snapshot_dataset`: writes the curated set as a content-addressed snapshot with a lineage manifest; counts must
  reconcile (rows in = kept + quarantined + duplicates + contaminated).
- `finetune_model`: DeepSpeed fine-tuning per the training recipe (ZeRO stage and LoRA from the recipe) launched
  as its own process group (queue `training`); a retry resumes from the last complete checkpoint; per-step loss,
  learning rate, grad norm and tokens/s in MLflow.
- `evaluate_model`: held-out loss/perplexity, exact match and ROUGE-L of fine-tuned vs base vs current champion.
- `gate_model`: the promotion gate, `{passed, metrics, reason}`: beat the base model, be no worse than the
  champion (margins in `gate:`). A rejected candidate is still registered, without the `champion` alias.
- `register_model`: logs the model (pyfunc flavor) and registers one version per run, alias `challenger`.
- `check_drift`: Evidently report of the curated training data vs the latest production logs (HTML in MLflow).
- `check_approval_required` / `approve_promotion`: when the run's `require_approval` param (or
  `promotion.require_approval` in the config) is true and the gate passed, the run waits at `approve_promotion`, a
  human-in-the-loop task (Airflow's *Required Actions*) showing the gate metrics and sample generations: Approve or
  Reject, with a comment. Otherwise `approve_promotion` is skipped and nobody is asked. No answer within 24 hours
  counts as Reject.
- `promote_to_triton`: writes `triton_models/<model>/<version>/` atomically, loads it, waits until ready,
  smoke-tests it, then moves alias `champion`. Skipped, with the reason, when the gate or the approver rejects the
  candidate. A version that fails to load or answer fails the task (no retries) and the previous one keeps serving.

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

from airflow.providers.standard.operators.hitl import HITLOperator
from airflow.sdk import Asset, Param, dag, get_current_context, task
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

log = logging.getLogger(__name__)

CURATED_DATASET = Asset("llmops://datasets/curated_training")
CHAMPION_MODEL = Asset("llmops://models/support_assistant/champion")
# Must match llmops.serving.approval.OPTIONS (a DAG test compares them); Reject is also the answer on timeout.
APPROVAL_OPTIONS = ["Approve", "Reject"]
APPROVAL_TIMEOUT = timedelta(hours=24)

PARAMS = {
    "recipe": Param(
        None,
        type=["null", "string"],
        description="Training recipe: a name under include/recipes (tiny-gpt2/sft, tiny-gpt2/sft-lora) or a path.",
    ),
    "lora": Param(None, type=["null", "boolean"], description="Switch the recipe's LoRA adapter training on or off."),
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
    "require_approval": Param(
        False,
        type="boolean",
        description="Wait for a human to approve the promotion (gate metrics and sample generations are shown).",
    ),
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

    @task
    def plan_shards(validated: dict[str, Any]) -> list[str]:
        from llmops.data.curate import plan_shards as run

        cfg, key, _ = _run()
        return run(cfg, key, validated["validated_path"])

    @task
    def scrub_shard(shard_path: str) -> dict[str, Any]:
        from llmops.data.curate import scrub_shard as run

        cfg, _, _ = _run()
        return run(cfg, shard_path)

    @task
    def sign_shard(scrubbed: dict[str, Any]) -> dict[str, Any]:
        from llmops.data.curate import sign_shard as run

        cfg, _, _ = _run()
        return run(cfg, scrubbed)

    @task
    def dedup_dataset(signed: list[dict[str, Any]]) -> dict[str, Any]:
        from llmops.data.curate import DataContractError
        from llmops.data.curate import dedup_dataset as run

        cfg, key, _ = _run()
        try:
            return run(cfg, key, list(signed))
        except DataContractError as exc:
            raise AirflowFailException(f"data contract broken: {exc}") from exc

    @task(outlets=[CURATED_DATASET])
    def snapshot_dataset(validated: dict[str, Any], deduped: dict[str, Any]) -> dict[str, Any]:
        from llmops.data.curate import DataContractError
        from llmops.data.curate import snapshot_dataset as run

        cfg, key, _ = _run()
        try:
            return run(cfg, key, validated, deduped)
        except DataContractError as exc:  # counts that do not reconcile will not reconcile on a retry either
            raise AirflowFailException(f"data stage does not reconcile: {exc}") from exc

    @task(queue="training", execution_timeout=timedelta(hours=6))
    def finetune_model(validated: dict[str, Any], curated: dict[str, Any]) -> dict[str, Any]:
        from llmops.training.finetune import finetune_model as run
        from llmops.training.launch import TrainingError

        cfg, key, _ = _run()
        lineage = {**validated, **curated}
        try:
            return run(cfg, key, curated["train_path"], lineage)  # logs step, loss, lr, tokens/s and ETA itself
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
    def gate_model(finetune: dict[str, Any], evaluation: dict[str, Any]) -> dict[str, Any]:
        from llmops.evaluation.gate import gate_model as run

        cfg, _, _ = _run()
        return run(cfg, finetune, evaluation)  # {passed, metrics, reason}; a rejection is registered all the same

    @task
    def register_model(
        finetune: dict[str, Any],
        evaluation: dict[str, Any],
        gate: dict[str, Any],
        validated: dict[str, Any],
        curated: dict[str, Any],
    ) -> dict[str, Any]:
        from llmops.registry.register import register_model as run

        cfg, key, _ = _run()
        data = {**curated, "gx_passed": validated.get("passed")}
        return run(cfg, key, finetune, {**evaluation, "gate": gate}, data)

    @task
    def check_drift(curated: dict[str, Any], finetune: dict[str, Any]) -> dict[str, Any]:
        from llmops.monitoring.check import check_drift as run

        cfg, key, _ = _run()
        return run(cfg, key, curated["train_path"], finetune["mlflow_run_id"])

    @task.short_circuit(ignore_downstream_trigger_rules=False)
    def check_approval_required(
        registration: dict[str, Any], evaluation: dict[str, Any], gate: dict[str, Any], drift: dict[str, Any]
    ) -> dict[str, str] | None:
        from llmops.serving.approval import approval_request

        cfg, _, ctx = _run()
        params = ctx["params"]
        evaluation = {**evaluation, "gate": gate}  # the gate task's decision
        request = approval_request(
            cfg, registration, evaluation, drift, params.get("require_approval"), params.get("promote", True)
        )
        log.info("approval %s", "requested" if request else "not needed (not required, promotion off, or gate failed)")
        return request  # None skips approve_promotion; promote_to_triton still runs (trigger rule none_failed)

    approve_promotion = HITLOperator(
        task_id="approve_promotion",
        subject="{{ ti.xcom_pull(task_ids='check_approval_required')['subject'] }}",
        body="{{ ti.xcom_pull(task_ids='check_approval_required')['body'] }}",
        options=APPROVAL_OPTIONS,
        defaults=["Reject"],
        response_timeout=APPROVAL_TIMEOUT,
        params={"comment": Param("", type="string", description="Why (recorded with the promotion event).")},
    )

    @task(outlets=[CHAMPION_MODEL], trigger_rule="none_failed")
    def promote_to_triton(
        registration: dict[str, Any],
        finetune: dict[str, Any],
        evaluation: dict[str, Any],
        gate: dict[str, Any],
        drift: dict[str, Any],
    ) -> dict[str, Any]:
        from llmops.serving.approval import approval_decision, needs_approval
        from llmops.serving.champion import PromotionFailed, PromotionRefused
        from llmops.serving.champion import promote_to_triton as run

        cfg, key, ctx = _run()
        params = ctx["params"]
        evaluation = {**evaluation, "gate": gate}  # the gate task's decision
        if not params.get("promote", True):
            raise AirflowSkipException("promotion switched off for this run (param promote=false)")
        approval = None
        if needs_approval(cfg, evaluation, params.get("require_approval")):
            approval = approval_decision(True, ctx["ti"].xcom_pull(task_ids="approve_promotion"))
        at = (ctx.get("logical_date") or ctx["dag_run"].run_after).isoformat()
        try:
            return run(cfg, key, registration, finetune, evaluation, drift, at, approval=approval)
        except PromotionRefused as exc:  # gate, drift or approver said no: skip, and say why
            raise AirflowSkipException(str(exc)) from exc
        except PromotionFailed as exc:  # the version does not load or answer: a retry changes nothing
            raise AirflowFailException(str(exc)) from exc

    validated = validate_raw_data()
    signed = sign_shard.expand(scrubbed=scrub_shard.expand(shard_path=plan_shards(validated)))
    curated = snapshot_dataset(validated, dedup_dataset(signed))
    tuned = finetune_model(validated, curated)
    scored = evaluate_model(tuned)
    gate = gate_model(tuned, scored)
    registered = register_model(tuned, scored, gate, validated, curated)
    drift = check_drift(curated, tuned)
    registered >> drift
    approval = check_approval_required(registered, scored, gate, drift)
    approval >> approve_promotion >> promote_to_triton(registered, tuned, scored, gate, drift)


llm_finetune_pipeline()
