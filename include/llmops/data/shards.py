"""Shards of the validated rows, one mapped task each: split, PII scrubbing, then keys, signatures and LSH bands.

Each shard keeps the rows' global position (``row``, 0-based in file order), which identifies a row through dedup
and decides cluster representatives. Signature files are read back by :mod:`llmops.data.dedup` (keys and bands of
every row, signatures of candidate rows only).
"""

from __future__ import annotations

import logging
import shutil
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llmops.data.sinks import ROW_COLUMN, SHARDS_DIR, ParquetSink, run_dir, train_schema, write_table

if TYPE_CHECKING:
    from llmops.config import LLMOpsConfig
    from llmops.data.payloads import Scrubbed, Signed

logger = logging.getLogger(__name__)


def write_shards(cfg: LLMOpsConfig, run_key: str, validated_path: str) -> list[str]:
    """Split the validated rows into shard files of at most ``data.shard_rows`` rows, streaming.

    Earlier shards of the same run key are removed first.

    Args:
        cfg: the configuration.
        run_key: names the output folder.
        validated_path: the validated rows (:func:`llmops.data.validation.validate_raw_file`).

    Returns:
        The shard paths in order (at least one, possibly empty, shard), for dynamic task mapping.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    shard_dir = run_dir(cfg.paths.curated_dir, run_key) / SHARDS_DIR
    if shard_dir.exists():
        shutil.rmtree(shard_dir)
    shard_dir.mkdir(parents=True)
    schema = train_schema(with_line=True, with_row=True)
    size = cfg.data.shard_rows
    paths: list[str] = []
    sink: ParquetSink | None = None
    row = 0
    for batch in pq.ParquetFile(validated_path).iter_batches(batch_size=min(size, 65_536)):
        table = pa.Table.from_batches([batch])
        offset = 0
        while offset < table.num_rows:
            if sink is None or sink.rows >= size:
                if sink is not None:
                    paths.append(str(sink.close()))
                sink = ParquetSink(shard_dir / f"shard-{len(paths):05d}.parquet", schema)
            take = min(size - sink.rows, table.num_rows - offset)
            piece = table.slice(offset, take)
            piece = piece.add_column(0, ROW_COLUMN, pa.array(range(row, row + take), type=pa.int64()))
            sink.write(piece)
            offset += take
            row += take
    if sink is None:
        sink = ParquetSink(shard_dir / "shard-00000.parquet", schema)
    paths.append(str(sink.close()))
    logger.info("planned %d shard(s) of <= %d rows for %d rows", len(paths), size, row)
    return paths


def scrub(cfg: LLMOpsConfig, shard_path: str) -> Scrubbed:
    """Replace PII in the prompts and responses of one shard with typed placeholders.

    Args:
        cfg: the configuration (``data.pii``).
        shard_path: a path from :func:`write_shards`.

    Returns:
        The scrubbed shard (``*.scrubbed.parquet``), its rows, the rows changed and counts per entity type.
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
        scrubber = PiiScrubber.from_config(cfg)
        totals: Counter[str] = Counter()
        for name in ("prompt", "response"):
            values = table[name].to_pylist()
            out = []
            for value in values:
                scrubbed, found = scrubber.scrub(value)
                totals.update(found)
                out.append(scrubbed)
            changed += sum(a != b for a, b in zip(values, out, strict=True))
            table = table.set_column(table.schema.get_field_index(name), name, pa.array(out, type=pa.string()))
        counts = {entity: int(totals.get(entity, 0)) for entity in cfg.data.pii.entities}
    write_table(target, table)
    return {"shard_path": str(target), "rows": table.num_rows, "rows_changed": changed, "pii_counts": counts}


def dedup_texts(table: Any) -> Any:
    """The text near-duplicates are judged on: prompt and response together."""
    import pyarrow.compute as pc

    return pc.binary_join_element_wise(pc.fill_null(table["prompt"], ""), pc.fill_null(table["response"], ""), "\n")


def sign(cfg: LLMOpsConfig, scrubbed: Scrubbed) -> Signed:
    """Exact-duplicate keys, MinHash signatures and LSH band hashes of one (scrubbed) shard.

    Writes ``*.sig.parquet`` next to the shard with ``row``, ``content_key``, ``empty`` (no shingles), ``bands``
    (one uint64 per band) and ``signature`` (``num_perm`` uint32 as bytes).

    Args:
        cfg: the configuration (``data.dedup``).
        scrubbed: a result of :func:`scrub`.

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
    values, offsets = minhash.shingle_hashes(dedup_texts(table), params.shingle_size)
    a, b = minhash.permutations(params.num_perm, params.seed)
    sigs = minhash.signatures(values, offsets, a, b)
    bands = minhash.band_hashes(sigs, params.bands, params.rows_per_band)
    out = pa.table(
        {
            ROW_COLUMN: table[ROW_COLUMN],
            "content_key": pa.array(content_keys(table["prompt"], table["response"]), type=pa.uint64()),
            "empty": pa.array(minhash.empty_mask(sigs)),
            "bands": pa.FixedSizeListArray.from_arrays(pa.array(bands.reshape(-1), type=pa.uint64()), params.bands),
            "signature": pa.array(
                [sigs[i].tobytes() for i in range(table.num_rows)], type=pa.binary(4 * params.num_perm)
            ),
        }
    )
    write_table(target, out)
    return {**scrubbed, "signature_path": str(target)}
