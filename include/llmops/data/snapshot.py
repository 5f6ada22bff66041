"""The curated dataset as a content-addressed snapshot with a lineage manifest.

``<curated_dir>/snapshots/<hash>/train.parquet`` plus ``manifest.json``, where ``<hash>`` is the SHA-256 (first 24
hex digits) of the rows' canonical content (in order) together with the data-stage settings: the same input and
settings always give the same path, and a snapshot that already exists complete is reused, not rewritten.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llmops.data.gates import ReconciliationError
from llmops.data.schema import TRAIN_COLUMNS
from llmops.data.sinks import (
    MANIFEST_FILE,
    ROW_COLUMN,
    SHARDS_DIR,
    SNAPSHOTS_DIR,
    TRAIN_FILE,
    ParquetSink,
    train_schema,
)

if TYPE_CHECKING:
    from llmops.config import LLMOpsConfig
    from llmops.data.payloads import Curated, Deduped, Validated

logger = logging.getLogger(__name__)

# Settings that decide where data is read from or how it is chunked, not what the snapshot contains.
_NON_CONTENT_SETTINGS = frozenset(
    {"raw_path", "eval_path", "prod_log_path", "batch_rows", "shard_rows", "validation_engine"}
)


def data_config_fingerprint(cfg: LLMOpsConfig) -> tuple[dict[str, Any], str]:
    """The data-stage settings that shape the curated content, and their SHA-256.

    Args:
        cfg: the configuration.

    Returns:
        ``(settings, hex digest)``.
    """
    settings = {k: v for k, v in cfg.data.model_dump(mode="json").items() if k not in _NON_CONTENT_SETTINGS}
    text = json.dumps(settings, sort_keys=True, separators=(",", ":"))
    return settings, hashlib.sha256(text.encode("utf-8")).hexdigest()


def write_snapshot(cfg: LLMOpsConfig, run_key: str, validated: Validated, deduped: Deduped) -> Curated:
    """Write the rows dedup kept as a content-addressed snapshot with a lineage manifest.

    Streams the scrubbed shards, drops the rows dedup removed, and stages ``train.parquet`` and ``manifest.json``
    in a temporary folder that is renamed into place; when the snapshot already exists complete, nothing new is
    written and the existing one is returned. The run's shards are removed afterwards. The stage's counts are the
    ``count_reconciliation`` verdict's business (:func:`llmops.data.gates.count_reconciliation`), checked before.

    The manifest records the source files and their hashes, counts per stage, the GX result summary, the dedup
    parameters and PII counts per type; it holds nothing run-specific, so it is identical on every re-run.

    Args:
        cfg: the configuration.
        run_key: the run (names the staging folder).
        validated: the result of :func:`llmops.data.validation.validate_raw_file`.
        deduped: the result of :func:`llmops.data.dedup.dedup_shards`.

    Returns:
        ``{"train_path", "snapshot_hash", "snapshot_dir", "manifest_path", "rows_in", "rows_out", "rows_quarantined",
        "duplicates_removed", "exact_duplicates", "near_duplicates", "contaminated", "pii_counts", "data_docs_dir",
        "reused"}``.

    Raises:
        ReconciliationError: the snapshot would hold another number of rows than dedup kept (nothing is published).
    """
    snapshots = cfg.paths.curated_dir / SNAPSHOTS_DIR
    snapshots.mkdir(parents=True, exist_ok=True)
    staging = snapshots / f".staging-{run_key}-{os.getpid()}"
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir()
    try:
        written, content_sha = _write_rows(staging / TRAIN_FILE, deduped)
        if written != int(deduped["rows_out"]):
            raise ReconciliationError(f"snapshot_dataset: wrote {written} rows but dedup kept {deduped['rows_out']}")
        settings, config_sha = data_config_fingerprint(cfg)
        snapshot_hash = hashlib.sha256(f"{content_sha}:{config_sha}".encode()).hexdigest()[:24]
        final = snapshots / snapshot_hash
        manifest = _manifest(cfg, validated, deduped, snapshot_hash, content_sha, config_sha, settings, written)
        reused = _publish(staging, final, manifest)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    shard_dir = Path(deduped["shard_paths"][0]).parent if deduped["shard_paths"] else None
    if shard_dir is not None and shard_dir.name == SHARDS_DIR and shard_dir.exists():
        shutil.rmtree(shard_dir)
    logger.info("snapshot %s: %d rows (%s)", snapshot_hash, written, "reused" if reused else "written")
    return {
        "train_path": str(final / TRAIN_FILE),
        "snapshot_hash": snapshot_hash,
        "snapshot_dir": str(final),
        "manifest_path": str(final / MANIFEST_FILE),
        "rows_in": int(validated["rows_in"]),
        "rows_out": written,
        "rows_quarantined": int(validated["rows_quarantined"]),
        "duplicates_removed": int(deduped["duplicates_removed"]),
        "exact_duplicates": int(deduped["exact_duplicates"]),
        "near_duplicates": int(deduped["near_duplicates"]),
        "contaminated": int(deduped["contaminated"]),
        "pii_counts": dict(deduped["pii_counts"]),
        "data_docs_dir": validated.get("data_docs_dir"),
        "reused": reused,
    }


def _write_rows(path: Path, deduped: Deduped) -> tuple[int, str]:
    """Write the kept rows of every shard, in order, and hash their canonical JSON lines as they pass."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    removed = pq.read_table(deduped["decisions_path"], columns=[ROW_COLUMN])[ROW_COLUMN]
    content = hashlib.sha256()
    sink = ParquetSink(path, train_schema())
    for shard in deduped["shard_paths"]:
        table = pq.read_table(shard)
        table = table.filter(pc.invert(pc.is_in(table[ROW_COLUMN], value_set=removed)))
        table = table.select(list(TRAIN_COLUMNS))
        for row in zip(*(table[name].to_pylist() for name in TRAIN_COLUMNS), strict=True):
            content.update(json.dumps(row, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
            content.update(b"\n")
        sink.write(table)
    sink.close()
    return sink.rows, content.hexdigest()


def _publish(staging: Path, final: Path, manifest: Mapping[str, Any]) -> bool:
    """Move the staged snapshot into place; whether a complete one was already there (and is reused)."""
    from llmops.fsutil import atomic_write_json, fsync_dir

    if (final / MANIFEST_FILE).is_file() and (final / TRAIN_FILE).is_file():
        return True
    atomic_write_json(staging / MANIFEST_FILE, manifest)
    if final.exists():  # an incomplete folder from a crash: replace it
        shutil.rmtree(final)
    try:
        os.rename(staging, final)
    except OSError:  # another run published the same snapshot in between
        if not (final / MANIFEST_FILE).is_file():
            raise
    fsync_dir(final.parent)
    return False


def _manifest(
    cfg: LLMOpsConfig,
    validated: Validated,
    deduped: Deduped,
    snapshot_hash: str,
    content_sha: str,
    config_sha: str,
    settings: Mapping[str, Any],
    rows: int,
) -> dict[str, Any]:
    from llmops.fsutil import file_sha256

    metrics = validated.get("metrics") or {}
    sources = [{"role": "train", "path": validated["source_file"], "sha256": validated["source_sha256"]}]
    if cfg.raw_eval_path.is_file():
        sources.append({"role": "eval", "path": str(cfg.raw_eval_path), "sha256": file_sha256(cfg.raw_eval_path)})
    return {
        "snapshot_hash": snapshot_hash,
        "content_sha256": content_sha,
        "config_sha256": config_sha,
        "format": {"file": TRAIN_FILE, "columns": list(TRAIN_COLUMNS), "rows": rows},
        "sources": sources,
        "counts": {
            "rows_in": int(validated["rows_in"]),
            "quarantined": int(validated["rows_quarantined"]),
            "quarantined_at_ingest": int(metrics.get("ingest_quarantined", 0)),
            "quarantined_by_contract": int(metrics.get("contract_quarantined", 0)),
            "valid": int(validated["rows_valid"]),
            "exact_duplicates": int(deduped["exact_duplicates"]),
            "near_duplicates": int(deduped["near_duplicates"]),
            "contaminated": int(deduped["contaminated"]),
            "kept": rows,
        },
        "great_expectations": {
            "suite": metrics.get("suite_name"),
            "success": metrics.get("gx_success"),
            "evaluated_expectations": metrics.get("evaluated_expectations"),
            "successful_expectations": metrics.get("successful_expectations"),
            "failed_expectations": metrics.get("failed_expectations", []),
            "unexpected_counts": metrics.get("unexpected_counts", {}),
        },
        "dedup": deduped["dedup_params"],
        "pii_counts": dict(deduped["pii_counts"]),
        "data_config": dict(settings),
    }
