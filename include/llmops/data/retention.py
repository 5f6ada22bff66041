"""Retention and erasure of production data under the state folder (``$LLMOPS_HOME``).

Retention (:func:`apply_retention`, daily): each kind of production data is deleted once it is older than its
``retention.<kind>_days`` *and* older than the feedback window (``monitoring.window_intervals`` hourly intervals:
feedback is joined to requests that far back), and, for raw records, only once their hour was curated (the
interval's ``summary.json`` exists). Raw records whose hour was never curated are kept and counted. Every cutoff is
computed from ``as_of`` (the run's data interval end), never from the clock, so a re-run deletes nothing more.

Erasure (:func:`erase`): the records of the given request ids, and of the given user ids (a ``user``, ``user_id``
or ``feedback_by`` field; the requests a user's feedback named are that user's too), are removed from every JSONL,
Parquet and JSON file under the state folder: request logs, interval partitions and their curated logs, quarantine
files, feedback, candidates, screened-out feedback, merged retrain sets and training snapshots. Each file is
rewritten to a temporary file beside it and renamed into place. Evidently reports of the intervals that held an
erased request are deleted (they quote texts). The SHA-256 of every erased id goes to ``privacy/erased_ids.json``,
which the retrain merge consults so that no future snapshot takes them in again.

Snapshots: a training snapshot that held an erased row is rewritten without it, in place (its folder, and so the
``llmops.data_snapshot`` tags naming it, stay). Its content hash changes; the snapshot's ``manifest.json`` records
each erasure as ``{erasure_id, from_hash, to_hash, rows_removed}``, and the registered versions trained on it get
the new hash in ``llmops.data_snapshot_hash`` (the one they were trained with stays in
``llmops.data_snapshot_hash.trained``): the registry, not the manifest, vouches for a snapshot, so
:func:`llmops.data.snapshot.trusted_snapshot` keeps refusing any content the registry did not record, and drift
checks keep reading the champion's snapshot. Without a reachable MLflow the tags are not moved and the rewritten
snapshot is refused until an erasure re-run (idempotent) reaches the registry. The registered model versions whose
snapshot held an erased row are named in the answer (and tagged ``llmops.erasure.<id>``) so an operator can decide to
retrain; the models themselves are not changed. Without a reachable MLflow the answer names the snapshots only.

Every erasure appends one line to ``privacy/erasures.jsonl``: its id, ``as_of``, the ids' hashes, counts per kind,
the snapshots rewritten, the model versions named and any file that still holds an id. Never the content, never a
raw id. Files under the Airflow home and the MLflow store are databases this module cannot rewrite (the Airflow
database keeps the erasure run's own params): an id found there is reported as ``residual_external``.

No Airflow import here.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from llmops.config import LLMOpsConfig

log = logging.getLogger(__name__)

PRIVACY_DIR = "privacy"
ERASURE_LOG = "erasures.jsonl"
ERASED_IDS_FILE = "erased_ids.json"
USER_FIELDS = ("user", "user_id", "feedback_by")
FEEDBACK_ID_PREFIX = "fb-"  # a feedback candidate's training id is "fb-<request_id>"
ERASURE_TAG_PREFIX = "llmops.erasure."
SUMMARY_FILE = "summary.json"
_KEY_FORMAT = "%Y%m%dT%H%M%SZ"
_HOUR = timedelta(hours=1)
_MAX_LISTED = 50


@contextmanager
def _exclusive(cfg: LLMOpsConfig) -> Iterator[None]:
    """Retention and erasure one at a time: both rewrite the same files, and a rewrite made from a copy read before
    the other's would bring erased records back."""
    import fcntl

    folder = privacy_dir(cfg)
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / ".lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def privacy_dir(cfg: LLMOpsConfig) -> Path:
    """Where the erasure log and the erased ids' hashes live."""
    return cfg.paths.home / PRIVACY_DIR


def erasure_log_path(cfg: LLMOpsConfig) -> Path:
    return privacy_dir(cfg) / ERASURE_LOG


def erased_ids_path(cfg: LLMOpsConfig) -> Path:
    return privacy_dir(cfg) / ERASED_IDS_FILE


def hash_id(value: str) -> str:
    """The SHA-256 (hex) of an id, as the erasure log and the erased-ids list keep it."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def load_erased_hashes(cfg: LLMOpsConfig) -> frozenset[str]:
    """The hashes of every request and user id erased so far (empty when nothing was)."""
    try:
        data = json.loads(erased_ids_path(cfg).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return frozenset()
    return frozenset(str(h) for name in ("request_ids", "user_ids") for h in data.get(name, []))


def is_erased(value: Any, erased: frozenset[str]) -> bool:
    """Whether a request id, a feedback candidate id (``fb-<request_id>``) or a user id was erased."""
    if not erased or not isinstance(value, str) or not value:
        return False
    return hash_id(value) in erased or hash_id(value.removeprefix(FEEDBACK_ID_PREFIX)) in erased


# --- retention ------------------------------------------------------------------------------------------------------


@dataclass
class RetentionReport:
    """What one retention run deleted (counts per kind; never content).

    Attributes:
        as_of: the time retention was computed for (ISO 8601).
        cutoffs: kind -> data older than this was eligible.
        deleted: kind -> records (raw kinds) or interval folders (curated kinds) deleted.
        kept_uncurated: raw kind -> records past their cutoff kept because their interval was never curated.
        files_rewritten: raw files rewritten without their old records (removed when nothing was left).
    """

    as_of: str
    cutoffs: dict[str, str] = field(default_factory=dict)
    deleted: dict[str, int] = field(default_factory=dict)
    kept_uncurated: dict[str, int] = field(default_factory=dict)
    files_rewritten: int = 0

    @property
    def reason(self) -> str:
        done = ", ".join(f"{k} {v}" for k, v in self.deleted.items())
        text = f"retention as of {self.as_of}: deleted {done}"
        kept = {k: v for k, v in self.kept_uncurated.items() if v}
        if kept:
            text += "; kept past retention because their interval was never curated: " + ", ".join(
                f"{k} {v}" for k, v in kept.items()
            )
        return text

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _cutoff(cfg: LLMOpsConfig, days: int, as_of: datetime) -> datetime:
    """Data before this may go: past its retention and past the feedback window, whichever is later."""
    window = timedelta(hours=cfg.monitoring.window_intervals)
    return _aware(as_of) - max(timedelta(days=days), window)


def _key_start(key: str) -> datetime | None:
    try:
        return datetime.strptime(key, _KEY_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None


def _parse_ts(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return _aware(datetime.fromisoformat(value))
    except ValueError:
        return None


def _hour_key(ts: datetime) -> str:
    return ts.replace(minute=0, second=0, microsecond=0).strftime(_KEY_FORMAT)


def _rewrite_lines(path: Path, drop: Callable[[bytes], bool], attempts: int = 3) -> int:
    """Rewrite a JSONL file without the lines ``drop`` selects (temp file beside it, then ``os.replace``); remove
    it when nothing is left. A file that grew while it was read (the served model appends to its live log) is read
    again, so an appended line is not lost. Returns the lines removed."""
    for _ in range(attempts):
        before = path.stat()
        data = path.read_bytes()
        lines = data.splitlines(keepends=True)
        kept = [line for line in lines if not line.strip() or not drop(line)]
        removed = len(lines) - len(kept)
        if not removed:
            return 0
        after = path.stat()
        if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns):
            continue
        if not any(line.strip() for line in kept):
            path.unlink()
            return removed
        tmp = path.with_name(f".{path.name}.erase.tmp")
        tmp.write_bytes(b"".join(kept))
        os.replace(tmp, path)
        return removed
    raise RuntimeError(f"{path} kept changing while it was rewritten; try again")


def _jsonl_files(source: Path) -> list[Path]:
    if source.is_dir():
        return sorted(p for p in source.rglob("*.jsonl") if p.is_file())
    return [source] if source.is_file() else []


def _prune_raw(
    files: Iterable[Path], cutoff: datetime, curated: Callable[[str], bool], report: RetentionReport, kind: str
) -> None:
    deleted = kept = 0

    def drop(line: bytes) -> bool:
        nonlocal kept
        try:
            obj = json.loads(line)
        except ValueError:
            return False  # no timestamp to age it by: kept (monitoring quarantines it in one interval)
        ts = _parse_ts(obj.get("timestamp")) if isinstance(obj, dict) else None
        if ts is None or ts >= cutoff:
            return False
        if not curated(_hour_key(ts)):
            kept += 1
            return False
        return True

    for path in files:
        n = _rewrite_lines(path, drop)
        deleted += n
        report.files_rewritten += bool(n)
    report.deleted[kind] = deleted
    report.kept_uncurated[kind] = kept


def _prune_folders(base: Path, prefix: str, cutoff: datetime, report: RetentionReport, kind: str) -> None:
    deleted = 0
    for folder in sorted(base.iterdir()) if base.is_dir() else []:
        start = _key_start(folder.name.removeprefix(prefix)) if folder.name.startswith(prefix) else None
        if folder.is_dir() and start is not None and start + _HOUR <= cutoff:
            shutil.rmtree(folder)
            deleted += 1
    report.deleted[kind] = report.deleted.get(kind, 0) + deleted


def apply_retention(cfg: LLMOpsConfig, as_of: datetime) -> RetentionReport:
    """Delete production data past its retention (``retention:``), once curated and out of the feedback window.

    Raw kinds go first, while the summaries that say their intervals were curated still exist (their retention is
    at most that of the curated kinds). Idempotent: a second run with the same ``as_of`` deletes nothing.

    Args:
        cfg: configuration (``retention``, ``monitoring.window_intervals``, where each kind lives).
        as_of: the run's data interval end (aware; a naive value is taken as UTC).

    Returns:
        The :class:`RetentionReport` (counts per kind).
    """
    rcfg = cfg.retention
    as_of = _aware(as_of)
    report = RetentionReport(as_of=as_of.isoformat())
    cut = {
        "prod_logs": _cutoff(cfg, rcfg.prod_logs_days, as_of),
        "feedback": _cutoff(cfg, rcfg.feedback_days, as_of),
        "partitions": _cutoff(cfg, rcfg.partitions_days, as_of),
        "candidates": _cutoff(cfg, rcfg.candidates_days, as_of),
        "quarantine": _cutoff(cfg, rcfg.quarantine_days, as_of),
        "reports": _cutoff(cfg, rcfg.reports_days, as_of),
        # The served model's raw stream (triton.retain_raw_hours; none kept at 0): not tied to curation.
        "prod_logs_raw": as_of - timedelta(hours=cfg.triton.retain_raw_hours),
    }
    report.cutoffs = {k: v.isoformat() for k, v in cut.items()}
    with _exclusive(cfg):
        _retain(cfg, cut, report)
    log.info("%s", report.reason)
    return report


def _retain(cfg: LLMOpsConfig, cut: dict[str, datetime], report: RetentionReport) -> None:
    from llmops.monitoring.feedback import candidates_dir, feedback_dir
    from llmops.monitoring.interval import interval_dir, monitoring_source, partitions_dir

    fb_dir = candidates_dir(cfg)
    _prune_raw(
        _jsonl_files(monitoring_source(cfg)),
        cut["prod_logs"],
        lambda key: (interval_dir(cfg, key) / SUMMARY_FILE).is_file(),
        report,
        "prod_logs",
    )
    _prune_raw(
        _jsonl_files(feedback_dir(cfg)),
        cut["feedback"],
        lambda key: (fb_dir / f"interval={key}" / SUMMARY_FILE).is_file(),
        report,
        "feedback",
    )
    _prune_folders(partitions_dir(cfg), "interval=", cut["partitions"], report, "partitions")
    # The interval's curated logs (the contract's output the partition was made from) go with the partition.
    _prune_folders(cfg.paths.curated_dir / "prod_logs", "monitor-", cut["partitions"], report, "partitions")
    _prune_folders(fb_dir, "interval=", cut["candidates"], report, "candidates")
    _prune_folders(cfg.paths.quarantine_dir / "prod_logs", "monitor-", cut["quarantine"], report, "quarantine")
    _prune_folders(cfg.paths.reports_dir / "monitoring", "", cut["reports"], report, "reports")
    _prune_raw_stream(cfg.paths.prod_log_raw_dir, cut["prod_logs_raw"], report)


def _prune_raw_stream(folder: Path, cutoff: datetime, report: RetentionReport) -> None:
    """Delete the served model's hourly raw files (``requests-<YYYYmmddTHH>-<host>-<pid>.jsonl``) whose hour ended
    at or before ``cutoff``; the writer does the same while it runs, this covers a server that is down or idle."""
    deleted = 0
    for path in sorted(folder.glob("requests-*.jsonl")) if folder.is_dir() else []:
        try:
            hour = datetime.strptime(path.name.removeprefix("requests-")[:11], "%Y%m%dT%H").replace(tzinfo=UTC)
        except ValueError:
            continue
        if hour + _HOUR <= cutoff:
            path.unlink(missing_ok=True)
            deleted += 1
    report.deleted["prod_logs_raw"] = deleted


# --- erasure --------------------------------------------------------------------------------------------------------


@dataclass
class ErasureRecord:
    """What one erasure did; this is the line of the erasure log (hashes and counts, never content or raw ids).

    Attributes:
        erasure_id: derived from the ids' hashes (the same request erased again has the same id).
        as_of: the run's logical date (ISO 8601).
        request_id_sha256, user_id_sha256: the hashes of the ids asked for.
        derived_requests: requests erased because a user id's feedback named them.
        removed: kind -> records removed.
        files_rewritten, files_removed: files rewritten without the records, and files (or report folders) removed.
        snapshots: per training file rewritten: ``{path, kind, rows_removed, from_hash, to_hash, from_sha256,
            to_sha256}`` (paths relative to the state folder).
        model_versions: registered versions trained on a snapshot that held an erased record.
        registry: how the versions were found, or why they could not be.
        residual: files (relative paths) that still hold an id and that erasure could not rewrite.
        residual_external: such files under the Airflow home or the MLflow store (databases).
    """

    erasure_id: str
    as_of: str
    request_id_sha256: list[str]
    user_id_sha256: list[str]
    derived_requests: int = 0
    removed: dict[str, int] = field(default_factory=dict)
    files_rewritten: int = 0
    files_removed: int = 0
    snapshots: list[dict[str, Any]] = field(default_factory=list)
    model_versions: list[str] = field(default_factory=list)
    registry: str = ""
    residual: list[str] = field(default_factory=list)
    residual_external: list[str] = field(default_factory=list)

    @property
    def reason(self) -> str:
        removed = ", ".join(f"{k} {v}" for k, v in sorted(self.removed.items())) or "nothing"
        text = f"erasure {self.erasure_id}: removed {removed} ({self.files_rewritten} files rewritten)"
        if self.snapshots:
            text += f"; {len(self.snapshots)} training files rewritten"
        text += f"; {self.registry}"
        if self.residual:
            text += f"; {len(self.residual)} files still hold an erased id: {', '.join(self.residual[:5])}"
        if self.residual_external:
            text += f"; found in databases it cannot rewrite: {', '.join(self.residual_external[:5])}"
        return text

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class _Targets:
    """The values an erased record holds: request ids, their candidate ids, user ids."""

    def __init__(self, request_ids: Iterable[str], user_ids: Iterable[str]) -> None:
        self.request_ids = sorted(set(request_ids))
        self.user_ids = sorted(set(user_ids))
        self.values = frozenset(
            [*self.request_ids, *(FEEDBACK_ID_PREFIX + r for r in self.request_ids), *self.user_ids]
        )
        # An id inside a JSON text (a quarantined record's ``raw``, an unparseable line): quoted, so "u1" is not "u10".
        self.quoted = sorted(json.dumps(v) for v in self.values)

    def record_matches(self, obj: Any) -> bool:
        if isinstance(obj, str):
            return obj in self.values or any(q in obj for q in self.quoted)
        if isinstance(obj, dict):
            return any(self.record_matches(v) for v in obj.values())
        if isinstance(obj, list):
            return any(self.record_matches(v) for v in obj)
        return False

    def line_matches(self, line: bytes) -> bool:
        try:
            obj = json.loads(line)
        except ValueError:
            text = line.decode("utf-8", errors="replace")
            return any(q in text for q in self.quoted)
        return self.record_matches(obj)


def _strip_json(obj: Any, targets: _Targets) -> tuple[Any, int]:
    """``obj`` without list items and mapping entries that hold an erased id; the count removed."""
    removed = 0
    if isinstance(obj, list):
        out = []
        for item in obj:
            if isinstance(item, str | dict) and targets.record_matches(item):
                removed += 1
                continue
            value, n = _strip_json(item, targets)
            out.append(value)
            removed += n
        return out, removed
    if isinstance(obj, dict):
        kept: dict[str, Any] = {}
        for key, item in obj.items():
            if key in targets.values or (isinstance(item, str) and targets.record_matches(item)):
                removed += 1
                continue
            kept[key], n = _strip_json(item, targets)
            removed += n
        return kept, removed
    return obj, 0


def _erase_parquet(path: Path, targets: _Targets) -> int:
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    mask = pa.array([False] * table.num_rows, pa.bool_())
    values = pa.array(sorted(targets.values), pa.string())
    for name in table.column_names:
        column = table[name]
        if not pa.types.is_string(column.type) and not pa.types.is_large_string(column.type):
            continue
        hit = pc.fill_null(pc.is_in(column, value_set=values), False)
        for quoted in targets.quoted:
            hit = pc.or_(hit, pc.fill_null(pc.match_substring(column, quoted), False))
        mask = pc.or_(mask, hit)
    removed = int(pc.sum(mask).as_py() or 0)
    if removed:
        tmp = path.with_name(f".{path.name}.erase.tmp")
        pq.write_table(table.filter(pc.invert(mask)), tmp)
        os.replace(tmp, path)
    return removed


def _erase_json(path: Path, targets: _Targets) -> int:
    from llmops.fsutil import atomic_write_json

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return 0
    stripped, removed = _strip_json(data, targets)
    if removed:
        atomic_write_json(path, stripped)
    return removed


def _kind(cfg: LLMOpsConfig, path: Path) -> str:
    """The kind of production data a file under the state folder holds, for the counts."""
    from llmops.data.sinks import SNAPSHOTS_DIR
    from llmops.monitoring.feedback import candidates_dir, feedback_dir
    from llmops.monitoring.interval import monitoring_source, partitions_dir

    places = [
        ("prod_logs", monitoring_source(cfg)),
        ("feedback", feedback_dir(cfg)),
        ("partitions", partitions_dir(cfg)),
        ("candidates", candidates_dir(cfg)),
        ("snapshots", cfg.paths.curated_dir / SNAPSHOTS_DIR),
        ("retrain_sets", cfg.paths.curated_dir / "retrain"),
        ("curated_logs", cfg.paths.curated_dir / "prod_logs"),
        ("quarantine", cfg.paths.quarantine_dir),
        ("reports", cfg.paths.reports_dir),
        ("raw_data", cfg.paths.raw_dir),
    ]
    for name, place in places:
        if path == place or path.is_relative_to(place):
            return name
    return "other"


def _request_ids_of_users(files: Sequence[Path], users: frozenset[str]) -> set[str]:
    """The request ids that records given by these users name (feedback, candidates, logs with a user field)."""
    import pyarrow.parquet as pq

    found: set[str] = set()
    for path in files:
        if path.suffix == ".jsonl":
            for line in path.read_bytes().splitlines():
                try:
                    obj = json.loads(line)
                except ValueError:
                    continue
                if isinstance(obj, dict) and any(obj.get(f) in users for f in USER_FIELDS):
                    rid = obj.get("request_id")
                    if isinstance(rid, str) and rid:
                        found.add(rid)
        elif path.suffix == ".parquet":
            names = set(pq.read_schema(path).names)
            columns = [c for c in USER_FIELDS if c in names]
            if "request_id" not in names or not columns:
                continue
            for row in pq.read_table(path, columns=["request_id", *columns]).to_pylist():
                if any(row.get(c) in users for c in columns) and isinstance(row["request_id"], str):
                    found.add(row["request_id"])
    return found


def _file_contains(path: Path, needles: Sequence[bytes]) -> bool:
    overlap = max((len(n) for n in needles), default=1) - 1
    tail = b""
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                window = tail + chunk
                if any(n in window for n in needles):
                    return True
                tail = window[-overlap:] if overlap else b""
    except OSError:
        return False
    return False


def _snapshot_change(cfg: LLMOpsConfig, path: Path, erasure_id: str, as_of: str, rows: int) -> dict[str, Any]:
    """Record a rewritten training file: new hashes, and for a snapshot the erasure in its manifest."""
    from llmops.data.sinks import MANIFEST_FILE, SNAPSHOTS_DIR
    from llmops.data.snapshot import snapshot_content_hash
    from llmops.fsutil import atomic_write_json, file_sha256

    change: dict[str, Any] = {
        "path": str(path.relative_to(cfg.paths.home)),
        "rows_removed": rows,
        "to_sha256": file_sha256(path),
    }
    manifest_path = path.parent / MANIFEST_FILE
    if path.parent.parent.name != SNAPSHOTS_DIR or not manifest_path.is_file():
        sidecar = path.parent / "merge.json"  # a retrain set: its sidecar vouches for the file's SHA-256
        if sidecar.is_file():
            merge = json.loads(sidecar.read_text(encoding="utf-8"))
            entry = {"erasure_id": erasure_id, "as_of": as_of, "rows_removed": rows, "from_sha256": merge.get("sha256")}
            merge.update(sha256=change["to_sha256"], rows=int(merge.get("rows", rows)) - rows)
            merge["erasures"] = [*(merge.get("erasures") or []), entry]
            atomic_write_json(sidecar, merge)
        return {**change, "kind": "retrain_sets"}
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    erasures = list(manifest.get("erasures") or [])
    before = str(erasures[-1]["to_hash"]) if erasures else str(manifest.get("snapshot_hash", ""))
    after = snapshot_content_hash(path, str(manifest.get("config_sha256", "")))
    entry = {"erasure_id": erasure_id, "as_of": as_of, "rows_removed": rows, "from_hash": before, "to_hash": after}
    manifest["erasures"] = [*erasures, entry]
    manifest.setdefault("format", {})["rows"] = manifest.get("format", {}).get("rows", rows) - rows
    atomic_write_json(manifest_path, manifest)
    return {**change, "kind": "snapshots", "from_hash": before, "to_hash": after}


def _erased_snapshots(cfg: LLMOpsConfig, erasure_id: str) -> list[dict[str, Any]]:
    """Every snapshot whose manifest records this erasure (also on a re-run, when nothing is left to remove)."""
    from llmops.data.sinks import MANIFEST_FILE, SNAPSHOTS_DIR, TRAIN_FILE

    out = []
    base = cfg.paths.curated_dir / SNAPSHOTS_DIR
    for manifest_path in sorted(base.glob(f"*/{MANIFEST_FILE}")) if base.is_dir() else []:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        chain = list(manifest.get("erasures") or [])
        if any(e.get("erasure_id") == erasure_id for e in chain):
            hashes = {str(manifest.get("snapshot_hash", ""))} | {
                str(e.get(k)) for e in chain for k in ("from_hash", "to_hash")
            }
            out.append(
                {
                    "path": (manifest_path.parent / TRAIN_FILE).resolve(),
                    "hashes": hashes - {""},
                    "current": str(chain[-1].get("to_hash", "")),
                }
            )
    return out


def _find_versions(cfg: LLMOpsConfig, snapshots: list[dict[str, Any]], erasure_id: str) -> tuple[list[str], str]:
    """The registered versions whose snapshot tags name one of the snapshots; each gets an erasure tag."""
    from llmops.data.snapshot import SNAPSHOT_HASH_TAG, SNAPSHOT_TAG
    from llmops.fsutil import file_sha256

    if not snapshots:
        return [], "no training snapshot held an erased record"
    try:
        from llmops.registry import tracking

        c = tracking.client(cfg)
        name = cfg.mlflow.model_name
        found = []
        for version in c.search_model_versions(f"name='{name}'"):
            tags = dict(version.tags or {})
            path, digest = str(tags.get(SNAPSHOT_TAG, "")), str(tags.get(SNAPSHOT_HASH_TAG, "")).lower()
            resolved = Path(path).resolve() if path else None
            if any(resolved == s["path"] or digest in s["hashes"] for s in snapshots):
                found.append(str(version.version))
            # The registry, not the manifest, vouches for a snapshot's content: the version's recorded hash moves to
            # the rewritten content, the hash it was trained with is kept beside it.
            for snap in snapshots:
                if resolved == snap["path"] and digest and snap["current"]:
                    now = file_sha256(snap["path"]) if len(digest) == 64 else snap["current"]
                    if digest != now:
                        c.set_model_version_tag(name, version.version, f"{SNAPSHOT_HASH_TAG}.trained", digest)
                        c.set_model_version_tag(name, version.version, SNAPSHOT_HASH_TAG, now)
        found = sorted(set(found), key=int)
        note = f"{len(snapshots)} snapshots held an erased record; retraining advised"
        for v in found:
            c.set_model_version_tag(name, v, f"{ERASURE_TAG_PREFIX}{erasure_id}", note)
    except Exception as exc:  # the data is erased either way; the answer says what it could not look up
        return [], f"MLflow not reachable ({type(exc).__name__}): the snapshots are listed, not the model versions"
    listed = ", ".join(f"{cfg.mlflow.model_name} v{v}" for v in found) or "none registered"
    return found, f"model versions trained on a snapshot that held them: {listed}"


def _store_hashes(cfg: LLMOpsConfig, request_hashes: Iterable[str], user_hashes: Iterable[str]) -> None:
    from llmops.fsutil import atomic_write_json

    path = erased_ids_path(cfg)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        data = {}
    merged = {
        "request_ids": sorted(set(data.get("request_ids", [])) | set(request_hashes)),
        "user_ids": sorted(set(data.get("user_ids", [])) | set(user_hashes)),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_json(path, merged)


def append_erasure_log(cfg: LLMOpsConfig, record: ErasureRecord) -> Path:
    """Append one complete line to the erasure log (``O_APPEND``, then ``fsync``)."""
    path = erasure_log_path(cfg)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = (json.dumps(record.to_dict(), sort_keys=True) + "\n").encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)
    return path


def read_erasure_log(cfg: LLMOpsConfig) -> list[dict[str, Any]]:
    """Every erasure recorded so far, oldest first."""
    path = erasure_log_path(cfg)
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


MAX_IDS = 1000
_ID_FORBIDDEN = frozenset(' "\\\t\r\n')


def check_ids(name: str, value: Any) -> list[str]:
    """A list param of ids, checked: at most :data:`MAX_IDS` strings of 1 to 200 characters without whitespace,
    quotes or backslashes.

    Raises:
        ValueError: naming the param and what is wrong (never echoing a whole id list).
    """
    if value is None or value == "":
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f'{name} must be a list of strings, e.g. ["3f2a..."]')
    if len(value) > MAX_IDS:
        raise ValueError(f"{name}: {len(value)} ids, at most {MAX_IDS} per erasure")
    bad = [i for i, v in enumerate(value) if not 1 <= len(v) <= 200 or any(c in _ID_FORBIDDEN for c in v)]
    if bad:
        raise ValueError(
            f"{name}: items {bad[:10]} are not ids (1-200 characters, no whitespace, quotes or backslashes)"
        )
    return list(value)


def erase(cfg: LLMOpsConfig, request_ids: Sequence[str], user_ids: Sequence[str], as_of: datetime) -> ErasureRecord:
    """Remove every record of these requests and users from the state folder, and say which models learned them.

    Args:
        cfg: configuration (where the state folder, the logs and the registry are).
        request_ids: server-issued request ids.
        user_ids: user ids as the feedback endpoint (or a log record's ``user`` field) knows them.
        as_of: the run's logical date (recorded; no clock is read).

    Returns:
        The :class:`ErasureRecord`, also appended to the erasure log.

    Raises:
        ValueError: no id given.
    """
    rids = {r.strip() for r in request_ids if r and r.strip()}
    users = {u.strip() for u in user_ids if u and u.strip()}
    if not rids and not users:
        raise ValueError("an erasure needs at least one request id or user id")
    with _exclusive(cfg):
        record = _erase(cfg, rids, users, _aware(as_of).isoformat())
    append_erasure_log(cfg, record)
    from llmops.audit import record_erasure

    record_erasure(cfg, record.to_dict())
    log.info("%s", record.reason)
    return record


def _erase(cfg: LLMOpsConfig, rids: set[str], users: set[str], at: str) -> ErasureRecord:
    home = cfg.paths.home
    from llmops.audit import audit_dir

    skip = (privacy_dir(cfg), audit_dir(cfg))  # the audit log holds hashes and counts, never erased content
    external = (cfg.paths.airflow_home, cfg.paths.mlflow_dir)
    files = sorted(p for p in home.rglob("*") if p.is_file() and not any(p.is_relative_to(s) for s in skip))
    derived = (
        _request_ids_of_users([f for f in files if not any(f.is_relative_to(e) for e in external)], frozenset(users))
        - rids
    )
    targets = _Targets(rids | derived, users)
    request_hashes = sorted(hash_id(r) for r in rids)
    user_hashes = sorted(hash_id(u) for u in users)
    erasure_id = hashlib.sha256(json.dumps([request_hashes, user_hashes]).encode()).hexdigest()[:16]
    record = ErasureRecord(erasure_id, at, request_hashes, user_hashes, derived_requests=len(derived))
    touched_intervals: set[str] = set()
    for path in files:
        if any(path.is_relative_to(e) for e in external) or not path.exists():
            continue
        suffix = path.suffix.lower()
        if suffix == ".jsonl":
            n = _rewrite_lines(path, targets.line_matches)
        elif suffix == ".parquet":
            n = _erase_parquet(path, targets)
        elif suffix == ".json":
            n = _erase_json(path, targets)
        else:
            continue
        if not n:
            continue
        kind = _kind(cfg, path)
        record.removed[kind] = record.removed.get(kind, 0) + n
        record.files_rewritten += 1
        record.files_removed += not path.exists()
        if kind == "partitions" and path.parent.name.startswith("interval="):
            touched_intervals.add(path.parent.name.removeprefix("interval="))
        if path.exists() and path.name == "train.parquet" and kind in ("snapshots", "retrain_sets"):
            record.snapshots.append(_snapshot_change(cfg, path, erasure_id, at, n))
    # Evidently reports of those intervals quote texts of their requests: deleted (re-running the interval
    # rebuilds them from what is left).
    for key in sorted(touched_intervals):
        folder = cfg.paths.reports_dir / "monitoring" / key
        if folder.is_dir():
            shutil.rmtree(folder)
            record.files_removed += 1
            record.removed["reports"] = record.removed.get("reports", 0) + 1
    _store_hashes(cfg, [hash_id(r) for r in targets.request_ids], user_hashes)
    record.model_versions, record.registry = _find_versions(cfg, _erased_snapshots(cfg, erasure_id), erasure_id)
    needles = [v.encode("utf-8") for v in (*targets.request_ids, *targets.user_ids)]
    for path in sorted(p for p in home.rglob("*") if p.is_file() and not any(p.is_relative_to(s) for s in skip)):
        if _file_contains(path, needles):
            where = record.residual_external if any(path.is_relative_to(e) for e in external) else record.residual
            if len(where) < _MAX_LISTED:
                where.append(str(path.relative_to(home)))
    return record
