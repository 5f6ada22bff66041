"""Promotion mechanics: serve a registered version on Triton, then move the ``champion`` alias.

Whether to promote is decided before, in :func:`llmops.serving.release.promotion_decision`.

The Triton switch and the alias move happen under one repository lock, so a promotion and a rollback (two DAGs)
never interleave between "Triton serves N" and "champion is N". MLflow aliases are last-writer-wins; the lock and
``max_active_runs=1`` on every DAG that promotes make this process the only writer.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llmops.config import LLMOpsConfig
from llmops.errors import Permanent, Refused
from llmops.registry import registry

if TYPE_CHECKING:
    from llmops.serving.client import TritonClient
    from llmops.serving.promote import PromotionResult

log = logging.getLogger(__name__)


class PromotionFailed(Permanent):
    """The promotion was attempted and failed; the previously served version keeps serving, ``champion`` did not
    move. Retrying will not help (the version does not load or answer): the task fails without retries."""


def promotion_log_path(cfg: LLMOpsConfig) -> Path:
    """The append-only log of promotions and rollbacks."""
    return cfg.paths.home / cfg.promotion.log_file


def revert_serving(cfg: LLMOpsConfig, client: TritonClient, result: PromotionResult) -> str:
    """Serve ``result.previous_version`` again after a step that followed a successful switch failed (caller holds
    the repository lock), and remove the new version's directory if the switch created it.

    With no previous version (a first promotion), the model is unloaded and its config removed. Returns a note for
    the error message.
    """
    from llmops.serving.promote import PromotionError, serve_version_locked
    from llmops.serving.repository import remove_config, remove_version_locked

    name, repo = cfg.triton.model_name, cfg.paths.model_repository
    version = result.previous_version
    if version is None:
        remove_config(repo, name)
        try:
            client.unload_model(name)
        except Exception as exc:
            note = f"unloading the new version failed: {exc}"
        else:
            note = "the new version was unloaded (there was no previous version)"
    else:
        try:
            serve_version_locked(repo, name, version, cfg.triton, cfg.paths.prod_log_dir, client)
        except PromotionError as exc:
            return f"serving version {version} again failed: {exc.result.reason}"
        note = f"version {version} serves again"
    if result.created and result.served_version is not None and result.served_version != version:
        try:
            remove_version_locked(repo, name, result.served_version, force=True)
        except Exception as exc:
            note += f"; removing directory {result.served_version} failed: {exc}"
    return note


class StaleCandidate(Refused):
    """``champion`` moved since the gate compared the candidate with it: promoting would override a newer decision
    (an operator's rollback, a newer promotion). The task is skipped with the reason."""


_UNSET: Any = object()


def serve_as_champion(
    cfg: LLMOpsConfig,
    run_key: str,
    version: str | int,
    model_dir: str | Path,
    reason: str,
    at: str,
    expected_champion: str | None = _UNSET,
    triggered_by: str = "",
    kind: str = "promotion",
) -> dict[str, Any]:
    """Write, load, ready-check and smoke-test the registered version on Triton; then make it ``champion``.

    Under the repository lock, in this order: reconcile (finish or undo an operation a kill interrupted, make
    Triton, the pin and ``champion`` agree); compare-and-set (``champion`` must still be ``expected_champion``, the
    version the gate compared against); journal ``started``; switch; journal ``switched``; move the alias and record
    the event; journal ``aliased``; prune; journal ``committed``.

    Check-then-act: when ``champion`` already points at this version, nothing is switched; its event and tags are
    written if a kill left them missing. On failure the champion keeps serving, ``champion`` does not move, a version
    folder this call created is removed, and the error says why.

    Args:
        version: the registered version; ``model_dir``: its weights directory.
        reason: why it is promoted (the promotion decision's reason), recorded with the event.
        at: the time of the event, taken from the run's logical date (not the wall clock).
        expected_champion: the champion the gate compared against (``None``: there was none); unset: no check.
        triggered_by: the user who triggered the run (recorded in the audit log; "" for a scheduled run).
        kind: ``promotion`` (a fine-tuned model) or ``prompt_release`` (the champion's weights with a new prompt,
            registered as a version of its own): the event's and the audit record's kind.

    Raises:
        StaleCandidate: ``champion`` moved since the gate (nothing changed).
        PromotionFailed: the new version failed to load, to become ready or its smoke test; or moving the alias
            failed (Triton was switched back).
        RuntimeError: Triton is unreachable (worth a retry).
    """
    from llmops.serving.client import client_for
    from llmops.serving.journal import Operation, advance, write_journal
    from llmops.serving.promote import PromotionError, promote_version_locked
    from llmops.serving.reconcile import reconcile_locked
    from llmops.serving.repository import prune_versions_locked, repository_lock, version_path
    from llmops.serving.trust import folder_weights_digest
    from llmops.versions import validate_version

    version = str(validate_version(str(version)))
    name = cfg.triton.model_name
    repo = cfg.paths.model_repository
    client = client_for(cfg.triton)
    try:
        if not client.server_live():  # not server_ready(): strict readiness fails while a model is broken
            raise RuntimeError(f"Triton is not ready at http://{cfg.triton.http_url}; start the stack with `make up`")
        purpose = f"{kind} of version {version} by {run_key}"
        with repository_lock(repo, name, timeout_s=cfg.triton.lock_timeout_s, purpose=purpose):
            state = reconcile_locked(cfg, client)
            previous = state.champion
            if previous == version:
                _ensure_recorded(cfg, run_key, version, reason, at, kind)
                log.info("version %s is already champion and served; nothing to do", version)
                return {"served_version": version, "previous_version": previous, "changed": False}
            if expected_champion is not _UNSET and previous != expected_champion:
                raise StaleCandidate(
                    f"not promoted: {registry.CHAMPION} is version {previous or '(none)'} now, but the gate compared "
                    f"version {version} with {expected_champion or 'no champion'}; a newer decision (a rollback or "
                    "another promotion) stands, evaluate the candidate again"
                )
            op = write_journal(
                repo,
                name,
                Operation(
                    kind=kind,
                    model=name,
                    from_version=previous,
                    to_version=version,
                    run_key=run_key,
                    reason=reason,
                    at=at,
                    existed_before=version_path(repo, name, version).exists(),
                    triggered_by=triggered_by,
                ),
            )
            restore = int(previous) if previous is not None else None
            try:
                result = promote_version_locked(
                    repo, name, int(version), Path(model_dir), cfg.triton, cfg.paths.prod_log_dir, client, restore
                )
            except PromotionError as exc:
                if "restore deferred" not in exc.result.reason:  # else the journal stays open for reconcile
                    advance(repo, name, op, "committed", "failed")
                raise PromotionFailed(
                    f"promotion of version {version} failed, version {previous} keeps serving and "
                    f"champion stays on {previous}: {exc.result.reason}"
                ) from exc
            # What a later rollback that downloads this version again must get back (recorded with the event).
            digest = folder_weights_digest(version_path(repo, name, version))
            op = advance(repo, name, replace(op, weights_digest=digest), "switched")
            event = op.event(cfg.mlflow.model_name)
            try:
                registry.move_champion(cfg, event, promotion_log_path(cfg))
            except Exception as exc:
                note = revert_serving(cfg, client, result)
                advance(repo, name, op, "committed", "failed")
                raise PromotionFailed(
                    f"version {version} loaded but moving alias {registry.CHAMPION} failed ({exc}); {note}; "
                    f"champion stays on {previous}"
                ) from exc
            op = advance(repo, name, op, "aliased")
            try:  # older versions stay in the registry; a rollback writes them back when needed
                pruned = prune_versions_locked(repo, name, cfg.triton.versions_to_keep)
            except Exception as exc:
                log.warning("pruning old versions of %s failed: %s", name, exc)
            else:
                if pruned:
                    log.info("pruned versions %s of %s from the model repository", pruned, name)
            advance(repo, name, op, "committed", "completed")
    finally:
        client.close()

    log.info("version %s serves on Triton as champion (was %s): %s", version, previous, result.reason)
    return {
        "served_version": version,
        "previous_version": previous,
        "changed": True,
        "smoke_response": result.smoke_response,
        "smoke_latency_ms": result.smoke_latency_ms,
        "triton_model": name,
    }


def _ensure_recorded(cfg: LLMOpsConfig, run_key: str, version: str, reason: str, at: str, kind: str) -> None:
    """The champion's promotion has an event: write one for this run when the log has none for the version (a
    champion moved by a kill-interrupted run of an older release, or outside the platform).

    The version it replaced is unknown to the platform then: it is recorded as none rather than taken from the
    registry's ``llmops.promotion.from_version`` tag, which anyone who can write MLflow can set (a rollback to
    "previous" would otherwise follow it)."""
    from llmops.serving.repository import version_path
    from llmops.serving.trust import folder_weights_digest

    events = [
        e
        for e in registry.read_events(promotion_log_path(cfg))
        if str(e.get("to_version")) == version and e.get("kind") in (*registry.PROMOTING_KINDS, "rollback")
    ]
    if events:
        return
    digest = folder_weights_digest(version_path(cfg.paths.model_repository, cfg.triton.model_name, version))
    event = registry.AliasEvent(kind, cfg.mlflow.model_name, None, version, run_key, reason, at, digest)
    registry.record_event(cfg, event, promotion_log_path(cfg))
    log.warning(
        "champion %s had no promotion event; recorded one for run %s (the version it replaced is unknown)",
        version,
        run_key,
    )
