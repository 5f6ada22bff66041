"""One verifiable audit record per change: an append-only, hash-chained log.

Every promotion, rollback and erasure appends one JSON line to ``<home>/audit/audit.jsonl``. A record holds the
change, the run, who triggered and who approved, the verdicts with their reasons, the data snapshot's hash and its
manifest's hash, the served version folder's manifest hash and weights digest, the prompt template's hash, the code
version, the configuration's hash, and the time from the run's logical date (never the wall clock). It also holds
``seq`` (1, 2, ...), ``prev`` (the previous record's ``hash``; 64 zeros for the first) and ``hash``: the SHA-256 of
the record's canonical JSON (sorted keys, no spaces) without ``hash``; each line is its record's canonical JSON byte
for byte. Changing any byte of a record, or removing, inserting or reordering records, breaks the chain at that
record, and :func:`verify` names the first one that does not hold.

Appends take an exclusive lock, repair a partial last line first (kept in ``audit.jsonl.partial`` with the reason,
so the next record starts on its own line) and are idempotent: a record whose ``key`` (change, subject, run) is in
the log already is not written again, so a retried task or the reconcile step finishing an interrupted promotion
writes each change once. Nothing in a record is personal data: an erasure is recorded by its id, the SHA-256 of the
ids it erased and counts. Erasure never rewrites this folder.

``python -m llmops.cli audit verify`` (and the monitoring DAG's ``verify_audit`` task) checks the chain and that the
serving state (the ``champion`` alias and the version Triton's ``config.pbtxt`` pins) matches the last promotion or
rollback recorded.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from llmops.config import LLMOpsConfig
    from llmops.registry.registry import AliasEvent
    from llmops.verdict import Verdict

log = logging.getLogger(__name__)

AUDIT_DIR = "audit"
AUDIT_FILE = "audit.jsonl"
GENESIS = "0" * 64
Change = Literal["promotion", "rollback", "erasure", "prompt_release"]
SERVING_CHANGES = ("promotion", "rollback", "prompt_release")


def audit_dir(cfg: LLMOpsConfig) -> Path:
    """``<home>/audit``: the audit log's folder (erasure does not rewrite it; its records hold no personal data)."""
    return cfg.paths.home / AUDIT_DIR


def audit_log_path(cfg: LLMOpsConfig) -> Path:
    """``<home>/audit/audit.jsonl``."""
    return audit_dir(cfg) / AUDIT_FILE


def canonical(record: Mapping[str, Any]) -> bytes:
    """The record's canonical JSON (sorted keys, compact separators, ASCII with escapes): how a line is written."""
    return json.dumps(record, sort_keys=True, separators=(",", ":")).encode("utf-8")


def record_hash(record: Mapping[str, Any]) -> str:
    """SHA-256 of the record's canonical JSON, ``hash`` left out."""
    return hashlib.sha256(canonical({k: v for k, v in record.items() if k != "hash"})).hexdigest()


def config_hash(cfg: LLMOpsConfig) -> str:
    """SHA-256 of the configuration as it ran (every field, defaults included, paths as strings)."""
    return hashlib.sha256(cfg.model_dump_json().encode("utf-8")).hexdigest()


def served_prompt(folder: Path) -> dict[str, str]:
    """The prompt a Triton version folder serves with: ``{"prompt_version": "<name>/<version>", "prompt_sha256"}``
    from its ``model/prompt.json`` (``unversioned`` and the built-in template's hash when it has none)."""
    from llmops.data.schema import PROMPT_TEMPLATE
    from llmops.prompts import read_prompt_file
    from llmops.serving.repository import WEIGHTS_DIR

    try:
        prompt = read_prompt_file(folder / WEIGHTS_DIR)
    except ValueError as exc:
        return {"prompt_version": f"invalid: {exc}", "prompt_sha256": ""}
    if prompt is None:
        return {"prompt_version": "unversioned", "prompt_sha256": hashlib.sha256(PROMPT_TEMPLATE.encode()).hexdigest()}
    return {"prompt_version": prompt.label, "prompt_sha256": prompt.sha256}


def _lines(path: Path) -> Iterator[tuple[int, bytes]]:
    try:
        with open(path, "rb") as fh:
            yield from enumerate(fh, start=1)
    except FileNotFoundError:
        return


def read_records(path: Path) -> list[dict[str, Any]]:
    """The log's records, oldest first (a partial last line, not yet repaired, is not a record)."""
    out = []
    for _, line in _lines(path):
        if not line.endswith(b"\n"):
            break
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict):
            out.append(record)
    return out


def append(cfg: LLMOpsConfig, change: Change, key: str, fields: Mapping[str, Any]) -> dict[str, Any] | None:
    """Append one chained record, unless a record with the same ``change`` and ``key`` is there already.

    Args:
        cfg: configuration (where the log is).
        change: what changed.
        key: what makes the change unique (for example ``"<to_version>@<run_key>"``).
        fields: the rest of the record (JSON values; no personal data).

    Returns:
        The record written, or ``None`` when it was there already.
    """
    import fcntl

    from llmops.fsutil import repair_partial_tail
    from llmops.registry.register import code_version

    path = audit_log_path(cfg)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            repair_partial_tail(fh, path, "audit log")
            records = read_records(path)
            if any(r.get("change") == change and r.get("key") == key for r in records):
                return None
            last = records[-1] if records else None
            record: dict[str, Any] = {
                **fields,
                "change": change,
                "key": key,
                "code_version": code_version(),
                "config_sha256": config_hash(cfg),
                "seq": int(last["seq"]) + 1 if last else 1,
                "prev": str(last["hash"]) if last else GENESIS,
            }
            record["hash"] = record_hash(record)
            fh.seek(0, os.SEEK_END)
            fh.write(canonical(record) + b"\n")
            fh.flush()
            os.fsync(fh.fileno())
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
    log.info("audit record %d: %s %s (%s)", record["seq"], change, key, record["hash"][:12])
    return record


def _version_verdicts(tags: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    from llmops.verdict import TAG_PREFIX

    out: dict[str, dict[str, Any]] = {}
    for name, value in tags.items():
        if not name.startswith(TAG_PREFIX):
            continue
        gate, _, field = name.removeprefix(TAG_PREFIX).partition(".")
        entry = out.setdefault(gate, {})
        if not field:
            entry["passed"] = value == "passed"
        elif field in ("reason", "on_fail"):
            entry[field] = value
    return dict(sorted(out.items()))


def _file_sha256(path: Path) -> str:
    from llmops.fsutil import file_sha256

    return file_sha256(path) if path.is_file() else ""


def record_alias_event(cfg: LLMOpsConfig, event: AliasEvent, triggered_by: str | None = None) -> dict[str, Any] | None:
    """Append the audit record of a promotion or rollback (once per version and run).

    What the registry knows of the version (its verdicts with reasons, the approval among them, and the data
    snapshot) and what the model repository holds (the version folder's ``MANIFEST.json``) are read here.
    """
    from llmops.data.sinks import MANIFEST_FILE as SNAPSHOT_MANIFEST
    from llmops.data.snapshot import SNAPSHOT_HASH_TAG, SNAPSHOT_TAG
    from llmops.registry.registry import client
    from llmops.serving.repository import MANIFEST_FILE, version_path

    tags: dict[str, str] = {}
    try:
        tags = dict(client(cfg).get_model_version(event.model, event.to_version).tags or {})
    except Exception as exc:  # recorded as unknown rather than losing the record of a change that happened
        log.warning("audit: tags of version %s could not be read: %s", event.to_version, exc)
    verdicts = _version_verdicts(tags)
    snapshot = tags.get(SNAPSHOT_TAG, "")
    folder = version_path(cfg.paths.model_repository, cfg.triton.model_name, event.to_version)
    fields = {
        "at": event.at,
        "run_key": event.run_key,
        "model": event.model,
        "from_version": event.from_version,
        "to_version": str(event.to_version),
        "reason": event.reason,
        "triggered_by": triggered_by or event.triggered_by or "(schedule or asset event)",
        "approval": verdicts.get("approval", {}).get("reason", "not required"),
        "verdicts": verdicts,
        "data_snapshot_sha256": tags.get(SNAPSHOT_HASH_TAG, ""),
        "data_manifest_sha256": _file_sha256(Path(snapshot).parent / SNAPSHOT_MANIFEST) if snapshot else "",
        "version_manifest_sha256": _file_sha256(folder / MANIFEST_FILE),
        "weights_digest": event.weights_digest,
        **served_prompt(folder),
    }
    return append(cfg, event.kind, f"{event.to_version}@{event.run_key}", fields)  # type: ignore[arg-type]


def record_erasure(cfg: LLMOpsConfig, erasure: Mapping[str, Any]) -> dict[str, Any] | None:
    """Append the audit record of an erasure: its id, the hashes of the ids, counts; never the erased content."""
    fields = {
        "at": erasure.get("as_of", ""),
        "erasure_id": erasure.get("erasure_id", ""),
        "request_id_sha256": list(erasure.get("request_id_sha256", [])),
        "user_id_sha256": list(erasure.get("user_id_sha256", [])),
        "removed": dict(erasure.get("removed", {})),
        "files_rewritten": int(erasure.get("files_rewritten", 0)),
        "model_versions": list(erasure.get("model_versions", [])),
    }
    return append(cfg, "erasure", f"{erasure.get('erasure_id', '')}@{erasure.get('as_of', '')}", fields)


@dataclass(frozen=True)
class ChainCheck:
    """What :func:`check_chain` found: the records that hold, and the first that does not (``None``: all hold)."""

    records: int
    first_bad_line: int | None
    problem: str
    last: dict[str, Any] | None


def check_chain(path: Path) -> ChainCheck:
    """Walk the log: every line parses, ``seq`` counts up from 1, ``prev`` is the hash of the record before,
    ``hash`` is the hash of the record's content and the line is that content's canonical form byte for byte (so
    any changed byte of a record is found, even one that leaves its value the same). A partial last line (a write
    cut short; the next append repairs it) is reported but does not break the chain."""
    previous: dict[str, Any] | None = None
    count = 0
    for number, line in _lines(path):
        if not line.endswith(b"\n"):
            return ChainCheck(
                count, None, f"line {number} is a partial last line (repaired by the next append)", previous
            )
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            return ChainCheck(count, number, f"line {number} is not JSON ({exc.msg})", previous)
        if not isinstance(record, dict):
            return ChainCheck(count, number, f"line {number} is not a record", previous)
        expected_seq = int(previous["seq"]) + 1 if previous else 1
        expected_prev = str(previous["hash"]) if previous else GENESIS
        if record.get("seq") != expected_seq:
            return ChainCheck(
                count, number, f"line {number} has seq {record.get('seq')!r}, not {expected_seq}", previous
            )
        if record.get("prev") != expected_prev:
            return ChainCheck(
                count, number, f"record {expected_seq} (line {number}) does not follow record {expected_seq - 1}: "
                f"prev {str(record.get('prev'))[:12]}, hash before {expected_prev[:12]}", previous
            )  # fmt: skip
        if record.get("hash") != record_hash(record):
            return ChainCheck(count, number, f"record {expected_seq} (line {number}) was changed: its hash does not "
                              "match its content", previous)  # fmt: skip
        if line != canonical(record) + b"\n":  # the same content written otherwise (spaces, escapes, key order)
            return ChainCheck(count, number, f"record {expected_seq} (line {number}) was changed: its bytes are not "
                              "the canonical form of its content", previous)  # fmt: skip
        previous = record
        count += 1
    return ChainCheck(count, None, "", previous)


def serving_state(cfg: LLMOpsConfig) -> dict[str, str | None]:
    """The ``champion`` alias and the version Triton's ``config.pbtxt`` pins."""
    from llmops.registry.registry import CHAMPION, alias_version
    from llmops.serving.repository import served_version

    pinned = served_version(cfg.paths.model_repository, cfg.triton.model_name)
    return {"champion": alias_version(cfg, CHAMPION), "pinned": None if pinned is None else str(pinned)}


def verify(cfg: LLMOpsConfig, check_serving: bool = True) -> Verdict:
    """The ``audit_chain`` verdict: the chain holds and the serving state matches its last promotion or rollback.

    Args:
        cfg: configuration.
        check_serving: also compare the ``champion`` alias and the pinned version with the last record.
    """
    from llmops.verdict import Verdict

    chain = check_chain(audit_log_path(cfg))
    metrics = {"records": float(chain.records)}
    if chain.first_bad_line is not None:
        return Verdict("audit_chain", False, f"audit log {audit_log_path(cfg)}: {chain.problem}", metrics, "warn")
    reason = f"{chain.records} audit records, chain intact"
    if chain.problem:
        reason += f" ({chain.problem})"
    if not check_serving:
        return Verdict("audit_chain", True, reason, metrics, "warn")
    serving = [r for r in read_records(audit_log_path(cfg)) if r.get("change") in SERVING_CHANGES]
    state = serving_state(cfg)
    if not serving:
        if state["champion"] is None and state["pinned"] is None:
            return Verdict("audit_chain", True, reason + "; nothing serves and nothing was promoted", metrics, "warn")
        return Verdict("audit_chain", False, f"{reason}, but version {state['champion'] or state['pinned']} serves "
                       "with no promotion recorded", metrics, "warn")  # fmt: skip
    last = serving[-1]
    version = str(last.get("to_version"))
    if state["champion"] != version or state["pinned"] != version:
        return Verdict(
            "audit_chain", False,
            f"{reason}, but the serving state does not match record {last.get('seq')} ({last.get('change')} to "
            f"version {version}, run {last.get('run_key')}): champion is {state['champion']}, Triton pins "
            f"{state['pinned']}", metrics, "warn",
        )  # fmt: skip
    return Verdict("audit_chain", True, f"{reason}; version {version} serves as recorded by record {last.get('seq')} "
                   f"({last.get('change')}, run {last.get('run_key')})", metrics, "warn")  # fmt: skip
