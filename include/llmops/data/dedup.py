"""Deduplication: exact-duplicate keys, and the merge of all shards that removes duplicates and eval copies.

The exact-duplicate key of a row is a hash of its normalised prompt and response. :func:`normalize_text` is the
per-row definition; :func:`normalize_texts` is the same normalisation vectorized on Arrow, and :func:`content_keys`
hashes whole columns at once (the sharded pipeline uses those).

:func:`dedup_shards` is the merge step over the signed shards (:mod:`llmops.data.shards`). Order and precedence: a
row that near-duplicates an eval example is *contaminated* (:mod:`llmops.data.decontaminate`); among the other rows,
rows with the same key are *exact* duplicates; among the remaining representatives, MinHash/LSH clusters (similarity
``>= data.dedup.threshold``, :mod:`llmops.data.minhash`) are *near* duplicates. Every cluster keeps its row with the
smallest global position, so the result depends only on the input. The merge runs out of core on DuckDB under a
memory budget (:mod:`llmops.data.merge`); the removed rows are streamed shard by shard to record what was removed.
"""

from __future__ import annotations

import hashlib
import logging
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llmops.data.gates import reconcile
from llmops.data.sinks import (
    CONTAMINATED_FILE,
    DECISIONS_FILE,
    REMOVED_FILE,
    ROW_COLUMN,
    ParquetSink,
    run_dir,
    train_schema,
)

if TYPE_CHECKING:
    from llmops.config import LLMOpsConfig
    from llmops.data.payloads import Deduped, Signed

logger = logging.getLogger(__name__)

_WHITESPACE = re.compile(r"\s+")


def _is_punctuation(ch: str) -> bool:
    return unicodedata.category(ch).startswith("P")


def normalize_text(s: str | None) -> str:
    """Canonical form of a text for duplicate detection.

    Lower-casing, NFKC normalisation, whitespace runs collapsed to one space, and whitespace and
    punctuation stripped from both ends. Inner punctuation is kept: ``"Hi, there!"`` becomes ``"hi, there"``.

    Args:
        s: the text; ``None`` is treated as the empty string.

    Returns:
        The normalised text.
    """
    if not s:
        return ""
    text = unicodedata.normalize("NFKC", s.lower())
    text = _WHITESPACE.sub(" ", text)
    start, end = 0, len(text)
    while start < end and (text[start].isspace() or _is_punctuation(text[start])):
        start += 1
    while end > start and (text[end - 1].isspace() or _is_punctuation(text[end - 1])):
        end -= 1
    return text[start:end]


def content_key(row: Mapping[str, Any]) -> str:
    """Hash of the normalised prompt and response of a row (the exact-duplicate key).

    Args:
        row: a training record with ``prompt`` and ``response``.

    Returns:
        A hex SHA-1 digest.
    """
    prompt = normalize_text(row.get("prompt"))
    response = normalize_text(row.get("response"))
    # The unit separator cannot appear in normalised text, so ("a b", "c") and ("a", "b c") never collide.
    return hashlib.sha1(f"{prompt}\x1f{response}".encode()).hexdigest()


# The ASCII part of Python's str.isspace() set, spelled so that RE2 (Arrow) and `re` agree on it.
_ASCII_WS = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f "
_ASCII_TRIM = _ASCII_WS + "".join(chr(c) for c in range(33, 127) if unicodedata.category(chr(c)).startswith("P"))


def _rows_needing_collapse(array: Any) -> Any:
    """Rows holding two whitespace bytes in a row or a whitespace byte other than a space (numpy over the bytes)."""
    import numpy as np

    offsets = np.frombuffer(array.buffers()[1], dtype=np.int32)[array.offset : array.offset + len(array) + 1]
    buffer = array.buffers()[2]
    if buffer is None or len(array) == 0:
        return np.zeros(len(array), dtype=bool)
    data = np.frombuffer(buffer, dtype=np.uint8)
    step = 1 << 18  # cache-sized slices, overlapping by one byte so pairs across a cut are seen
    found: list[Any] = []
    start, end = int(offsets[0]), int(offsets[-1])
    for lo in range(start, end, step):
        piece = data[lo : min(end, lo + step + 1)]
        low = piece <= 32  # every ASCII whitespace byte is <= 32; other control bytes only cost a no-op regex
        odd = low & (piece != 32)
        odd[:-1] |= low[:-1] & low[1:]
        found.append(np.flatnonzero(odd[: min(step, end - lo)]) + lo)
    hits = np.concatenate(found) if found else np.zeros(0, dtype=np.int64)
    out = np.zeros(len(array), dtype=bool)
    out[np.searchsorted(offsets, hits, side="right") - 1] = True
    return out


def normalize_texts(texts: Any) -> Any:
    """:func:`normalize_text` for a whole column, with Arrow compute kernels.

    ASCII rows (almost all of them) go through Arrow's ASCII kernels: lower-casing, a whitespace-collapsing regex
    only on rows that hold a whitespace run or a non-space whitespace character, and trimming of whitespace and
    punctuation. Other rows are normalised by :func:`normalize_text` itself, so the result is identical for every
    row.

    Args:
        texts: a pyarrow string array (nulls become empty strings).

    Returns:
        A pyarrow string array.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    array = texts if isinstance(texts, pa.Array | pa.ChunkedArray) else pa.array(list(texts), type=pa.string())
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks() if array.num_chunks else pa.array([], type=pa.string())
    original = pc.fill_null(array.cast(pa.string()), "")
    array = pc.ascii_lower(original)
    # Rows that need the whitespace regex: a run of two whitespace characters, or whitespace other than " ".
    needs = pa.array(_rows_needing_collapse(array))
    if pc.any(needs).as_py():
        collapsed = pc.replace_substring_regex(pc.filter(array, needs), pattern=f"[{_ASCII_WS}]+", replacement=" ")
        array = pc.replace_with_mask(array, needs, collapsed)
    array = pc.ascii_trim(array, characters=_ASCII_TRIM)
    non_ascii = pc.invert(pc.string_is_ascii(original))
    if pc.any(non_ascii).as_py():
        values = pc.filter(original, non_ascii).to_pylist()
        array = pc.replace_with_mask(array, non_ascii, pa.array([normalize_text(v) for v in values], type=pa.string()))
    return array


def content_keys(prompts: Any, responses: Any) -> Any:
    """Exact-duplicate keys of whole columns (64-bit hashes of normalised prompt and response).

    Args:
        prompts: pyarrow string array.
        responses: pyarrow string array of the same length.

    Returns:
        numpy uint64 array; equal keys mean equal normalised (prompt, response) pairs.
    """
    import pyarrow.compute as pc

    from llmops.data.minhash import string_hashes

    joined = pc.binary_join_element_wise(normalize_texts(prompts), normalize_texts(responses), "\x1f")
    return string_hashes(joined)


def dedup_shards(cfg: LLMOpsConfig, run_key: str, signed: Iterable[Signed]) -> Deduped:
    """Merge step: decontaminate against the eval set, then remove exact and near-duplicates across all shards.

    Runs out of core on DuckDB under ``data.dedup.merge_memory_mb`` (:mod:`llmops.data.merge`). Writes
    ``dedup_decisions.parquet`` (one row per removed row: ``row``, ``status``, ``cluster_row``, ``similarity``,
    ``eval_id``), ``removed_duplicates.parquet`` and ``removed_contaminated.parquet`` (the removed rows with
    ``cluster_id`` = the ``id`` of the row kept for their cluster, or the ``eval_id``, and ``dedup_method``), one shard
    at a time. The duplicate ceiling is the ``duplicate_ceiling`` verdict's business
    (:func:`llmops.data.gates.duplicate_ceiling`).

    Args:
        cfg: the configuration.
        run_key: names the output folder.
        signed: the results of :func:`llmops.data.shards.sign`, one per shard.

    Returns:
        Paths and counts: ``rows_in``, ``rows_out``, ``duplicates_removed`` (exact + near), ``exact_duplicates``,
        ``near_duplicates``, ``contaminated``, ``duplicate_ratio``, ``clusters``, ``dedup_params``, ``pii_counts``,
        ``shard_paths``, ...

    Raises:
        ReconciliationError: the shards' rows are not the positions ``0 .. n - 1`` (a shard is missing), or
            ``rows_in != rows_out + duplicates + contaminated``.
    """
    from llmops.data import merge
    from llmops.data.minhash import MinHashParams

    out_dir = run_dir(cfg.paths.curated_dir, run_key)
    params = MinHashParams.from_config(cfg.data.dedup)
    shards = sorted(signed, key=lambda s: str(s["signature_path"]))
    with merge.engine(out_dir / ".merge", cfg.data.dedup.merge_memory_mb, cfg.data.dedup.merge_threads) as con:
        counts = merge.merge(cfg, con, shards, params)
        merge.collect_rep_ids(con, [str(s["shard_path"]) for s in shards])
        decisions_path = _write_decisions(con, out_dir / DECISIONS_FILE)
        removed_path, contaminated_path = _write_removed_rows(con, out_dir, shards)
        eval_rows = int(con.execute("SELECT count(*) FROM eval_ids").fetchone()[0])

    n, exact, near, contaminated, rows_out = counts.rows_in, counts.exact, counts.near, counts.contaminated, counts.kept
    reconcile("dedup_dataset", n, kept=rows_out, duplicates=exact + near, contaminated=contaminated)
    pii_counts: Counter[str] = Counter()
    for s in shards:
        pii_counts.update(s.get("pii_counts") or {})
    logger.info(
        "dedup kept %d of %d rows: %d exact and %d near duplicates (%d of %d candidates verified), %d contaminated",
        rows_out,
        n,
        exact,
        near,
        counts.verified_pairs,
        counts.candidate_pairs,
        contaminated,
    )
    return {
        "decisions_path": str(decisions_path),
        "removed_path": str(removed_path),
        "contaminated_path": str(contaminated_path),
        "shard_paths": [str(s["shard_path"]) for s in shards],
        "rows_in": n,
        "rows_out": rows_out,
        "duplicates_removed": exact + near,
        "exact_duplicates": exact,
        "near_duplicates": near,
        "contaminated": contaminated,
        "duplicate_ratio": round((exact + near) / n if n else 0.0, 6),
        "clusters": counts.clusters,
        "eval_rows": eval_rows,
        "dedup_params": {
            **params.as_dict(),
            "near_duplicates": cfg.data.dedup.near_duplicates,
            "decontaminate": cfg.data.dedup.decontaminate,
            "contamination_threshold": cfg.data.dedup.contamination_threshold,
        },
        "pii_counts": {k: int(pii_counts.get(k, 0)) for k in cfg.data.pii.entities},
        "pii_rows_changed": int(sum(int(s.get("rows_changed", 0)) for s in shards)),
    }


def decisions_schema() -> Any:
    """Columns of ``dedup_decisions.parquet``."""
    import pyarrow as pa

    return pa.schema(
        [
            pa.field(ROW_COLUMN, pa.int64()),
            pa.field("status", pa.string()),
            pa.field("cluster_row", pa.int64()),
            pa.field("similarity", pa.float64()),
            pa.field("eval_id", pa.string()),
        ]
    )


def _write_decisions(con: Any, path: Path) -> Path:
    """Stream the merge's decisions into ``dedup_decisions.parquet`` (temporary file, then rename)."""
    import pyarrow as pa

    from llmops.data import merge

    sink = ParquetSink(path, decisions_schema())
    for batch in con.execute(merge.decisions_query()).to_arrow_reader(merge.BATCH_ROWS):
        sink.write(pa.Table.from_batches([batch]))
    return sink.close()


def _write_removed_rows(con: Any, out_dir: Path, signed: Sequence[Signed]) -> tuple[Path, Path]:
    """Every removed row with its cluster id, one shard at a time, split into duplicates and contaminated rows."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from llmops.data import merge

    extra = [
        pa.field("cluster_id", pa.string()),
        pa.field("dedup_method", pa.string()),
        pa.field("similarity", pa.float64()),
    ]
    schema = pa.schema([*train_schema(with_line=True, with_row=True), *extra])
    dup_sink = ParquetSink(out_dir / REMOVED_FILE, schema)
    con_sink = ParquetSink(out_dir / CONTAMINATED_FILE, schema)
    for s in signed:
        for batch in con.execute(merge.removed_rows_query(str(s["shard_path"]))).to_arrow_reader(merge.BATCH_ROWS):
            if not batch.num_rows:
                continue
            t = pa.Table.from_batches([batch])
            is_con = pc.equal(t["dedup_method"], merge.STATUS_NAMES[merge.CONTAMINATED])
            con_sink.write(t.filter(is_con))
            dup_sink.write(t.filter(pc.invert(is_con)))
    return dup_sink.close(), con_sink.close()
