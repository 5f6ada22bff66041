"""The promotion journal: one small record per model saying which champion move is in progress and how far it got.

A promotion or rollback writes the record (atomically, fsynced) **before** its first side effect and advances it
after each step::

    started   -> the version folder may be written, the config may pin the new version, Triton may load it
    switched  -> the new version is loaded, ready and passed its smoke test; the alias has not moved yet
    aliased   -> ``champion`` points at the new version; tags, the promotion-log event and pruning may be missing
    committed -> done (``outcome`` says whether it completed, failed and was undone, or was resolved by reconcile)

After a hard kill the record is the durable intent that :func:`llmops.serving.reconcile.reconcile_locked` reads: it
rolls the operation forward when ``champion`` already moved, back otherwise, and removes the version folder only
when this operation created it (``existed_before`` is False). Restore targets never come from Triton's live view.

The file lives beside the repository lock (``<repo>/<name>/.promotion-journal.json``); only lock holders write it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Literal

from llmops.faults import checkpoint
from llmops.fsutil import atomic_write_text
from llmops.registry.registry import AliasEvent
from llmops.serving.repository import model_path

JOURNAL_FILE = ".promotion-journal.json"

Step = Literal["started", "switched", "aliased", "committed"]
STEPS: tuple[Step, ...] = ("started", "switched", "aliased", "committed")


@dataclass(frozen=True)
class Operation:
    """One champion move (a promotion or a rollback) as the journal records it."""

    kind: str  # "promotion" | "rollback"
    model: str  # the Triton model name
    from_version: str | None  # champion when the operation started
    to_version: str
    run_key: str
    reason: str
    at: str
    existed_before: bool  # the version folder was there before this operation started
    step: Step = "started"
    outcome: str = ""  # set with "committed": completed | failed | rolled back by reconcile | completed by reconcile
    weights_digest: str = ""  # of the version folder that serves, set with "switched" (recorded with the event)
    triggered_by: str = ""  # the user who triggered the run ("" for a scheduled or asset-triggered run)

    @property
    def open(self) -> bool:
        """Not committed: a holder was interrupted between ``started`` and ``committed``."""
        return self.step != "committed"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def event(self, registered_model: str) -> AliasEvent:
        """The promotion-log event (and version tags) this operation records once ``champion`` has moved."""
        return AliasEvent(
            kind=self.kind,
            model=registered_model,
            from_version=self.from_version,
            to_version=self.to_version,
            run_key=self.run_key,
            reason=self.reason,
            at=self.at,
            weights_digest=self.weights_digest,
            triggered_by=self.triggered_by,
        )


def journal_path(repo: Path, name: str) -> Path:
    """``<repo>/<name>/.promotion-journal.json``."""
    return model_path(repo, name) / JOURNAL_FILE


def read_journal(repo: Path, name: str) -> Operation | None:
    """The last operation recorded for ``name`` (``None`` when none was ever recorded).

    Raises:
        ValueError: the file exists but is not a journal record (it is written atomically, so this means someone
            else wrote it); the message names the file.
    """
    path = journal_path(repo, name)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"promotion journal {path} is unreadable: {exc}") from exc
    try:
        op = Operation(**data)
    except TypeError as exc:
        raise ValueError(f"promotion journal {path} does not hold an operation record: {exc}") from exc
    if op.step not in STEPS:
        raise ValueError(f"promotion journal {path} has an unknown step {op.step!r}")
    return op


def write_journal(repo: Path, name: str, op: Operation) -> Operation:
    """Write ``op`` atomically and fsync it (the caller holds the repository lock)."""
    atomic_write_text(journal_path(repo, name), json.dumps(op.to_dict(), indent=2, sort_keys=True) + "\n")
    checkpoint(f"journal:{op.step}")
    return op


def advance(repo: Path, name: str, op: Operation, step: Step, outcome: str = "") -> Operation:
    """Record that ``op`` reached ``step``."""
    return write_journal(repo, name, replace(op, step=step, outcome=outcome))
