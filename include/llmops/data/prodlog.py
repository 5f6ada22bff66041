"""Production request logs: the lenient line reader monitoring shares, and curation through the log contract.

- :func:`iter_log_objects` reads a JSONL log file the lenient way both monitoring readers
  (:func:`llmops.monitoring.interval.read_interval_records`, :func:`llmops.monitoring.drift.load_prod_logs`) need:
  blank lines are skipped, anything else comes back as its JSON object or ``None``, so a half-written last line
  never stops a reader. The strict reader that quarantines with file and line is
  :func:`llmops.data.ingest.iter_record_chunks`.
- :func:`curate_production_logs` applies the production-log contract, quarantine and PII scrubbing.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llmops.data.gates import DataContractError, reconcile
from llmops.data.sinks import QUARANTINE_FILE, run_dir

if TYPE_CHECKING:
    from llmops.config import LLMOpsConfig
    from llmops.data.payloads import CuratedLogs


def iter_log_objects(path: Path) -> Iterator[dict[str, Any] | None]:
    """The JSON object of each non-blank line of a JSONL file, in order; ``None`` for a line that is not one.

    Undecodable bytes are replaced, never raised.

    Args:
        path: the file.

    Yields:
        A dict per JSON-object line; ``None`` per line that is not JSON or not an object.
    """
    with Path(path).open("r", encoding="utf-8", errors="replace") as handle:
        for line in handle:
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError:
                yield None
                continue
            yield obj if isinstance(obj, dict) else None


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


def _read(cfg: LLMOpsConfig, source: str | Path | Iterable[Mapping[str, Any]] | None) -> _Read:
    """Read log files (or rows in memory), quarantining records that break the log layout."""
    from llmops.data.ingest import iter_record_chunks, normalize_prod_record

    read = _Read()
    if source is None or isinstance(source, str | Path):
        for path in _prod_log_files(Path(source) if source is not None else cfg.prod_log_source):
            for chunk in iter_record_chunks(path, cfg.data.max_line_bytes, None, layout="production_logs"):
                read.rows_in += chunk.records_read
                read.quarantined.extend(chunk.quarantined)
                read.rows.extend(chunk.rows)
                read.lines.extend(chunk.line_numbers)
                read.files.extend([chunk.source_file] * len(chunk.rows))
        return read
    for number, obj in enumerate(source, start=1):
        read.rows_in += 1
        row, reason = normalize_prod_record(obj, "memory")
        if row is None:
            raw = json.dumps(obj, default=str)[:1000]
            read.quarantined.append({"source_file": "<memory>", "line_number": number, "reason": reason, "raw": raw})
        else:
            read.rows.append(row)
            read.lines.append(number)
            read.files.append("<memory>")
    return read


def curate_production_logs(
    cfg: LLMOpsConfig,
    source: str | Path | Iterable[Mapping[str, Any]] | None,
    run_key: str,
    *,
    build_docs: bool = True,
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

    Returns:
        ``{"logs_path", "quarantine_path", "rows_in", "rows_valid", "rows_quarantined", "passed", "reason",
        "pii_counts", "metrics"}``.

    Raises:
        DataContractError: the contract is broken (no rows, missing column, too many bad rows); outputs first.
        ReconciliationError: the counts do not add up.
    """
    from llmops.data.pii import PiiScrubber
    from llmops.data.schema import PROD_LOG_COLUMNS
    from llmops.data.sinks import records_to_parquet, write_quarantine
    from llmops.data.validate import PRODUCTION_LOGS, validate_records

    out_dir = run_dir(cfg.paths.curated_dir / "prod_logs", run_key)
    quarantine_path = prod_log_quarantine_path(cfg, run_key)
    read = _read(cfg, source)
    rows_in, lines, quarantined = read.rows_in, read.lines, read.quarantined
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
    quarantined.extend(outcome.quarantined)
    write_quarantine(quarantined, quarantine_path, PiiScrubber.from_config(cfg))
    reconcile("curate_production_logs", rows_in, kept=len(outcome.kept_rows), quarantined=len(quarantined))
    counts: dict[str, int] = dict.fromkeys(cfg.data.pii.entities, 0)
    kept = outcome.kept_rows
    if cfg.data.pii.enabled:
        kept, counts, _ = PiiScrubber.from_config(cfg).scrub_records(kept)
    logs_path = records_to_parquet(kept, out_dir / "logs.parquet", columns=PROD_LOG_COLUMNS)
    ratio = len(quarantined) / rows_in if rows_in else 0.0
    passed, reason = outcome.passed, outcome.reason
    if rows_in == 0:
        passed, reason = False, "empty batch: no production logs"
    elif passed and ratio > cfg.data.max_quarantine_ratio:
        passed = False
        reason = f"{len(quarantined)} of {rows_in} records quarantined ({ratio:.1%}), above max_quarantine_ratio"
    if not passed:
        raise DataContractError(f"production logs: {reason} (quarantined rows: {quarantine_path})")
    return {
        "logs_path": str(logs_path),
        "quarantine_path": str(quarantine_path),
        "rows_in": rows_in,
        "rows_valid": len(kept),
        "rows_quarantined": len(quarantined),
        "passed": passed,
        "reason": reason,
        "pii_counts": counts,
        "metrics": outcome.metrics,
    }
