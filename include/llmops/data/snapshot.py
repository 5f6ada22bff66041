"""The curated dataset as a content-addressed snapshot with a lineage manifest.

``<curated_dir>/snapshots/<hash>/train.parquet`` plus ``manifest.json``, where ``<hash>`` is the SHA-256 (first 24
hex digits) of the rows' canonical content (in order) together with the data-stage settings: the same input and
settings always give the same path, and a snapshot that already exists complete is reused, not rewritten.

The registered model version records the snapshot's path and hash in MLflow tags (:data:`SNAPSHOT_TAG`,
:data:`SNAPSHOT_HASH_TAG`); whoever can write MLflow can rewrite them, so every reader of a snapshot named by a tag
goes through :func:`trusted_snapshot` first.
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
from llmops.errors import Permanent

if TYPE_CHECKING:
    from llmops.config import LLMOpsConfig
    from llmops.data.payloads import Curated, Deduped, Validated

logger = logging.getLogger(__name__)

SNAPSHOT_TAG = "llmops.data_snapshot"
"""Model version tag: the path of the curated ``train.parquet`` the version was trained on."""
SNAPSHOT_HASH_TAG = "llmops.data_snapshot_hash"
"""Model version tag: that snapshot's hash (the 24-digit snapshot hash, or the file's SHA-256)."""

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
    written and the existing one is returned. The run's shards and its validated rows (unscrubbed: they feed the
    shards) are removed afterwards, so no copy of the raw rows outlives the run. The stage's counts are the
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
    # The validated rows were written before scrubbing (they feed the shards): the snapshot replaces them.
    Path(validated["validated_path"]).unlink(missing_ok=True)
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
        _hash_rows(content, table)
        sink.write(table)
    sink.close()
    return sink.rows, content.hexdigest()


def _hash_rows(content: Any, table: Any) -> None:
    """Add the canonical JSON line of every row of ``table`` (the training columns, in order) to ``content``."""
    for row in zip(*(table[name].to_pylist() for name in TRAIN_COLUMNS), strict=True):
        content.update(json.dumps(row, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
        content.update(b"\n")


class UntrustedSnapshot(Permanent):
    """A snapshot named by a registry tag lies outside the curated-data folder or does not hold what its recorded
    hash says: it is not read. Retrying will not help."""


def snapshot_content_hash(train_path: Path, config_sha256: str) -> str:
    """The snapshot hash of a ``train.parquet`` as :func:`write_snapshot` computes it: SHA-256 (24 hex digits) of
    the rows' canonical content hash and the data settings' hash. Read in record batches, never whole."""
    import pyarrow.parquet as pq

    content = hashlib.sha256()
    with pq.ParquetFile(train_path) as parquet:
        for batch in parquet.iter_batches(batch_size=65536, columns=list(TRAIN_COLUMNS)):
            _hash_rows(content, batch)
    return hashlib.sha256(f"{content.hexdigest()}:{config_sha256}".encode()).hexdigest()[:24]


def trusted_snapshot(cfg: LLMOpsConfig, path: str | Path, recorded_hash: str) -> Path:
    """Check a snapshot path taken from a model version's :data:`SNAPSHOT_TAG` before anything reads it.

    The path must resolve (symbolic links followed) to a file under ``cfg.paths.curated_dir``, and its content must
    match ``recorded_hash`` (the :data:`SNAPSHOT_HASH_TAG`): a 64-digit hash is the file's SHA-256; a 24-digit
    snapshot hash is computed again from the rows, as :func:`write_snapshot` did, with the data settings' hash from
    the snapshot's ``manifest.json``. That reads every row once in record batches (about 1.5 s per 200,000 rows
    on one core), the order of what the hourly drift check pays anyway to load the reference.

    Args:
        cfg: configuration (where the curated data lives).
        path: the tag's value.
        recorded_hash: the hash tag's value.

    Returns:
        The resolved path, safe to read.

    Raises:
        UntrustedSnapshot: outside the curated folder, no recorded hash, no manifest to check it with, or a content
            mismatch; the message names the tag, the path and what was wrong.
        FileNotFoundError: the path is inside the curated folder but no file is there (not on this host, or removed).
    """
    from llmops.fsutil import file_sha256

    where = f"{SNAPSHOT_TAG} {str(path)!r}"
    curated = cfg.paths.curated_dir.resolve()
    resolved = Path(path).resolve()
    if not resolved.is_relative_to(curated):
        raise UntrustedSnapshot(
            f"refusing to read the training snapshot: {where} resolves to {resolved}, outside the curated-data "
            f"folder {curated} (the registry tag may have been tampered with)"
        )
    if not resolved.is_file():
        raise FileNotFoundError(f"{where}: no such file {resolved}")
    recorded = recorded_hash.strip().lower()
    if not recorded:
        raise UntrustedSnapshot(
            f"refusing to read the training snapshot: {where} has no recorded hash ({SNAPSHOT_HASH_TAG} is empty), "
            "so its content cannot be verified"
        )
    if len(recorded) == 64:
        actual = file_sha256(resolved)
    else:
        try:
            manifest = json.loads((resolved.parent / MANIFEST_FILE).read_text(encoding="utf-8"))
            config_sha = str(manifest["config_sha256"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise UntrustedSnapshot(
                f"refusing to read the training snapshot: {where} has no readable {MANIFEST_FILE} beside it to "
                f"verify {SNAPSHOT_HASH_TAG} {recorded!r} with ({exc})"
            ) from exc
        try:
            actual = snapshot_content_hash(resolved, config_sha)
        except Exception as exc:  # not Parquet, or not the training columns
            raise UntrustedSnapshot(
                f"refusing to read the training snapshot: {where} is not a readable snapshot ({exc})"
            ) from exc
    if actual != recorded:
        raise UntrustedSnapshot(
            f"refusing to read the training snapshot: the content of {where} hashes to {actual}, but "
            f"{SNAPSHOT_HASH_TAG} records {recorded} (the file was replaced, or the registry tags were tampered with)"
        )
    return resolved


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
