"""Production request logs: the strict line reader monitoring shares, and curation through the log contract.

- :func:`iter_prod_log_lines` reads a JSONL log file through the ingest layer's strict line reading
  (:func:`llmops.data.ingest.iter_json_lines`: bounded line size, strict UTF-8) and says, line by line, whether it
  is a usable record, a failed request, or why not (with its file and line for the quarantine). Both monitoring
  readers use it (:func:`llmops.monitoring.interval.read_interval_lines`,
  :func:`llmops.monitoring.drift.load_prod_logs`).
- :func:`curate_production_logs` applies the production-log contract, quarantine and PII scrubbing.
"""

from __future__ import annotations

import json
from collections.abc import Generator, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llmops.data.gates import DataContractError, reconcile
from llmops.data.sinks import QUARANTINE_FILE, run_dir

if TYPE_CHECKING:
    from llmops.config import LLMOpsConfig
    from llmops.data.payloads import CuratedLogs


UNREADABLE_TIMESTAMP = "timestamp is missing or not an ISO-8601 time"


def parse_log_timestamp(value: Any) -> datetime | None:
    """The aware time of a log record's ``timestamp`` (naive taken as UTC), or ``None`` when it is not one."""
    if not isinstance(value, str):
        return None
    try:
        ts = datetime.fromisoformat(value)
    except ValueError:
        return None
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts


@dataclass(frozen=True)
class ProdLogLine:
    """One non-blank line of a production log file, read strictly (:func:`iter_prod_log_lines`).

    Attributes:
        source_file: the file.
        line_number: its 1-based line in the file.
        raw: a preview of the line (at most 1000 characters) for the quarantine.
        record: the JSON object as logged (extra keys such as ``pii_leak``, ``error`` kept) when the line is a
            usable record or a failed request; ``None`` otherwise.
        timestamp: the record's time, ``None`` when the line has no readable one.
        failed: the record is a failed request (``error`` set): counted, not curated.
        reason: why the line is no usable record (not JSON, over the size limit, not UTF-8, not an object,
            missing field, wrong type, unreadable timestamp); ``None`` for a usable record or a failed request.
    """

    source_file: str
    line_number: int
    raw: str
    record: dict[str, Any] | None
    timestamp: datetime | None
    failed: bool = False
    reason: str | None = None

    def quarantine_record(self) -> dict[str, Any]:
        """The line in the quarantine layout (file, line, reason, raw preview; PII is scrubbed on write)."""
        from llmops.data.ingest import quarantine_record

        return quarantine_record(self.source_file, self.line_number, self.reason or "invalid record", self.raw)


def classify_log_value(value: Any) -> tuple[datetime | None, bool, str | None]:
    """``(timestamp, failed, reason)`` of one parsed log line (see :class:`ProdLogLine`).

    A failed request needs only a readable timestamp (it is counted per version, never curated); an answer must
    also pass :func:`llmops.data.ingest.normalize_prod_record` (every required field present, right types).
    """
    from llmops.data.ingest import normalize_prod_record
    from llmops.data.schema import is_failed_request

    ts = parse_log_timestamp(value.get("timestamp")) if isinstance(value, dict) else None
    failed = is_failed_request(value)
    problems: list[str] = []
    if not failed:
        _, reason = normalize_prod_record(value, "")
        if reason:
            problems.append(reason)
    if isinstance(value, dict) and ts is None and "timestamp" in value:
        problems.append(UNREADABLE_TIMESTAMP)
    elif isinstance(value, dict) and ts is None and failed:
        problems.append("missing field 'timestamp'")
    return ts, failed, "; ".join(problems) or None


def iter_prod_log_lines(path: Path, max_line_bytes: int) -> Generator[ProdLogLine, None, None]:
    """The non-blank lines of a production log file, in order, each a usable record, a failed request or the
    reason it is neither. Never raises on content; a line over ``max_line_bytes`` is never held whole.

    Args:
        path: the JSONL file.
        max_line_bytes: longest accepted line, in bytes (``data.max_line_bytes``).

    Yields:
        One :class:`ProdLogLine` per non-blank line.
    """
    with Path(path).open("rb") as fh:
        yield from prod_log_lines_from(fh, str(path), max_line_bytes)


def prod_log_lines_from(
    fh: Any, source_file: str, max_line_bytes: int, first_line: int = 1
) -> Generator[ProdLogLine, None, None]:
    """:func:`iter_prod_log_lines` of an open binary handle (positioned at a line of ``source_file`` whose number
    is ``first_line``, possibly bounded to a byte range: :mod:`llmops.monitoring.logindex`)."""
    from llmops.data.ingest import iter_json_lines_from

    for line in iter_json_lines_from(fh, source_file, max_line_bytes, first_line):
        if line.reason is not None:
            yield ProdLogLine(line.source_file, line.line_number, line.raw, None, None, reason=line.reason)
            continue
        ts, failed, reason = classify_log_value(line.value)
        record = line.value if reason is None else None
        yield ProdLogLine(line.source_file, line.line_number, line.raw, record, ts, failed, reason)


def prod_log_quarantine_path(cfg: LLMOpsConfig, run_key: str) -> Path:
    """Where :func:`curate_production_logs` writes the records it quarantined for ``run_key``."""
    return run_dir(cfg.paths.quarantine_dir / "prod_logs", run_key) / QUARANTINE_FILE


def _prod_log_files(source: Path) -> list[Path]:
    if source.is_dir():
        return sorted(
            p for p in source.rglob("*") if p.is_file() and p.suffix.lower() in (".jsonl", ".parquet", ".csv")
        )
    return [source]


@dataclass
class _Read:
    """Rows that passed the structural checks (with line and file), the records quarantined so far, rows read."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    lines: list[int | None] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    quarantined: list[dict[str, Any]] = field(default_factory=list)
    rows_in: int = 0


def _read(
    cfg: LLMOpsConfig,
    source: str | Path | Iterable[Mapping[str, Any]] | None,
    origins: Sequence[tuple[str, int | None]] | None = None,
    quarantined: Sequence[Mapping[str, Any]] = (),
) -> _Read:
    """Read log files (or rows in memory), quarantining records that break the log layout."""
    from llmops.data.ingest import iter_record_chunks, normalize_prod_record

    read = _Read(quarantined=[dict(q) for q in quarantined], rows_in=len(quarantined))
    if source is None or isinstance(source, str | Path):
        for path in _prod_log_files(Path(source) if source is not None else cfg.prod_log_source):
            for chunk in iter_record_chunks(path, cfg.data.max_line_bytes, None, layout="production_logs"):
                read.rows_in += chunk.records_read
                read.quarantined.extend(chunk.quarantined)
                read.rows.extend(chunk.rows)
                read.lines.extend(chunk.line_numbers)
                read.files.extend([chunk.source_file] * len(chunk.rows))
        return read
    for index, obj in enumerate(source):
        read.rows_in += 1
        origin, number = origins[index] if origins is not None else ("<memory>", index + 1)
        row, reason = normalize_prod_record(obj, "memory")
        if row is None:
            raw = json.dumps(obj, default=str)[:1000]
            read.quarantined.append({"source_file": origin, "line_number": number, "reason": reason, "raw": raw})
        else:
            read.rows.append(row)
            read.lines.append(number)
            read.files.append(origin)
    return read


def curate_production_logs(
    cfg: LLMOpsConfig,
    source: str | Path | Iterable[Mapping[str, Any]] | None,
    run_key: str,
    *,
    build_docs: bool = True,
    origins: Sequence[tuple[str, int | None]] | None = None,
    quarantined: Sequence[Mapping[str, Any]] = (),
) -> CuratedLogs:
    """Apply the production-log contract to request logs, quarantine bad records and scrub PII from the rest.

    Reads every log file (JSONL, Parquet or CSV; a folder is read recursively in name order) without ever
    crashing: malformed lines, missing fields and wrong types are quarantined with file and line, rows failing the
    ``production_logs`` suite (nulls, duplicate ``request_id``, unparseable timestamp, negative or huge latency,
    blank or oversized prompt, ...) are quarantined with the expectations' names. Kept rows get their prompt and
    response PII-scrubbed and are written to ``<curated_dir>/prod_logs/<run_key>/logs.parquet``.

    Args:
        cfg: the configuration.
        source: a file, a folder, rows in memory, or ``None`` for ``cfg.prod_log_source``.
        run_key: names the outputs (one path component).
        build_docs: build GX Data Docs under ``<reports_dir>/data_docs/<run_key>-prod_logs``.
        origins: for rows in memory, the ``(source file, line number)`` of each (default: ``<memory>`` and its
            1-based position), so that quarantine records name where the row was read.
        quarantined: records already quarantined by the caller's own reading (quarantine layout): written to the
            same quarantine file and counted in ``rows_in``, ``rows_quarantined`` and the quarantine ratio.

    Returns:
        ``{"logs_path", "quarantine_path", "rows_in", "rows_valid", "rows_quarantined", "passed", "reason",
        "pii_counts", "metrics"}``.

    Raises:
        DataContractError: the contract is broken (no rows, missing column, too many bad rows); outputs first.
        ReconciliationError: the counts do not add up.
    """
    from llmops.data.pii import PiiScrubber
    from llmops.data.schema import PROD_LOG_COLUMNS, PROD_LOG_SERVING_COLUMNS
    from llmops.data.sinks import records_to_parquet, write_quarantine
    from llmops.data.validate import PRODUCTION_LOGS, validate_records

    out_dir = run_dir(cfg.paths.curated_dir / "prod_logs", run_key)
    quarantine_path = prod_log_quarantine_path(cfg, run_key)
    read = _read(cfg, source, origins, quarantined)
    rows_in, lines = read.rows_in, read.lines
    bad = read.quarantined
    # Rows are numbered by position for the contract, then given back their own file and line: two files can share
    # a line number, so a line number alone does not name the row.
    positions = list(range(len(read.rows)))
    outcome = validate_records(
        read.rows, cfg, f"{run_key}-prod_logs", line_numbers=positions, build_docs=build_docs, kind=PRODUCTION_LOGS
    )
    for record in outcome.quarantined:
        position = record["line_number"]
        if isinstance(position, int) and 0 <= position < len(positions):
            record["source_file"] = read.files[position]
            record["line_number"] = lines[position]
    bad.extend(outcome.quarantined)
    write_quarantine(bad, quarantine_path, PiiScrubber.from_config(cfg))
    reconcile("curate_production_logs", rows_in, kept=len(outcome.kept_rows), quarantined=len(bad))
    counts: dict[str, int] = dict.fromkeys(cfg.data.pii.entities, 0)
    kept = outcome.kept_rows
    if cfg.data.pii.enabled:
        kept, counts, _ = PiiScrubber.from_config(cfg).scrub_records(kept)
    logs_path = records_to_parquet(
        kept, out_dir / "logs.parquet", columns=(*PROD_LOG_COLUMNS, *PROD_LOG_SERVING_COLUMNS)
    )
    ratio = len(bad) / rows_in if rows_in else 0.0
    passed, reason = outcome.passed, outcome.reason
    if rows_in == 0:
        passed, reason = False, "empty batch: no production logs"
    elif passed and ratio > cfg.data.max_quarantine_ratio:
        passed = False
        reason = f"{len(bad)} of {rows_in} records quarantined ({ratio:.1%}), above max_quarantine_ratio"
    if not passed:
        raise DataContractError(f"production logs: {reason} (quarantined rows: {quarantine_path})")
    return {
        "logs_path": str(logs_path),
        "quarantine_path": str(quarantine_path),
        "rows_in": rows_in,
        "rows_valid": len(kept),
        "rows_quarantined": len(bad),
        "passed": passed,
        "reason": reason,
        "pii_counts": counts,
        "metrics": outcome.metrics,
    }
