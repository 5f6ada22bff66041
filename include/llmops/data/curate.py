"""Curation steps, one function per DAG task.

The data stage, in task order::

    validate_raw_data -> plan_shards -> scrub_shard (mapped) -> sign_shard (mapped) -> dedup_dataset
    -> snapshot_dataset

Each function takes the configuration and a run key (e.g. the Airflow run id), writes its outputs under
``<paths.curated_dir>/<run_key>/`` (quarantine under ``<paths.quarantine_dir>/<run_key>/``), replacing them
atomically, and returns a small JSON-serialisable dict of paths and counts, never the data itself. Data flows in
chunks and shards, so no step holds the whole dataset in memory: validation streams the raw file in chunks of
``data.batch_rows``; dedup reads only row ids, keys and LSH band hashes of every row (plus signatures of candidate
rows); the snapshot streams the shards.

The final snapshot is content-addressed: ``<curated_dir>/snapshots/<hash>/train.parquet`` plus ``manifest.json``,
where the hash covers the rows and the data-stage configuration. Counts reconcile at every step:
``rows in = kept + quarantined + duplicates + contaminated``, or :class:`ReconciliationError` is raised.

:func:`curate_production_logs` applies the production-log contract, quarantine and PII scrubbing to request logs.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llmops.data.schema import PROD_LOG_COLUMNS, QUARANTINE_COLUMNS, TRAIN_COLUMNS

if TYPE_CHECKING:
    from llmops.config import LLMOpsConfig

logger = logging.getLogger(__name__)

VALIDATED_FILE = "validated.parquet"
QUARANTINE_FILE = "quarantine.parquet"
TRAIN_FILE = "train.parquet"
REMOVED_FILE = "removed_duplicates.parquet"
CONTAMINATED_FILE = "removed_contaminated.parquet"
DECISIONS_FILE = "dedup_decisions.parquet"
MANIFEST_FILE = "manifest.json"
SHARDS_DIR = "shards"
SNAPSHOTS_DIR = "snapshots"
ROW_COLUMN = "row"
LINE_COLUMN = "line_number"
# Why a row left the curated set (dedup_decisions.parquet "status").
KEPT, EXACT_DUPLICATE, NEAR_DUPLICATE, CONTAMINATED = 0, 1, 2, 3
_STATUS_NAMES = {EXACT_DUPLICATE: "exact", NEAR_DUPLICATE: "minhash", CONTAMINATED: "contaminated"}


class DataContractError(ValueError):
    """The data breaks its contract; the run must fail without retrying (the data will not fix itself)."""


class ReconciliationError(DataContractError):
    """Counts do not add up: a record was lost or counted twice between reading and writing."""


def _run_dir(base: Path, run_key: str) -> Path:
    if not run_key or run_key in {".", ".."} or "/" in run_key or "\\" in run_key or "\x00" in run_key:
        raise ValueError(f"run_key must be a non-empty single path component, got {run_key!r}")
    return base / run_key


def prod_log_quarantine_path(cfg: LLMOpsConfig, run_key: str) -> Path:
    """Where :func:`curate_production_logs` writes the records it quarantined for ``run_key``."""
    return _run_dir(cfg.paths.quarantine_dir / "prod_logs", run_key) / QUARANTINE_FILE


def reconcile(stage: str, rows_in: int, **parts: int) -> None:
    """Check that every row that came in went somewhere, exactly once.

    Args:
        stage: names the check in the error.
        rows_in: rows that entered the stage.
        **parts: the named outcomes (kept, quarantined, duplicates, contaminated, ...).

    Raises:
        ReconciliationError: ``rows_in != sum(parts)``.
    """
    total = sum(parts.values())
    if rows_in != total:
        detail = " + ".join(f"{name} {count}" for name, count in parts.items())
        raise ReconciliationError(f"{stage}: {rows_in} rows in but {detail} = {total}")


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class _ParquetSink:
    """Writes record batches to ``path`` through a temporary file; :meth:`close` renames it into place."""

    def __init__(self, path: Path, schema: Any) -> None:
        import pyarrow.parquet as pq

        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        self.schema = schema
        self.rows = 0
        self._writer = pq.ParquetWriter(self.tmp, schema)

    def write(self, table: Any) -> None:
        if table.num_rows:
            self._writer.write_table(table.select(self.schema.names).cast(self.schema))
            self.rows += table.num_rows

    def close(self) -> Path:
        self._writer.close()
        os.replace(self.tmp, self.path)
        return self.path

    def abort(self) -> None:
        try:
            self._writer.close()
        finally:
            self.tmp.unlink(missing_ok=True)


def _train_schema(with_line: bool = False, with_row: bool = False) -> Any:
    import pyarrow as pa

    fields = [pa.field(name, pa.string()) for name in TRAIN_COLUMNS]
    if with_line:
        fields.append(pa.field(LINE_COLUMN, pa.int64()))
    if with_row:
        fields.insert(0, pa.field(ROW_COLUMN, pa.int64()))
    return pa.schema(fields)


def _quarantine_schema() -> Any:
    import pyarrow as pa

    types = {"line_number": pa.int64()}
    return pa.schema([pa.field(name, types.get(name, pa.string())) for name in QUARANTINE_COLUMNS])


def _quarantine_table(records: Sequence[Mapping[str, Any]]) -> Any:
    import pyarrow as pa

    schema = _quarantine_schema()
    return pa.table({f.name: pa.array([r.get(f.name) for r in records], type=f.type) for f in schema}, schema=schema)


def _rows_table(rows: Sequence[Mapping[str, Any]], line_numbers: Sequence[int] | None = None) -> Any:
    import pyarrow as pa

    columns = {name: pa.array([r.get(name) for r in rows], type=pa.string()) for name in TRAIN_COLUMNS}
    if line_numbers is not None:
        columns[LINE_COLUMN] = pa.array(list(line_numbers), type=pa.int64())
    return pa.table(columns)


# ---------------------------------------------------------------------------------------------------------------
# validate_raw_data
# ---------------------------------------------------------------------------------------------------------------
def validate_raw_data(cfg: LLMOpsConfig, run_key: str) -> dict[str, Any]:
    """Read the raw training file in chunks, check it against the data contract, split valid and quarantined rows.

    Every chunk of ``data.batch_rows`` records is parsed (bad lines are quarantined with their reason), checked with
    the contract's expectation suite (rows failing row-level expectations are quarantined with the expectations'
    names) and appended to ``<curated_dir>/<run_key>/validated.parquet``; table-level expectations (row count,
    ceiling on exact duplicates) and the quarantine ceiling are decided on the totals. GX Data Docs of the run are
    written to ``<reports_dir>/data_docs/<run_key>/``.

    Args:
        cfg: the configuration; reads ``cfg.raw_train_path``.
        run_key: names the output folders (one path component).

    Returns:
        ``{"validated_path", "quarantine_path", "rows_in", "rows_valid", "rows_quarantined", "passed", "reason",
        "metrics", "data_docs_dir", "source_file", "source_sha256"}``.

    Raises:
        DataContractError: the contract is broken (empty or too small batch, missing column, too many bad rows or
            duplicates); the quarantine file is written first and no validated file is left behind.
        ReconciliationError: ``rows_in != rows_valid + rows_quarantined``.
        FileNotFoundError: the raw file does not exist.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    from llmops.data.contract import Column, columns_from_table
    from llmops.data.dedup import content_keys
    from llmops.data.ingest import iter_record_chunks
    from llmops.data.validate import CONTENT_KEY_COLUMN, TRAINING, build_data_docs, check_batch, summarize

    validated_path = _run_dir(cfg.paths.curated_dir, run_key) / VALIDATED_FILE
    quarantine_path = _run_dir(cfg.paths.quarantine_dir, run_key) / QUARANTINE_FILE
    source = cfg.raw_train_path
    validated = _ParquetSink(validated_path, _train_schema(with_line=True))
    quarantine = _ParquetSink(quarantine_path, _quarantine_schema())
    parts: list[list[Any]] = []
    keys: list[Any] = []
    rows_in = ingest_quarantined = contract_quarantined = evaluated = blank_lines = 0
    try:
        for chunk in iter_record_chunks(source, cfg.data.max_line_bytes, cfg.data.batch_rows):
            rows_in += chunk.records_read
            blank_lines += chunk.blank_lines
            ingest_quarantined += len(chunk.quarantined)
            quarantine.write(_quarantine_table(chunk.quarantined))
            if not chunk.rows:
                continue
            table = _rows_table(chunk.rows, chunk.line_numbers)
            batch = columns_from_table(table.drop_columns([LINE_COLUMN]))
            both = pc.and_(pc.is_valid(table["prompt"]), pc.is_valid(table["response"]))
            chunk_keys = pa.array(content_keys(table["prompt"], table["response"]), type=pa.uint64())
            batch[CONTENT_KEY_COLUMN] = Column(pc.if_else(both, chunk_keys, pa.scalar(None, pa.uint64())))
            check = check_batch(batch, table.num_rows, cfg, TRAINING)
            parts.append(check.outcomes)
            keys.append(chunk_keys.filter(both).to_numpy())
            evaluated += table.num_rows
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
            contract_quarantined += len(records)
            quarantine.write(_quarantine_table(records))
    except BaseException:
        validated.abort()
        quarantine.abort()
        raise
    quarantine.close()
    rows_valid = validated.rows  # what was written, not what should have been: a lost row shows up below

    outcomes = _final_outcomes(cfg, parts, keys)
    rows_quarantined = ingest_quarantined + contract_quarantined
    summary = summarize(outcomes, cfg, TRAINING, evaluated, rows_valid, contract_quarantined)
    docs = build_data_docs(cfg, TRAINING, summary.outcomes, run_key, evaluated)
    try:
        reconcile("validate_raw_data", rows_in, valid=rows_valid, quarantined=rows_quarantined)
    except ReconciliationError:
        validated.abort()
        raise
    # The contract's ratio applies to everything read, including lines rejected before the suite saw them.
    ratio = rows_quarantined / rows_in if rows_in else 0.0
    passed, reason = summary.passed, summary.reason
    if passed and ratio > cfg.data.max_quarantine_ratio:
        passed = False
        reason = (
            f"{rows_quarantined} of {rows_in} records quarantined ({ratio:.1%}), above max_quarantine_ratio "
            f"{cfg.data.max_quarantine_ratio:.1%}"
        )
    if rows_in == 0:
        passed, reason = False, "empty batch: no rows to validate"
    metrics: dict[str, Any] = {
        **summary.metrics,
        "engine": "arrow",
        "ingest": {"source_file": str(source), "records_read": rows_in, "blank_lines": blank_lines},
        "ingest_quarantined": ingest_quarantined,
        "contract_quarantined": contract_quarantined,
        "total_quarantine_ratio": round(ratio, 6),
    }
    if docs is not None:
        metrics["data_docs"] = str(docs)
    if not passed:
        validated.abort()
        validated_path.unlink(missing_ok=True)
        logger.error("data contract broken for %s: %s (quarantine: %s)", source, reason, quarantine_path)
        raise DataContractError(f"{reason} (quarantined rows: {quarantine_path})")
    validated.close()
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
        "data_docs_dir": str(docs.parent) if docs is not None else None,
        "source_file": str(source),
        "source_sha256": _sha256_file(source),
    }


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


# ---------------------------------------------------------------------------------------------------------------
# Shards: plan_shards -> scrub_shard -> sign_shard (one mapped task instance per shard)
# ---------------------------------------------------------------------------------------------------------------
def plan_shards(cfg: LLMOpsConfig, run_key: str, validated_path: str) -> list[str]:
    """Split the validated rows into shard files of at most ``data.shard_rows`` rows, streaming.

    Each shard keeps the rows' global position (``row``, 0-based in file order), which identifies a row through
    dedup and decides cluster representatives. Earlier shards of the same run key are removed first.

    Args:
        cfg: the configuration.
        run_key: names the output folder.
        validated_path: the ``validated_path`` returned by :func:`validate_raw_data`.

    Returns:
        The shard paths in order (at least one, possibly empty, shard), for Airflow's dynamic task mapping.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    shard_dir = _run_dir(cfg.paths.curated_dir, run_key) / SHARDS_DIR
    if shard_dir.exists():
        shutil.rmtree(shard_dir)
    shard_dir.mkdir(parents=True)
    schema = _train_schema(with_line=True, with_row=True)
    size = cfg.data.shard_rows
    paths: list[str] = []
    sink: _ParquetSink | None = None
    row = 0
    for batch in pq.ParquetFile(validated_path).iter_batches(batch_size=min(size, 65_536)):
        table = pa.Table.from_batches([batch])
        offset = 0
        while offset < table.num_rows:
            if sink is None or sink.rows >= size:
                if sink is not None:
                    paths.append(str(sink.close()))
                sink = _ParquetSink(shard_dir / f"shard-{len(paths):05d}.parquet", schema)
            take = min(size - sink.rows, table.num_rows - offset)
            piece = table.slice(offset, take)
            piece = piece.add_column(0, ROW_COLUMN, pa.array(range(row, row + take), type=pa.int64()))
            sink.write(piece)
            offset += take
            row += take
    if sink is None:
        sink = _ParquetSink(shard_dir / "shard-00000.parquet", schema)
    paths.append(str(sink.close()))
    logger.info("planned %d shard(s) of <= %d rows for %d rows", len(paths), size, row)
    return paths


def scrub_shard(cfg: LLMOpsConfig, shard_path: str) -> dict[str, Any]:
    """Replace PII in the prompts and responses of one shard with typed placeholders.

    Args:
        cfg: the configuration (``data.pii``).
        shard_path: a path from :func:`plan_shards`.

    Returns:
        ``{"shard_path", "rows", "rows_changed", "pii_counts"}``: the scrubbed shard (``*.scrubbed.parquet``) and
        counts per entity type.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    from llmops.data.pii import PiiScrubber

    source = Path(shard_path)
    target = source.with_name(source.name.replace(".parquet", ".scrubbed.parquet"))
    table = pq.read_table(source)
    counts: dict[str, int] = dict.fromkeys(cfg.data.pii.entities, 0)
    changed = 0
    if cfg.data.pii.enabled and table.num_rows:
        scrubber = PiiScrubber(cfg.data.pii.entities)
        totals: Counter[str] = Counter()
        for name in ("prompt", "response"):
            values = table[name].to_pylist()
            out = []
            for value in values:
                scrubbed, found = scrubber.scrub(value)
                totals.update(found)
                out.append(scrubbed)
            changed_mask = [a != b for a, b in zip(values, out, strict=True)]
            changed += sum(changed_mask)
            table = table.set_column(table.schema.get_field_index(name), name, pa.array(out, type=pa.string()))
        counts = {entity: int(totals.get(entity, 0)) for entity in cfg.data.pii.entities}
    sink = _ParquetSink(target, table.schema)
    sink.write(table)
    sink.close()
    return {"shard_path": str(target), "rows": table.num_rows, "rows_changed": changed, "pii_counts": counts}


def _dedup_texts(table: Any) -> Any:
    """The text near-duplicates are judged on: prompt and response together."""
    import pyarrow.compute as pc

    return pc.binary_join_element_wise(pc.fill_null(table["prompt"], ""), pc.fill_null(table["response"], ""), "\n")


def sign_shard(cfg: LLMOpsConfig, scrubbed: Mapping[str, Any]) -> dict[str, Any]:
    """Exact-duplicate keys, MinHash signatures and LSH band hashes of one (scrubbed) shard.

    Writes ``*.sig.parquet`` next to the shard with ``row``, ``content_key``, ``empty`` (no shingles), ``bands``
    (one uint64 per band) and ``signature`` (``num_perm`` uint32 as bytes).

    Args:
        cfg: the configuration (``data.dedup``).
        scrubbed: a result of :func:`scrub_shard`.

    Returns:
        ``scrubbed`` plus ``"signature_path"``.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    from llmops.data import minhash
    from llmops.data.dedup import content_keys

    shard = Path(scrubbed["shard_path"])
    target = shard.with_name(shard.name.replace(".scrubbed.parquet", ".sig.parquet"))
    table = pq.read_table(shard, columns=[ROW_COLUMN, "prompt", "response"])
    params = minhash.MinHashParams.from_config(cfg.data.dedup)
    values, offsets = minhash.shingle_hashes(_dedup_texts(table), params.shingle_size)
    a, b = minhash.permutations(params.num_perm, params.seed)
    sigs = minhash.signatures(values, offsets, a, b)
    bands = minhash.band_hashes(sigs, params.bands, params.rows_per_band)
    n = table.num_rows
    out = pa.table(
        {
            ROW_COLUMN: table[ROW_COLUMN],
            "content_key": pa.array(content_keys(table["prompt"], table["response"]), type=pa.uint64()),
            "empty": pa.array(minhash.empty_mask(sigs)),
            "bands": pa.FixedSizeListArray.from_arrays(pa.array(bands.reshape(-1), type=pa.uint64()), params.bands),
            "signature": pa.array([sigs[i].tobytes() for i in range(n)], type=pa.binary(4 * params.num_perm)),
        }
    )
    sink = _ParquetSink(target, out.schema)
    sink.write(out)
    sink.close()
    return {**dict(scrubbed), "signature_path": str(target)}


# ---------------------------------------------------------------------------------------------------------------
# dedup_dataset: the merge step
# ---------------------------------------------------------------------------------------------------------------
def _load_signature_columns(signed: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> Any:
    import pyarrow as pa
    import pyarrow.parquet as pq

    tables = [pq.read_table(s["signature_path"], columns=list(columns)) for s in signed]
    return pa.concat_tables(tables) if tables else None


def _signatures_of(signed: Sequence[Mapping[str, Any]], rows: Any, num_perm: int) -> dict[int, Any]:
    """Signatures of the given global rows only, read shard by shard (never all of them at once)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    wanted = pa.array(np.unique(rows), type=pa.int64())
    out: dict[int, Any] = {}
    for s in signed:
        table = pq.read_table(s["signature_path"], columns=[ROW_COLUMN, "signature"])
        table = table.filter(pc.is_in(table[ROW_COLUMN], value_set=wanted))
        for row, blob in zip(table[ROW_COLUMN].to_pylist(), table["signature"].to_pylist(), strict=True):
            out[row] = np.frombuffer(blob, dtype=np.uint32, count=num_perm)
    return out


def _eval_signatures(cfg: LLMOpsConfig) -> tuple[list[str], Any]:
    """Ids and signatures of the eval set, PII-scrubbed like the training rows so both are compared alike."""
    import numpy as np

    from llmops.data import minhash
    from llmops.data.ingest import iter_record_chunks
    from llmops.data.pii import PiiScrubber

    params = minhash.MinHashParams.from_config(cfg.data.dedup)
    a, b = minhash.permutations(params.num_perm, params.seed)
    scrubber = PiiScrubber(cfg.data.pii.entities) if cfg.data.pii.enabled else None
    ids: list[str] = []
    parts = []
    for chunk in iter_record_chunks(cfg.raw_eval_path, cfg.data.max_line_bytes, cfg.data.batch_rows):
        rows = chunk.rows
        if scrubber is not None:
            rows, _, _ = scrubber.scrub_records(rows)
        if not rows:
            continue
        ids.extend(str(r["id"]) for r in rows)
        table = _rows_table(rows)
        values, offsets = minhash.shingle_hashes(_dedup_texts(table), params.shingle_size)
        parts.append(minhash.signatures(values, offsets, a, b))
    sigs = np.concatenate(parts) if parts else np.zeros((0, params.num_perm), dtype=np.uint32)
    return ids, sigs


def dedup_dataset(cfg: LLMOpsConfig, run_key: str, signed: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Merge step: decontaminate against the eval set, then remove exact and near-duplicates across all shards.

    Order and precedence: a row that is a near-duplicate of an eval example (estimated Jaccard similarity
    ``>= data.dedup.contamination_threshold``) is removed as *contaminated*; among the other rows, rows with the same
    normalised prompt and response are *exact* duplicates; among the remaining representatives, MinHash/LSH clusters
    (similarity ``>= data.dedup.threshold``) are *near* duplicates. Every cluster keeps its row with the smallest
    global position, so the result depends only on the input. Only keys, band hashes and the signatures of candidate
    rows are held in memory; the rows themselves are streamed shard by shard to record what was removed.

    Writes ``dedup_decisions.parquet`` (``row``, ``status``, ``cluster_row``, ``similarity``, ``eval_id`` of every
    removed row), ``removed_duplicates.parquet`` and ``removed_contaminated.parquet`` (the removed rows with
    ``cluster_id`` = the ``id`` of the row kept for their cluster, or ``eval_id``, and ``dedup_method``).

    Args:
        cfg: the configuration.
        run_key: names the output folder.
        signed: the results of :func:`sign_shard`, one per shard, in shard order.

    Returns:
        Paths and counts: ``rows_in``, ``rows_out``, ``duplicates_removed`` (exact + near), ``exact_duplicates``,
        ``near_duplicates``, ``contaminated``, ``duplicate_ratio``, ``clusters``, ``dedup_params``, ``pii_counts``,
        ``shard_paths``.

    Raises:
        DataContractError: more than ``data.max_duplicate_ratio`` of the rows are duplicates (outputs first).
        ReconciliationError: ``rows_in != rows_out + duplicates + contaminated``.
    """
    import numpy as np
    import pyarrow as pa

    from llmops.data import minhash

    run_dir = _run_dir(cfg.paths.curated_dir, run_key)
    dedup_cfg = cfg.data.dedup
    params = minhash.MinHashParams.from_config(dedup_cfg)
    signed = sorted(signed, key=lambda s: str(s["signature_path"]))
    table = _load_signature_columns(signed, [ROW_COLUMN, "content_key", "empty", "bands"])
    n = table.num_rows if table is not None else 0
    rows = table[ROW_COLUMN].to_numpy() if n else np.zeros(0, dtype=np.int64)
    if n and not np.array_equal(rows, np.arange(n)):
        raise ReconciliationError(f"dedup_dataset: shard rows are not the positions 0..{n - 1}; a shard is missing")
    status = np.zeros(n, dtype=np.int8)
    cluster_row = np.full(n, -1, dtype=np.int64)
    similarity = np.full(n, np.nan)
    eval_match = np.full(n, -1, dtype=np.int64)
    eval_ids: list[str] = []
    clusters = 0
    if n:
        keys = table["content_key"].to_numpy()
        empty = table["empty"].to_numpy(zero_copy_only=False)
        bands = table["bands"].combine_chunks().flatten().to_numpy().reshape(n, params.bands)

        # 1. decontamination: candidates share a band hash with an eval example, verified on signatures
        if dedup_cfg.decontaminate and cfg.raw_eval_path.is_file():
            eval_ids, eval_sigs = _eval_signatures(cfg)
            if len(eval_ids):
                eval_bands = minhash.band_hashes(eval_sigs, params.bands, params.rows_per_band)
                eval_empty = minhash.empty_mask(eval_sigs)
                pairs = []
                for band in range(params.bands):
                    order = np.argsort(eval_bands[:, band], kind="stable")
                    sorted_keys = eval_bands[order, band]
                    lo = np.searchsorted(sorted_keys, bands[:, band], side="left")
                    hi = np.searchsorted(sorted_keys, bands[:, band], side="right")
                    hit = np.flatnonzero((hi > lo) & ~empty)
                    for d in range(int((hi - lo)[hit].max()) if hit.size else 0):
                        sel = hit[(hi - lo)[hit] > d]
                        pairs.append(np.stack((sel, order[lo[sel] + d]), axis=1))
                if pairs:
                    cand = np.unique(np.concatenate(pairs), axis=0)
                    cand = cand[~eval_empty[cand[:, 1]]]
                    train_sigs = _signatures_of(signed, cand[:, 0], params.num_perm)
                    left = np.stack([train_sigs[int(r)] for r in cand[:, 0]]) if len(cand) else eval_sigs[:0]
                    sim = minhash.estimated_jaccard(left, eval_sigs[cand[:, 1]])
                    ok = sim >= dedup_cfg.contamination_threshold - 1e-12
                    # best match per training row
                    for r, e, value in zip(cand[ok, 0], cand[ok, 1], sim[ok], strict=True):
                        if status[r] != CONTAMINATED or value > similarity[r]:
                            status[r], eval_match[r], similarity[r] = CONTAMINATED, e, value

        # 2. exact duplicates among the rest: smallest row per key is kept
        alive = np.flatnonzero(status == KEPT)
        order = alive[np.lexsort((alive, keys[alive]))]
        first = np.ones(order.size, dtype=bool)
        first[1:] = keys[order[1:]] != keys[order[:-1]]
        rep = order[np.maximum.accumulate(np.where(first, np.arange(order.size), 0))]
        dup = ~first
        status[order[dup]] = EXACT_DUPLICATE
        cluster_row[order[dup]] = rep[dup]
        similarity[order[dup]] = 1.0

        # 3. near duplicates among the exact representatives
        if dedup_cfg.near_duplicates:
            alive = np.flatnonzero((status == KEPT) & ~empty)
            near_pairs = minhash.candidate_pairs(bands[alive], params.max_bucket_pairs)
            if len(near_pairs):
                pairs_of = near_pairs
                global_pairs = alive[pairs_of]
                sig_map = _signatures_of(signed, global_pairs.reshape(-1), params.num_perm)
                left = np.stack([sig_map[int(r)] for r in global_pairs[:, 0]])
                right = np.stack([sig_map[int(r)] for r in global_pairs[:, 1]])
                sim = minhash.estimated_jaccard(left, right)
                edges = pairs_of[sim >= params.threshold - 1e-12]
                labels = minhash.connected_components(alive.size, edges)
                members = np.flatnonzero(labels != np.arange(alive.size))
                removed_rows = alive[members]
                reps = alive[labels[members]]
                status[removed_rows] = NEAR_DUPLICATE
                cluster_row[removed_rows] = reps
                if removed_rows.size:
                    rep_sigs = _signatures_of(signed, np.concatenate((removed_rows, reps)), params.num_perm)
                    similarity[removed_rows] = minhash.estimated_jaccard(
                        np.stack([rep_sigs[int(r)] for r in removed_rows]),
                        np.stack([rep_sigs[int(r)] for r in reps]),
                    )
        dup_rows = np.flatnonzero((status == EXACT_DUPLICATE) | (status == NEAR_DUPLICATE))
        clusters = int(np.unique(cluster_row[dup_rows]).size)

    exact = int((status == EXACT_DUPLICATE).sum())
    near = int((status == NEAR_DUPLICATE).sum())
    contaminated = int((status == CONTAMINATED).sum())
    rows_out = int((status == KEPT).sum())
    removed_idx = np.flatnonzero(status != KEPT)
    decisions = pa.table(
        {
            ROW_COLUMN: pa.array(removed_idx, type=pa.int64()),
            "status": pa.array([_STATUS_NAMES[int(v)] for v in status[removed_idx]], type=pa.string()),
            "cluster_row": pa.array(cluster_row[removed_idx], type=pa.int64()),
            "similarity": pa.array(np.round(similarity[removed_idx], 6), type=pa.float64()),
            "eval_id": pa.array(
                [eval_ids[int(e)] if e >= 0 else None for e in eval_match[removed_idx]], type=pa.string()
            ),
        }
    )
    decisions_path = run_dir / DECISIONS_FILE
    sink = _ParquetSink(decisions_path, decisions.schema)
    sink.write(decisions)
    sink.close()
    removed_path, contaminated_path = _write_removed_rows(
        run_dir, signed, status, cluster_row, similarity, eval_match, eval_ids
    )

    reconcile("dedup_dataset", n, kept=rows_out, duplicates=exact + near, contaminated=contaminated)
    pii_counts: Counter[str] = Counter()
    for s in signed:
        pii_counts.update(s.get("pii_counts") or {})
    duplicates = exact + near
    ratio = duplicates / n if n else 0.0
    result = {
        "decisions_path": str(decisions_path),
        "removed_path": str(removed_path),
        "contaminated_path": str(contaminated_path),
        "shard_paths": [str(s["shard_path"]) for s in signed],
        "rows_in": n,
        "rows_out": rows_out,
        "duplicates_removed": duplicates,
        "exact_duplicates": exact,
        "near_duplicates": near,
        "contaminated": contaminated,
        "duplicate_ratio": round(ratio, 6),
        "clusters": clusters,
        "eval_rows": len(eval_ids),
        "dedup_params": {
            **params.as_dict(),
            "near_duplicates": dedup_cfg.near_duplicates,
            "decontaminate": dedup_cfg.decontaminate,
            "contamination_threshold": dedup_cfg.contamination_threshold,
        },
        "pii_counts": {k: int(pii_counts.get(k, 0)) for k in cfg.data.pii.entities},
        "pii_rows_changed": int(sum(int(s.get("rows_changed", 0)) for s in signed)),
    }
    if ratio > cfg.data.max_duplicate_ratio:
        raise DataContractError(
            f"{duplicates} of {n} rows are duplicates ({ratio:.1%}), above max_duplicate_ratio "
            f"{cfg.data.max_duplicate_ratio:.1%} (removed rows: {removed_path})"
        )
    logger.info(
        "dedup kept %d of %d rows: %d exact and %d near duplicates, %d contaminated",
        rows_out,
        n,
        exact,
        near,
        contaminated,
    )
    return result


def _write_removed_rows(
    run_dir: Path,
    signed: Sequence[Mapping[str, Any]],
    status: Any,
    cluster_row: Any,
    similarity: Any,
    eval_match: Any,
    eval_ids: Sequence[str],
) -> tuple[Path, Path]:
    """Stream the shards twice: ids of the kept representatives, then every removed row with its cluster id."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    reps = np.unique(cluster_row[cluster_row >= 0])
    rep_ids: dict[int, str] = {}
    if reps.size:
        wanted = pa.array(reps, type=pa.int64())
        for s in signed:
            t = pq.read_table(s["shard_path"], columns=[ROW_COLUMN, "id"])
            t = t.filter(pc.is_in(t[ROW_COLUMN], value_set=wanted))
            rep_ids.update(zip(t[ROW_COLUMN].to_pylist(), t["id"].to_pylist(), strict=True))
    base = _train_schema(with_line=True, with_row=True)
    extra = [
        pa.field("cluster_id", pa.string()),
        pa.field("dedup_method", pa.string()),
        pa.field("similarity", pa.float64()),
    ]
    dup_sink = _ParquetSink(run_dir / REMOVED_FILE, pa.schema([*base, *extra]))
    con_sink = _ParquetSink(run_dir / CONTAMINATED_FILE, pa.schema([*base, *extra]))
    removed = np.flatnonzero(status != KEPT)
    wanted_removed = pa.array(removed, type=pa.int64())
    for s in signed:
        t = pq.read_table(s["shard_path"])
        t = t.filter(pc.is_in(t[ROW_COLUMN], value_set=wanted_removed))
        if not t.num_rows:
            continue
        r = t[ROW_COLUMN].to_numpy()
        st = status[r]
        cluster_ids = [
            eval_ids[int(eval_match[i])] if status[i] == CONTAMINATED else rep_ids.get(int(cluster_row[i])) for i in r
        ]
        t = t.append_column("cluster_id", pa.array(cluster_ids, type=pa.string()))
        t = t.append_column("dedup_method", pa.array([_STATUS_NAMES[int(v)] for v in st], type=pa.string()))
        t = t.append_column("similarity", pa.array(np.round(similarity[r], 6), type=pa.float64()))
        is_con = pa.array(st == CONTAMINATED)
        con_sink.write(t.filter(is_con))
        dup_sink.write(t.filter(pc.invert(is_con)))
    return dup_sink.close(), con_sink.close()


# ---------------------------------------------------------------------------------------------------------------
# snapshot_dataset
# ---------------------------------------------------------------------------------------------------------------
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


def snapshot_dataset(
    cfg: LLMOpsConfig, run_key: str, validated: Mapping[str, Any], deduped: Mapping[str, Any]
) -> dict[str, Any]:
    """Write the curated dataset as a content-addressed snapshot with a lineage manifest.

    Streams the scrubbed shards, drops the rows :func:`dedup_dataset` removed, and writes
    ``<curated_dir>/snapshots/<hash>/train.parquet`` and ``manifest.json``. ``<hash>`` is the SHA-256 (first 24 hex
    digits) of the rows' canonical content (in order) together with the data-stage settings, so the same input and
    settings always give the same path. Files are staged in a temporary folder and renamed into place; when the
    snapshot already exists complete, nothing new is written and the existing one is returned. The run's shards are
    removed afterwards.

    The manifest records the source files and their hashes, counts per stage, the GX result summary, the dedup
    parameters and PII counts per type; it holds nothing run-specific, so it is identical on every re-run.

    Args:
        cfg: the configuration.
        run_key: the run (only its shard folder is read and then removed).
        validated: the result of :func:`validate_raw_data`.
        deduped: the result of :func:`dedup_dataset`.

    Returns:
        ``{"train_path", "snapshot_hash", "snapshot_dir", "manifest_path", "rows_in", "rows_out", "rows_quarantined",
        "duplicates_removed", "contaminated", "pii_counts", "data_docs_dir", "reused"}``.

    Raises:
        ReconciliationError: ``rows_in != rows_out + quarantined + duplicates + contaminated``, or the snapshot holds
            another number of rows than dedup kept.
    """
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from llmops.fsutil import atomic_write_json, fsync_dir

    rows_in = int(validated["rows_in"])
    quarantined = int(validated["rows_quarantined"])
    duplicates = int(deduped["duplicates_removed"])
    contaminated = int(deduped["contaminated"])
    rows_out = int(deduped["rows_out"])
    reconcile(
        "data stage", rows_in, kept=rows_out, quarantined=quarantined, duplicates=duplicates, contaminated=contaminated
    )
    removed = pq.read_table(deduped["decisions_path"], columns=[ROW_COLUMN])[ROW_COLUMN]
    snapshots = cfg.paths.curated_dir / SNAPSHOTS_DIR
    snapshots.mkdir(parents=True, exist_ok=True)
    staging = snapshots / f".staging-{run_key}-{os.getpid()}"
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir()
    schema = _train_schema()
    content = hashlib.sha256()
    written = 0
    try:
        sink = _ParquetSink(staging / TRAIN_FILE, schema)
        for shard in deduped["shard_paths"]:
            table = pq.read_table(shard)
            table = table.filter(pc.invert(pc.is_in(table[ROW_COLUMN], value_set=removed)))
            table = table.select(list(TRAIN_COLUMNS))
            for row in zip(*(table[name].to_pylist() for name in TRAIN_COLUMNS), strict=True):
                content.update(json.dumps(row, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
                content.update(b"\n")
            sink.write(table)
            written += table.num_rows
        sink.close()
        if written != rows_out:
            raise ReconciliationError(f"snapshot_dataset: wrote {written} rows but dedup kept {rows_out}")
        settings, config_sha = data_config_fingerprint(cfg)
        content_sha = content.hexdigest()
        snapshot_hash = hashlib.sha256(f"{content_sha}:{config_sha}".encode()).hexdigest()[:24]
        final = snapshots / snapshot_hash
        manifest = _manifest(cfg, validated, deduped, snapshot_hash, content_sha, config_sha, settings, written)
        if (final / MANIFEST_FILE).is_file() and (final / TRAIN_FILE).is_file():
            reused = True
        else:
            atomic_write_json(staging / MANIFEST_FILE, manifest)
            if final.exists():  # an incomplete folder from a crash: replace it
                shutil.rmtree(final)
            try:
                os.rename(staging, final)
            except OSError:
                if not (final / MANIFEST_FILE).is_file():
                    raise
            fsync_dir(snapshots)
            reused = False
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
        "rows_in": rows_in,
        "rows_out": written,
        "rows_quarantined": quarantined,
        "duplicates_removed": duplicates,
        "exact_duplicates": int(deduped["exact_duplicates"]),
        "near_duplicates": int(deduped["near_duplicates"]),
        "contaminated": contaminated,
        "pii_counts": dict(deduped["pii_counts"]),
        "data_docs_dir": validated.get("data_docs_dir"),
        "reused": reused,
    }


def _manifest(
    cfg: LLMOpsConfig,
    validated: Mapping[str, Any],
    deduped: Mapping[str, Any],
    snapshot_hash: str,
    content_sha: str,
    config_sha: str,
    settings: Mapping[str, Any],
    rows: int,
) -> dict[str, Any]:
    metrics = validated.get("metrics") or {}
    sources = [{"role": "train", "path": validated["source_file"], "sha256": validated["source_sha256"]}]
    if cfg.raw_eval_path.is_file():
        sources.append({"role": "eval", "path": str(cfg.raw_eval_path), "sha256": _sha256_file(cfg.raw_eval_path)})
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


# ---------------------------------------------------------------------------------------------------------------
# Production logs
# ---------------------------------------------------------------------------------------------------------------
def _prod_log_files(source: Path) -> list[Path]:
    if source.is_dir():
        return sorted(
            p for p in source.rglob("*") if p.is_file() and p.suffix.lower() in (".jsonl", ".parquet", ".csv")
        )
    return [source]


def curate_production_logs(
    cfg: LLMOpsConfig,
    source: str | Path | Iterable[Mapping[str, Any]] | None,
    run_key: str,
    *,
    build_docs: bool = True,
) -> dict[str, Any]:
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
    from llmops.data.ingest import iter_record_chunks, records_to_parquet, write_quarantine
    from llmops.data.pii import PiiScrubber
    from llmops.data.validate import PRODUCTION_LOGS, validate_records

    out_dir = _run_dir(cfg.paths.curated_dir / "prod_logs", run_key)
    quarantine_path = prod_log_quarantine_path(cfg, run_key)
    rows: list[dict[str, Any]] = []
    lines: list[int | None] = []
    files: list[str] = []
    quarantined: list[dict[str, Any]] = []
    rows_in = 0
    if source is None or isinstance(source, str | Path):
        for path in _prod_log_files(Path(source) if source is not None else cfg.prod_log_source):
            for chunk in iter_record_chunks(path, cfg.data.max_line_bytes, None, layout="production_logs"):
                rows_in += chunk.records_read
                quarantined.extend(chunk.quarantined)
                rows.extend(chunk.rows)
                lines.extend(chunk.line_numbers)
                files.extend([chunk.source_file] * len(chunk.rows))
    else:
        from llmops.data.ingest import normalize_prod_record

        for number, obj in enumerate(source, start=1):
            rows_in += 1
            row, reason = normalize_prod_record(obj, "memory")
            if row is None:
                quarantined.append(
                    {
                        "source_file": "<memory>",
                        "line_number": number,
                        "reason": reason,
                        "raw": json.dumps(obj, default=str)[:1000],
                    }
                )
            else:
                rows.append(row)
                lines.append(number)
                files.append("<memory>")
    outcome = validate_records(
        rows, cfg, f"{run_key}-prod_logs", line_numbers=lines, build_docs=build_docs, kind=PRODUCTION_LOGS
    )
    for record in outcome.quarantined:
        index = lines.index(record["line_number"]) if record["line_number"] in lines else None
        if index is not None:
            record["source_file"] = files[index]
    quarantined.extend(outcome.quarantined)
    write_quarantine(quarantined, quarantine_path)
    reconcile("curate_production_logs", rows_in, kept=len(outcome.kept_rows), quarantined=len(quarantined))
    counts: dict[str, int] = dict.fromkeys(cfg.data.pii.entities, 0)
    kept = outcome.kept_rows
    if cfg.data.pii.enabled:
        kept, counts, _ = PiiScrubber(cfg.data.pii.entities).scrub_records(kept)
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
