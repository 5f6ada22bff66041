"""The ``finetune_model`` step: ensure a base model, open the MLflow run, launch DeepSpeed, verify the output."""

from __future__ import annotations

import json
import logging
import platform
from collections.abc import Callable
from pathlib import Path
from typing import Any

from llmops.config import LLMOpsConfig
from llmops.registry import tracking
from llmops.training.base_model import build_tiny_base_model
from llmops.training.launch import build_job, run_training, verify_model_dir

log = logging.getLogger(__name__)


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
    import torch
    import transformers

    device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else f"cpu ({platform.processor() or 'x86_64'})"
    return {
        "env.torch": torch.__version__,
        "env.deepspeed": deepspeed.__version__,
        "env.transformers": transformers.__version__,
        "env.python": platform.python_version(),
        "env.device": device,
    }


def finetune_model(
    cfg: LLMOpsConfig,
    run_key: str,
    train_path: str,
    data_lineage: dict[str, Any] | None = None,
    on_progress: Callable[[dict[str, Any]], None] | None = None,
    on_line: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Fine-tune the base model on the curated data of this run.

    Idempotent: the MLflow run is found by the run key, the output directory is keyed by run, and a retry
    resumes from the last complete checkpoint (or returns at once when training had finished).

    Returns:
        ``{"mlflow_run_id", "model_dir", "base_model", "summary"}``: references only.
    """
    base_ref = ensure_base_model(cfg, Path(train_path))
    cfg.base_model.name_or_path = base_ref
    run_id = tracking.get_or_create_run(cfg, run_key, run_name=f"finetune-{run_key}", tags={"llmops.stage": "finetune"})
    c = tracking.client(cfg)
    logged = c.get_run(run_id).data.params
    output_dir = cfg.paths.runs_dir / run_key
    job = build_job(cfg, train_path, output_dir, run_id)
    if "base_model" not in logged:  # params are immutable in MLflow: log them once per run
        params = {
            "base_model": base_ref,
            "train_path": train_path,
            "launcher": cfg.training.launcher,
            "world_size": cfg.training.world_size,
            "deepspeed_config": str(cfg.training.deepspeed_config.name),
            "zero_stage": job.deepspeed_config.get("zero_optimization", {}).get("stage", 0),
            **{
                k: v
                for k, v in cfg.training.model_dump(mode="json").items()
                if k not in {"deepspeed_config", "hostfile"}
            },
        }
        for k, v in params.items():
            c.log_param(run_id, k, str(v))
        c.log_dict(run_id, cfg.training.model_dump(mode="json"), "config/recipe.json")
        c.log_dict(run_id, job.deepspeed_config, "config/deepspeed.json")
        for k, v in environment_info().items():
            c.set_tag(run_id, k, v)
        if data_lineage:
            c.log_dict(run_id, data_lineage, "data/lineage.json")
            _log_dataset_input(cfg, run_id, train_path, data_lineage)

    summary = run_training(cfg, job, on_progress=on_progress, on_line=on_line)
    check = verify_model_dir(job.final_model_dir)
    c.log_metric(run_id, "final_train_loss", float(summary["final_train_loss"]), step=int(summary["steps"]))
    c.log_metric(run_id, "model_parameters", float(check["parameters"]))
    c.log_dict(run_id, summary, "training_summary.json")
    return {
        "mlflow_run_id": run_id,
        "model_dir": str(job.final_model_dir),
        "base_model": base_ref,
        "summary": json.loads(json.dumps(summary)),
    }


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
