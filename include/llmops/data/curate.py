"""Curation steps, one function per DAG task.

Each function takes the configuration and a run key (e.g. the Airflow run id or data-interval stamp), writes its
outputs under ``<paths.curated_dir>/<run_key>/`` (quarantine under ``<paths.quarantine_dir>/<run_key>/``), replacing
them atomically, and returns a small JSON-serialisable dict of paths and counts, never the data itself.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llmops.data.dedup import DEDUP_COLUMNS, exact_dedup
from llmops.data.ingest import read_parquet_rows, read_records, records_to_parquet, write_quarantine
from llmops.data.schema import TRAIN_COLUMNS

if TYPE_CHECKING:
    from llmops.config import LLMOpsConfig

logger = logging.getLogger(__name__)

VALIDATED_FILE = "validated.parquet"
QUARANTINE_FILE = "quarantine.parquet"
TRAIN_FILE = "train.parquet"
REMOVED_FILE = "removed_duplicates.parquet"


class DataContractError(ValueError):
    """The data breaks its contract; the run must fail without retrying (the data will not fix itself)."""


class ReconciliationError(DataContractError):
    """Counts do not add up: a record was lost or counted twice between reading and writing."""


def _run_dir(base: Path, run_key: str) -> Path:
    if not run_key or run_key in {".", ".."} or "/" in run_key or "\\" in run_key or "\x00" in run_key:
        raise ValueError(f"run_key must be a non-empty single path component, got {run_key!r}")
    return base / run_key


def validate_raw_data(cfg: LLMOpsConfig, run_key: str) -> dict[str, Any]:
    """Read the raw training file, check it against the data contract and split it into valid and quarantined rows.

    Writes ``<curated_dir>/<run_key>/validated.parquet`` (only when the contract holds; a stale one from an earlier
    attempt is removed otherwise) and ``<quarantine_dir>/<run_key>/quarantine.parquet`` (lines rejected while reading
    plus rows rejected by the expectation suite; always written, even when empty, before any error is raised).

    Args:
        cfg: the configuration; reads ``cfg.raw_train_path``.
        run_key: names the output folders (one path component).

    Returns:
        ``{"validated_path", "quarantine_path", "rows_in", "rows_valid", "rows_quarantined", "passed", "reason",
        "metrics"}``.

    Raises:
        DataContractError: the contract is broken (empty or too small batch, missing column, too many bad rows);
            the quarantine file is written first.
        ReconciliationError: ``rows_in != rows_valid + rows_quarantined``.
        FileNotFoundError: the raw file does not exist.
    """
    from llmops.data.validate import validate_records

    validated_path = _run_dir(cfg.paths.curated_dir, run_key) / VALIDATED_FILE
    quarantine_path = _run_dir(cfg.paths.quarantine_dir, run_key) / QUARANTINE_FILE

    ingest = read_records(cfg.raw_train_path, cfg.data.max_line_bytes)
    outcome = validate_records(
        ingest.rows,
        cfg,
        run_key,
        source_file=ingest.source_file,
        line_numbers=ingest.line_numbers,
    )
    quarantined = ingest.quarantined + outcome.quarantined
    write_quarantine(quarantined, quarantine_path)

    rows_in = ingest.records_read
    rows_valid = len(outcome.kept_rows)
    rows_quarantined = len(quarantined)
    if rows_in != rows_valid + rows_quarantined:
        raise ReconciliationError(
            f"{rows_in} records read from {ingest.source_file} but {rows_valid} valid + {rows_quarantined} "
            f"quarantined = {rows_valid + rows_quarantined}"
        )

    # The contract's ratio applies to everything read, including lines rejected before the suite saw them.
    ratio = rows_quarantined / rows_in if rows_in else 0.0
    passed, reason = outcome.passed, outcome.reason
    if passed and ratio > cfg.data.max_quarantine_ratio:
        passed = False
        reason = (
            f"{rows_quarantined} of {rows_in} records quarantined ({ratio:.1%}), above max_quarantine_ratio "
            f"{cfg.data.max_quarantine_ratio:.1%}"
        )
    metrics: dict[str, Any] = {
        **outcome.metrics,
        "ingest": ingest.summary(),
        "ingest_quarantined": len(ingest.quarantined),
        "contract_quarantined": len(outcome.quarantined),
        "total_quarantine_ratio": round(ratio, 6),
    }
    if not passed:
        validated_path.unlink(missing_ok=True)
        logger.error("data contract broken for %s: %s (quarantine: %s)", ingest.source_file, reason, quarantine_path)
        raise DataContractError(f"{reason} (quarantined rows: {quarantine_path})")

    records_to_parquet(outcome.kept_rows, validated_path, columns=TRAIN_COLUMNS)
    logger.info("validated %d of %d records, %d quarantined", rows_valid, rows_in, rows_quarantined)
    return {
        "validated_path": str(validated_path),
        "quarantine_path": str(quarantine_path),
        "rows_in": rows_in,
        "rows_valid": rows_valid,
        "rows_quarantined": rows_quarantined,
        "passed": passed,
        "reason": reason,
        "metrics": metrics,
    }


def dedup_dataset(cfg: LLMOpsConfig, run_key: str, validated_path: str) -> dict[str, Any]:
    """Remove exact duplicates (normalised prompt and response) from the validated rows.

    Writes ``<curated_dir>/<run_key>/train.parquet`` and ``removed_duplicates.parquet`` (the removed rows with the
    ``cluster_id`` of the row each duplicates). The first occurrence in file order is kept.

    Args:
        cfg: the configuration.
        run_key: names the output folder (one path component).
        validated_path: the ``validated_path`` returned by :func:`validate_raw_data`.

    Returns:
        ``{"train_path", "removed_path", "rows_in", "rows_out", "duplicates_removed", "duplicate_ratio"}``.

    Raises:
        DataContractError: more than ``data.max_duplicate_ratio`` of the rows are duplicates (outputs are written
            first, for inspection).
        ReconciliationError: ``rows_in != rows_out + duplicates_removed``.
    """
    run_dir = _run_dir(cfg.paths.curated_dir, run_key)
    rows = read_parquet_rows(Path(validated_path))
    result = exact_dedup(rows)
    train_path = records_to_parquet(result.kept, run_dir / TRAIN_FILE, columns=TRAIN_COLUMNS)
    removed_path = records_to_parquet(result.removed, run_dir / REMOVED_FILE, columns=TRAIN_COLUMNS + DEDUP_COLUMNS)
    rows_in, rows_out, removed = len(rows), len(result.kept), len(result.removed)
    if rows_in != rows_out + removed:
        raise ReconciliationError(f"dedup read {rows_in} rows but kept {rows_out} and removed {removed}")
    ratio = removed / rows_in if rows_in else 0.0
    if ratio > cfg.data.max_duplicate_ratio:
        raise DataContractError(
            f"{removed} of {rows_in} rows are duplicates ({ratio:.1%}), above max_duplicate_ratio "
            f"{cfg.data.max_duplicate_ratio:.1%} (removed rows: {removed_path})"
        )
    logger.info("dedup kept %d of %d rows (%d exact duplicates)", rows_out, rows_in, removed)
    return {
        "train_path": str(train_path),
        "removed_path": str(removed_path),
        "rows_in": rows_in,
        "rows_out": rows_out,
        "duplicates_removed": removed,
        "duplicate_ratio": round(ratio, 6),
    }
