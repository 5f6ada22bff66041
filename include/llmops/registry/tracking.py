"""MLflow tracking: experiments and runs keyed by the Airflow run, created check-then-create."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from llmops.config import LLMOpsConfig

RUN_KEY_TAG = "llmops.run_key"
EXPERIMENT_KIND_TAG = "mlflow.experimentKind"  # which view the MLflow UI opens an experiment on
LOGICAL_DATE_TAG = "llmops.logical_date"
"""Tag holding the Airflow run's logical date (ISO 8601) on the MLflow run; metrics are timestamped by it."""
TRAINING_FINGERPRINT_TAG = "llmops.training_fingerprint"
PROMPT_TAG = "llmops.prompt"  # <name>/<version> of the prompt a run trained with (registered versions carry it too)
"""Run and version tag: the hash of the data snapshot, base model and settings a model was trained with."""


def client(cfg: LLMOpsConfig) -> Any:
    """An ``MlflowClient`` bound to the configured tracking and registry stores."""
    import mlflow
    from mlflow.tracking import MlflowClient

    if cfg.tracking_uri.startswith("sqlite:///"):
        cfg.paths.mlflow_dir.mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(cfg.tracking_uri)
    mlflow.set_registry_uri(cfg.registry_uri)
    return MlflowClient(tracking_uri=cfg.tracking_uri, registry_uri=cfg.registry_uri)


def ensure_experiment(cfg: LLMOpsConfig, name: str | None = None) -> str:
    """Return the id of the experiment, creating it (with the local artifact root) if needed."""
    c = client(cfg)
    name = name or cfg.mlflow.experiment
    exp = c.get_experiment_by_name(name)
    if exp is not None:
        return str(exp.experiment_id)
    location = None
    if cfg.mlflow.tracking_uri is None:  # embedded store: keep artifacts under the state folder
        root = cfg.artifact_root / name
        root.mkdir(parents=True, exist_ok=True)
        location = root.as_uri()
    # The MLflow UI opens an experiment on the view of its kind: training runs for fine-tuning, runs (not the GenAI
    # overview) for monitoring.
    kind = "finetuning" if name == cfg.mlflow.experiment else "custom_model_development"
    try:
        return str(c.create_experiment(name, artifact_location=location, tags={EXPERIMENT_KIND_TAG: kind}))
    except Exception:  # another writer created it between our check and create
        exp = c.get_experiment_by_name(name)
        if exp is None:
            raise
        return str(exp.experiment_id)


def find_run(cfg: LLMOpsConfig, run_key: str, experiment: str | None = None) -> str | None:
    """The id of the MLflow run recorded for this pipeline run, if any."""
    c = client(cfg)
    exp_id = ensure_experiment(cfg, experiment)
    runs = c.search_runs(
        [exp_id],
        filter_string=f"tags.`{RUN_KEY_TAG}` = '{_quote(run_key)}'",
        max_results=1,
        order_by=["attributes.start_time ASC"],
    )
    return str(runs[0].info.run_id) if runs else None


def get_or_create_run(
    cfg: LLMOpsConfig,
    run_key: str,
    run_name: str,
    tags: dict[str, str] | None = None,
    experiment: str | None = None,
) -> str:
    """Return the MLflow run of this pipeline run, creating it on first use (idempotent across retries)."""
    existing = find_run(cfg, run_key, experiment)
    if existing is not None:
        return existing
    c = client(cfg)
    exp_id = ensure_experiment(cfg, experiment)
    run = c.create_run(exp_id, run_name=run_name, tags={RUN_KEY_TAG: run_key, **(tags or {})})
    return str(run.info.run_id)


def metric_timestamp_ms(cfg: LLMOpsConfig, run_id: str, at: datetime | None = None) -> int:
    """The timestamp (ms since the epoch) of the metrics a pipeline run logs to ``run_id``: ``at`` when given,
    else the run's :data:`LOGICAL_DATE_TAG`, else the MLflow run's start time. Never the wall clock, so a re-run
    logs the same history point again instead of adding one."""
    if at is not None:
        return int(at.timestamp() * 1000)
    run = client(cfg).get_run(run_id)
    tagged = run.data.tags.get(LOGICAL_DATE_TAG)
    if tagged:
        return int(datetime.fromisoformat(tagged).timestamp() * 1000)
    return int(run.info.start_time or 0)


def log_metrics(
    cfg: LLMOpsConfig, run_id: str, metrics: Mapping[str, float], *, at: datetime | None = None, step: int = 0
) -> None:
    """Log ``metrics`` to ``run_id`` at one timestamp (:func:`metric_timestamp_ms`) and ``step``.

    MLflow keeps one history point per (key, timestamp, step, value), so logging the same values again, as a
    retry or a re-run does, leaves the history as it was.
    """
    from mlflow.entities import Metric

    if not metrics:
        return
    timestamp = metric_timestamp_ms(cfg, run_id, at)
    batch = [Metric(str(k), float(v), timestamp, step) for k, v in metrics.items()]
    client(cfg).log_batch(run_id, metrics=batch)


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "\\'")


def run_link(cfg: LLMOpsConfig, run_id: str) -> str:
    """A URL of the run in the MLflow UI of the embedded stack (or the configured server)."""
    c = client(cfg)
    exp_id = c.get_run(run_id).info.experiment_id
    base = (
        cfg.mlflow.tracking_uri
        if (cfg.mlflow.tracking_uri or "").startswith("http")
        else (f"http://127.0.0.1:{cfg.mlflow.ui_port}")
    )
    return f"{str(base).rstrip('/')}/#/experiments/{exp_id}/runs/{run_id}"
