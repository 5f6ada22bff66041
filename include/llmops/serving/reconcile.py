"""Make the registry's ``champion``, the pinned ``config.pbtxt`` and Triton's ready set agree again.

Run first by every holder of the repository lock (promotion, rollback), before Triton starts (``python -m
llmops.stack`` and the compose stack's ``reconcile`` service), and hourly as its own task of
``llm_production_monitoring``. What it does, in order:

1. removes staging, trash and half-written files that a killed writer left;
2. resolves an interrupted operation from the promotion journal (:mod:`llmops.serving.journal`): when ``champion``
   already points at the operation's version it is rolled **forward** (its version tags and promotion-log event are
   written when missing, so the rollback watch finds it); otherwise it is rolled **back** (the folder it created is
   removed);
3. makes sure the champion's folder matches its manifest (written again from the registry when not, provided the
   download matches the weights digest the promotion log recorded; see :mod:`llmops.serving.trust`);
4. pins the champion in ``config.pbtxt`` and, with Triton running, makes the champion its one ready version;
5. repairs the event and tags of the last completed operation when they are missing.

The target is always ``champion``, the durable intent, never what Triton happens to serve. Every disagreement found
is returned (and alerted on by the task); nothing is changed when the registry cannot be read.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llmops.config import LLMOpsConfig
from llmops.registry import registry
from llmops.serving.journal import Operation, advance, read_journal

if TYPE_CHECKING:
    from llmops.serving.client import TritonClient

log = logging.getLogger(__name__)


class TritonUnreachable(RuntimeError):
    """Triton does not answer: what it serves cannot be checked."""


class ReconcileError(RuntimeError):
    """Triton, the pin and ``champion`` could not be brought to agree (e.g. the champion no longer loads)."""


@dataclass
class Reconciliation:
    """What a reconcile found and did."""

    champion: str | None = None
    served: int | None = None  # the version Triton serves afterwards (None without Triton or when nothing serves)
    disagreements: list[str] = field(default_factory=list)  # what was inconsistent before
    actions: list[str] = field(default_factory=list)  # what was done about it
    problems: list[str] = field(default_factory=list)  # what could not be repaired

    @property
    def consistent(self) -> bool:
        """Nothing was found out of place."""
        return not self.disagreements and not self.problems

    def summary(self) -> str:
        if self.consistent:
            return f"champion {self.champion or '(none)'}, the pinned config and Triton agree; nothing to do"
        parts = [f"found: {'; '.join(self.disagreements)}"] if self.disagreements else []
        parts += [f"did: {'; '.join(self.actions)}"] if self.actions else []
        parts += [f"could not repair: {'; '.join(self.problems)}"] if self.problems else []
        return " | ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "consistent": self.consistent, "summary": self.summary()}


def rematerialize_locked(cfg: LLMOpsConfig, version: int) -> None:
    """Write ``version`` into the repository again from the registry's artifacts (caller holds the lock).

    The download is checked against the weights digest the promotion log recorded for the version before anything
    in the repository changes (:func:`llmops.serving.trust.check_downloaded_weights`).

    Raises:
        UntrustedWeights: no digest recorded, or the registry's artifacts differ from it; the repository is as before.
    """
    from llmops.serving.repository import remove_version_locked, version_path, write_model_version_locked
    from llmops.serving.trust import check_downloaded_weights

    name, repo = cfg.triton.model_name, cfg.paths.model_repository
    scratch = cfg.paths.home / "tmp"
    scratch.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="rematerialize-", dir=scratch) as tmp:
        source = registry.model_dir_of_version(cfg, version, Path(tmp))
        check_downloaded_weights(cfg, version, source)
        if version_path(repo, name, version).exists():
            remove_version_locked(repo, name, version, force=True)
        write_model_version_locked(repo, name, version, source, cfg.triton, cfg.paths.prod_log_dir)


def _forward_or_back(cfg: LLMOpsConfig, op: Operation, champion: str | None, out: Reconciliation) -> bool:
    """Decide an interrupted operation: forward (True) when ``champion`` moved to its version, back otherwise.
    Rolling forward writes the operation's event and tags now; rolling back happens once the champion serves."""
    from llmops.serving.champion import promotion_log_path

    out.disagreements.append(f"{op.kind} of version {op.to_version} by {op.run_key} was interrupted at {op.step}")
    if champion == op.to_version:
        registry.record_event(cfg, op.event(cfg.mlflow.model_name), promotion_log_path(cfg))
        out.actions.append(f"completed the {op.kind} of version {op.to_version} (alias had moved; event and tags)")
        return True
    return False


def _undo_folder(cfg: LLMOpsConfig, op: Operation, champion: str | None, out: Reconciliation) -> None:
    """Remove the version folder an undone operation created (never one that was there before it)."""
    from llmops.serving.repository import remove_version_locked, version_path

    name, repo = cfg.triton.model_name, cfg.paths.model_repository
    if not op.existed_before and op.to_version != champion and version_path(repo, name, op.to_version).exists():
        remove_version_locked(repo, name, int(op.to_version), force=True)
        out.actions.append(f"removed folder {op.to_version} that the interrupted {op.kind} created")
    out.actions.append(f"undid the {op.kind} of version {op.to_version}; champion {champion or '(none)'} stays")


def _repository_locked(cfg: LLMOpsConfig, champion: str | None, out: Reconciliation) -> bool:
    """Champion folder intact and pinned (or no config when there is no champion). Returns: the pin changed."""
    from llmops.serving.repository import (
        read_config,
        remove_config,
        served_version,
        verify_version,
        version_path,
        write_config,
    )

    name, repo = cfg.triton.model_name, cfg.paths.model_repository
    pinned = served_version(repo, name)
    if champion is None:
        if read_config(repo, name) is not None:
            out.disagreements.append(f"config.pbtxt pins version {pinned} but there is no champion")
            remove_config(repo, name)
            out.actions.append("removed config.pbtxt")
            return True
        return False
    # Presence and sizes only: hashing a large model's weights every hour costs minutes of reads. A promotion or
    # rollback that serves a version checks it in full.
    problems = verify_version(version_path(repo, name, int(champion)), deep=False)
    if problems:
        from llmops.serving.trust import UntrustedWeights

        out.disagreements.append(f"champion folder {champion}: {problems[0]}")
        try:
            rematerialize_locked(cfg, int(champion))
        except (UntrustedWeights, ValueError, FileNotFoundError) as exc:  # the registry's artifacts are refused
            out.problems.append(f"champion folder {champion} was not written again: {exc}")
        else:
            out.actions.append(f"wrote version {champion} again from the registry")
    if pinned != int(champion):
        out.disagreements.append(f"config.pbtxt pins version {pinned}, champion is {champion}")
        write_config(repo, name, cfg.triton, cfg.paths.prod_log_dir, served_version=int(champion))
        out.actions.append(f"pinned version {champion}")
        return True
    return False


def _triton_locked(
    cfg: LLMOpsConfig, client: TritonClient, champion: str | None, pin_changed: bool, out: Reconciliation
) -> None:
    """Make the champion Triton's one ready version (or unload the model when there is no champion)."""
    name = cfg.triton.model_name
    ready = client.ready_versions(name)
    if champion is None:
        if ready:
            out.disagreements.append(f"Triton serves {ready} but there is no champion")
            client.unload_model(name)
            out.actions.append(f"unloaded {name}")
        out.served = None
        return
    if ready != [int(champion)] or pin_changed:
        if ready != [int(champion)]:
            out.disagreements.append(f"Triton serves {ready or 'nothing'}, champion is {champion}")
        try:
            client.load_model(name)
            client.wait_model_ready(name, champion, cfg.triton.ready_timeout_s)
        except Exception as exc:
            out.problems.append(f"loading champion {champion} failed: {exc}")
            out.served = None
            return
        out.actions.append(f"loaded version {champion}")
    out.served = int(champion)


def reconcile_locked(cfg: LLMOpsConfig, client: TritonClient | None) -> Reconciliation:
    """Bring the repository (and Triton, when ``client`` is given) in line with ``champion``; the caller holds the
    repository lock. Without ``client`` (before Triton starts) only the files are reconciled.

    Returns:
        What was found and done; ``problems`` lists what could not be repaired (the caller decides whether that
        is fatal: a rollback goes on, since repairing a broken champion is its job).

    Raises:
        Exception: the registry cannot be read (nothing was changed), or Triton was still loading the model after
            ``triton.load_settle_timeout_s`` (its folder must not change during a load).
    """
    from llmops.serving.repository import clean_staging

    name, repo = cfg.triton.model_name, cfg.paths.model_repository
    out = Reconciliation()
    champion = registry.alias_version(cfg, registry.CHAMPION)  # raises when the registry is unreachable
    out.champion = champion
    if client is not None and not client.wait_not_loading(name, cfg.triton.load_settle_timeout_s):
        raise ReconcileError(
            f"Triton is still loading {name} after {cfg.triton.load_settle_timeout_s:.0f} s; reconcile later"
        )
    leftovers = clean_staging(repo, name)
    if leftovers:
        out.disagreements.append(f"leftovers of an interrupted write: {sorted(p.name for p in leftovers)}")
        out.actions.append(f"removed {len(leftovers)} leftover(s)")
    op = read_journal(repo, name)
    forward = _forward_or_back(cfg, op, champion, out) if op is not None and op.open else None
    pin_changed = _repository_locked(cfg, champion, out)
    if client is not None:
        _triton_locked(cfg, client, champion, pin_changed, out)
    if op is not None and forward is not None:
        if not forward:
            _undo_folder(cfg, op, champion, out)
        advance(repo, name, op, "committed", "completed by reconcile" if forward else "rolled back by reconcile")
    elif op is not None and op.outcome.startswith("completed") and op.to_version == champion:
        from llmops.serving.champion import promotion_log_path

        if registry.record_event(cfg, op.event(cfg.mlflow.model_name), promotion_log_path(cfg)):
            out.disagreements.append(f"the {op.kind} of champion {champion} lacked its event or tags")
            out.actions.append("wrote them")
    if not out.consistent:
        log.warning("reconcile of %s: %s", name, out.summary())
    else:
        log.info("reconcile of %s: %s", name, out.summary())
    return out


def _nothing_to_serve(cfg: LLMOpsConfig) -> bool:
    """No champion, no config and no operation in progress: Triton cannot be serving this model (a model needs its
    config to load), so there is nothing to ask it."""
    from llmops.serving.repository import read_config

    name, repo = cfg.triton.model_name, cfg.paths.model_repository
    op = read_journal(repo, name)
    no_champion = registry.alias_version(cfg, registry.CHAMPION) is None
    return no_champion and read_config(repo, name) is None and (op is None or not op.open)


def reconcile(cfg: LLMOpsConfig, *, with_triton: bool = True, purpose: str = "reconcile") -> Reconciliation:
    """Take the repository lock and reconcile (see the module docstring).

    Args:
        cfg: configuration.
        with_triton: also make Triton serve the champion (False before Triton starts).
        purpose: recorded as the lock holder's purpose.

    Raises:
        TritonUnreachable: there is a champion to serve and Triton does not answer; see also
            :func:`reconcile_locked`.
    """
    from llmops.serving.client import client_for
    from llmops.serving.repository import repository_lock

    name, repo = cfg.triton.model_name, cfg.paths.model_repository
    if not with_triton or _nothing_to_serve(cfg):
        with repository_lock(repo, name, timeout_s=cfg.triton.lock_timeout_s, purpose=purpose):
            return reconcile_locked(cfg, None)
    client = client_for(cfg.triton)
    try:
        if not client.server_live():
            raise TritonUnreachable(f"Triton is not reachable at http://{cfg.triton.http_url}")
        with repository_lock(repo, name, timeout_s=cfg.triton.lock_timeout_s, purpose=purpose):
            return reconcile_locked(cfg, client)
    finally:
        client.close()


def main(argv: list[str] | None = None) -> int:
    """``python -m llmops.serving.reconcile [--repository-only] [--wait-registry SECONDS]``: reconcile once and
    print the result as JSON (exit status 1 when something could not be repaired)."""
    import argparse
    import json
    import time

    from llmops.config import load_config

    parser = argparse.ArgumentParser(prog="python -m llmops.serving.reconcile", description=main.__doc__)
    parser.add_argument("--repository-only", action="store_true", help="files only (before Triton starts)")
    parser.add_argument("--wait-registry", type=float, default=0.0, help="retry an unreachable registry this long")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    cfg = load_config()
    deadline = time.monotonic() + args.wait_registry
    while True:
        try:
            result = reconcile(cfg, with_triton=not args.repository_only, purpose="reconcile command")
            break
        except Exception as exc:
            if time.monotonic() >= deadline:
                print(json.dumps({"error": f"{type(exc).__name__}: {exc}"}))
                return 1
            time.sleep(5)
    print(json.dumps(result.to_dict(), indent=2))
    return 1 if result.problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
