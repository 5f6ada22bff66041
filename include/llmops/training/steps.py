"""The fine-tuning step. Task functions only (task id = function name); engines: ``finetune``, ``launch``,
``train``."""

from __future__ import annotations

import logging
import math
from typing import Any, TypedDict

from llmops.data.payloads import Curated, Validated
from llmops.errors import Permanent
from llmops.run import Run
from llmops.verdict import Verdict, record

log = logging.getLogger(__name__)


class Finetune(TypedDict):
    mlflow_run_id: str
    model_dir: str
    adapter_dir: str | None
    base_model: str
    summary: dict[str, Any]
    training_fingerprint: str
    prompt: str  # <name>/<version> of the prompt version the model was trained (and is evaluated) with


def finetune_model(run: Run, validated: Validated, curated: Curated) -> Finetune:
    """DeepSpeed fine-tuning per the training recipe (ZeRO stage and LoRA from the recipe), launched as its own
    process group; a retry resumes from the last complete checkpoint. Per-step loss, learning rate, grad norm and
    tokens/s go to MLflow. Divergence, out of memory and unusable input fail without retries.

    Skipped (verdict `new_training_input`) when another run already trained a registered version on the same data
    snapshot, base model and training settings, unless the `force` param is set: a nightly retrain whose candidate
    the gate keeps refusing would otherwise train and register the same model every night."""
    from llmops.prompts import champion_prompt
    from llmops.registry import tracking
    from llmops.training.finetune import new_training_input, run_finetune, training_fingerprint
    from llmops.training.launch import TrainingError

    # the first line of the log: where the curves, the system metrics and the verdicts of this run are
    mlflow_run_id = tracking.get_or_create_run(
        run.config, run.key, run_name=f"finetune-{run.key}", tags={"llmops.stage": "finetune"}
    )
    log.info("MLflow run %s", tracking.run_link(run.config, mlflow_run_id))
    prompt = champion_prompt(run.config)  # resolved once per run; later steps load this version by reference
    log.info("prompt %s (the registry's %s version)", prompt.label, "champion")
    fingerprint = training_fingerprint(run.config, curated["snapshot_hash"], prompt)
    force = bool(run.param("force", False))
    record(run, new_training_input(run.config, run.key, curated["snapshot_hash"], fingerprint, force)).enforce()
    lineage: dict[str, Any] = {**validated, **curated}
    try:
        out = run_finetune(  # logs progress itself
            run.config,
            run.key,
            curated["train_path"],
            lineage,
            logical_date=run.logical_date,
            fingerprint=fingerprint,
            prompt=prompt,
        )
    except TrainingError as exc:
        verdict = Verdict("training_guard_rails", False, f"training {exc.kind}: {exc}", on_fail="fail")
        record(run, verdict)
        if not exc.retryable:
            raise Permanent(verdict.reason) from exc
        raise
    summary = out["summary"]
    loss = float(summary.get("final_train_loss", float("nan")))
    metrics = {"final_train_loss": loss, "steps": float(summary.get("steps", 0))}
    passed = math.isfinite(loss)
    reason = (
        f"training finished: {int(metrics['steps'])} steps, final loss {loss:.4f}"
        if passed
        else f"training finished with a non-finite loss ({loss})"
    )
    record(run, Verdict("training_guard_rails", passed, reason, metrics, on_fail="fail")).enforce()
    return Finetune(
        mlflow_run_id=out["mlflow_run_id"],
        model_dir=out["model_dir"],
        adapter_dir=out.get("adapter_dir"),
        base_model=out["base_model"],
        summary=summary,
        training_fingerprint=fingerprint,
        prompt=prompt.label,
    )
