"""Roll the served model back: make Triton serve an earlier version, move ``champion`` to it, record the event.

The target is a registered version number or ``"previous"``. **"previous"** is the version the current champion
replaced when it was last promoted: the ``from_version`` of the champion's last ``promotion`` (or
``prompt_release``) event in the platform's own append-only promotion log
(:func:`llmops.serving.champion.promotion_log_path`). The registry is not trusted for it: whoever can write MLflow
can rewrite tags. The ``llmops.promotion.from_version`` (``llmops.prompt_release.from_version``) tag of the champion
version must agree with the log when it is present; when it does not, the rollback is refused (the tag may have been
tampered with) and nothing changes. A champion without a promotion event in the log (moved outside the platform)
has no "previous": name the version to roll back to.

So two rollbacks in a row walk back the promotion chain (v3 → v2 → v1), and a champion that was the first promotion
has no "previous" (the rollback fails and changes nothing).

A rollback works when the version serving now is broken: it may have failed to load or answer errors; nothing is
asked of it. When the target's directory is gone from the model repository (pruned) or damaged, it is written again
from the MLflow registry's artifacts with the atomic writer, after the downloaded weights are checked against the
digest the promotion log recorded for that version (:mod:`llmops.serving.trust`): replaced artifacts are refused.
On failure Triton serves what it served before (as far as that is possible for a broken version) and ``champion``
does not move.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from llmops.config import LLMOpsConfig
from llmops.errors import Permanent
from llmops.registry import registry
from llmops.serving.champion import promotion_log_path, revert_serving
from llmops.versions import validate_version

log = logging.getLogger(__name__)

PREVIOUS = "previous"


class RollbackError(Permanent):
    """The rollback cannot be done or failed; ``champion`` did not move. Retrying will not help."""


_UNSET: Any = object()


def parse_target(target: object) -> str | int:
    """``"previous"`` or a version number, validated before anything else happens.

    Raises:
        ValueError: anything else (paths, encodings, signs, zero...); the message says what is expected.
    """
    if isinstance(target, str) and target.strip().lower() == PREVIOUS:
        return PREVIOUS
    try:
        return validate_version(target.strip() if isinstance(target, str) else target)
    except ValueError as exc:
        expected = f'expected "{PREVIOUS}" or a version number'
        raise ValueError(f"invalid rollback target {target!r}: {expected} ({exc})") from exc


def previous_version(cfg: LLMOpsConfig, champion: str | None) -> int:
    """The version the champion replaced, from the promotion log (see the module docstring).

    Raises:
        RollbackError: there is no champion; the log has no promotion event for it; it was the first promotion;
            or its ``llmops.<kind>.from_version`` tag disagrees with the log (nothing is changed).
    """
    name = cfg.mlflow.model_name
    if champion is None:
        raise RollbackError(f"{name} has no {registry.CHAMPION}: there is nothing to roll back from")
    log_path = promotion_log_path(cfg)
    events = [
        e
        for e in registry.read_events(log_path)
        if e.get("kind") in registry.PROMOTING_KINDS
        and str(e.get("to_version")) == str(champion)
        and e.get("model") == name
    ]
    if not events:
        raise RollbackError(
            f"{registry.CHAMPION} version {champion} has no promotion event in the promotion log {log_path}, so "
            '"previous" is unknown (registry tags are not trusted for it); name a version to roll back to'
        )
    logged = str(events[-1].get("from_version") or "")
    current = registry.get_version(cfg, champion)
    tags = (current.tags or {}) if current is not None else {}
    tag = f"llmops.{events[-1]['kind']}.from_version"  # the tag the event wrote (registry.event_tags)
    if tag in tags and str(tags[tag] or "") != logged:
        raise RollbackError(
            f"refusing to roll back: tag {tag} of {registry.CHAMPION} version {champion} says "
            f"{tags[tag] or '(none)'!r} but the promotion log {log_path} says {logged or '(none)'!r}; "
            "the registry tag may have been tampered with. Nothing was changed; check who wrote the tag, or name "
            "a version to roll back to"
        )
    if not logged:
        raise RollbackError(
            f"{registry.CHAMPION} version {champion} has no previous version (it was the first promotion); "
            "name a version to roll back to"
        )
    return validate_version(logged)


def resolve_target(cfg: LLMOpsConfig, target: object) -> dict[str, Any]:
    """Turn the requested target into a registered version number.

    Returns:
        ``{"requested", "target_version", "champion"}``; ``champion`` is the alias's version now, which
        :func:`rollback` checks again under the lock.

    Raises:
        ValueError: the target is not ``"previous"`` or a version number.
        RollbackError: no previous version, or the version is not registered.
    """
    parsed = parse_target(target)
    champion = registry.alias_version(cfg, registry.CHAMPION)
    version = previous_version(cfg, champion) if parsed == PREVIOUS else int(parsed)
    if registry.get_version(cfg, version) is None:
        raise RollbackError(f"version {version} of {cfg.mlflow.model_name} is not registered")
    log.info("rollback target %r resolves to version %s (champion: %s)", target, version, champion)
    return {"requested": str(target), "target_version": version, "champion": champion}


def rollback(
    cfg: LLMOpsConfig,
    target: object,
    run_key: str,
    at: str,
    reason: str,
    expected_champion: str | None = _UNSET,
    triggered_by: str = "",
) -> dict[str, Any]:
    """Serve ``target`` on Triton, move ``champion`` to it and record a ``rollback`` event.

    Args:
        cfg: configuration.
        target: ``"previous"`` or a version number.
        run_key: the Airflow run doing it (recorded).
        at: time of the event, from the run's logical date.
        reason: why (recorded in MLflow and the promotion log).
        expected_champion: the champion the caller planned with; when it moved since, nothing is done.
        triggered_by: the user who triggered the run (recorded in the audit log; "" for a scheduled run).

    Returns:
        ``{"target_version", "from_version", "served_before", "changed", "rematerialized", "smoke_response"}``.

    Raises:
        ValueError: invalid target (nothing touched).
        RollbackError: see :func:`resolve_target`; champion moved since planning; the target failed to load,
            become ready or pass the smoke test (Triton was put back); or the alias could not be moved.
        RuntimeError: Triton is unreachable (worth a retry).
    """
    from llmops.serving.client import client_for
    from llmops.serving.journal import Operation, advance, write_journal
    from llmops.serving.promote import PromotionError, serve_version_locked, smoke_test
    from llmops.serving.reconcile import reconcile_locked, rematerialize_locked
    from llmops.serving.repository import repository_lock, verify_version, version_path
    from llmops.serving.trust import UntrustedWeights, folder_weights_digest

    plan = resolve_target(cfg, target)
    version = int(plan["target_version"])
    name, repo, tcfg = cfg.triton.model_name, cfg.paths.model_repository, cfg.triton
    client = client_for(tcfg)
    try:
        if not client.server_live():  # not server_ready(): strict readiness fails while a model is broken
            raise RuntimeError(f"Triton is not ready at http://{tcfg.http_url}; start the stack with `make up`")
        with repository_lock(repo, name, timeout_s=tcfg.lock_timeout_s, purpose=f"rollback to {version} by {run_key}"):
            # A broken champion is what a rollback repairs: problems loading it are not fatal here.
            state = reconcile_locked(cfg, client)
            champion = state.champion
            if expected_champion is not _UNSET and champion != expected_champion:
                raise RollbackError(
                    f"{registry.CHAMPION} moved from {expected_champion} to {champion} since this rollback was "
                    "planned; trigger it again"
                )
            if champion == str(version) and state.served == version:
                try:
                    smoke_test(client, name, version, tcfg)
                except Exception as exc:  # an unhealthy champion is exactly what a rollback repairs
                    log.warning("version %s is champion and served but unhealthy (%s): serving it again", version, exc)
                else:
                    log.info("version %s is already champion, served and healthy; nothing to do", version)
                    return {
                        "target_version": version,
                        "from_version": champion,
                        "served_before": state.served,
                        "changed": False,
                        "rematerialized": False,
                        "smoke_response": None,
                    }

            op = write_journal(
                repo,
                name,
                Operation(
                    kind="rollback",
                    model=name,
                    from_version=champion,
                    to_version=str(version),
                    run_key=run_key,
                    reason=reason,
                    at=at,
                    existed_before=version_path(repo, name, version).exists(),
                    triggered_by=triggered_by,
                ),
            )
            restore = int(champion) if champion is not None else None
            problems = verify_version(version_path(repo, name, version))
            rematerialized = bool(problems)
            try:
                if problems:
                    log.info("version %s is not intact in the repository (%s): fetching it", version, problems)
                    rematerialize_locked(cfg, version)
            except (UntrustedWeights, ValueError, FileNotFoundError) as exc:  # refused download: nothing switched
                advance(repo, name, op, "committed", "failed")
                raise RollbackError(
                    f"rollback to version {version} refused; {registry.CHAMPION} stays on {champion} and Triton "
                    f"keeps serving {state.served if state.served is not None else 'what it served'}: {exc}"
                ) from exc
            try:
                result = serve_version_locked(repo, name, version, tcfg, cfg.paths.prod_log_dir, client, restore)
            except PromotionError as exc:
                if "restore deferred" not in exc.result.reason:
                    advance(repo, name, op, "committed", "failed")
                raise RollbackError(
                    f"rollback to version {version} failed; {registry.CHAMPION} stays on {champion}: "
                    f"{exc.result.reason}"
                ) from exc
            digest = folder_weights_digest(version_path(repo, name, version))
            op = advance(repo, name, replace(op, weights_digest=digest), "switched")
            event = op.event(cfg.mlflow.model_name)
            try:
                registry.move_champion(cfg, event, promotion_log_path(cfg))
            except Exception as exc:
                note = revert_serving(cfg, client, result)
                advance(repo, name, op, "committed", "failed")
                raise RollbackError(
                    f"version {version} serves but moving {registry.CHAMPION} failed ({exc}); {note}; "
                    f"{registry.CHAMPION} stays on {champion}"
                ) from exc
            op = advance(repo, name, op, "aliased")
            advance(repo, name, op, "committed", "completed")
    finally:
        client.close()
    log.info("rolled back %s from %s to version %s: %s", name, champion, version, result.reason)
    return {
        "target_version": version,
        "from_version": champion,
        "served_before": result.previous_version,
        "changed": True,
        "rematerialized": rematerialized,
        "smoke_response": result.smoke_response,
    }
