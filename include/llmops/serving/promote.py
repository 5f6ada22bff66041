"""Put a model version in front of users on a running Triton server, or fail without disturbing the current one.

Promotion = write the version atomically, point ``config.pbtxt`` at exactly that version
(``version_policy: specific``), reload, wait until the version is ready, and smoke-test it over HTTP. Any failure
restores the previous ``config.pbtxt`` and reloads, so the previously served version keeps serving, and removes the
version directory if this promotion created it. MLflow is not touched here: the caller moves the alias after a
successful promotion.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llmops.config import TritonConfig
from llmops.serving.repository import (
    parse_served_versions,
    read_config,
    remove_config,
    remove_version_locked,
    repository_lock,
    validate_model_name,
    validate_version,
    verify_version,
    version_path,
    write_config,
    write_config_text,
    write_model_version_locked,
)

if TYPE_CHECKING:
    from llmops.serving.client import TritonClient


@dataclass(frozen=True)
class PromotionResult:
    """Outcome of :func:`promote_version` / :func:`serve_version`.

    Attributes:
        passed: the requested version is served and answered the smoke prompt.
        served_version: the version ``config.pbtxt`` pins after the call (the previous one after a failure).
        previous_version: the version pinned before the call (``None`` on a first promotion).
        smoke_response: the smoke prompt's answer (``None`` if it was not reached).
        smoke_latency_ms: its latency.
        reason: why it passed or failed (for logs and the task's return value).
    """

    passed: bool
    served_version: int | None
    previous_version: int | None
    smoke_response: str | None
    smoke_latency_ms: float | None
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly dict (for XCom)."""
        return asdict(self)


class PromotionError(RuntimeError):
    """Promotion or rollback failed; ``result`` says why and what is served now."""

    def __init__(self, result: PromotionResult) -> None:
        super().__init__(result.reason)
        self.result = result


class _SmokeFailure(RuntimeError):
    pass


def _single(versions: list[int]) -> int | None:
    return versions[0] if len(versions) == 1 else None


def _smoke(client: TritonClient, name: str, version: int, cfg: TritonConfig) -> tuple[str, float]:
    started = time.perf_counter()
    texts = client.generate(name, [cfg.smoke_prompt], max_new_tokens=None, temperature=None, version=str(version))
    latency_ms = (time.perf_counter() - started) * 1000.0
    answer = texts[0] if texts else ""
    if not answer.strip():
        raise _SmokeFailure(f"smoke prompt {cfg.smoke_prompt!r} got an empty answer from version {version}")
    if latency_ms > cfg.smoke_max_latency_ms:
        raise _SmokeFailure(
            f"smoke prompt took {latency_ms:.0f} ms on version {version}; "
            f"the limit is {cfg.smoke_max_latency_ms:.0f} ms"
        )
    return answer, latency_ms


def _switch(
    repo: Path,
    name: str,
    version: int,
    model_dir: Path | None,
    cfg: TritonConfig,
    log_dir: Path,
    client: TritonClient,
) -> PromotionResult:
    """Shared body of promote/serve; ``model_dir`` None means the version must already exist."""
    action = "promotion" if model_dir is not None else "switch"
    with repository_lock(repo, name):
        previous_config = read_config(repo, name)
        previous_version = _single(parse_served_versions(previous_config)) if previous_config else None
        created = False
        config_changed = False
        smoke_response: str | None = None
        smoke_latency: float | None = None
        try:
            if model_dir is not None:
                _, created = write_model_version_locked(repo, name, version, model_dir, cfg, log_dir)
            else:
                problems = verify_version(version_path(repo, name, version))
                if problems:
                    raise _SmokeFailure(f"version {version} cannot be served: {'; '.join(problems)}")
            write_config(repo, name, cfg, log_dir, served_version=version)
            config_changed = True
            client.load_model(name)
            client.wait_model_ready(name, str(version), cfg.ready_timeout_s)
            smoke_response, smoke_latency = _smoke(client, name, version, cfg)
        except Exception as exc:
            reason = f"{action} of {name} version {version} failed: {exc}"
            notes = _restore(
                repo, name, version, cfg, client, previous_config, previous_version, created, config_changed
            )
            if notes:
                reason += " | restore: " + "; ".join(notes)
            result = PromotionResult(
                passed=False,
                served_version=previous_version,
                previous_version=previous_version,
                smoke_response=smoke_response,
                smoke_latency_ms=smoke_latency,
                reason=reason,
            )
            raise PromotionError(result) from exc
    return PromotionResult(
        passed=True,
        served_version=version,
        previous_version=previous_version,
        smoke_response=smoke_response,
        smoke_latency_ms=smoke_latency,
        reason=(
            f"{name} version {version} is served (previously {previous_version}); smoke answer in "
            f"{smoke_latency:.0f} ms"
        ),
    )


def _restore(
    repo: Path,
    name: str,
    version: int,
    cfg: TritonConfig,
    client: TritonClient,
    previous_config: str | None,
    previous_version: int | None,
    created: bool,
    config_changed: bool,
) -> list[str]:
    """Undo a failed switch; returns notes about anything that could not be undone (empty when all went well)."""
    notes: list[str] = []
    if config_changed:
        if previous_config is not None:
            write_config_text(repo, name, previous_config)
            try:
                client.load_model(name)
                if previous_version is not None:
                    client.wait_model_ready(name, str(previous_version), cfg.ready_timeout_s)
            except Exception as exc:
                notes.append(f"reloading the previous config failed: {exc}")
        else:
            remove_config(repo, name)
            try:
                client.unload_model(name)
            except Exception as exc:
                notes.append(f"unloading the failed first version failed: {exc}")
    if created and version != previous_version:
        try:
            remove_version_locked(repo, name, version, force=True)
        except Exception as exc:
            notes.append(f"removing version directory {version} failed: {exc}")
    return notes


def promote_version(
    repo: Path,
    name: str,
    version: int,
    model_dir: Path,
    cfg: TritonConfig,
    log_dir: Path,
    client: TritonClient,
) -> PromotionResult:
    """Write ``model_dir`` as ``<repo>/<name>/<version>`` and make it the one version Triton serves.

    Args:
        repo: model repository root (the running server's ``--model-repository``).
        name: model name (validated).
        version: the new version (validated; immutable once written).
        model_dir: Hugging Face model directory with safetensors weights and tokenizer.
        cfg: Triton settings (readiness timeout, smoke prompt and latency limit, batching...).
        log_dir: production-log directory written into ``config.pbtxt``.
        client: client of the running server.

    Returns:
        A passed result.

    Raises:
        ValueError: invalid name or version (nothing was touched).
        PromotionError: any other failure; the previous version is served again and ``error.result.reason`` says
            what happened.
    """
    validate_model_name(name)
    version = validate_version(version)
    return _switch(Path(repo), name, version, Path(model_dir), cfg, Path(log_dir), client)


def serve_version(
    repo: Path,
    name: str,
    version: int,
    cfg: TritonConfig,
    log_dir: Path,
    client: TritonClient,
) -> PromotionResult:
    """Serve an existing version again (rollback): pin it in ``config.pbtxt``, reload, wait, smoke-test.

    Args and errors as in :func:`promote_version`; the version directory must already exist and match its
    manifest. It is never deleted on failure.
    """
    validate_model_name(name)
    version = validate_version(version)
    return _switch(Path(repo), name, version, None, cfg, Path(log_dir), client)
