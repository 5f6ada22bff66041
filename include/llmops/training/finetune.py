"""Fine-tuning engine: ensure a base model, open the MLflow run, launch DeepSpeed, verify the output."""

from __future__ import annotations

import hashlib
import json
import logging
import platform
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from llmops.config import LLMOpsConfig, read_recipe
from llmops.fsutil import dir_manifest
from llmops.prompts import Prompt
from llmops.registry import tracking
from llmops.training.base_model import build_tiny_base_model
from llmops.training.launch import TrainingError, build_job, run_training, verify_adapter_dir, verify_model_dir
from llmops.verdict import Verdict

log = logging.getLogger(__name__)

MAX_TAG_CHARS = 4000
_NOT_TRAINING_INPUT = frozenset(
    {
        "base_model",
        "train_path",
        "output_dir",
        "tracking_uri",
        "mlflow_run_id",
        "log_every",
        "checkpoint_every",
        "recipe",
    }
)


def ensure_base_model(cfg: LLMOpsConfig, corpus_path: Path) -> str:
    """Return the base model reference; build the project's tiny model first if none is configured.

    A configured ``base_model.name_or_path`` (a local directory or a cached hub id) is used as is.
    """
    if cfg.base_model.name_or_path:
        return cfg.base_model.name_or_path
    import pyarrow.parquet as pq

    table = pq.read_table(corpus_path, columns=["prompt", "response"])
    corpus = [str(x) for x in table.column("prompt").to_pylist() + table.column("response").to_pylist()]
    out = build_tiny_base_model(cfg.base_model.tiny, corpus, cfg.paths.models_dir / "base")
    return str(out)


def environment_info() -> dict[str, str]:
    """Library versions and device, logged with every training run."""
    import deepspeed
    import peft
    import torch
    import transformers

    if torch.cuda.is_available():
        device = f"{torch.cuda.get_device_name(0)} x{torch.cuda.device_count()}"
    else:
        device = f"cpu ({platform.processor() or platform.machine()})"
    return {
        "env.torch": torch.__version__,
        "env.deepspeed": deepspeed.__version__,
        "env.transformers": transformers.__version__,
        "env.peft": peft.__version__,
        "env.cuda": str(torch.version.cuda or "none"),
        "env.python": platform.python_version(),
        "env.device": device,
    }


def format_progress(event: dict[str, Any]) -> str:
    """One human-readable task-log line for a progress event of the training process."""
    kind = event.get("event")
    if kind == "step":
        return (
            f"step {event['step']}/{event['max_steps']}  loss {event['loss']:.4f}  lr {event['lr']:.3g}  "
            f"grad_norm {event.get('grad_norm', float('nan')):.3g}  {event['tokens_per_s']:.0f} tokens/s  "
            f"ETA {event['eta_s']:.0f}s"
        )
    if kind == "start":
        how = f"resuming from step {event['resumed_from_step']}" if event["resumed_from_step"] else "from step 0"
        return (
            f"training started {how} of {event['max_steps']}: ZeRO-{event['zero_stage']} on {event['device']} "
            f"x{event['world_size']}, bf16={event['bf16']}, lora={event['lora']}, "
            f"{event['trainable_parameters']} trainable parameters, {event['examples']} examples"
        )
    if kind == "input":
        how = "loaded from the tokenized cache" if event["cached"] else "tokenized"
        return f"training input: {event['examples']} examples {how} in {event['seconds']}s"
    if kind == "checkpoint":
        return f"checkpoint {event['tag']} complete (step {event['step']})"
    if kind == "done":
        return f"training done: final loss {event['final_train_loss']:.4f}, {event['train_seconds']}s"
    return f"training {kind}: {json.dumps({k: v for k, v in event.items() if k != 'event'}, sort_keys=True)}"


def resolved_recipe(cfg: LLMOpsConfig) -> dict[str, Any]:
    """The hyperparameters this run uses after recipe, YAML, environment and params were applied."""
    recipe = read_recipe(cfg.training.recipe) if cfg.training.recipe else {}
    return {
        "recipe": str(cfg.training.recipe) if cfg.training.recipe else None,
        "recipe_model": recipe.get("model"),
        "recipe_stage": recipe.get("stage"),
        "training": cfg.training.model_dump(mode="json"),
    }


def training_fingerprint(cfg: LLMOpsConfig, snapshot_hash: str, prompt: Prompt | None = None) -> str:
    """Hash of what a fine-tuning run learns from: the curated snapshot's content hash, the base model (its
    reference, or the tiny model's spec), the prompt version and every setting that shapes the training trajectory
    (the job without its paths and bookkeeping, DeepSpeed config included)."""
    base: Any = cfg.base_model.name_or_path or {"tiny": cfg.base_model.tiny.model_dump(mode="json")}
    job = build_job(cfg, "", Path(), None, prompt)
    settings = job.model_dump(exclude=set(_NOT_TRAINING_INPUT))
    payload = json.dumps({"data": snapshot_hash, "base": base, "training": settings}, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:24]


def earlier_training(cfg: LLMOpsConfig, fingerprint: str, run_key: str) -> Any | None:
    """The oldest registered version that another run trained with the same :func:`training_fingerprint`."""
    from llmops.registry.registry import versions_with_tag

    for version in versions_with_tag(cfg, tracking.TRAINING_FINGERPRINT_TAG, fingerprint):
        if (version.tags or {}).get(tracking.RUN_KEY_TAG) != run_key:
            return version
    return None


def new_training_input(cfg: LLMOpsConfig, run_key: str, snapshot_hash: str, fingerprint: str, force: bool) -> Verdict:
    """The ``new_training_input`` verdict: fails (``skip``) when another run already registered a version trained
    with ``fingerprint`` (see :func:`training_fingerprint`), unless ``force``."""
    if force:
        return Verdict(
            "new_training_input", True, "param force: trained without looking for earlier versions", on_fail="skip"
        )
    earlier = earlier_training(cfg, fingerprint, run_key)
    if earlier is None:
        reason = f"no registered version was trained on snapshot {snapshot_hash} with this base model and settings"
        return Verdict("new_training_input", True, reason, {}, "skip")
    reason = (
        f"snapshot {snapshot_hash} with this base model and training settings (fingerprint {fingerprint}) already "
        f"trained version {earlier.version} in run {(earlier.tags or {}).get(tracking.RUN_KEY_TAG, '?')}; "
        "set the param force to train again"
    )
    return Verdict("new_training_input", False, reason, {"earlier_version": float(earlier.version)}, "skip")


def _flat_params(prefix: str, tree: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            out.update(_flat_params(f"{prefix}{key}.", value))
        else:
            out[f"{prefix}{key}"] = json.dumps(value) if isinstance(value, list) else str(value)
    return out


def run_finetune(
    cfg: LLMOpsConfig,
    run_key: str,
    train_path: str,
    data_lineage: dict[str, Any] | None = None,
    on_progress: Callable[[dict[str, Any]], None] | None = None,
    on_line: Callable[[str], None] | None = None,
    logical_date: datetime | None = None,
    fingerprint: str | None = None,
    prompt: Prompt | None = None,
) -> dict[str, Any]:
    """Fine-tune the base model on the curated data of this run.

    Idempotent: the MLflow run is found by the run key, the output directory is keyed by run, and a retry
    resumes from the last complete checkpoint (or returns at once when training had finished). Progress goes to
    this module's logger (the task log) as readable lines, and to ``on_progress`` as events. ``logical_date`` (the
    Airflow run's) is tagged on the MLflow run; the run's summary metrics are timestamped by it. ``fingerprint``
    (:func:`training_fingerprint`) is tagged on the MLflow run as well. ``prompt`` (the run's prompt version) renders
    the examples, is written beside the weights (``prompt.json``) and is linked to the MLflow run.

    Returns:
        ``{"mlflow_run_id", "model_dir", "adapter_dir", "base_model", "summary"}``: references only.

    Raises:
        TrainingError: ``retryable`` False for divergence, out of memory and unusable input.
    """
    base_ref = ensure_base_model(cfg, Path(train_path))
    cfg.base_model.name_or_path = base_ref
    run_id = tracking.get_or_create_run(cfg, run_key, run_name=f"finetune-{run_key}", tags={"llmops.stage": "finetune"})
    c = tracking.client(cfg)
    logged = c.get_run(run_id).data.params
    output_dir = cfg.paths.runs_dir / run_key
    job = build_job(cfg, train_path, output_dir, run_id, prompt)
    if "base_model" not in logged:  # params are immutable in MLflow: log them once per run
        recipe = resolved_recipe(cfg)
        params = {
            "base_model": base_ref,
            "train_path": train_path,
            "recipe": recipe["recipe"],
            "recipe_model": recipe["recipe_model"],
            "recipe_stage": recipe["recipe_stage"],
            "deepspeed_config": str(cfg.training.deepspeed_config.name),
            "zero_stage": job.deepspeed_config.get("zero_optimization", {}).get("stage", 0),
            "job_fingerprint": job.fingerprint(),
            **_flat_params("", {k: v for k, v in recipe["training"].items() if k not in {"recipe", "hostfile"}}),
            **_flat_params("ds.", job.deepspeed_config),
        }
        for k, v in params.items():
            c.log_param(run_id, k, str(v)[:6000])
        c.log_dict(run_id, recipe, "config/recipe_resolved.json")
        if cfg.training.recipe:
            c.log_artifact(run_id, str(cfg.training.recipe), "config/recipe_source")
        c.log_dict(run_id, job.deepspeed_config, "config/deepspeed.json")
        if data_lineage:
            c.log_dict(run_id, data_lineage, "data/lineage.json")
            _log_dataset_input(cfg, run_id, train_path, data_lineage)
    env = environment_info()
    for k, v in env.items():
        c.set_tag(run_id, k, v)
    if logical_date is not None:
        c.set_tag(run_id, tracking.LOGICAL_DATE_TAG, logical_date.isoformat())
    if fingerprint:
        c.set_tag(run_id, tracking.TRAINING_FINGERPRINT_TAG, fingerprint)
    if prompt is not None:
        c.set_tag(run_id, tracking.PROMPT_TAG, prompt.label)
        _link_prompt(cfg, run_id, prompt)
    c.set_tag(run_id, "llmops.training.status", "running")

    def progress(event: dict[str, Any]) -> None:
        log.info("%s", format_progress(event))
        if on_progress is not None:
            on_progress(event)

    def line(text: str) -> None:
        log.info("[train] %s", text)
        if on_line is not None:
            on_line(text)

    # MLflow's system metrics (CPU, memory, disk, network, and GPU where there is one) on the training run, sampled
    # in this process while the training process group runs on the same machine (``system/*`` in the MLflow UI).
    from mlflow.system_metrics.system_metrics_monitor import SystemMetricsMonitor

    # The monitor samples only while the MLflow run is RUNNING (an earlier ``start_run`` block ended it): the run is
    # marked running while training runs, then FINISHED (FAILED when training failed; a retry marks it running again).
    status_before = c.get_run(run_id).info.status
    if status_before != "RUNNING":
        c.update_run(run_id, status="RUNNING")
    monitor = SystemMetricsMonitor(run_id, sampling_interval=5, resume_logging=True, tracking_uri=cfg.tracking_uri)
    monitor.start()
    status_after = "FAILED"
    try:
        summary = run_training(cfg, job, on_progress=progress, on_line=line)
        check = verify_model_dir(job.final_model_dir)
        adapter = verify_adapter_dir(job.adapter_dir) if job.lora else None
    except TrainingError as exc:
        c.set_tag(run_id, "llmops.training.status", exc.kind)
        c.set_tag(run_id, "llmops.training.error", str(exc)[:MAX_TAG_CHARS])
        raise
    except ValueError as exc:  # the consolidated model failed its checks: nothing may be registered
        c.set_tag(run_id, "llmops.training.status", "invalid_model")
        c.set_tag(run_id, "llmops.training.error", str(exc)[:MAX_TAG_CHARS])
        raise TrainingError(
            f"the trained model failed its checks: {exc}", retryable=False, kind="invalid_model"
        ) from exc
    else:
        status_after = "RUNNING" if status_before == "RUNNING" else "FINISHED"
    finally:
        monitor.finish()
        if status_after != "RUNNING":
            c.update_run(run_id, status=status_after)

    steps = int(summary["steps"])
    tracking.log_metrics(cfg, run_id, {"final_train_loss": float(summary["final_train_loss"])}, step=steps)
    totals = {
        "model_parameters": float(check["parameters"]),
        "trainable_parameters": float(summary.get("trainable_parameters", check["parameters"])),
        "train_seconds": float(summary["train_seconds"]),
    }
    tracking.log_metrics(cfg, run_id, totals)
    c.log_dict(run_id, summary, "training_summary.json")
    c.log_dict(run_id, {"verification": check, "files": dir_manifest(job.final_model_dir)}, "final_model/manifest.json")
    if adapter is not None:
        c.log_artifacts(run_id, str(job.adapter_dir), "adapter")
    c.set_tag(run_id, "llmops.training.status", "completed")
    return {
        "mlflow_run_id": run_id,
        "model_dir": str(job.final_model_dir),
        "adapter_dir": str(job.adapter_dir) if adapter is not None else None,
        "base_model": base_ref,
        "summary": json.loads(json.dumps(summary)),
        "prompt": prompt.label if prompt is not None else "",
    }


def _link_prompt(cfg: LLMOpsConfig, run_id: str, prompt: Prompt) -> None:
    """Link the registered prompt version to the training run (MLflow's prompt lineage); the tag holds it too."""
    if prompt.version == "file":
        return
    import mlflow

    c = tracking.client(cfg)
    c.link_prompt_version_to_run(run_id, mlflow.genai.load_prompt(prompt.uri, link_to_model=False))


def _log_dataset_input(cfg: LLMOpsConfig, run_id: str, train_path: str, lineage: dict[str, Any]) -> None:
    """Record the curated snapshot as the run's dataset input (digest and source path)."""
    import mlflow
    import pandas as pd
    from mlflow.data.pandas_dataset import from_pandas

    frame = pd.read_parquet(train_path, columns=["prompt", "response"])
    dataset = from_pandas(frame, source=train_path, name=f"curated-{Path(train_path).parent.name}")
    with mlflow.start_run(run_id=run_id):
        mlflow.log_input(dataset, context="training")
        mlflow.set_tag("llmops.data_rows", str(len(frame)))
        if "snapshot_hash" in lineage:
            mlflow.set_tag("llmops.data_snapshot", str(lineage["snapshot_hash"]))
        docs = lineage.get("data_docs_dir")
        if docs and Path(docs).is_dir():  # the GX Data Docs of this run's validation
            mlflow.log_artifacts(str(docs), artifact_path="data/data_docs")
