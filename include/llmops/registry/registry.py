"""MLflow model registry: log, register (check-then-create), aliases and promotion events."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from llmops.config import LLMOpsConfig
from llmops.registry.tracking import RUN_KEY_TAG, client
from llmops.versions import validate_version

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
    c = client(cfg)
    existing = find_version_for_run(cfg, run_key)
    if existing is not None:
        log.info("version %s of %s already registered for run %s", existing.version, name, run_key)
        _point_challenger(cfg, str(existing.version))
        return RegisteredVersion(name, str(existing.version), str(existing.source), str(existing.run_id), False)

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
    # MLflow prints "already exists, creating a new version" to stderr, which task logs show as an error.
    with contextlib.redirect_stderr(io.StringIO()) as said:
        mv = mlflow.register_model(info.model_uri, name, tags=version_tags)
    for line in said.getvalue().splitlines():
        log.info("mlflow: %s", line)
    # Check-then-create is not atomic: if another writer registered this run meanwhile, the oldest version wins
    # and ours is deleted, so a run never owns two versions.
    first = find_version_for_run(cfg, run_key)
    if first is not None and str(first.version) != str(mv.version):
        log.warning("run %s is already version %s; deleting the duplicate %s", run_key, first.version, mv.version)
        c.delete_model_version(name, str(mv.version))
        _point_challenger(cfg, str(first.version))
        return RegisteredVersion(name, str(first.version), str(first.source), str(first.run_id), False)
    _point_challenger(cfg, str(mv.version))
    return RegisteredVersion(name, str(mv.version), str(info.model_uri), run_id, True)


def _point_challenger(cfg: LLMOpsConfig, version: str) -> None:
    """Move ``challenger`` to ``version`` unless it already points at a newer version (a re-run of an old run
    must not take the alias back)."""
    current = alias_version(cfg, CHALLENGER)
    if current is None or int(current) < int(version):
        client(cfg).set_registered_model_alias(cfg.mlflow.model_name, CHALLENGER, version)


def is_not_found(exc: BaseException) -> bool:
    """Whether an MLflow error says "no such model, version or alias" (and not "the registry cannot be reached")."""
    from mlflow.exceptions import MlflowException

    if not isinstance(exc, MlflowException):
        return False
    code = str(getattr(exc, "error_code", ""))
    if code.endswith("RESOURCE_DOES_NOT_EXIST"):
        return True
    # A missing alias on an existing model is reported as an invalid parameter.
    return code.endswith("INVALID_PARAMETER_VALUE") and "not found" in str(exc).lower()


def alias_version(cfg: LLMOpsConfig, alias: str) -> str | None:
    """The version an alias points at, or ``None`` when the model or the alias does not exist.

    Raises:
        Exception: the registry cannot be reached or answers with another error. An unreachable registry is never
            "no champion": a gate that compared against nothing would pass.
    """
    c = client(cfg)
    try:
        return str(c.get_model_version_by_alias(cfg.mlflow.model_name, alias).version)
    except Exception as exc:
        if is_not_found(exc):
            return None
        raise


def get_version(cfg: LLMOpsConfig, version: str | int) -> Any | None:
    """The registered version (``None`` when it does not exist); ``version`` is validated first."""
    number = validate_version(version)
    try:
        return client(cfg).get_model_version(cfg.mlflow.model_name, str(number))
    except Exception as exc:
        if is_not_found(exc):
            return None
        raise


def model_dir_of_version(cfg: LLMOpsConfig, version: str | int, dest: Path) -> Path:
    """Download the weights directory (the ``model_dir`` artifact) of a registered version into ``dest``.

    The version is validated (a strict number) before it goes into a ``models:/`` URI, and the download is checked
    to stay inside ``dest`` with no symbolic links: registry artifacts are not trusted with the host's filesystem.

    Raises:
        ValueError: invalid version, or the artifacts hold links or paths outside ``dest``.
        FileNotFoundError: the artifacts hold no safetensors weights.
    """
    import mlflow

    number = validate_version(version)
    client(cfg)
    dest = Path(dest).resolve()
    dest.mkdir(parents=True, exist_ok=True)
    uri = f"models:/{cfg.mlflow.model_name}/{number}"
    local = Path(mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=str(dest))).resolve()
    for path in [local, *local.rglob("*")]:
        if path.is_symlink():
            raise ValueError(f"artifacts of version {number} hold a symbolic link: {path}")
        if not path.resolve().is_relative_to(dest):
            raise ValueError(f"artifacts of version {number} resolve outside {dest}: {path}")
    for cand in sorted(local.rglob("config.json")):
        if any(cand.parent.glob("*.safetensors")):
            return cand.parent
    raise FileNotFoundError(f"no model weights in the artifacts of version {number}")


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
    """Point ``champion`` at ``event.to_version`` and record the event in MLflow tags and an append-only log.

    All or nothing, as far as MLflow allows: when a tag or the log line cannot be written after the alias moved,
    the alias is put back where it was (or removed, when there was none) before the error propagates.

    Raises:
        Exception: whatever MLflow or the filesystem raised; ``champion`` then points where it did before.
    """
    c = client(cfg)
    name = cfg.mlflow.model_name
    prefix = f"llmops.{event.kind}"
    tags = {
        f"{prefix}.from_version": str(event.from_version or ""),
        f"{prefix}.run_key": event.run_key,
        f"{prefix}.reason": event.reason[:4000],
        f"{prefix}.at": event.at,
    }
    old_tags = dict(c.get_model_version(name, event.to_version).tags or {})
    c.set_registered_model_alias(name, CHAMPION, event.to_version)
    try:
        for key, value in tags.items():
            c.set_model_version_tag(name, event.to_version, key, value)
        append_event(log_path, asdict(event))
    except Exception:
        # Undo, so that neither the alias nor the tags claim an event that did not complete ("previous" of a
        # rollback is read from these tags).
        try:
            if event.from_version:
                c.set_registered_model_alias(name, CHAMPION, event.from_version)
            else:
                c.delete_registered_model_alias(name, CHAMPION)
            for key in tags:
                with contextlib.suppress(Exception):  # a tag that was never written cannot be deleted
                    if key in old_tags:
                        c.set_model_version_tag(name, event.to_version, key, old_tags[key])
                    else:
                        c.delete_model_version_tag(name, event.to_version, key)
        except Exception:  # the original error is the one to report
            log.exception("could not undo the move of %s to version %s", CHAMPION, event.to_version)
        raise


def read_events(log_path: Path) -> list[dict[str, Any]]:
    """The promotion log's events, oldest first (unreadable lines are skipped)."""
    try:
        lines = Path(log_path).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    events = []
    for line in lines:
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict):
            events.append(record)
    return events


def append_event(log_path: Path, record: dict[str, Any]) -> None:
    """Append one JSON line and fsync it: the promotion log is append-only."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(record, sort_keys=True) + "\n"
    with open(log_path, "a", encoding="utf-8") as fh:
        fh.write(line)
        fh.flush()
        os.fsync(fh.fileno())
