"""MLflow tracking: experiments and runs keyed by the Airflow run, created check-then-create."""

from __future__ import annotations

from typing import Any

from llmops.config import LLMOpsConfig

RUN_KEY_TAG = "llmops.run_key"


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
    try:
        return str(c.create_experiment(name, artifact_location=location))
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
