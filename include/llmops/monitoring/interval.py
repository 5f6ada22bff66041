"""One monitoring interval of production logs: select, curate, deduplicate and write its Parquet partition.

An interval is ``[start, end)`` of the Airflow data interval. Its records are the log lines whose ``timestamp`` falls
inside it. Every line is read through the ingest layer's strict line reading (:func:`read_interval_lines`): a line
that is not a usable record (over ``data.max_line_bytes``, not UTF-8, not JSON, not an object, a missing field, a
wrong type, an unreadable timestamp) goes to the interval's quarantine with its file, line, reason and a scrubbed
preview. A line without a readable timestamp is placed by the rule of :func:`read_interval_lines`, in exactly one
interval. Failed requests (``error`` set) are counted per model version and set aside; the answered ones that passed
the type checks are deduplicated (a request read twice, e.g. from a copied rotated file, counts once) and go through
the data stage's production-log contract (quarantine, PII scrubbing). Every line read for the interval is counted
once: ``lines_read = rows + rows_quarantined + duplicates + duplicate_request_ids + failed_requests +
rows_not_curated`` (:meth:`IntervalResult.reconciles`). A request id seen again with other content is set aside
as ``duplicate_request_id``, every copy of it: the server assigns every id, so a repeat is a
replayed or forged log line, not a failure of the version that served it; it is counted apart (and alerted on above
``monitoring.max_duplicate_request_id_rate``), never as a quarantined row of the contract or an error of a version.
The partition
``<curated_dir>/monitoring/prod_logs/interval=<key>/part.parquet`` is written atomically, so re-running an interval
replaces it with the same rows; its quarantine files are replaced too (or removed, when a re-run skips the interval
and nothing is left to quarantine).

An interval skipped as too small (fewer than ``monitoring.min_interval_rows`` answered requests) has no partition,
so drift, alerts and the rollback watch treat it as before; it still writes its request index
``interval=<key>/requests.parquet`` (:data:`REQUEST_INDEX_COLUMNS`): its answered requests deduplicated, PII
scrubbed, without reused ids and without the rows the contract's row-level checks refuse. Feedback on a quiet hour's
requests finds them there (:func:`window_request_files`). The index changes no count of the summary and writes no
quarantine: a skipped interval is not judged by the contract.

Records the served model could not write (its log writer's queue was full, or a write failed twice) are not in the
logs; the writer counts them per minute in ``<log dir>/writer_status/*.json`` and :func:`read_log_losses` adds up
the interval's counts, which the monitoring DAG alerts on.

No Airflow import here.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import Iterable, Iterator
from contextlib import closing
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llmops.config import LLMOpsConfig
from llmops.data.ingest import iter_json_lines
from llmops.data.prodlog import ProdLogLine, iter_prod_log_lines, parse_log_timestamp
from llmops.data.schema import CLIENT_ERROR

if TYPE_CHECKING:
    from llmops.monitoring.logindex import LogIndex

log = logging.getLogger(__name__)

PARTITION_FILE = "part.parquet"
# The request index of an interval skipped as too small: its answered requests, curated like a partition's rows but
# kept apart from it, so that feedback finds them while drift, alerts and the rollback watch still see no partition.
REQUESTS_FILE = "requests.parquet"
REQUEST_INDEX_COLUMNS = ("request_id", "timestamp", "model_version", "prompt", "response", "prompt_version")
SUMMARY_FILE = "summary.json"
# Where the served model's log writers keep their loss counters (identical to STATUS_DIR in serving/model.py).
WRITER_STATUS_DIR = "writer_status"
DUPLICATE_IDS_FILE = "duplicate_request_ids.parquet"
DUPLICATE_REQUEST_ID = "duplicate_request_id"


@dataclass
class IntervalResult:
    """What curating one interval produced.

    Attributes:
        key: the interval key (``YYYYmmddTHHMMSSZ`` of its start).
        skipped: True when the interval had too few rows; ``reason`` says why and no partition exists.
        reason: one sentence.
        partition_path: the Parquet partition ("" when skipped).
        requests_path: the request index of a skipped interval that had answered requests ("" otherwise: a
            partition is its own index).
        lines_read: non-blank log lines placed in the interval (by their timestamp, or by the rule of
            :func:`read_interval_lines` for lines without one); every one is counted once in the other figures.
        rows_read: lines of the interval that are not failed requests (before the type checks and the contract).
        rows_quarantined: lines quarantined: by the strict reader (``rows_malformed``) and by the contract; all in
            :func:`interval_quarantine_path`.
        rows_malformed: lines the strict reader quarantined (not a usable record: over the size limit, not UTF-8,
            not JSON, not an object, missing field, wrong type, unreadable timestamp); part of ``rows_quarantined``.
        duplicates: records dropped as exact repeats of a request (same id, time, prompt and response), decided
            among the records that passed the type checks.
        duplicate_request_ids: records set aside because another record of the interval has their ``request_id``
            with other content (every copy; written to :func:`duplicate_ids_path`; not in the contract's count).
        rows: rows left after curation (in the partition unless the interval was skipped).
        rows_not_curated: answered records that passed the type checks but were not curated because the interval
            was skipped before the contract (too few of them).
        unattributed_lines: lines without a readable timestamp that the rule of :func:`read_interval_lines` placed
            in this interval (quarantined here, part of ``rows_malformed``).
        pii_counts: PII replacements per entity type.
        failed_requests: records of requests the served model failed (``error`` set; not in the partition).
        server_errors_by_version: model version -> failed requests whose ``error_kind`` is not ``client``.
        log_records_dropped: records the model's log writers dropped in the interval (queue full).
        log_records_failed: records lost with log writes that failed twice in the interval.
        log_write_failures: those failed writes (batches).
        safety_by_version: model version -> scorer -> ``[flagged, scored]`` answers of the partition (the scorers
            of :mod:`llmops.monitoring.safety`, run on the texts before scrubbing).
        safety_by_prompt: the same per prompt version the answers were served with (``<name>/<version>``,
            ``None`` for lines of writers that do not record it).
    """

    key: str
    skipped: bool
    reason: str
    partition_path: str = ""
    requests_path: str = ""
    lines_read: int = 0
    rows_read: int = 0
    rows_quarantined: int = 0
    rows_malformed: int = 0
    duplicates: int = 0
    duplicate_request_ids: int = 0
    rows: int = 0
    rows_not_curated: int = 0
    unattributed_lines: int = 0
    pii_counts: dict[str, int] | None = None
    failed_requests: int = 0
    server_errors_by_version: dict[str, int] = field(default_factory=dict)
    log_records_dropped: int = 0
    log_records_failed: int = 0
    log_write_failures: int = 0
    safety_by_version: dict[str, dict[str, list[int]]] = field(default_factory=dict)
    safety_by_prompt: dict[str, dict[str, list[int]]] = field(default_factory=dict)

    @property
    def log_records_lost(self) -> int:
        """Records the served model answered but never wrote to its log (dropped or in a failed write)."""
        return self.log_records_dropped + self.log_records_failed

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields (for XCom and the summary file)."""
        return asdict(self)

    def accounted_lines(self) -> dict[str, int]:
        """Where the lines read for the interval went (their sum is ``lines_read``)."""
        return {
            "kept": self.rows,
            "quarantined": self.rows_quarantined,
            "duplicates": self.duplicates,
            "duplicate_request_ids": self.duplicate_request_ids,
            "failed_requests": self.failed_requests,
            "not_curated": self.rows_not_curated,
        }

    @property
    def reconciles(self) -> bool:
        """Whether every line read for the interval was counted exactly once."""
        return self.lines_read == sum(self.accounted_lines().values())

    def error_figures(self) -> dict[str, float]:
        """``failed_requests``, ``server_errors``, ``server_error_rate`` (server errors over every distinct
        request of the interval, answered or failed; left out when there was none), ``log_records_lost``,
        ``duplicate_request_ids`` and ``duplicate_request_id_rate`` (over the answered records read)."""
        server = sum(self.server_errors_by_version.values())
        total = self.rows_read - self.duplicates - self.duplicate_request_ids + self.failed_requests
        figures = {
            "failed_requests": float(self.failed_requests),
            "server_errors": float(server),
            "log_records_lost": float(self.log_records_lost),
            "duplicate_request_ids": float(self.duplicate_request_ids),
        }
        if total > 0:
            figures["server_error_rate"] = server / total
        if self.rows_read > 0:
            figures["duplicate_request_id_rate"] = self.duplicate_request_ids / self.rows_read
        return figures


def read_interval_result(path: Path) -> IntervalResult | None:
    """The :class:`IntervalResult` of an interval's summary file, or ``None`` when it is missing."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    known = {f.name for f in fields(IntervalResult)}
    return IntervalResult(**{k: v for k, v in data.items() if k in known})


def interval_start(key: str) -> datetime:
    """The start of the interval whose key is ``key`` (the inverse of :func:`interval_key`)."""
    return datetime.strptime(key, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


def interval_key(start: datetime) -> str:
    """The partition key of an interval starting at ``start`` (a naive datetime is taken as UTC)."""
    if start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    return start.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def partitions_dir(cfg: LLMOpsConfig) -> Path:
    """The folder holding one ``interval=<key>`` sub-folder per curated interval."""
    return cfg.paths.curated_dir / "monitoring" / "prod_logs"


def interval_dir(cfg: LLMOpsConfig, key: str) -> Path:
    """The folder of one interval: its partition and its ``summary.json``."""
    return partitions_dir(cfg) / f"interval={key}"


def partition_path(cfg: LLMOpsConfig, key: str) -> Path:
    """The Parquet partition of an interval."""
    return interval_dir(cfg, key) / PARTITION_FILE


def requests_path(cfg: LLMOpsConfig, key: str) -> Path:
    """The request index of an interval skipped as too small (:data:`REQUESTS_FILE`)."""
    return interval_dir(cfg, key) / REQUESTS_FILE


def _curation_key(key: str) -> str:
    """The run key under which an interval goes through the production-log contract."""
    return f"monitor-{key}"


def interval_quarantine_path(cfg: LLMOpsConfig, key: str) -> Path:
    """The records of an interval that the production-log contract quarantined."""
    from llmops.data.prodlog import prod_log_quarantine_path

    return prod_log_quarantine_path(cfg, _curation_key(key))


def duplicate_ids_path(cfg: LLMOpsConfig, key: str) -> Path:
    """The records of an interval set aside as ``duplicate_request_id`` (quarantine layout, PII scrubbed)."""
    return interval_quarantine_path(cfg, key).with_name(DUPLICATE_IDS_FILE)


def split_duplicate_ids(records: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``(kept, repeated)``: the records whose ``request_id`` no other record has, and every record of an id that
    several have (in order). No copy is kept: which one is genuine cannot be told, and a forged answer must not
    reach the partition (feedback on it would become training data)."""
    from collections import Counter

    counts = Counter(r.get("request_id") for r in records if isinstance(r.get("request_id"), str))
    kept: list[dict[str, Any]] = []
    repeated: list[dict[str, Any]] = []
    for record in records:
        rid = record.get("request_id")
        (repeated if isinstance(rid, str) and counts[rid] > 1 else kept).append(record)
    return kept, repeated


def monitoring_source(cfg: LLMOpsConfig) -> Path:
    """Where production logs are read from: ``monitoring.source``, else the serving log directory."""
    return cfg.monitoring.source or cfg.prod_log_source


def _log_files(source: Path) -> list[Path]:
    """The ``*.jsonl`` files of a folder (recursively, rotated files included) in path order, or the file itself."""
    if source.is_dir():
        return sorted(p for p in source.rglob("*.jsonl") if p.is_file())
    return [source] if source.is_file() else []


@dataclass
class IntervalLines:
    """The log lines placed in one interval (:func:`read_interval_lines`).

    Attributes:
        records: answered records that passed the type checks, as logged (extra keys kept), in file order.
        origins: ``(source file, line number)`` of each of ``records``.
        failed: failed requests (``error`` set) with a readable timestamp in the interval.
        quarantined: quarantine records (file, line, reason, raw preview) of the lines that are no usable record.
        lines_read: non-blank lines placed in the interval (``len(records) + len(failed) + len(quarantined)``).
        untimed: lines without a readable timestamp placed in the interval (part of ``quarantined``).
    """

    records: list[dict[str, Any]] = field(default_factory=list)
    origins: list[tuple[str, int]] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)
    quarantined: list[dict[str, Any]] = field(default_factory=list)
    lines_read: int = 0
    untimed: int = 0


def _first_time(path: Path, max_line_bytes: int) -> datetime:
    """The first readable timestamp of a log file, else the file's modification time."""
    with closing(iter_prod_log_lines(path, max_line_bytes)) as lines:
        for line in lines:
            if line.timestamp is not None:
                return line.timestamp
    return datetime.fromtimestamp(path.stat().st_mtime, UTC)


def _placed_lines(path: Path, max_line_bytes: int) -> Iterator[tuple[ProdLogLine, datetime]]:
    """Each non-blank line of a log file with the time that places it in an interval (see
    :func:`read_interval_lines`)."""
    anchor: datetime | None = None
    for line in iter_prod_log_lines(path, max_line_bytes):
        at = line.timestamp
        if at is None:
            if anchor is None:  # lines before the first readable timestamp of the file
                anchor = _first_time(path, max_line_bytes)
            at = anchor
        anchor = at
        yield line, at


def read_interval_lines(source: Path, start: datetime, end: datetime, max_line_bytes: int) -> IntervalLines:
    """Read the production-log lines of ``[start, end)`` strictly, keeping file and line of each.

    Every file is read through :func:`llmops.data.prodlog.iter_prod_log_lines` (the ingest layer's strict line
    reading): a line over ``max_line_bytes`` is never held whole, decoded or parsed; bytes that are not UTF-8 are
    never replaced; a line that is not a usable record becomes a quarantine record with its true file and line.

    A line with a readable ``timestamp`` belongs to the interval holding it. A line without one (not JSON, cut,
    not UTF-8, too long, not an object, no or an unparseable timestamp) belongs to the interval of the nearest
    readable timestamp before it in the same file: it was written after that record, in the region of the file
    that record's interval reads. Lines before the first readable timestamp of a file go with that first one; a
    file with no readable timestamp at all goes with its modification time. The rule depends only on the file's
    content (and mtime), so every run, and every re-run, places such a line in the same single interval; appending
    to a log never moves a line that already follows a readable one.

    Args:
        source: a ``.jsonl`` file or a folder searched recursively for ``*.jsonl`` (rotated files included), read
            in path order.
        start: interval start (aware).
        end: interval end (aware, exclusive).
        max_line_bytes: longest accepted line, in bytes (``data.max_line_bytes``).

    Returns:
        The :class:`IntervalLines`.
    """
    placed = ((line, at) for path in _log_files(Path(source)) for line, at in _placed_lines(path, max_line_bytes))
    return _collect(placed, start, end)


def log_index_dir(cfg: LLMOpsConfig) -> Path:
    """Where the production-log index lives (:mod:`llmops.monitoring.logindex`)."""
    return cfg.paths.curated_dir / "monitoring" / "log_index"


def log_index(cfg: LLMOpsConfig, source: Path | None = None) -> LogIndex:
    """The production-log index of ``source`` (default: :func:`monitoring_source`)."""
    from llmops.monitoring.logindex import LogIndex

    return LogIndex(source or monitoring_source(cfg), log_index_dir(cfg), cfg.data.max_line_bytes)


def indexed_interval_lines(cfg: LLMOpsConfig, source: Path, start: datetime, end: datetime) -> IntervalLines:
    """The lines of ``[start, end)`` as :func:`read_interval_lines` places them, read through the log index: only
    what the logs gained since the last run is scanned, and only the interval's byte ranges are read.

    Files not modified since ``start`` are no longer written: their last line counts even without a newline.
    """
    index = log_index(cfg, source)
    scanned = index.update(final_before=start)
    log.info("log index %s: %s", index.path.name, scanned)
    return _collect(index.read(start, end), start, end)


def _collect(placed: Iterable[tuple[ProdLogLine, datetime]], start: datetime, end: datetime) -> IntervalLines:
    out = IntervalLines()
    for line, at in placed:
        if not start <= at < end:
            continue
        out.lines_read += 1
        out.untimed += line.timestamp is None
        if line.reason is not None or line.record is None:
            out.quarantined.append(line.quarantine_record())
        elif line.failed:
            out.failed.append(line.record)
        else:
            out.records.append(line.record)
            out.origins.append((line.source_file, line.line_number))
    return out


def read_interval_records(
    source: Path, start: datetime, end: datetime, max_line_bytes: int = 1_000_000
) -> tuple[list[dict[str, Any]], int]:
    """Read the JSONL records (of any layout, e.g. feedback) whose timestamp lies in ``[start, end)``.

    Lines are read through the ingest layer's strict line reading (:func:`llmops.data.ingest.iter_json_lines`):
    a line over ``max_line_bytes`` or not UTF-8 is never decoded into a record.

    Args:
        source: a ``.jsonl`` file or a folder searched recursively for ``*.jsonl`` (rotated files included),
            read in path order.
        start: interval start (aware).
        end: interval end (aware, exclusive).
        max_line_bytes: longest accepted line, in bytes.

    Returns:
        ``(records, unattributed)``: the records as parsed JSON objects, in file order, and the number of lines
        that could not be placed in any interval (too long, not UTF-8, not JSON, not an object, no readable
        timestamp).
    """
    records: list[dict[str, Any]] = []
    unattributed = 0
    for path in _log_files(Path(source)):
        for line in iter_json_lines(path, max_line_bytes):
            obj = line.value if isinstance(line.value, dict) else None
            ts = parse_log_timestamp(obj.get("timestamp")) if obj is not None else None
            if obj is None or ts is None:
                unattributed += 1
            elif start <= ts < end:
                records.append(obj)
    return records, unattributed


def _minute(value: str) -> datetime | None:
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%MZ").replace(tzinfo=UTC)
    except ValueError:
        return None


def read_log_losses(source: Path, start: datetime, end: datetime) -> dict[str, int]:
    """Add up the loss counters the served model's log writers recorded for minutes in ``[start, end)``.

    Args:
        source: the log folder (or a log file: its folder) whose ``writer_status/*.json`` files are read, in
            sub-folders too; an unreadable status file is skipped with a warning.
        start: interval start (aware).
        end: interval end (aware, exclusive).

    Returns:
        ``{"dropped", "failed_records", "failed_writes"}``.
    """
    source = Path(source)
    totals = {"dropped": 0, "failed_records": 0, "failed_writes": 0}
    if not source.exists():
        return totals
    folder = source if source.is_dir() else source.parent
    for path in sorted(folder.rglob("*.json")):
        if path.parent.name != WRITER_STATUS_DIR or not path.is_file():
            continue
        try:
            losses = json.loads(path.read_text(encoding="utf-8")).get("losses_by_minute") or {}
        except (OSError, ValueError, AttributeError) as exc:
            log.warning("log writer status %s is unreadable: %s", path, exc)
            continue
        for minute, counts in losses.items():
            at = _minute(str(minute))
            if at is None or not (start <= at < end) or not isinstance(counts, dict):
                continue
            for name in totals:
                value = counts.get(name, 0)
                totals[name] += value if isinstance(value, int) and value > 0 else 0
    return totals


def _write_summary(folder: Path, result: IntervalResult) -> None:
    from llmops.fsutil import atomic_write_text

    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_text(folder / SUMMARY_FILE, json.dumps(result.to_dict(), indent=2, sort_keys=True), fsync=False)


def _write_duplicate_ids(
    cfg: LLMOpsConfig, key: str, repeats: list[dict[str, Any]], origins: list[tuple[str, int]]
) -> None:
    """Write the records set aside as ``duplicate_request_id`` with their file and line (an empty file when there
    are none)."""
    from llmops.data.pii import PiiScrubber
    from llmops.data.sinks import write_quarantine

    rows = [
        {
            "source_file": origin[0],
            "line_number": origin[1],
            "reason": DUPLICATE_REQUEST_ID,
            "raw": json.dumps(record, default=str, ensure_ascii=False)[:1000],
        }
        for record, origin in zip(repeats, origins, strict=True)
    ]
    path = duplicate_ids_path(cfg, key)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_quarantine(rows, path, PiiScrubber.from_config(cfg))


def _replace_skipped_outputs(cfg: LLMOpsConfig, key: str, quarantined: list[dict[str, Any]]) -> None:
    """What an interval skipped before the contract leaves: its reader's quarantine (replacing an earlier run's
    file, or removing it when there is nothing to quarantine), no duplicate-id file and no curated rows."""
    from llmops.data.pii import PiiScrubber
    from llmops.data.sinks import write_quarantine

    path = interval_quarantine_path(cfg, key)
    if quarantined:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_quarantine(quarantined, path, PiiScrubber.from_config(cfg))
    else:
        path.unlink(missing_ok=True)
    duplicate_ids_path(cfg, key).unlink(missing_ok=True)
    curated = cfg.paths.curated_dir / "prod_logs" / _curation_key(key)
    if curated.is_dir():
        shutil.rmtree(curated)
    if path.parent.is_dir() and not any(path.parent.iterdir()):
        path.parent.rmdir()


def _scrub_records(cfg: LLMOpsConfig, records: list[dict[str, Any]]) -> dict[str, int]:
    """Scrub ``prompt`` and ``response`` of the records in place, once per distinct text; counts per entity."""
    from collections import Counter

    from llmops.data.pii import PiiScrubber

    totals: Counter[str] = Counter(dict.fromkeys(cfg.data.pii.entities, 0))
    if not cfg.data.pii.enabled:
        return dict(totals)
    scrubber = PiiScrubber.from_config(cfg)
    cache: dict[str, tuple[str | None, Counter[str]]] = {}
    for record in records:
        for name in ("prompt", "response"):
            text = record.get(name)
            if not isinstance(text, str):
                continue  # the contract quarantines it
            hit = cache.get(text)
            if hit is None:
                hit = cache[text] = scrubber.scrub(text)
            record[name] = hit[0]
            totals.update(hit[1])
    return {k: int(v) for k, v in totals.items()}


def _drop_repeats(
    records: list[dict[str, Any]], origins: list[tuple[str, int]]
) -> tuple[list[dict[str, Any]], dict[int, tuple[str, int]]]:
    """The records without exact repeats of a request (same id, time, prompt and response), in order, and the origin
    of each kept one (by ``id()``)."""
    unique: list[dict[str, Any]] = []
    origin_of: dict[int, tuple[str, int]] = {}
    seen: set[tuple[Any, ...]] = set()
    for record, origin in zip(records, origins, strict=True):
        identity = tuple(record.get(c) for c in ("request_id", "timestamp", "prompt", "response"))
        if identity not in seen:
            seen.add(identity)
            unique.append(record)
            origin_of[id(record)] = origin
    return unique, origin_of


def _index_rows(cfg: LLMOpsConfig, key: str, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The request index rows of an interval too small to curate: the records as the curation would keep them
    (repeats dropped, PII scrubbed, reused ids set aside, rows failing the contract's row-level checks left out),
    without writing a quarantine or failing on the contract's batch-level bounds."""
    from llmops.data.ingest import normalize_prod_record
    from llmops.data.validate import PRODUCTION_LOGS, validate_records

    unique, _ = _drop_repeats([dict(r) for r in records], [("", 0)] * len(records))
    _scrub_records(cfg, unique)
    unique, _ = split_duplicate_ids(unique)
    rows = [row for row, _ in (normalize_prod_record(r, "memory") for r in unique) if row is not None]
    if not rows:
        return []
    outcome = validate_records(rows, cfg, f"{_curation_key(key)}-index", build_docs=False, kind=PRODUCTION_LOGS)
    return [dict(r) for r in outcome.kept_rows]


def _write_request_index(cfg: LLMOpsConfig, key: str, rows: list[dict[str, Any]]) -> str:
    """Write a skipped interval's request index atomically (nothing when there is no row); its path or ""."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = requests_path(cfg, key)
    if not rows:
        path.unlink(missing_ok=True)
        return ""
    columns = {
        c: pa.array([None if r.get(c) is None else str(r.get(c)) for r in rows], pa.string())
        for c in REQUEST_INDEX_COLUMNS
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{REQUESTS_FILE}.tmp")
    pq.write_table(pa.table(columns), tmp)
    os.replace(tmp, path)
    return str(path)


def curate_interval(cfg: LLMOpsConfig, start: datetime, end: datetime, source: Path | None = None) -> IntervalResult:
    """Curate the production logs of one interval into its partition (replacing an earlier one).

    Args:
        cfg: configuration (``monitoring.min_interval_rows``, the data stage's contract and PII settings).
        start: data interval start (aware).
        end: data interval end (aware, exclusive).
        source: log file or folder; ``None`` for :func:`monitoring_source`.

    Lines are read strictly, through the log index (:func:`indexed_interval_lines`: only new bytes are scanned, only
    the interval's ranges read), placed by the rule of :func:`read_interval_lines`; the ones that are no usable
    record are quarantined with file, line, reason and a scrubbed preview in :func:`interval_quarantine_path`,
    beside the contract's, and count in its quarantine ratio. Repeats are decided among the records that passed the
    type checks.

    Returns:
        The :class:`IntervalResult`, whose counts reconcile (:attr:`IntervalResult.reconciles`). A skipped interval
        has no partition (an earlier one is removed) but its request index (``requests_path``, when it had answered
        requests the row-level checks keep); its quarantine file holds what this run's reader quarantined (an
        earlier run's file is replaced, or removed when there is nothing).

    Raises:
        llmops.data.gates.DataContractError: the interval's logs break the production-log contract.
        llmops.data.gates.ReconciliationError: a line read for the interval was not counted exactly once.
    """
    import pyarrow.parquet as pq

    from llmops.data.prodlog import curate_production_logs
    from llmops.monitoring.safety import add_flag_columns, monitored_scorers, safety_counts_by_version, score_records

    key = interval_key(start)
    folder = interval_dir(cfg, key)
    source = source or monitoring_source(cfg)
    lines = indexed_interval_lines(cfg, source, start, end)
    losses = read_log_losses(source, start, end)
    minimum = cfg.monitoring.min_interval_rows
    # Failed requests carry no answer: they are counted per version (the rollback watch's error rate), not curated.
    errors: dict[str, int] = {}
    for record in lines.failed:
        if record.get("error_kind") != CLIENT_ERROR:
            version = str(record.get("model_version"))
            errors[version] = errors.get(version, 0) + 1
    failed_requests = len(lines.failed)
    malformed = len(lines.quarantined)
    records, origins = lines.records, lines.origins

    def finish(result: IntervalResult) -> IntervalResult:
        from llmops.data.gates import reconcile

        reconcile(f"curate_interval {key}", result.lines_read, **result.accounted_lines())
        _write_summary(folder, result)
        return result

    def skip(reason: str, index: list[dict[str, Any]], **counts: Any) -> IntervalResult:
        if folder.exists():  # a partition from an earlier attempt would contradict this result
            shutil.rmtree(folder)
        result = IntervalResult(
            key=key,
            skipped=True,
            reason=reason,
            requests_path=_write_request_index(cfg, key, index),
            lines_read=lines.lines_read,
            rows_read=lines.lines_read - failed_requests,
            rows_malformed=malformed,
            unattributed_lines=lines.untimed,
            failed_requests=failed_requests,
            server_errors_by_version=errors,
            log_records_dropped=losses["dropped"],
            log_records_failed=losses["failed_records"],
            log_write_failures=losses["failed_writes"],
            **counts,
        )
        log.info("interval %s skipped: %s", key, reason)
        return finish(result)

    if len(records) < minimum:
        _replace_skipped_outputs(cfg, key, lines.quarantined)
        return skip(
            f"{len(records)} answered requests in the interval ({failed_requests} failed, {malformed} malformed), "
            f"fewer than min_interval_rows={minimum}",
            _index_rows(cfg, key, records),
            rows_quarantined=malformed,
            rows_not_curated=len(records),
        )
    # The same request read twice (a rotated file copied, a log shipped twice) is one request: drop the repeats
    # before the contract, which would quarantine every copy of a repeated request_id. Only records that passed the
    # type checks get here: a malformed line (already quarantined) never makes a good one a repeat, nor the reverse.
    unique, origin_of = _drop_repeats(records, origins)
    duplicates = len(records) - len(unique)
    # What the model said is judged on the texts as they were (a leak is personal data the prompt did not hold);
    # only the flags are kept.
    flags = score_records(cfg, unique)
    # PII is scrubbed here, before the contract, so that neither the partition nor the quarantine file holds it;
    # each distinct text is scrubbed once (live traffic repeats prompts and canned answers a lot).
    pii_counts = _scrub_records(cfg, unique)
    # A request id reused with other content: the server issues ids, so all but one of the lines are replays or
    # forgeries, and which one is genuine is unknown. Every copy is set aside under its own reason, outside the
    # contract (whose quarantine ratio fails the interval and whose quarantined rows count as errors of the version
    # that served them): a flood of them must neither stop monitoring nor force a rollback.
    unique, repeats = split_duplicate_ids(unique)
    _write_duplicate_ids(cfg, key, repeats, [origin_of[id(r)] for r in repeats])
    no_pii = cfg.model_copy(deep=True)
    no_pii.data.pii.enabled = False
    # The reader's quarantine goes into the same file as the contract's, and counts in its quarantine ratio.
    curated = curate_production_logs(
        no_pii,
        unique,
        _curation_key(key),
        build_docs=False,
        origins=[origin_of[id(r)] for r in unique],
        quarantined=lines.quarantined,
    )
    table = pq.read_table(curated["logs_path"])
    if flags:
        table = add_flag_columns(table, flags, monitored_scorers(cfg))
    counts = {
        "rows_quarantined": int(curated["rows_quarantined"]),
        "duplicates": duplicates,
        "duplicate_request_ids": len(repeats),
        "rows": table.num_rows,
        "pii_counts": pii_counts,
    }
    if table.num_rows < minimum:
        index = table.select(list(REQUEST_INDEX_COLUMNS)).to_pylist()
        reason = f"{table.num_rows} rows left after curation, fewer than min_interval_rows={minimum}"
        return skip(reason, index, **counts)
    path = partition_path(cfg, key)
    safety: dict[str, dict[str, dict[str, list[int]]]] = {"model_version": {}, "prompt_version": {}}
    if flags:
        frame = table.to_pandas()
        safety = {column: safety_counts_by_version(frame, column) for column in safety}
    folder.mkdir(parents=True, exist_ok=True)
    requests_path(cfg, key).unlink(missing_ok=True)  # a partition is its own request index
    tmp = folder / f".{PARTITION_FILE}.tmp"
    pq.write_table(table, tmp)
    os.replace(tmp, path)
    result = IntervalResult(
        key=key,
        skipped=False,
        reason=f"{table.num_rows} rows curated ({counts['rows_quarantined']} quarantined, of which {malformed} "
        f"malformed lines; {duplicates} duplicates, {len(repeats)} duplicate request ids, {failed_requests} failed "
        "requests)",
        partition_path=str(path),
        lines_read=lines.lines_read,
        rows_read=lines.lines_read - failed_requests,
        rows_malformed=malformed,
        unattributed_lines=lines.untimed,
        failed_requests=failed_requests,
        server_errors_by_version=errors,
        log_records_dropped=losses["dropped"],
        log_records_failed=losses["failed_records"],
        log_write_failures=losses["failed_writes"],
        safety_by_version=safety["model_version"],
        safety_by_prompt=safety["prompt_version"],
        **counts,
    )
    log.info("interval %s: %s", key, result.reason)
    return finish(result)


def window_partitions(cfg: LLMOpsConfig, key: str, n: int) -> list[Path]:
    """The partitions of the ``n`` most recent intervals up to and including ``key`` (oldest first)."""
    base = partitions_dir(cfg)
    if not base.is_dir():
        return []
    found = sorted(
        p / PARTITION_FILE
        for p in base.iterdir()
        if p.name.startswith("interval=") and p.name[len("interval=") :] <= key and (p / PARTITION_FILE).is_file()
    )
    return found[-n:]


def window_request_files(cfg: LLMOpsConfig, key: str, n: int) -> list[Path]:
    """The request files of the ``n`` most recent intervals up to and including ``key`` that hold requests (oldest
    first): each one's partition, or the request index of an interval skipped as too small. Feedback matches its
    requests here; drift and alerts read :func:`window_partitions` only."""
    base = partitions_dir(cfg)
    if not base.is_dir():
        return []
    found: list[Path] = []
    for folder in sorted(base.iterdir()):
        if not folder.name.startswith("interval=") or folder.name[len("interval=") :] > key:
            continue
        for name in (PARTITION_FILE, REQUESTS_FILE):
            if (folder / name).is_file():
                found.append(folder / name)
                break
    return found[-n:]
