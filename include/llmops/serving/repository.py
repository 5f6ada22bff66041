"""Write, list and remove model versions in a Triton model repository.

Layout written here::

    <repo>/<name>/config.pbtxt          # version_policy names the ONE version Triton serves
    <repo>/<name>/<N>/model.py          # copy of llmops/serving/model.py
    <repo>/<name>/<N>/model/...         # safetensors weights, config.json, tokenizer files
    <repo>/<name>/<N>/scrub/...         # the log writer's PII scrubber (copies of llmops.data.pii and checksums)
    <repo>/<name>/<N>/MANIFEST.json     # sha256 of every file above, written last: proves completeness

Every write is staged in ``<repo>/<name>/.staging-<N>-<random>`` on the same filesystem, fsynced, then renamed into
place with ``os.replace``, so Triton (or a crash) never sees a half-written version. Triton only treats numeric
sub-directories as versions, so staging and trash directories are invisible to it.

Names and versions are validated before anything touches the filesystem: they end up in paths and in Triton URLs.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from llmops.config import TritonConfig
from llmops.faults import checkpoint
from llmops.fsutil import atomic_write_text, file_sha256, files_manifest, fsync_dir
from llmops.versions import is_version, traversal_hint, validate_version

MODEL_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"
_MODEL_NAME_RE = re.compile(MODEL_NAME_PATTERN)

CONFIG_FILE = "config.pbtxt"
MANIFEST_FILE = "MANIFEST.json"
MODEL_PY = "model.py"
WEIGHTS_DIR = "model"
# The log writer's PII scrubber: ``llmops.data.pii`` and what it imports, as namespace packages on their own (the
# serving environment does not have the llmops package).
SCRUB_DIR = "scrub"
STAGING_PREFIX = ".staging-"
TRASH_PREFIX = ".trash-"
LOCK_FILE = ".repository.lock"

# Weight and tokenizer files a Hugging Face model directory holds. Anything else at the top level is ignored.
ALLOWED_SUFFIXES: frozenset[str] = frozenset({".safetensors", ".json", ".txt", ".model", ".jinja", ".tiktoken"})
# Pickle-based formats execute code on load: a model directory holding one is refused outright.
PICKLE_SUFFIXES: frozenset[str] = frozenset({".bin", ".pt", ".pth", ".pkl", ".pickle", ".ckpt", ".joblib"})

SERVING_MODEL_SOURCE = Path(__file__).with_name(MODEL_PY)


class RepositoryError(RuntimeError):
    """The model repository is in a state that a write cannot safely resolve (e.g. a conflicting version)."""


# Validation ----------------------------------------------------------------------------------------------------


def validate_model_name(name: object) -> str:
    """Check a Triton model name.

    Args:
        name: the candidate name.

    Returns:
        The name, unchanged.

    Raises:
        ValueError: the name is not a string matching ``^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`` (this rules out
            ``..``, ``/``, ``\\``, ``%2e``/``%2f`` encodings, absolute paths and whitespace).
    """
    if not isinstance(name, str):
        raise ValueError(f"invalid model name {name!r}: expected a string matching {MODEL_NAME_PATTERN}")
    if not _MODEL_NAME_RE.fullmatch(name):
        raise ValueError(
            f"invalid model name {name!r}{traversal_hint(name)}: expected 1-64 characters from "
            f"[A-Za-z0-9_-] starting with a letter or digit ({MODEL_NAME_PATTERN})"
        )
    return name


def model_path(repo: Path, name: str) -> Path:
    """``<repo>/<name>`` after validating ``name`` (and checking the result stays inside ``repo``)."""
    validate_model_name(name)
    root = Path(repo).resolve()
    path = root / name
    if path.parent != root:  # defence in depth: the regex already forbids separators
        raise ValueError(f"invalid model name {name!r}: resolves outside the repository {root}")
    return path


def version_path(repo: Path, name: str, version: int | str) -> Path:
    """``<repo>/<name>/<version>`` after validating both parts."""
    return model_path(repo, name) / str(validate_version(version))


# config.pbtxt ----------------------------------------------------------------------------------------------------


def _pbtxt_string(value: str) -> str:
    if any(ch in value for ch in "\n\r\x00"):
        raise ValueError(f"value {value!r} cannot be written to config.pbtxt (control characters)")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def raw_log_dir(log_dir: Path) -> Path:
    """Where the served model keeps raw lines when ``retain_raw_hours`` > 0: ``<log_dir>_raw`` beside the log folder
    (``paths.prod_log_raw_dir`` for the default one), never inside it, so monitoring does not read them."""
    return log_dir.with_name(f"{log_dir.name}_raw")


def render_config_pbtxt(
    name: str,
    cfg: TritonConfig,
    log_dir: Path,
    served_version: int | None = None,
) -> str:
    """Render the model's ``config.pbtxt``.

    The version policy decides what ``load_model`` serves in explicit model-control mode. With ``served_version``
    it is ``specific { versions: [N] }``: exactly that version is served, a newer directory written by a failed or
    pending promotion is never picked up by a reload or a server restart, and a rollback is "rewrite the policy,
    reload". Without it the policy is ``latest { num_versions: 1 }`` (only useful before the first promotion).

    Args:
        name: model name (validated).
        cfg: Triton settings: ``max_batch_size``; a ``dynamic_batching`` block (preferred sizes up to
            ``max_batch_size``, queue delay, a queue policy that rejects beyond ``max_queue_size`` waiting requests
            or after ``queue_timeout_ms``) only when ``cfg.dynamic_batching``; ``instance_group`` of
            ``instance_kind`` x ``instance_count``; prompt and token limits, torch threads, log rotation as
            parameters for ``model.py``; the log writer's PII scrubbing, public contacts and raw retention.
        log_dir: production-log directory the model writes ``requests.jsonl`` to (made absolute).
        served_version: the one version to serve.

    Returns:
        The file content.
    """
    validate_model_name(name)
    if served_version is not None:
        policy = f"version_policy: {{ specific: {{ versions: [ {validate_version(served_version)} ] }} }}"
    else:
        policy = "version_policy: { latest: { num_versions: 1 } }"
    batching: list[str] = []
    if cfg.dynamic_batching:
        preferred = sorted({b for b in cfg.preferred_batch_sizes if b <= cfg.max_batch_size})
        batching = ["dynamic_batching {"]
        if preferred:
            batching.append(f"  preferred_batch_size: [ {', '.join(str(b) for b in preferred)} ]")
        batching += [
            f"  max_queue_delay_microseconds: {cfg.max_queue_delay_us}",
            # A bounded queue: overload is answered with an error now, not with a reply much later.
            "  default_queue_policy {",
            "    timeout_action: REJECT",
            f"    default_timeout_microseconds: {cfg.queue_timeout_ms * 1000}",
            "    allow_timeout_override: false",
            f"    max_queue_size: {cfg.max_queue_size}",
            "  }",
            "}",
        ]
    params = {
        "model_name": name,
        "log_dir": str(Path(log_dir).expanduser().resolve()),
        "log_rotate_bytes": str(cfg.log_rotate_bytes),
        "max_prompt_chars": str(cfg.max_prompt_chars),
        "default_max_new_tokens": str(cfg.default_max_new_tokens),
        "max_new_tokens_limit": str(cfg.max_new_tokens_limit),
    }
    if cfg.torch_num_threads:
        params["torch_num_threads"] = str(cfg.torch_num_threads)
    params["log_scrub"] = "true" if cfg.log_scrub else "false"
    params["public_contacts"] = json.dumps(list(cfg.public_contacts))
    if cfg.retain_raw_hours:
        params["retain_raw_hours"] = str(cfg.retain_raw_hours)
        params["raw_log_dir"] = str(raw_log_dir(Path(log_dir).expanduser().resolve()))
    param_lines = ",\n".join(
        f"  {{ key: {_pbtxt_string(k)} value: {{ string_value: {_pbtxt_string(v)} }} }}" for k, v in params.items()
    )
    return "\n".join(
        [
            "# Written by llmops.serving.repository; rewritten on every promotion and rollback.",
            f"name: {_pbtxt_string(name)}",
            'backend: "python"',
            f"max_batch_size: {cfg.max_batch_size}",
            policy,
            "input [",
            '  { name: "prompt" data_type: TYPE_STRING dims: [ 1 ] },',
            '  { name: "max_new_tokens" data_type: TYPE_INT32 dims: [ 1 ] optional: true },',
            '  { name: "temperature" data_type: TYPE_FP32 dims: [ 1 ] optional: true }',
            "]",
            "output [",
            '  { name: "response" data_type: TYPE_STRING dims: [ 1 ] },',
            '  { name: "request_id" data_type: TYPE_STRING dims: [ 1 ] }',
            "]",
            *batching,
            "instance_group [",
            f"  {{ kind: {cfg.instance_kind} count: {cfg.instance_count} }}",
            "]",
            "parameters [",
            param_lines,
            "]",
            "",
        ]
    )


_SPECIFIC_RE = re.compile(r"version_policy\s*:?\s*\{\s*specific\s*:?\s*\{\s*versions\s*:\s*\[?\s*([0-9,\s]+)\]?")


def parse_served_versions(config_text: str) -> list[int]:
    """Versions named by a ``specific`` version policy in ``config_text`` (empty for any other policy)."""
    match = _SPECIFIC_RE.search(config_text)
    if not match:
        return []
    return sorted(int(v) for v in re.findall(r"[0-9]+", match.group(1)))


def read_config(repo: Path, name: str) -> str | None:
    """Current ``config.pbtxt`` text of ``name``, or ``None`` when there is none."""
    path = model_path(repo, name) / CONFIG_FILE
    try:
        return path.read_text()
    except FileNotFoundError:
        return None


def served_version(repo: Path, name: str) -> int | None:
    """The version ``config.pbtxt`` pins (``None`` when there is no config or it pins none or several)."""
    text = read_config(repo, name)
    versions = parse_served_versions(text) if text else []
    return versions[0] if len(versions) == 1 else None


def write_config_text(repo: Path, name: str, text: str) -> Path:
    """Atomically replace ``<repo>/<name>/config.pbtxt`` with ``text`` (used to restore a saved config)."""
    directory = model_path(repo, name)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / CONFIG_FILE
    checkpoint("config-write:before")
    atomic_write_text(path, text)
    checkpoint("config-write:after")
    return path


def write_config(repo: Path, name: str, cfg: TritonConfig, log_dir: Path, served_version: int | None = None) -> Path:
    """Render and atomically write ``config.pbtxt`` (see :func:`render_config_pbtxt`).

    Returns:
        The path of the written file.
    """
    return write_config_text(repo, name, render_config_pbtxt(name, cfg, log_dir, served_version))


def remove_config(repo: Path, name: str) -> None:
    """Delete ``config.pbtxt`` (used when the first promotion of a model fails)."""
    (model_path(repo, name) / CONFIG_FILE).unlink(missing_ok=True)


# Locking and staging ---------------------------------------------------------------------------------------------


class LockTimeout(RuntimeError):
    """The repository lock was not free before the deadline; the message names its holder."""


DEFAULT_LOCK_TIMEOUT_S = 600.0


def lock_holder(repo: Path, name: str) -> dict[str, Any] | None:
    """Who holds (or last held) the repository lock: ``host``, ``pid``, ``since``, ``purpose``."""
    try:
        data = json.loads((model_path(repo, name) / LOCK_FILE).read_text() or "null")
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None


@contextmanager
def repository_lock(
    repo: Path, name: str, *, timeout_s: float = DEFAULT_LOCK_TIMEOUT_S, purpose: str = ""
) -> Iterator[None]:
    """Exclusive lock on ``<repo>/<name>`` so two writers (promote, rollback, reconcile) never interleave.

    An ``flock`` on ``<repo>/<name>/.repository.lock``: the kernel releases it the moment its holder dies (SIGKILL,
    OOM), so a dead holder never blocks anyone. The holder writes its host, pid, start time and purpose into the
    file; a waiter gives up after ``timeout_s`` and names them. Several hosts sharing the repository need a
    filesystem whose ``flock`` is coherent across hosts (NFSv4, CephFS); see docs/promotion-and-rollback.md.
    The lock is not re-entrant: code holding it calls the ``*_locked`` helpers.

    Raises:
        LockTimeout: the lock stayed taken for ``timeout_s`` seconds.
    """
    import socket
    import time

    directory = model_path(repo, name)
    directory.mkdir(parents=True, exist_ok=True)
    fd = os.open(directory / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = lock_holder(repo, name) or {}
                    raise LockTimeout(
                        f"the model repository lock of {name} is still held after {timeout_s:.0f} s by "
                        f"host {holder.get('host', '?')} pid {holder.get('pid', '?')} since "
                        f"{holder.get('since', '?')} ({holder.get('purpose') or 'no purpose given'})"
                    ) from None
                time.sleep(0.2)
        holder_info = {
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "since": datetime.now(UTC).isoformat(timespec="seconds"),
            "purpose": purpose,
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(holder_info).encode(), 0)
        checkpoint("lock:acquired")
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def clean_staging(repo: Path, name: str) -> list[Path]:
    """Remove staging and trash directories left behind by interrupted writes.

    Returns:
        The removed paths.
    """
    directory = model_path(repo, name)
    removed: list[Path] = []
    if not directory.is_dir():
        return removed
    for child in directory.iterdir():
        # .config.pbtxt.<pid>-<hex>.tmp: a config write (llmops.fsutil) cut short before its rename.
        # .<file>.<pid>-<hex>.tmp: an atomic write (llmops.fsutil) of the config or the journal cut short.
        half_written = child.name.startswith(".") and (
            child.name.endswith(".tmp") or child.name.startswith(f".{CONFIG_FILE}.tmp-")
        )
        if child.name.startswith((STAGING_PREFIX, TRASH_PREFIX)) or half_written:
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child, ignore_errors=True)
            else:
                child.unlink(missing_ok=True)
            removed.append(child)
    return removed


# Manifests -----------------------------------------------------------------------------------------------------


def _select_model_files(model_dir: Path) -> list[Path]:
    """The files of a Hugging Face model directory that a version needs; refuses pickle weights."""
    model_dir = Path(model_dir)
    if not model_dir.is_dir():
        raise ValueError(f"model directory {model_dir} does not exist")
    # A symlink (e.g. in downloaded registry artifacts) could point anywhere on the host: never follow one.
    links = sorted(p.name for p in model_dir.iterdir() if p.is_symlink())
    if links:
        raise ValueError(f"model directory {model_dir} holds symbolic links {links}: only regular files are served")
    files = sorted(p for p in model_dir.iterdir() if p.is_file() and not p.name.startswith("."))
    pickled = [p.name for p in files if p.suffix.lower() in PICKLE_SUFFIXES]
    if pickled:
        raise ValueError(
            f"model directory {model_dir} holds pickle-based files {pickled}: only safetensors weights are served "
            "(save with save_pretrained(..., safe_serialization=True))"
        )
    selected = [p for p in files if p.suffix.lower() in ALLOWED_SUFFIXES]
    if not any(p.suffix == ".safetensors" for p in selected):
        raise ValueError(f"model directory {model_dir} holds no *.safetensors weights")
    if not any(p.name == "config.json" for p in selected):
        raise ValueError(f"model directory {model_dir} has no config.json")
    return selected


def scrubber_sources() -> dict[str, Path]:
    """The files of the log writer's PII scrubber, by their path inside the version directory (see
    :data:`SCRUB_DIR`): this package's pattern recognizers and checksums, and spaCy's English stop-word list (the
    name recognizer reads it; the serving environment has no spaCy)."""
    import importlib.util

    package = Path(__file__).resolve().parents[1]
    spec = importlib.util.find_spec("spacy")  # located, not imported
    if spec is None or spec.origin is None:
        raise RuntimeError("spaCy is not installed: the log writer's name recognizer needs its English stop words")
    return {
        f"{SCRUB_DIR}/llmops/checksums.py": package / "checksums.py",
        f"{SCRUB_DIR}/llmops/data/pii.py": package / "data" / "pii.py",
        f"{SCRUB_DIR}/en_stop_words.py": Path(spec.origin).parent / "lang" / "en" / "stop_words.py",
    }


def _source_files(model_dir: Path) -> dict[str, Path]:
    """Relative path inside the version directory -> source file."""
    sources = {MODEL_PY: SERVING_MODEL_SOURCE, **scrubber_sources()}
    sources.update({f"{WEIGHTS_DIR}/{p.name}": p for p in _select_model_files(model_dir)})
    return sources


def weights_manifest(model_dir: Path) -> dict[str, dict[str, Any]]:
    """The ``model/...`` entries (bytes, sha256) that a version written from ``model_dir`` would have in its
    manifest; raises ``ValueError`` as :func:`write_model_version` does for a directory it refuses."""
    return files_manifest({f"{WEIGHTS_DIR}/{p.name}": p for p in _select_model_files(model_dir)})


def read_manifest(version_dir: Path) -> dict[str, Any] | None:
    """The manifest of a version directory, or ``None`` when it is missing or unreadable (incomplete version)."""
    try:
        data = json.loads((Path(version_dir) / MANIFEST_FILE).read_text())
    except (FileNotFoundError, NotADirectoryError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("files"), dict) else None


def verify_version(version_dir: Path, *, deep: bool = True) -> list[str]:
    """Compare a version directory with its manifest.

    Args:
        version_dir: the version directory.
        deep: compare every file's SHA-256 (reads the weights); False compares presence and sizes only (cheap
            enough for the hourly reconcile of a large model).

    Returns:
        Problems found (empty when the directory is complete and unmodified).
    """
    manifest = read_manifest(version_dir)
    if manifest is None:
        return [f"{version_dir} has no valid {MANIFEST_FILE} (incomplete version)"]
    problems = []
    for rel, meta in manifest["files"].items():
        path = Path(version_dir) / rel
        if not path.is_file():
            problems.append(f"missing file {rel}")
        elif "bytes" in meta and path.stat().st_size != meta["bytes"]:
            problems.append(f"size mismatch for {rel}")
        elif deep and file_sha256(path) != meta.get("sha256"):
            problems.append(f"checksum mismatch for {rel}")
    return problems


# Versions ------------------------------------------------------------------------------------------------------


def list_versions(repo: Path, name: str, include_incomplete: bool = False) -> list[int]:
    """Versions present under ``<repo>/<name>``, ascending.

    Args:
        repo: model repository root.
        name: model name.
        include_incomplete: also list numeric directories without a manifest.
    """
    directory = model_path(repo, name)
    if not directory.is_dir():
        return []
    versions = []
    for child in directory.iterdir():
        complete = include_incomplete or read_manifest(child) is not None
        if child.is_dir() and is_version(child.name) and complete:
            versions.append(int(child.name))
    return sorted(versions)


def _copy_file(src: Path, dst: Path) -> None:
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        shutil.copyfileobj(fin, fout, 1 << 20)
        fout.flush()
        os.fsync(fout.fileno())


def write_model_version_locked(
    repo: Path, name: str, version: int, model_dir: Path, cfg: TritonConfig, log_dir: Path
) -> tuple[Path, bool]:
    """:func:`write_model_version` for callers already holding :func:`repository_lock`.

    Returns:
        ``(version_dir, created)``; ``created`` is False when an identical version already existed.
    """
    del cfg, log_dir  # the version directory holds no per-deployment settings: config.pbtxt does
    version = validate_version(version)
    directory = model_path(repo, name)
    final = directory / str(version)
    sources = _source_files(model_dir)
    directory.mkdir(parents=True, exist_ok=True)
    clean_staging(repo, name)

    if final.exists():
        return _check_existing(final, sources), False

    staging = directory / f"{STAGING_PREFIX}{version}-{secrets.token_hex(6)}"
    try:
        (staging / WEIGHTS_DIR).mkdir(parents=True)
        for rel, src in sources.items():
            (staging / rel).parent.mkdir(parents=True, exist_ok=True)
            _copy_file(src, staging / rel)
            checkpoint("version-copy")
        manifest = {
            "model_name": name,
            "version": version,
            "source_model_dir": str(Path(model_dir).resolve()),
            "created_at": datetime.now(UTC).isoformat(),
            "files": files_manifest({rel: staging / rel for rel in sources}),
        }
        for folder in sorted({(staging / rel).parent for rel in sources} - {staging}):
            fsync_dir(folder)
        # Written last: a version directory with a manifest is complete.
        atomic_write_text(staging / MANIFEST_FILE, json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        fsync_dir(staging)
        checkpoint("version-rename:before")
        try:
            os.replace(staging, final)
        except OSError as exc:
            if final.exists():  # lost a race with another writer: accept it only if identical
                return _check_existing(final, sources), False
            raise RepositoryError(f"could not move {staging} to {final}: {exc}") from exc
        fsync_dir(directory)
        checkpoint("version-rename:after")
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return final, True


def _check_existing(final: Path, sources: dict[str, Path]) -> Path:
    manifest = read_manifest(final)
    if manifest is None:
        raise RepositoryError(
            f"{final} exists but has no {MANIFEST_FILE}: it was not written by llmops (or is damaged); "
            "remove it or choose another version"
        )
    wanted = files_manifest(sources)
    if manifest["files"] != wanted:
        raise RepositoryError(
            f"version {final.name} of {final.parent.name} already exists with different content; "
            "versions are immutable, register a new version instead"
        )
    problems = verify_version(final)
    if problems:
        raise RepositoryError(f"existing version {final} is damaged: {'; '.join(problems)}")
    return final


def write_model_version(repo: Path, name: str, version: int, model_dir: Path, cfg: TritonConfig, log_dir: Path) -> Path:
    """Copy a Hugging Face model directory into the repository as ``<repo>/<name>/<version>``, atomically.

    Idempotent: writing the same content again returns the existing directory; different content under an existing
    version raises. Leftover staging directories of interrupted writes are removed first.

    Args:
        repo: model repository root.
        name: model name (validated).
        version: positive version number (validated).
        model_dir: source directory with ``config.json``, ``*.safetensors`` and tokenizer files.
        cfg: Triton settings (kept for interface symmetry; per-deployment settings live in ``config.pbtxt``).
        log_dir: production-log directory (idem).

    Returns:
        The version directory.

    Raises:
        ValueError: invalid name/version, or the model directory lacks weights/config or holds pickle files.
        RepositoryError: the version exists with different or damaged content.
    """
    validate_model_name(name)
    version = validate_version(version)
    with repository_lock(repo, name):
        path, _ = write_model_version_locked(repo, name, version, model_dir, cfg, log_dir)
    return path


def remove_version_locked(repo: Path, name: str, version: int, *, force: bool = False) -> bool:
    """:func:`remove_version` for callers already holding :func:`repository_lock`."""
    version = validate_version(version)
    final = version_path(repo, name, version)
    if not final.exists():
        return False
    if not force and served_version(repo, name) == version:
        raise RepositoryError(f"version {version} of {name} is the served version; serve another one first")
    trash = final.parent / f"{TRASH_PREFIX}{version}-{secrets.token_hex(6)}"
    os.replace(final, trash)  # disappears atomically from Triton's view, then is deleted
    fsync_dir(final.parent)
    checkpoint("version-remove")
    shutil.rmtree(trash, ignore_errors=True)
    return True


def remove_version(repo: Path, name: str, version: int, *, force: bool = False) -> bool:
    """Delete ``<repo>/<name>/<version>``.

    Args:
        repo: model repository root.
        name: model name.
        version: the version to delete.
        force: also delete the version ``config.pbtxt`` currently serves.

    Returns:
        True when something was removed.

    Raises:
        RepositoryError: the version is the served one and ``force`` is False.
    """
    validate_model_name(name)
    validate_version(version)
    with repository_lock(repo, name):
        return remove_version_locked(repo, name, version, force=force)


def prune_versions_locked(repo: Path, name: str, keep: int) -> list[int]:
    """:func:`prune_versions` for callers already holding :func:`repository_lock`."""
    if keep < 1:
        raise ValueError(f"keep must be >= 1, got {keep}")
    served = served_version(repo, name)
    versions = list_versions(repo, name)
    candidates = [v for v in versions if v != served]
    excess = len(versions) - keep
    removed = []
    for v in candidates[: max(0, excess)]:
        if remove_version_locked(repo, name, v):
            removed.append(v)
    return removed


def prune_versions(repo: Path, name: str, keep: int) -> list[int]:
    """Delete the oldest complete versions so that at most ``keep`` remain; the served version is always kept.

    A pruned version can come back: a rollback writes it again from the registry's artifacts.

    Returns:
        The removed versions.
    """
    if keep < 1:
        raise ValueError(f"keep must be >= 1, got {keep}")
    with repository_lock(repo, name):
        return prune_versions_locked(repo, name, keep)
