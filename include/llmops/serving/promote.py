"""Put a model version in front of users on a running Triton server, or fail without disturbing the current one.

Promotion = write the version atomically, point ``config.pbtxt`` at exactly that version
(``version_policy: specific``), load it (explicit model control), wait until the version is ready, and smoke-test it
over HTTP. Any failure restores the configuration of the version that was serving and reloads it, so that version
keeps serving, and removes the version directory if this promotion created it. MLflow is not touched here: the
caller moves the alias after a successful promotion, while it still holds the repository lock.

Every write happens under :func:`~llmops.serving.repository.repository_lock`; callers that must do more under the
same lock (move an alias, roll back) use the ``*_locked`` variants.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llmops.config import TritonConfig
from llmops.faults import checkpoint
from llmops.serving.repository import (
    clean_staging,
    parse_served_versions,
    read_config,
    remove_config,
    remove_version_locked,
    render_config_pbtxt,
    repository_lock,
    served_version,
    validate_model_name,
    verify_version,
    version_path,
    write_config,
    write_config_text,
    write_model_version_locked,
)
from llmops.versions import validate_version

if TYPE_CHECKING:
    from llmops.serving.client import TritonClient


@dataclass(frozen=True)
class PromotionResult:
    """Outcome of :func:`promote_version` / :func:`serve_version`.

    Attributes:
        passed: the requested version is served and answered every smoke prompt.
        served_version: the version pinned after the call (the previous one after a failure).
        previous_version: the version serving before the call (``None`` on a first promotion).
        smoke_response: the first smoke prompt's answer (``None`` if it was not reached).
        smoke_latency_ms: the slowest smoke prompt's latency.
        reason: why it passed or failed (for logs and the task's return value).
        created: this call wrote the version directory (a caller undoing the promotion removes it again).
    """

    passed: bool
    served_version: int | None
    previous_version: int | None
    smoke_response: str | None
    smoke_latency_ms: float | None
    reason: str
    created: bool = False

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly dict (for XCom)."""
        return asdict(self)


class PromotionError(RuntimeError):
    """Promotion or rollback failed; ``result`` says why and what is served now."""

    def __init__(self, result: PromotionResult) -> None:
        super().__init__(result.reason)
        self.result = result


class SmokeTestFailure(RuntimeError):
    """A smoke prompt got an error, an empty answer, or took too long."""


def _single(versions: list[int]) -> int | None:
    return versions[0] if len(versions) == 1 else None


def smoke_test(client: TritonClient, name: str, version: int, cfg: TritonConfig) -> tuple[str, float]:
    """Send every smoke prompt to ``version`` (concurrently, so they share a batch) and check the answers.

    Returns:
        ``(first answer, slowest latency in ms)``.

    Raises:
        SmokeTestFailure: an error, an empty answer, or a latency above ``cfg.smoke_max_latency_ms``.
    """
    prompts = cfg.all_smoke_prompts
    results = client.generate_results(
        name, prompts, max_new_tokens=cfg.smoke_max_new_tokens, temperature=None, version=str(version)
    )
    problems = []
    for r in results:
        if r.error is not None:
            problems.append(f"{r.prompt!r} failed: {r.error}")
        elif not (r.text or "").strip():
            problems.append(f"{r.prompt!r} got an empty answer")
        elif r.latency_ms > cfg.smoke_max_latency_ms:
            problems.append(f"{r.prompt!r} took {r.latency_ms:.0f} ms (limit {cfg.smoke_max_latency_ms:.0f} ms)")
    if problems:
        raise SmokeTestFailure(f"smoke test of version {version}: " + "; ".join(problems))
    return results[0].text or "", max(r.latency_ms for r in results)


def currently_served(repo: Path, name: str, client: TritonClient) -> tuple[int | None, str | None]:
    """The version that serves now and the ``config.pbtxt`` text on disk.

    Triton's own view wins: the one READY version, when there is exactly one. Otherwise (nothing loaded, the
    server lost it, or a crash left a config pinning a version that never loaded) the config's pinned version.
    """
    config_text = read_config(repo, name)
    pinned = _single(parse_served_versions(config_text)) if config_text else None
    try:
        ready = _single(client.ready_versions(name))
    except Exception:
        ready = None
    return (ready if ready is not None else pinned), config_text


_KEEP_PIN: Any = object()


def _switch_locked(
    repo: Path,
    name: str,
    version: int,
    model_dir: Path | None,
    cfg: TritonConfig,
    log_dir: Path,
    client: TritonClient,
    restore_version: int | None = _KEEP_PIN,
) -> PromotionResult:
    """Shared body of promote/serve; ``model_dir`` None means the version must already exist.

    ``restore_version`` is what serves again when the switch fails: the champion (durable intent) for callers that
    know it, else the version ``config.pbtxt`` pins. Never Triton's live view: after an interrupted promotion Triton
    may be serving the untested candidate.
    """
    action = "promotion" if model_dir is not None else "switch"
    clean_staging(repo, name)  # leftovers of a writer that died (we hold the lock: nobody is writing now)
    previous_config = read_config(repo, name)
    previous_version = served_version(repo, name) if restore_version is _KEEP_PIN else restore_version
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
                raise SmokeTestFailure(f"version {version} cannot be served: {'; '.join(problems)}")
        write_config(repo, name, cfg, log_dir, served_version=version)
        config_changed = True
        checkpoint("load:before")
        client.load_model(name)
        checkpoint("load:after")
        client.wait_model_ready(name, str(version), cfg.ready_timeout_s)
        smoke_response, smoke_latency = smoke_test(client, name, version, cfg)
        checkpoint("smoke:after")
    except Exception as exc:
        reason = f"{action} of {name} version {version} failed: {exc}"
        if config_changed and not client.wait_not_loading(name, cfg.load_settle_timeout_s):
            # A load the client gave up on still runs in Triton: its folder must not change now. The journal
            # (kept open by the caller) lets the next lock holder undo it once the load has ended.
            reason += (
                f" | restore deferred: Triton was still loading {name} after {cfg.load_settle_timeout_s:.0f} s; "
                "the next reconcile undoes the switch"
            )
            raise PromotionError(
                PromotionResult(False, None, previous_version, smoke_response, smoke_latency, reason, created)
            ) from exc
        checkpoint("undo:inside")
        notes = _restore(
            repo, name, version, cfg, log_dir, client, previous_config, previous_version, created, config_changed
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
            f"{name} version {version} is served (previously {previous_version}); "
            f"{len(cfg.all_smoke_prompts)} smoke prompts answered, slowest in {smoke_latency:.0f} ms"
        ),
        created=created,
    )


def _restore(
    repo: Path,
    name: str,
    version: int,
    cfg: TritonConfig,
    log_dir: Path,
    client: TritonClient,
    previous_config: str | None,
    previous_version: int | None,
    created: bool,
    config_changed: bool,
) -> list[str]:
    """Undo a failed switch; returns notes about anything that could not be undone (empty when all went well)."""
    notes: list[str] = []
    if config_changed:
        if previous_version is not None:
            # The config that served it, unless a crash left one that pins another version: then render it anew.
            pinned = _single(parse_served_versions(previous_config)) if previous_config else None
            text = previous_config if previous_config and pinned == previous_version else None
            write_config_text(repo, name, text or render_config_pbtxt(name, cfg, log_dir, previous_version))
            checkpoint("restore:inside")
            try:
                client.load_model(name)
                client.wait_model_ready(name, str(previous_version), cfg.ready_timeout_s)
            except Exception as exc:
                notes.append(f"reloading version {previous_version} failed: {exc}")
        else:
            if previous_config is not None:
                write_config_text(repo, name, previous_config)
            else:
                remove_config(repo, name)
            try:
                client.unload_model(name)
            except Exception as exc:
                notes.append(f"unloading the failed version failed: {exc}")
    if created and version != previous_version:
        try:
            remove_version_locked(repo, name, version, force=True)
        except Exception as exc:
            notes.append(f"removing version directory {version} failed: {exc}")
    return notes


def promote_version_locked(
    repo: Path,
    name: str,
    version: int,
    model_dir: Path,
    cfg: TritonConfig,
    log_dir: Path,
    client: TritonClient,
    restore_version: int | None = _KEEP_PIN,
) -> PromotionResult:
    """:func:`promote_version` for callers already holding :func:`~llmops.serving.repository.repository_lock`;
    ``restore_version`` is what serves again on failure (default: the version the config pins)."""
    validate_model_name(name)
    version = validate_version(version)
    return _switch_locked(Path(repo), name, version, Path(model_dir), cfg, Path(log_dir), client, restore_version)


def serve_version_locked(
    repo: Path,
    name: str,
    version: int,
    cfg: TritonConfig,
    log_dir: Path,
    client: TritonClient,
    restore_version: int | None = _KEEP_PIN,
) -> PromotionResult:
    """:func:`serve_version` for callers already holding :func:`~llmops.serving.repository.repository_lock`."""
    validate_model_name(name)
    version = validate_version(version)
    return _switch_locked(Path(repo), name, version, None, cfg, Path(log_dir), client, restore_version)


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
        cfg: Triton settings (readiness timeout, smoke prompts and latency bound, batching...).
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
    with repository_lock(Path(repo), name, timeout_s=cfg.lock_timeout_s, purpose=f"promotion of version {version}"):
        return promote_version_locked(repo, name, version, model_dir, cfg, log_dir, client)


def serve_version(
    repo: Path,
    name: str,
    version: int,
    cfg: TritonConfig,
    log_dir: Path,
    client: TritonClient,
) -> PromotionResult:
    """Serve an existing version again (rollback): pin it in ``config.pbtxt``, reload, wait, smoke-test.

    The version serving now does not need to be healthy: it may have failed to load or answer errors. Args and
    errors as in :func:`promote_version`; the version directory must already exist and match its manifest. It is
    never deleted on failure.
    """
    validate_model_name(name)
    version = validate_version(version)
    with repository_lock(Path(repo), name, timeout_s=cfg.lock_timeout_s, purpose=f"serving version {version}"):
        return serve_version_locked(repo, name, version, cfg, log_dir, client)
