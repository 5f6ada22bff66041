"""Deduplication: exact-duplicate keys, and the merge of all shards that removes duplicates and eval copies.

The exact-duplicate key of a row is a hash of its normalised prompt and response. :func:`normalize_text` is the
per-row definition; :func:`normalize_texts` is the same normalisation vectorized on Arrow, and :func:`content_keys`
hashes whole columns at once (the sharded pipeline uses those).

:func:`dedup_shards` is the merge step over the signed shards (:mod:`llmops.data.shards`). Order and precedence: a
row that near-duplicates an eval example is *contaminated* (:mod:`llmops.data.decontaminate`); among the other rows,
rows with the same key are *exact* duplicates; among the remaining representatives, MinHash/LSH clusters (similarity
``>= data.dedup.threshold``, :mod:`llmops.data.minhash`) are *near* duplicates. Every cluster keeps its row with the
smallest global position, so the result depends only on the input. Only keys, band hashes and the signatures of
candidate rows are held in memory; the rows themselves are streamed shard by shard to record what was removed.
"""

from __future__ import annotations

import hashlib
import logging
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llmops.data.gates import ReconciliationError, reconcile
from llmops.data.sinks import (
    CONTAMINATED_FILE,
    DECISIONS_FILE,
    REMOVED_FILE,
    ROW_COLUMN,
    ParquetSink,
    run_dir,
    train_schema,
    write_table,
)

if TYPE_CHECKING:
    from llmops.config import LLMOpsConfig
    from llmops.data.minhash import MinHashParams
    from llmops.data.payloads import Deduped, Signed

logger = logging.getLogger(__name__)

_WHITESPACE = re.compile(r"\s+")
# Why a row left the curated set (``status`` of dedup_decisions.parquet).
KEPT, EXACT_DUPLICATE, NEAR_DUPLICATE, CONTAMINATED = 0, 1, 2, 3
_STATUS_NAMES = {EXACT_DUPLICATE: "exact", NEAR_DUPLICATE: "minhash", CONTAMINATED: "contaminated"}


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


@dataclass
class Decisions:
    """What the merge decided for every row, by global position.

    Attributes:
        status: ``KEPT``, ``EXACT_DUPLICATE``, ``NEAR_DUPLICATE`` or ``CONTAMINATED`` (int8).
        cluster_row: the row kept for a duplicate's cluster (-1 otherwise).
        similarity: estimated Jaccard similarity to that row or to the eval example (1.0 for exact duplicates).
        eval_match: index in ``eval_ids`` of a contaminated row's eval example (-1 otherwise).
        eval_ids: ids of the eval examples compared against.
    """

    status: Any
    cluster_row: Any
    similarity: Any
    eval_match: Any
    eval_ids: list[str] = field(default_factory=list)

    @classmethod
    def start(cls, n: int) -> Decisions:
        """Every row kept."""
        import numpy as np

        return cls(
            np.zeros(n, dtype=np.int8), np.full(n, -1, dtype=np.int64), np.full(n, np.nan), np.full(n, -1, np.int64)
        )

    def count(self, status: int) -> int:
        return int((self.status == status).sum())

    def clusters(self) -> int:
        """Clusters with at least one exact or near duplicate removed."""
        import numpy as np

        dup_rows = np.flatnonzero((self.status == EXACT_DUPLICATE) | (self.status == NEAR_DUPLICATE))
        return int(np.unique(self.cluster_row[dup_rows]).size)

    def table(self) -> Any:
        """The removed rows: ``row``, ``status``, ``cluster_row``, ``similarity``, ``eval_id``."""
        import numpy as np
        import pyarrow as pa

        removed = np.flatnonzero(self.status != KEPT)
        eval_ids = [self.eval_ids[int(e)] if e >= 0 else None for e in self.eval_match[removed]]
        return pa.table(
            {
                ROW_COLUMN: pa.array(removed, type=pa.int64()),
                "status": pa.array([_STATUS_NAMES[int(v)] for v in self.status[removed]], type=pa.string()),
                "cluster_row": pa.array(self.cluster_row[removed], type=pa.int64()),
                "similarity": pa.array(np.round(self.similarity[removed], 6), type=pa.float64()),
                "eval_id": pa.array(eval_ids, type=pa.string()),
            }
        )


def dedup_shards(cfg: LLMOpsConfig, run_key: str, signed: Iterable[Signed]) -> Deduped:
    """Merge step: decontaminate against the eval set, then remove exact and near-duplicates across all shards.

    Writes ``dedup_decisions.parquet`` (:meth:`Decisions.table`), ``removed_duplicates.parquet`` and
    ``removed_contaminated.parquet`` (the removed rows with ``cluster_id`` = the ``id`` of the row kept for their
    cluster, or the ``eval_id``, and ``dedup_method``). The duplicate ceiling is the ``duplicate_ceiling`` verdict's
    business (:func:`llmops.data.gates.duplicate_ceiling`).

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
    import numpy as np

    from llmops.data.minhash import MinHashParams
    from llmops.data.shards import read_signature_columns

    out_dir = run_dir(cfg.paths.curated_dir, run_key)
    params = MinHashParams.from_config(cfg.data.dedup)
    shards = sorted(signed, key=lambda s: str(s["signature_path"]))
    table = read_signature_columns(shards, [ROW_COLUMN, "content_key", "empty", "bands"])
    n = table.num_rows if table is not None else 0
    if n and not np.array_equal(table[ROW_COLUMN].to_numpy(), np.arange(n)):
        raise ReconciliationError(f"dedup_dataset: shard rows are not the positions 0..{n - 1}; a shard is missing")
    decisions = Decisions.start(n)
    if n:
        _decide(cfg, decisions, shards, table, params)
    decisions_path = write_table(out_dir / DECISIONS_FILE, decisions.table())
    removed_path, contaminated_path = _write_removed_rows(out_dir, shards, decisions)

    exact, near = decisions.count(EXACT_DUPLICATE), decisions.count(NEAR_DUPLICATE)
    contaminated, rows_out = decisions.count(CONTAMINATED), decisions.count(KEPT)
    reconcile("dedup_dataset", n, kept=rows_out, duplicates=exact + near, contaminated=contaminated)
    pii_counts: Counter[str] = Counter()
    for s in shards:
        pii_counts.update(s.get("pii_counts") or {})
    logger.info(
        "dedup kept %d of %d rows: %d exact and %d near duplicates, %d contaminated",
        rows_out,
        n,
        exact,
        near,
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
        "clusters": decisions.clusters(),
        "eval_rows": len(decisions.eval_ids),
        "dedup_params": {
            **params.as_dict(),
            "near_duplicates": cfg.data.dedup.near_duplicates,
            "decontaminate": cfg.data.dedup.decontaminate,
            "contamination_threshold": cfg.data.dedup.contamination_threshold,
        },
        "pii_counts": {k: int(pii_counts.get(k, 0)) for k in cfg.data.pii.entities},
        "pii_rows_changed": int(sum(int(s.get("rows_changed", 0)) for s in shards)),
    }


def _decide(
    cfg: LLMOpsConfig, decisions: Decisions, signed: Sequence[Signed], table: Any, params: MinHashParams
) -> None:
    """Contaminated first, then exact duplicates among the rest, then near duplicates among what is left."""
    from llmops.data.decontaminate import find_contaminated

    n = table.num_rows
    keys = table["content_key"].to_numpy()
    empty = table["empty"].to_numpy(zero_copy_only=False)
    bands = table["bands"].combine_chunks().flatten().to_numpy().reshape(n, params.bands)
    if cfg.data.dedup.decontaminate and cfg.raw_eval_path.is_file():
        found = find_contaminated(cfg, signed, bands, empty, params)
        decisions.eval_ids = found.eval_ids
        decisions.status[found.rows] = CONTAMINATED
        decisions.eval_match[found.rows] = found.matches
        decisions.similarity[found.rows] = found.similarity
    _mark_exact(decisions, keys)
    if cfg.data.dedup.near_duplicates:
        _mark_near(decisions, signed, bands, empty, params)


def _mark_exact(decisions: Decisions, keys: Any) -> None:
    """Among the kept rows, every row whose key an earlier row has is an exact duplicate of the earliest one."""
    import numpy as np

    alive = np.flatnonzero(decisions.status == KEPT)
    order = alive[np.lexsort((alive, keys[alive]))]
    first = np.ones(order.size, dtype=bool)
    first[1:] = keys[order[1:]] != keys[order[:-1]]
    rep = order[np.maximum.accumulate(np.where(first, np.arange(order.size), 0))]
    dup = ~first
    decisions.status[order[dup]] = EXACT_DUPLICATE
    decisions.cluster_row[order[dup]] = rep[dup]
    decisions.similarity[order[dup]] = 1.0


def _mark_near(decisions: Decisions, signed: Sequence[Signed], bands: Any, empty: Any, params: MinHashParams) -> None:
    """Among the kept rows with shingles, LSH candidates verified on their signatures, clustered; each cluster keeps
    its earliest row."""
    import numpy as np

    from llmops.data import minhash
    from llmops.data.shards import read_signatures

    alive = np.flatnonzero((decisions.status == KEPT) & ~empty)
    pairs = minhash.candidate_pairs(bands[alive], params.max_bucket_pairs)
    if not len(pairs):
        return
    global_pairs = alive[pairs]
    sigs = read_signatures(signed, global_pairs.reshape(-1), params.num_perm)

    def similarity(left: Any, right: Any) -> Any:
        return minhash.estimated_jaccard(
            np.stack([sigs[int(r)] for r in left]), np.stack([sigs[int(r)] for r in right])
        )

    edges = pairs[similarity(global_pairs[:, 0], global_pairs[:, 1]) >= params.threshold - 1e-12]
    labels = minhash.connected_components(alive.size, edges)
    members = np.flatnonzero(labels != np.arange(alive.size))
    removed, reps = alive[members], alive[labels[members]]
    decisions.status[removed] = NEAR_DUPLICATE
    decisions.cluster_row[removed] = reps
    if removed.size:  # every member and representative of a cluster is an endpoint of a verified pair
        decisions.similarity[removed] = similarity(removed, reps)


def _write_removed_rows(out_dir: Path, signed: Sequence[Signed], decisions: Decisions) -> tuple[Path, Path]:
    """Stream the shards twice: ids of the kept representatives, then every removed row with its cluster id."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    rep_ids = _row_ids(signed, np.unique(decisions.cluster_row[decisions.cluster_row >= 0]))
    extra = [
        pa.field("cluster_id", pa.string()),
        pa.field("dedup_method", pa.string()),
        pa.field("similarity", pa.float64()),
    ]
    schema = pa.schema([*train_schema(with_line=True, with_row=True), *extra])
    dup_sink = ParquetSink(out_dir / REMOVED_FILE, schema)
    con_sink = ParquetSink(out_dir / CONTAMINATED_FILE, schema)
    status = decisions.status
    wanted = pa.array(np.flatnonzero(status != KEPT), type=pa.int64())
    for s in signed:
        t = pq.read_table(s["shard_path"])
        t = t.filter(pc.is_in(t[ROW_COLUMN], value_set=wanted))
        if not t.num_rows:
            continue
        r = t[ROW_COLUMN].to_numpy()
        cluster_ids = [
            decisions.eval_ids[int(decisions.eval_match[i])]
            if status[i] == CONTAMINATED
            else rep_ids.get(int(decisions.cluster_row[i]))
            for i in r
        ]
        t = t.append_column("cluster_id", pa.array(cluster_ids, type=pa.string()))
        t = t.append_column("dedup_method", pa.array([_STATUS_NAMES[int(v)] for v in status[r]], type=pa.string()))
        t = t.append_column("similarity", pa.array(np.round(decisions.similarity[r], 6), type=pa.float64()))
        is_con = pa.array(status[r] == CONTAMINATED)
        con_sink.write(t.filter(is_con))
        dup_sink.write(t.filter(pc.invert(is_con)))
    return dup_sink.close(), con_sink.close()


def _row_ids(signed: Sequence[Signed], rows: Any) -> dict[int, str]:
    """The ``id`` of each of the given global rows."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    ids: dict[int, str] = {}
    if rows.size:
        wanted = pa.array(rows, type=pa.int64())
        for s in signed:
            t = pq.read_table(s["shard_path"], columns=[ROW_COLUMN, "id"])
            t = t.filter(pc.is_in(t[ROW_COLUMN], value_set=wanted))
            ids.update(zip(t[ROW_COLUMN].to_pylist(), t["id"].to_pylist(), strict=True))
    return ids
