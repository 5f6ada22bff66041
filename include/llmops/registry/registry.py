"""MLflow model registry: log, register (check-then-create), aliases and promotion events."""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from llmops.config import LLMOpsConfig
from llmops.registry.tracking import RUN_KEY_TAG, client

log = logging.getLogger(__name__)

CHALLENGER = "challenger"
CHAMPION = "champion"
PYFUNC_FILE = Path(__file__).with_name("pyfunc_model.py")
MODEL_ARTIFACT = "model"


@dataclass(frozen=True)
class RegisteredVersion:
    """A registered model version and whether this call created it."""

    name: str
    version: str
    model_uri: str
    run_id: str
    created: bool


def find_version_for_run(cfg: LLMOpsConfig, run_key: str) -> Any | None:
    """The model version already registered for this pipeline run, if any."""
    c = client(cfg)
    name = cfg.mlflow.model_name
    try:
        versions = c.search_model_versions(f"name = '{name}'")
    except Exception:  # registered model does not exist yet
        return None
    matches = [v for v in versions if (v.tags or {}).get(RUN_KEY_TAG) == run_key]
    return min(matches, key=lambda v: int(v.version)) if matches else None


def log_and_register(
    cfg: LLMOpsConfig,
    run_id: str,
    model_dir: Path,
    run_key: str,
    tags: dict[str, str],
) -> RegisteredVersion:
    """Log the model with the pyfunc flavor into ``run_id`` and register it, unless this run already did.

    Args:
        cfg: configuration.
        run_id: MLflow run of the training.
        model_dir: consolidated Hugging Face model directory (safetensors + tokenizer).
        run_key: the Airflow run this version belongs to; re-running registers no second version.
        tags: extra version tags (data snapshot, metrics, gate decision, ...).

    Returns:
        The registered version.
    """
    import mlflow
    import pandas as pd
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, ParamSchema, ParamSpec, Schema

    name = cfg.mlflow.model_name
    existing = find_version_for_run(cfg, run_key)
    if existing is not None:
        log.info("version %s of %s already registered for run %s", existing.version, name, run_key)
        return RegisteredVersion(name, str(existing.version), str(existing.source), str(existing.run_id), False)

    c = client(cfg)
    try:
        c.get_registered_model(name)
    except Exception:
        try:
            c.create_registered_model(name, description="Fine-tuned support assistant (airflow-llmops).")
        except Exception:  # created concurrently
            c.get_registered_model(name)

    signature = ModelSignature(
        inputs=Schema([ColSpec("string", "prompt")]),
        outputs=Schema([ColSpec("string")]),
        params=ParamSchema([ParamSpec("max_new_tokens", "long", 48), ParamSpec("temperature", "double", 0.0)]),
    )
    with mlflow.start_run(run_id=run_id):
        info = mlflow.pyfunc.log_model(
            name=MODEL_ARTIFACT,
            python_model=str(PYFUNC_FILE),
            artifacts={"model_dir": str(model_dir)},
            signature=signature,
            input_example=pd.DataFrame({"prompt": [cfg.triton.smoke_prompt]}),
            pip_requirements=["torch==2.13.0", "transformers==5.23.0", "safetensors", "pandas<3"],
        )
    version_tags = {RUN_KEY_TAG: run_key, **{k: str(v) for k, v in tags.items()}}
    mv = mlflow.register_model(info.model_uri, name, tags=version_tags)
    c.set_registered_model_alias(name, CHALLENGER, str(mv.version))
    return RegisteredVersion(name, str(mv.version), str(info.model_uri), run_id, True)


def alias_version(cfg: LLMOpsConfig, alias: str) -> str | None:
    """The version an alias points at, or None."""
    c = client(cfg)
    try:
        return str(c.get_model_version_by_alias(cfg.mlflow.model_name, alias).version)
    except Exception:
        return None


def model_dir_of_version(cfg: LLMOpsConfig, version: str, dest: Path) -> Path:
    """Download the weights directory of a registered version (the ``model_dir`` artifact)."""
    import mlflow

    client(cfg)
    dest.mkdir(parents=True, exist_ok=True)
    local = mlflow.artifacts.download_artifacts(
        artifact_uri=f"models:/{cfg.mlflow.model_name}/{version}", dst_path=str(dest)
    )
    found = sorted(Path(local).rglob("config.json"))
    for cand in found:
        if any(cand.parent.glob("*.safetensors")):
            return cand.parent
    raise FileNotFoundError(f"no model weights in the artifacts of version {version}")


@dataclass(frozen=True)
class AliasEvent:
    """A move of the ``champion`` alias (promotion or rollback)."""

    kind: str  # "promotion" | "rollback"
    model: str
    from_version: str | None
    to_version: str
    run_key: str
    reason: str
    at: str  # from the data interval / logical date, not the wall clock


def move_champion(cfg: LLMOpsConfig, event: AliasEvent, log_path: Path) -> None:
    """Point ``champion`` at ``event.to_version`` and record the event in MLflow tags and an append-only log."""
    c = client(cfg)
    name = cfg.mlflow.model_name
    c.set_registered_model_alias(name, CHAMPION, event.to_version)
    prefix = f"llmops.{event.kind}"
    c.set_model_version_tag(name, event.to_version, f"{prefix}.from_version", str(event.from_version or ""))
    c.set_model_version_tag(name, event.to_version, f"{prefix}.run_key", event.run_key)
    c.set_model_version_tag(name, event.to_version, f"{prefix}.reason", event.reason)
    c.set_model_version_tag(name, event.to_version, f"{prefix}.at", event.at)
    append_event(log_path, asdict(event))


def append_event(log_path: Path, record: dict[str, Any]) -> None:
    """Append one JSON line and fsync it: the promotion log is append-only."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(record, sort_keys=True) + "\n"
    with open(log_path, "a", encoding="utf-8") as fh:
        fh.write(line)
        fh.flush()
        os.fsync(fh.fileno())


def file_sha256(path: Path) -> str:
    """Hex digest of a file (used for the DeepSpeed config hash tag)."""
    return hashlib.sha256(path.read_bytes()).hexdigest()
