"""MLflow model registry: log, register (check-then-create), aliases and promotion events."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import random
import re
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from llmops.config import LLMOpsConfig
from llmops.fsutil import repair_partial_tail
from llmops.registry.tracking import RUN_KEY_TAG, client
from llmops.versions import validate_version

log = logging.getLogger(__name__)

CHALLENGER = "challenger"
CHAMPION = "champion"
PYFUNC_FILE = Path(__file__).with_name("pyfunc_model.py")
MODEL_ARTIFACT = "model"
# Alias events that put a new version in front of users, replacing the champion: a model promotion, and a prompt
# release (the champion's weights served with a new prompt, registered as a version of its own). "previous" and the
# rollback watch follow both.
PROMOTING_KINDS = ("promotion", "prompt_release")


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


def versions_with_tag(cfg: LLMOpsConfig, key: str, value: str) -> list[Any]:
    """The registered versions whose tag ``key`` equals ``value``, oldest first (none when the model does not
    exist yet)."""
    c = client(cfg)
    try:
        versions = c.search_model_versions(f"name = '{cfg.mlflow.model_name}'")
    except Exception as exc:
        if is_not_found(exc):
            return []
        raise
    return sorted((v for v in versions if (v.tags or {}).get(key) == value), key=lambda v: int(v.version))


def log_and_register(
    cfg: LLMOpsConfig,
    run_id: str,
    model_dir: Path,
    run_key: str,
    tags: dict[str, str],
    prompts: list[str] | None = None,
) -> RegisteredVersion:
    """Log the model with the pyfunc flavor into ``run_id`` and register it, unless this run already did.

    Args:
        cfg: configuration.
        run_id: MLflow run of the training.
        model_dir: consolidated Hugging Face model directory (safetensors + tokenizer).
        run_key: the Airflow run this version belongs to; re-running registers no second version.
        tags: extra version tags (data snapshot, metrics, gate decision, ...).
        prompts: ``prompts:/<name>/<version>`` URIs the model was trained with (MLflow links them to the model).

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
    # A retry after a crash between logging and registering registers the model this run logged already.
    model_uri = logged_model_uri(cfg, run_id)
    if model_uri is not None:
        log.info("run %s already logged %s; registering it without logging the weights again", run_id, model_uri)
    else:
        with mlflow.start_run(run_id=run_id):
            info = mlflow.pyfunc.log_model(
                name=MODEL_ARTIFACT,
                python_model=str(PYFUNC_FILE),
                artifacts={"model_dir": str(model_dir)},
                signature=signature,
                input_example=pd.DataFrame({"prompt": [cfg.triton.smoke_prompt]}),
                pip_requirements=["torch==2.13.0", "transformers==5.23.0", "safetensors", "pandas<3"],
                prompts=prompts or None,
            )
        model_uri = str(info.model_uri)
    version_tags = {RUN_KEY_TAG: run_key, **{k: str(v) for k, v in tags.items()}}
    # MLflow prints "already exists, creating a new version" to stderr, which task logs show as an error.
    with contextlib.redirect_stderr(io.StringIO()) as said:
        mv = mlflow.register_model(model_uri, name, tags=version_tags)
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
    return RegisteredVersion(name, str(mv.version), model_uri, run_id, True)


def logged_model_uri(cfg: LLMOpsConfig, run_id: str) -> str | None:
    """The URI of the complete (``READY``) model named :data:`MODEL_ARTIFACT` that ``run_id`` logged, if any
    (the oldest when there are several)."""
    c = client(cfg)
    experiment_id = str(c.get_run(run_id).info.experiment_id)
    models = c.search_logged_models(
        experiment_ids=[experiment_id],
        filter_string=f"source_run_id = '{run_id}' AND name = '{MODEL_ARTIFACT}'",
        order_by=[{"field_name": "creation_timestamp", "ascending": True}],
    )
    # Filtered here: the SQL store compares `status` with its stored number, so `status = 'READY'` never matches.
    ready = [m for m in models if str(m.status) == "READY"]
    return str(ready[0].model_uri) if ready else None


def _point_challenger(cfg: LLMOpsConfig, version: str) -> None:
    """Move ``challenger`` to ``version`` unless it already points at a newer version (a re-run of an old run
    must not take the alias back)."""
    set_alias(cfg, CHALLENGER, version, only_forward=True)


ALIAS_ATTEMPTS = 8
"""How often one alias or tag write is tried when it conflicts with a concurrent writer."""
ALIAS_ROUNDS = 16
"""How many read-set-check rounds a forward-only alias move takes at most before it gives up (transient)."""
ALIAS_CLAIM_TAG = "llmops.alias_claim.{alias}"
"""Version tag recording that a forward-only move of ``alias`` wanted this version."""
_CONFLICT_MARKERS = (
    "uniqueviolation",
    "duplicate key value",
    "unique constraint failed",
    "duplicate entry",
    "deadlock detected",
    "could not serialize access",
    "database is locked",
)


class AliasConflict(RuntimeError):
    """A forward-only alias move kept being overtaken by concurrent writers; retry later."""


def is_write_conflict(exc: BaseException) -> bool:
    """Whether an MLflow error is a lost race with another writer (a unique-key violation, a deadlock, a locked
    SQLite database) that the same write can win when tried again."""
    text = f"{type(exc).__name__}: {exc}".lower()
    return any(marker in text for marker in _CONFLICT_MARKERS)


def _write(action: Any, *args: Any) -> Any:
    """Call an MLflow write, retried with a short jittered backoff while it conflicts with a concurrent writer."""
    for attempt in range(ALIAS_ATTEMPTS):
        try:
            return action(*args)
        except Exception as exc:
            if attempt == ALIAS_ATTEMPTS - 1 or not is_write_conflict(exc):
                raise
            delay = min(1.0, 0.05 * 2**attempt) * random.uniform(0.5, 1.5)
            what = getattr(action, "__name__", "write")
            log.info("%s%s conflicted with another writer (%s); again in %.2fs", what, args, exc, delay)
            time.sleep(delay)
    raise AssertionError("unreachable")


def _claimed_versions(cfg: LLMOpsConfig, alias: str) -> list[int]:
    tag = ALIAS_CLAIM_TAG.format(alias=alias)
    versions = client(cfg).search_model_versions(f"name = '{cfg.mlflow.model_name}'")
    return [int(v.version) for v in versions if (v.tags or {}).get(tag)]


def set_alias(cfg: LLMOpsConfig, alias: str, version: str, *, only_forward: bool = False) -> str:
    """Point ``alias`` at ``version``, surviving concurrent writers.

    Each write is retried while it conflicts with another writer's (Postgres reports two simultaneous alias
    writes as a ``UniqueViolation`` on ``registered_model_alias_pk``).

    With ``only_forward`` the alias never moves to a lower version: MLflow has no compare-and-set, so the move
    tags ``version`` with ``llmops.alias_claim.<alias>`` first, then points the alias at the highest claimed
    version unless it already points at that or higher, and checks again until a read confirms it. Whichever
    writer sets last therefore sees every claim made before its write, and the alias ends on the highest claim
    (or on a higher version another writer set). Only for aliases that only move forward (``challenger``).
    Without ``only_forward`` the alias is set as asked and the claims above ``version`` are withdrawn.

    Args:
        cfg: configuration.
        alias: the alias name.
        version: the version to point at (a strict number).
        only_forward: never move the alias to a lower version than it points at or than another forward move
            claimed.

    Returns:
        The version the alias points at afterwards.

    Raises:
        ValueError: ``version`` is not a valid version number.
        AliasConflict: concurrent writers kept overtaking a forward move (transient).
    """
    number = validate_version(version)
    c = client(cfg)
    name = cfg.mlflow.model_name
    tag = ALIAS_CLAIM_TAG.format(alias=alias)
    if not only_forward:
        for claimed in _claimed_versions(cfg, alias):
            if claimed > number:
                _write(c.delete_model_version_tag, name, str(claimed), tag)
        _write(c.set_registered_model_alias, name, alias, str(number))
        return str(number)
    _write(c.set_model_version_tag, name, str(number), tag, "true")
    for _ in range(ALIAS_ROUNDS):
        wanted = max([number, *_claimed_versions(cfg, alias)])
        current = alias_version(cfg, alias)
        if current is not None and int(current) >= wanted:
            return current
        _write(c.set_registered_model_alias, name, alias, str(wanted))
    raise AliasConflict(f"alias {alias!r} of {name} kept moving while setting it to version {number} or later")


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
    """A move of the ``champion`` alias (promotion, prompt release or rollback)."""

    kind: str  # "promotion" | "prompt_release" | "rollback"
    model: str
    from_version: str | None
    to_version: str
    run_key: str
    reason: str
    at: str  # from the data interval / logical date, not the wall clock
    # SHA-256 over the served weights' manifest (llmops.serving.trust.weights_digest): what a rollback or reconcile
    # that downloads this version from the registry again must get back. In the promotion log only, not in tags.
    weights_digest: str = ""
    triggered_by: str = ""  # the user who triggered the run ("" for a scheduled or asset-triggered run)


def event_tags(event: AliasEvent) -> dict[str, str]:
    """The version tags that record ``event`` (``llmops.<kind>.from_version``, ``.run_key``, ``.reason``, ``.at``)."""
    prefix = f"llmops.{event.kind}"
    return {
        f"{prefix}.from_version": str(event.from_version or ""),
        f"{prefix}.run_key": event.run_key,
        f"{prefix}.reason": event.reason[:4000],
        f"{prefix}.at": event.at,
    }


def move_champion(cfg: LLMOpsConfig, event: AliasEvent, log_path: Path) -> None:
    """Point ``champion`` at ``event.to_version`` and record the event in MLflow tags and an append-only log.

    All or nothing, as far as MLflow allows: when a tag or the log line cannot be written after the alias moved,
    the alias is put back where it was (or removed, when there was none) before the error propagates. A hard kill
    in between is repaired by :func:`record_event` (called by the reconcile step from the promotion journal).

    Raises:
        Exception: whatever MLflow or the filesystem raised; ``champion`` then points where it did before.
    """
    from llmops.faults import checkpoint

    c = client(cfg)
    name = cfg.mlflow.model_name
    tags = event_tags(event)
    old_tags = dict(c.get_model_version(name, event.to_version).tags or {})
    set_alias(cfg, CHAMPION, event.to_version)
    checkpoint("alias:after")
    try:
        record_event(cfg, event, log_path)
    except Exception:
        # Undo, so that neither the alias nor the tags claim an event that did not complete (a rollback refuses
        # when the champion's tags disagree with the promotion log).
        checkpoint("undo:inside")
        try:
            if event.from_version:
                set_alias(cfg, CHAMPION, event.from_version)
                _align_prompt(cfg, event.from_version)
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


def record_event(cfg: LLMOpsConfig, event: AliasEvent, log_path: Path) -> bool:
    """Write ``event``'s version tags and append it to the promotion log, each only when missing.

    Idempotent by (kind, to_version, run_key): a retry, or the reconcile step finishing an operation a kill
    interrupted, never writes an event twice.

    Returns:
        True when anything was missing and is now written.
    """
    from llmops.faults import checkpoint

    c = client(cfg)
    name = cfg.mlflow.model_name
    current = dict(c.get_model_version(name, event.to_version).tags or {})
    repaired = False
    for key, value in event_tags(event).items():
        if current.get(key) != value:
            c.set_model_version_tag(name, event.to_version, key, value)
            repaired = True
    repaired = _align_prompt(cfg, event.to_version) or repaired
    _describe_serving(cfg, event)
    checkpoint("event-append:before")
    appended = append_event(log_path, asdict(event))
    from llmops.audit import record_alias_event

    audited = record_alias_event(cfg, event) is not None
    return appended or audited or repaired


SERVING_NOTE = re.compile(r"\A<!-- llmops:serving -->.*?<!-- /llmops:serving -->\n*", re.DOTALL)


def serving_headline(description: str, headline: str) -> str:
    """``description`` with its serving headline (the first block, between ``llmops:serving`` markers) replaced."""
    return f"<!-- llmops:serving -->\n{headline}\n<!-- /llmops:serving -->\n\n" + SERVING_NOTE.sub("", description)


_SWITCHED = re.compile(r"switched at (\S+) UTC")


def switched_at(description: str, run_key: str, now: datetime) -> str:
    """The wall-clock time a serving headline gives for the switch by ``run_key``: the one already written for that
    run (a retry or a re-run keeps it), else ``now``. Shown beside the logical date; nothing decides on it."""
    block = SERVING_NOTE.match(description)
    if block and f"`{run_key}`" in block.group(0):
        found = _SWITCHED.search(block.group(0))
        if found:
            return found.group(1)
    return now.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "")


def _describe_serving(cfg: LLMOpsConfig, event: AliasEvent) -> None:
    """Head the model versions' descriptions (their model cards) with where they stand: the new champion "serving on
    Triton since ..., replaced ..., because ...", the one it replaced "served until ...". The times are the run's
    logical date and, beside it, the wall-clock time of the switch. Best effort: the event is recorded by its tags
    and logs, not by this text."""
    c = client(cfg)
    name = cfg.mlflow.model_name
    what = event.kind.replace("_", " ")
    replaced = f"replaced version {event.from_version}" if event.from_version else "first champion"
    now = datetime.now(UTC)

    def headline(version: str, old: str) -> str:
        real = switched_at(old, event.run_key, now)
        if version == event.to_version:
            return (
                f"**Serving on Triton as champion** since {event.at} (logical date; switched at {real} UTC; {what}, "
                f"run `{event.run_key}`); {replaced}, because: {event.reason[:600]}"
            )
        return (
            f"**Served as champion until {event.at}** (logical date; switched at {real} UTC): replaced by version "
            f"{event.to_version} ({what}, run `{event.run_key}`)."
        )

    versions = [event.to_version]
    if event.from_version and event.from_version != event.to_version:
        versions.append(event.from_version)
    for version in versions:
        try:
            old = str(c.get_model_version(name, version).description or "")
            new = serving_headline(old, headline(version, old))
            if new != old:
                c.update_model_version(name, version, description=new)
        except Exception as exc:
            log.warning("description of version %s not updated: %s", version, exc)


def _align_prompt(cfg: LLMOpsConfig, version: str | None) -> bool:
    """Point the prompt registry's ``champion`` alias at the prompt that ``version``'s Triton folder serves with."""
    from llmops.prompts import align_champion_prompt, read_prompt_file
    from llmops.serving.repository import WEIGHTS_DIR, version_path

    if not version:
        return False
    folder = version_path(cfg.paths.model_repository, cfg.triton.model_name, version) / WEIGHTS_DIR
    return align_champion_prompt(cfg, read_prompt_file(folder) if folder.is_dir() else None)


def _event_key(record: dict[str, Any]) -> tuple[str, str, str]:
    return (str(record.get("kind")), str(record.get("to_version")), str(record.get("run_key")))


def read_events(log_path: Path) -> list[dict[str, Any]]:
    """The promotion log's events, oldest first (a last line cut short by a crash is not an event)."""
    try:
        lines = Path(log_path).read_text(encoding="utf-8", errors="replace").splitlines()
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


def append_event(log_path: Path, record: dict[str, Any]) -> bool:
    """Append one JSON line and fsync it, unless the same (kind, to_version, run_key) event is already there.

    Returns:
        True when the line was appended.
    """
    import fcntl

    log_path.parent.mkdir(parents=True, exist_ok=True)
    line = (json.dumps(record, sort_keys=True) + "\n").encode("utf-8")
    with open(log_path, "a+b") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)  # readers and writers of other models share the file
        try:
            repair_partial_tail(fh, log_path, "promotion log")
            if any(_event_key(e) == _event_key(record) for e in read_events(log_path)):
                return False
            fh.seek(0, os.SEEK_END)
            fh.write(line)
            fh.flush()
            os.fsync(fh.fileno())
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
    return True
