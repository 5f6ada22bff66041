"""The raw training file against its data contract, streamed in chunks: valid rows kept, bad rows quarantined.

Every chunk of ``data.batch_rows`` records is parsed (lines that do not parse are quarantined with their reason),
checked with the contract's expectation suite on Arrow (rows failing row-level expectations are quarantined with
the expectations' names) and appended to ``<curated_dir>/<run_key>/validated.parquet``. Table-level expectations
(row count, ceiling on exact duplicates) and the quarantine ceiling are decided on the totals; the
``data_contract`` verdict (:func:`llmops.data.gates.data_contract`) records the outcome.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from llmops.data.gates import ReconciliationError, reconcile
from llmops.data.schema import TRAIN_COLUMNS
from llmops.data.sinks import (
    LINE_COLUMN,
    QUARANTINE_FILE,
    VALIDATED_FILE,
    ParquetSink,
    quarantine_schema,
    quarantine_table,
    rows_table,
    run_dir,
    train_schema,
)

if TYPE_CHECKING:
    from pathlib import Path

    from llmops.config import LLMOpsConfig
    from llmops.data.ingest import IngestResult
    from llmops.data.payloads import Validated

logger = logging.getLogger(__name__)


@dataclass
class _Tally:
    """What the chunks added up to."""

    rows_in: int = 0
    blank_lines: int = 0
    ingest_quarantined: int = 0
    contract_quarantined: int = 0
    evaluated: int = 0
    parts: list[list[Any]] = field(default_factory=list)  # expectation outcomes per chunk
    keys: list[Any] = field(default_factory=list)  # content keys per chunk (the duplicate ceiling needs all)


def validate_raw_file(cfg: LLMOpsConfig, run_key: str) -> Validated:
    """Check the raw training file against the data contract; write the valid rows and quarantine the others.

    The quarantine file is always written. When the contract is broken (empty or too small batch, missing column,
    too many bad rows or duplicates), ``passed`` is False and no validated file is left behind (an earlier one of
    the same run key is removed). GX Data Docs of the run are written to ``<reports_dir>/data_docs/<run_key>/``.

    Args:
        cfg: the configuration; reads ``cfg.raw_train_path``.
        run_key: names the output folders (one path component).

    Returns:
        ``{"validated_path", "quarantine_path", "rows_in", "rows_valid", "rows_quarantined", "passed", "reason",
        "metrics", "data_docs_dir", "source_file", "source_sha256"}``.

    Raises:
        ReconciliationError: ``rows_in != rows_valid + rows_quarantined`` (a row was lost while writing).
        FileNotFoundError: the raw file does not exist.
    """
    from llmops.data.ingest import iter_record_chunks
    from llmops.data.validate import TRAINING, build_data_docs, summarize
    from llmops.fsutil import file_sha256

    validated_path = run_dir(cfg.paths.curated_dir, run_key) / VALIDATED_FILE
    quarantine_path = run_dir(cfg.paths.quarantine_dir, run_key) / QUARANTINE_FILE
    source = cfg.raw_train_path
    validated = ParquetSink(validated_path, train_schema(with_line=True))
    quarantine = ParquetSink(quarantine_path, quarantine_schema())
    tally = _Tally()
    try:
        for chunk in iter_record_chunks(source, cfg.data.max_line_bytes, cfg.data.batch_rows):
            _check_chunk(cfg, chunk, source, validated, quarantine, tally)
    except BaseException:
        validated.abort()
        quarantine.abort()
        raise
    quarantine.close()
    rows_valid = validated.rows  # what was written, not what should have been: a lost row shows up below
    rows_quarantined = tally.ingest_quarantined + tally.contract_quarantined
    outcomes = _final_outcomes(cfg, tally.parts, tally.keys)
    summary = summarize(outcomes, cfg, TRAINING, tally.evaluated, rows_valid, tally.contract_quarantined)
    docs = build_data_docs(cfg, TRAINING, summary.outcomes, run_key, tally.evaluated)
    try:
        reconcile("validate_raw_data", tally.rows_in, valid=rows_valid, quarantined=rows_quarantined)
    except ReconciliationError:
        validated.abort()
        raise
    passed, reason = _contract_holds(cfg, summary.passed, summary.reason, tally.rows_in, rows_quarantined)
    if passed:
        validated.close()
    else:
        validated.abort()
        validated_path.unlink(missing_ok=True)  # a failed run leaves nothing that looks validated
    logger.info("validated %d of %d records, %d quarantined", rows_valid, tally.rows_in, rows_quarantined)
    metrics: dict[str, Any] = {
        **summary.metrics,
        "engine": "arrow",
        "ingest": {"source_file": str(source), "records_read": tally.rows_in, "blank_lines": tally.blank_lines},
        "ingest_quarantined": tally.ingest_quarantined,
        "contract_quarantined": tally.contract_quarantined,
        "total_quarantine_ratio": round(rows_quarantined / tally.rows_in if tally.rows_in else 0.0, 6),
    }
    if docs is not None:
        metrics["data_docs"] = str(docs)
    return {
        "validated_path": str(validated_path),
        "quarantine_path": str(quarantine_path),
        "rows_in": tally.rows_in,
        "rows_valid": rows_valid,
        "rows_quarantined": rows_quarantined,
        "passed": passed,
        "reason": reason,
        "metrics": metrics,
        "data_docs_dir": str(docs.parent) if docs is not None else None,
        "source_file": str(source),
        "source_sha256": file_sha256(source),
    }


def _contract_holds(
    cfg: LLMOpsConfig, suite_passed: bool, suite_reason: str, rows_in: int, rows_quarantined: int
) -> tuple[bool, str]:
    """The suite's verdict, then the quarantine ceiling over everything read, then the empty file."""
    # The contract's ratio applies to everything read, including lines rejected before the suite saw them.
    ratio = rows_quarantined / rows_in if rows_in else 0.0
    passed, reason = suite_passed, suite_reason
    if passed and ratio > cfg.data.max_quarantine_ratio:
        passed = False
        reason = (
            f"{rows_quarantined} of {rows_in} records quarantined ({ratio:.1%}), above max_quarantine_ratio "
            f"{cfg.data.max_quarantine_ratio:.1%}"
        )
    if rows_in == 0:
        passed, reason = False, "empty batch: no rows to validate"
    return passed, reason


def _check_chunk(
    cfg: LLMOpsConfig,
    chunk: IngestResult,
    source: Path,
    validated: ParquetSink,
    quarantine: ParquetSink,
    tally: _Tally,
) -> None:
    """Quarantine a chunk's unparseable lines and its rows failing row-level expectations; write the rest."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from llmops.data.contract import Column, columns_from_table
    from llmops.data.dedup import content_keys
    from llmops.data.pii import PiiScrubber
    from llmops.data.validate import CONTENT_KEY_COLUMN, TRAINING, check_batch

    tally.rows_in += chunk.records_read
    tally.blank_lines += chunk.blank_lines
    tally.ingest_quarantined += len(chunk.quarantined)
    scrubber = PiiScrubber.from_config(cfg)
    quarantine.write(quarantine_table(chunk.quarantined, scrubber))
    if not chunk.rows:
        return
    table = rows_table(chunk.rows, chunk.line_numbers)
    batch = columns_from_table(table.drop_columns([LINE_COLUMN]))
    both = pc.and_(pc.is_valid(table["prompt"]), pc.is_valid(table["response"]))
    chunk_keys = pa.array(content_keys(table["prompt"], table["response"]), type=pa.uint64())
    batch[CONTENT_KEY_COLUMN] = Column(pc.if_else(both, chunk_keys, pa.scalar(None, pa.uint64())))
    check = check_batch(batch, table.num_rows, cfg, TRAINING)
    tally.parts.append(check.outcomes)
    tally.keys.append(chunk_keys.filter(both).to_numpy())
    tally.evaluated += table.num_rows
    failed = pa.array(check.failed)
    validated.write(table.filter(pc.invert(failed)))
    bad = table.filter(failed).to_pylist()
    records = [
        {
            "source_file": str(source),
            "line_number": row[LINE_COLUMN],
            "reason": reason,
            "raw": json.dumps({k: row[k] for k in TRAIN_COLUMNS}, ensure_ascii=False)[:1000],
        }
        for row, reason in zip(bad, check.reasons, strict=True)
    ]
    tally.contract_quarantined += len(records)
    quarantine.write(quarantine_table(records, scrubber))


def _final_outcomes(cfg: LLMOpsConfig, parts: list[list[Any]], keys: list[Any]) -> list[Any]:
    """Merge chunk outcomes; the duplicate ceiling is decided on the keys of all chunks."""
    import numpy as np

    from llmops.data.contract import columns_from_rows, evaluate, merge_outcomes
    from llmops.data.validate import CONTENT_KEY_COLUMN, TRAINING, suite_specs

    if not parts:  # nothing reached the suite: evaluate an empty batch with every column present
        _, specs = suite_specs(cfg, TRAINING)
        empty = columns_from_rows([dict.fromkeys((*TRAIN_COLUMNS, CONTENT_KEY_COLUMN))], TRAIN_COLUMNS)
        batch = {name: type(col)(col.values.slice(0, 0), None) for name, col in empty.items()}
        parts = [evaluate(batch, specs, 0)]
    merged = merge_outcomes(parts)
    all_keys = np.concatenate(keys) if keys else np.zeros(0, dtype=np.uint64)
    for outcome in merged:
        if outcome.type == "expect_column_proportion_of_unique_values_to_be_between":
            outcome.observed_value = (int(all_keys.size), all_keys)
    return merged
