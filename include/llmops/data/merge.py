"""The dedup merge out of core: decontamination, exact and near duplicates over all shards, on DuckDB.

Every step is a SQL statement over the shards' signature Parquet files (``row``, ``content_key``, ``empty``,
``bands``, ``signature``; :func:`llmops.data.shards.sign`), run by DuckDB with ``data.dedup.merge_memory_mb`` as its
memory limit and a spill folder beside the run's output, so the merge never holds a column of all rows in Python and
its memory stays under the budget at any number of rows. Candidate pairs are screened inside the engine on sketches
of their signatures (:func:`_screen`: a pair that cannot reach the threshold is dropped there); only the survivors,
with their two signatures, reach numpy to be compared exactly (:data:`BATCH_ROWS` at a time).

Same decisions as the in-memory kernels of :mod:`llmops.data.minhash` (``candidate_pairs`` with its bucket cap,
``connected_components`` labelled by the smallest row), in the same order: contaminated rows first, exact duplicates
among the rest, then near duplicates among what is left. Every cluster keeps its row with the smallest position.

Decisions live in the table ``removed`` (``row``, ``status``, ``cluster_row``, ``similarity``, ``eval_idx``), one
row per removed row; kept rows are absent.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from llmops.config import LLMOpsConfig
    from llmops.data.minhash import MinHashParams
    from llmops.data.payloads import Signed

logger = logging.getLogger(__name__)

# Statuses in the ``removed`` table, and their names in the output files (``status``, ``dedup_method``).
EXACT, NEAR, CONTAMINATED = 1, 2, 3
STATUS_NAMES = {EXACT: "exact", NEAR: "minhash", CONTAMINATED: "contaminated"}
STATUS_SQL = "CASE status " + " ".join(f"WHEN {k} THEN '{v}'" for k, v in STATUS_NAMES.items()) + " END"
# Candidate pairs (with their two signatures) handed to numpy at a time.
BATCH_ROWS = 32_768
# Memory DuckDB may use of the budget; the rest is Python, Arrow batches and the spill folder's bookkeeping.
ENGINE_SHARE = 0.45
# Bits of every signature value the engine compares first (see _screen).
SKETCH_BITS = 4
_EPS = 1e-12


@dataclass(frozen=True)
class MergeCounts:
    """What the merge removed.

    Attributes:
        rows_in: rows of all shards.
        exact: exact duplicates removed.
        near: near duplicates removed.
        contaminated: rows removed as copies of eval examples.
        clusters: clusters with at least one exact or near duplicate removed.
        candidate_pairs: near-duplicate candidate pairs compared.
        verified_pairs: candidate pairs at or above the threshold.
    """

    rows_in: int
    exact: int
    near: int
    contaminated: int
    clusters: int
    candidate_pairs: int
    verified_pairs: int

    @property
    def kept(self) -> int:
        return self.rows_in - self.exact - self.near - self.contaminated


@contextmanager
def engine(work_dir: Path, memory_mb: int, threads: int | None = None) -> Iterator[Any]:
    """A DuckDB database in ``work_dir`` (removed afterwards) limited to ``ENGINE_SHARE`` of ``memory_mb``, spilling
    to ``work_dir/spill``."""
    import duckdb

    if work_dir.exists():  # a crashed earlier attempt: its database and spill files are scratch
        shutil.rmtree(work_dir)
    (work_dir / "spill").mkdir(parents=True)
    config: dict[str, Any] = {
        "memory_limit": f"{max(64, int(memory_mb * ENGINE_SHARE))}MB",
        "temp_directory": str(work_dir / "spill"),
        "preserve_insertion_order": False,
    }
    if threads:
        config["threads"] = threads
    con = duckdb.connect(str(work_dir / "merge.duckdb"), config=config)
    try:
        yield con
    finally:
        con.close()
        shutil.rmtree(work_dir, ignore_errors=True)


def _paths_sql(paths: Sequence[str]) -> str:
    return "[" + ", ".join("'" + str(p).replace("'", "''") + "'" for p in paths) + "]"


def merge(cfg: LLMOpsConfig, con: Any, signed: Sequence[Signed], params: MinHashParams) -> MergeCounts:
    """Fill the table ``removed`` of ``con`` with the merge's decisions over the signed shards.

    Args:
        cfg: the configuration (``data.dedup``, ``raw_eval_path``).
        con: a connection from :func:`engine`.
        signed: the signed shards.
        params: MinHash and LSH parameters.

    Returns:
        The counts.

    Raises:
        ReconciliationError: the shards' rows are not the positions ``0 .. n - 1`` (a shard is missing or repeated).
    """
    from llmops.data.gates import ReconciliationError

    files = [str(s["signature_path"]) for s in signed]
    con.execute(
        "CREATE TABLE removed (row BIGINT, status TINYINT, cluster_row BIGINT, similarity DOUBLE, eval_idx BIGINT)"
    )
    con.execute("CREATE TABLE eval_ids (eval_idx BIGINT, eval_id VARCHAR)")
    if not files:
        return MergeCounts(0, 0, 0, 0, 0, 0, 0)
    con.execute(f"CREATE VIEW sig AS SELECT * FROM read_parquet({_paths_sql(files)})")
    n, lo, hi, distinct = con.execute("SELECT count(*), min(row), max(row), count(DISTINCT row) FROM sig").fetchone()
    if n and (lo != 0 or hi != n - 1 or distinct != n):
        raise ReconciliationError(f"dedup_dataset: shard rows are not the positions 0..{n - 1}; a shard is missing")
    dedup = cfg.data.dedup
    if n and dedup.decontaminate and cfg.raw_eval_path.is_file():
        _contaminated(cfg, con, params)
    _exact(con)
    candidates = verified = 0
    if n and dedup.near_duplicates:
        candidates, verified = _near(con, params)
    counts = dict(con.execute("SELECT status, count(*) FROM removed GROUP BY status").fetchall())
    (clusters,) = con.execute(
        f"SELECT count(DISTINCT cluster_row) FROM removed WHERE status IN ({EXACT}, {NEAR})"
    ).fetchone()
    return MergeCounts(
        rows_in=int(n),
        exact=int(counts.get(EXACT, 0)),
        near=int(counts.get(NEAR, 0)),
        contaminated=int(counts.get(CONTAMINATED, 0)),
        clusters=int(clusters),
        candidate_pairs=candidates,
        verified_pairs=verified,
    )


@contextmanager
def _stream(con: Any, query: str) -> Iterator[Any]:
    """The Arrow batches of ``query`` (:data:`BATCH_ROWS` at a time), read on a cursor of its own: a statement run
    on ``con`` while the batches are read (the caller's inserts) would end a stream of ``con``'s own after its first
    batches."""
    cursor = con.cursor()
    try:
        yield cursor.execute(query).to_arrow_reader(BATCH_ROWS)
    finally:
        cursor.close()


def _similarity_batches(con: Any, query: str, num_perm: int) -> Iterator[tuple[Any, Any, Any]]:
    """Run ``query`` (``a``, ``b``, ``sig_a``, ``sig_b``) and yield ``(a, b, estimated Jaccard)`` per batch."""
    with _stream(con, query) as reader:
        yield from _batches(reader, num_perm)


def _batches(reader: Any, num_perm: int) -> Iterator[tuple[Any, Any, Any]]:
    from llmops.data import minhash

    for batch in reader:
        if not batch.num_rows:
            continue
        yield (
            batch.column("a").to_numpy(),
            batch.column("b").to_numpy(),
            minhash.estimated_jaccard(_signatures(batch, "sig_a", num_perm), _signatures(batch, "sig_b", num_perm)),
        )


def _signatures(batch: Any, column: str, num_perm: int) -> Any:
    """``(rows, num_perm)`` uint32 view of a binary (or large binary) column of signatures, without copying."""
    import numpy as np
    import pyarrow as pa

    col = batch.column(column)
    offsets = np.frombuffer(col.buffers()[1], dtype=np.int64 if pa.types.is_large_binary(col.type) else np.int32)
    offsets = offsets[col.offset : col.offset + len(col) + 1]
    flat = np.frombuffer(col.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
    return flat.view(np.uint32).reshape(len(col), num_perm)


def _insert(con: Any, table: str, columns: dict[str, Any]) -> None:
    """Append numpy columns to a table through Arrow."""
    import pyarrow as pa

    batch = pa.table({k: pa.array(v) for k, v in columns.items()})
    con.register("_batch", batch)
    try:
        con.execute(f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(columns)} FROM _batch")
    finally:
        con.unregister("_batch")


def _contaminated(cfg: LLMOpsConfig, con: Any, params: MinHashParams) -> None:
    """Rows that share a band with an eval example and reach ``contamination_threshold`` with it; each is matched to
    its most similar example (ties: the first in the eval file)."""
    import numpy as np
    import pyarrow as pa

    from llmops.data import minhash
    from llmops.data.decontaminate import eval_signatures

    eval_ids, eval_sigs = eval_signatures(cfg, params)
    if not eval_ids:
        return
    _insert(con, "eval_ids", {"eval_idx": np.arange(len(eval_ids), dtype=np.int64), "eval_id": eval_ids})
    keep = ~minhash.empty_mask(eval_sigs)
    idx = np.flatnonzero(keep)
    bands = minhash.band_hashes(eval_sigs[idx], params.bands, params.rows_per_band)
    eval_table = pa.table(
        {
            "eval_idx": pa.array(np.repeat(idx, params.bands).astype(np.int64)),
            "band": pa.array(np.tile(np.arange(1, params.bands + 1, dtype=np.int64), idx.size)),
            "hash": pa.array(bands.reshape(-1), type=pa.uint64()),
            "signature": pa.array(
                [eval_sigs[i].tobytes() for i in np.repeat(idx, params.bands)], type=pa.binary(4 * params.num_perm)
            ),
        }
    )
    con.register("_eval_bands", eval_table)
    con.execute("CREATE TABLE eval_bands AS SELECT * FROM _eval_bands")
    con.unregister("_eval_bands")
    con.execute("CREATE TABLE contam_pairs (row BIGINT, eval_idx BIGINT, similarity DOUBLE)")
    query = """
        WITH cand AS (
            SELECT DISTINCT t.row AS a, e.eval_idx AS b
            FROM (SELECT row, unnest(bands::UBIGINT[]) AS hash, generate_subscripts(bands::UBIGINT[], 1) AS band
                  FROM sig WHERE NOT empty) t
            JOIN eval_bands e ON e.band = t.band AND e.hash = t.hash
        )
        SELECT c.a, c.b, s.signature AS sig_a, e.signature AS sig_b
        FROM cand c JOIN sig s ON s.row = c.a
        JOIN (SELECT DISTINCT eval_idx, signature FROM eval_bands) e ON e.eval_idx = c.b
    """
    threshold = cfg.data.dedup.contamination_threshold - _EPS
    for a, b, sim in _similarity_batches(con, query, params.num_perm):
        ok = sim >= threshold
        if ok.any():
            _insert(con, "contam_pairs", {"row": a[ok], "eval_idx": b[ok], "similarity": sim[ok]})
    con.execute(
        f"""
        INSERT INTO removed
        SELECT row, {CONTAMINATED}, -1, similarity, eval_idx FROM contam_pairs
        QUALIFY row_number() OVER (PARTITION BY row ORDER BY similarity DESC, eval_idx) = 1
        """
    )


def _exact(con: Any) -> None:
    """Among rows not removed yet, every row whose key an earlier row has is an exact duplicate of the earliest."""
    con.execute(
        f"""
        INSERT INTO removed
        WITH alive AS (SELECT row, content_key FROM sig ANTI JOIN removed USING (row)),
             reps AS (SELECT content_key, min(row) AS rep FROM alive GROUP BY content_key HAVING count(*) > 1)
        SELECT a.row, {EXACT}, r.rep, 1.0, -1 FROM alive a JOIN reps r USING (content_key) WHERE a.row <> r.rep
        """
    )


def _near(con: Any, params: MinHashParams) -> tuple[int, int]:
    """Near duplicates among the rows still kept: LSH candidates (``minhash.candidate_pairs``' rule), verified on
    their signatures, clustered by connected components labelled with their smallest row."""
    import numpy as np

    # Rows in shared buckets, with their bucket's size and first row: one statement per step, each a scan, an
    # aggregate or a hash join that DuckDB spills to disk beyond its memory limit.
    con.execute(
        """
        CREATE TABLE band_rows AS
        SELECT row, generate_subscripts(bands::UBIGINT[], 1)::SMALLINT AS band, unnest(bands::UBIGINT[]) AS hash
        FROM sig ANTI JOIN removed USING (row) WHERE NOT empty
        """
    )
    con.execute(
        """
        CREATE TABLE buckets AS
        SELECT band, hash, count(*) AS size, min(row) AS head FROM band_rows GROUP BY band, hash HAVING count(*) > 1
        """
    )
    con.execute(
        "CREATE TABLE members AS SELECT band, hash, row, size, head FROM band_rows JOIN buckets USING (band, hash)"
    )
    con.execute("DROP TABLE band_rows")
    con.execute("DROP TABLE buckets")
    # A bucket of at most max_bucket_pairs + 1 members: every pair. A larger one (rare): each member with the next
    # max_bucket_pairs members in row order and with the first member, so it costs pairs, not its square; only
    # those buckets are ranked.
    cap = params.max_bucket_pairs
    con.execute("CREATE TABLE pair_list (a BIGINT, b BIGINT)")
    con.execute(
        f"""
        INSERT INTO pair_list
        SELECT x.row, y.row FROM members x JOIN members y ON y.band = x.band AND y.hash = x.hash AND y.row > x.row
        WHERE x.size <= {cap + 1}
        """
    )
    con.execute(
        f"""
        CREATE TABLE ranked AS
        SELECT band, hash, row, size, row_number() OVER (PARTITION BY band, hash ORDER BY row) AS k
        FROM members WHERE size > {cap + 1}
        """
    )
    con.execute(
        f"""
        INSERT INTO pair_list
        SELECT x.row, y.row
        FROM (
            SELECT band, hash, row, k + unnest(range(1, least({cap}, size - k) + 1)) AS k2 FROM ranked WHERE k < size
        ) x
        JOIN ranked y ON y.band = x.band AND y.hash = x.hash AND y.k = x.k2
        """
    )
    con.execute(f"INSERT INTO pair_list SELECT head, row FROM members WHERE size > {cap + 1} AND row <> head")
    con.execute("CREATE TABLE pairs AS SELECT DISTINCT a, b FROM pair_list")
    con.execute("DROP TABLE pair_list")
    con.execute("DROP TABLE ranked")
    con.execute("DROP TABLE members")
    (candidates,) = con.execute("SELECT count(*) FROM pairs").fetchone()
    _screen(con, params)
    con.execute("CREATE TABLE edges (a BIGINT, b BIGINT)")
    query = """
        SELECT p.a, p.b, x.signature AS sig_a, y.signature AS sig_b
        FROM survivors p JOIN sig x ON x.row = p.a JOIN sig y ON y.row = p.b
    """
    for a, b, sim in _similarity_batches(con, query, params.num_perm):
        ok = sim >= params.threshold - _EPS
        if ok.any():
            _insert(con, "edges", {"a": a[ok].astype(np.int64), "b": b[ok].astype(np.int64)})
    con.execute("DROP TABLE pairs")
    con.execute("DROP TABLE survivors")
    (verified,) = con.execute("SELECT count(*) FROM edges").fetchone()
    if verified:
        _components(con)
        query = """
            SELECT l.node AS a, l.label AS b, x.signature AS sig_a, y.signature AS sig_b
            FROM labels l JOIN sig x ON x.row = l.node JOIN sig y ON y.row = l.label WHERE l.node <> l.label
        """
        for a, b, sim in _similarity_batches(con, query, params.num_perm):
            _insert(
                con,
                "removed",
                {
                    "row": a.astype(np.int64),
                    "status": np.full(a.size, NEAR, np.int8),
                    "cluster_row": b.astype(np.int64),
                    "similarity": sim,
                    "eval_idx": np.full(a.size, -1, np.int64),
                },
            )
    return int(candidates), int(verified)


def _screen(con: Any, params: MinHashParams) -> None:
    """``survivors(a, b)``: the candidate pairs that may reach the threshold, decided inside the engine on sketches.

    Comparing two full signatures means moving both (``4 * num_perm`` bytes each) to the comparison, for every
    candidate pair; most pairs (rows that share boilerplate, large buckets) are far below the threshold. A sketch keeps
    the low :data:`SKETCH_BITS` bits of every signature value, packed into 64-bit words: where two values are equal,
    so are their low bits, so a pair differs in at most as many sketch positions as signature positions. A pair
    whose sketches differ in more positions than the threshold allows cannot reach it and is dropped; every other
    pair goes on to the exact comparison. The decisions are those of the full comparison.
    """
    import numpy as np

    per_word = 64 // SKETCH_BITS
    words = -(-params.num_perm // per_word)
    mask = (1 << SKETCH_BITS) - 1
    con.execute(f"CREATE TABLE sketch (row BIGINT, {', '.join(f'w{i} UBIGINT' for i in range(words))})")
    shifts = np.arange(per_word, dtype=np.uint64) * np.uint64(SKETCH_BITS)
    query = (
        "SELECT row, signature FROM sig SEMI JOIN (SELECT a AS row FROM pairs UNION SELECT b FROM pairs) USING (row)"
    )
    with _stream(con, query) as reader:
        for batch in reader:
            if not batch.num_rows:
                continue
            low = (_signatures(batch, "signature", params.num_perm) & np.uint32(mask)).astype(np.uint64)
            low = np.pad(low, ((0, 0), (0, words * per_word - params.num_perm)))
            packed = (low.reshape(len(low), words, per_word) << shifts).sum(axis=2, dtype=np.uint64)
            _insert(
                con, "sketch", {"row": batch.column("row").to_numpy(), **{f"w{i}": packed[:, i] for i in range(words)}}
            )
    # Positions whose sketches differ, per word: fold every field onto its lowest bit, count the bits.
    lowest = sum(1 << (SKETCH_BITS * k) for k in range(per_word))
    folded = " | ".join(f"(d >> {k})" if k else "d" for k in range(SKETCH_BITS))
    differing = " + ".join(
        f"bit_count(({folded.replace('d', f'xor(x.w{i}, y.w{i})')}) & {lowest}::UBIGINT)::INTEGER" for i in range(words)
    )
    # A pair reaches the threshold with at most this many differing signature positions (rounded up: more
    # survivors, never fewer).
    allowed = int(np.floor(params.num_perm * (1.0 - params.threshold) + 1e-6))
    con.execute(
        f"""
        CREATE TABLE survivors AS
        SELECT p.a, p.b FROM pairs p JOIN sketch x ON x.row = p.a JOIN sketch y ON y.row = p.b
        WHERE {differing} <= {allowed}
        """
    )
    con.execute("DROP TABLE sketch")


def _components(con: Any) -> None:
    """``labels(node, label)``: every endpoint of ``edges`` with the smallest node of its connected component.

    Min-label propagation with pointer jumping, as SQL over tables (out of core): each round a node takes the
    smallest label among itself and its neighbours, then the label of its label, until no label changes.
    """
    con.execute("CREATE TABLE adj AS SELECT a AS u, b AS v FROM edges UNION ALL SELECT b, a FROM edges")
    con.execute("CREATE TABLE labels AS SELECT u AS node, least(u, min(v)) AS label FROM adj GROUP BY u")
    rounds = 0
    while True:
        rounds += 1
        con.execute(
            """
            CREATE OR REPLACE TABLE hooked AS
            SELECT l.node, least(l.label, min(n.label)) AS label
            FROM labels l JOIN adj ON adj.u = l.node JOIN labels n ON n.node = adj.v GROUP BY l.node, l.label
            """
        )
        con.execute(
            """
            CREATE OR REPLACE TABLE jumped AS
            SELECT h.node, least(h.label, coalesce(j.label, h.label)) AS label
            FROM hooked h LEFT JOIN hooked j ON j.node = h.label
            """
        )
        (changed,) = con.execute(
            "SELECT count(*) FROM jumped j JOIN labels l USING (node) WHERE j.label <> l.label"
        ).fetchone()
        con.execute("CREATE OR REPLACE TABLE labels AS SELECT * FROM jumped")
        if not changed:
            break
    con.execute("DROP TABLE IF EXISTS hooked")
    con.execute("DROP TABLE IF EXISTS jumped")
    con.execute("DROP TABLE adj")
    logger.debug("connected components settled in %d rounds", rounds)


def decisions_query() -> str:
    """The removed rows as ``dedup_decisions.parquet`` holds them: ``row``, ``status``, ``cluster_row``,
    ``similarity``, ``eval_id``, by row."""
    return f"""
        SELECT r.row, {STATUS_SQL} AS status, r.cluster_row, round(r.similarity, 6) AS similarity, e.eval_id
        FROM removed r LEFT JOIN eval_ids e ON e.eval_idx = r.eval_idx ORDER BY r.row
    """


def removed_rows_query(shard_path: str) -> str:
    """One shard's removed rows with ``cluster_id`` (the kept row's ``id``, or the eval example's), ``dedup_method``
    and ``similarity``, by row."""
    return f"""
        WITH s AS (SELECT * FROM read_parquet({_paths_sql([shard_path])})),
             d AS (SELECT r.* FROM removed r SEMI JOIN s USING (row))
        SELECT s.*, coalesce(e.eval_id, k.id) AS cluster_id, {STATUS_SQL.replace("status", "d.status")} AS dedup_method,
               round(d.similarity, 6) AS similarity
        FROM s JOIN d USING (row)
        LEFT JOIN eval_ids e ON e.eval_idx = d.eval_idx
        LEFT JOIN rep_ids k ON k.row = d.cluster_row
        ORDER BY s.row
    """


def collect_rep_ids(con: Any, shard_paths: Sequence[str]) -> None:
    """``rep_ids(row, id)``: the ``id`` of every row kept for a cluster."""
    if not shard_paths:
        con.execute("CREATE TABLE rep_ids (row BIGINT, id VARCHAR)")
        return
    con.execute(
        f"""
        CREATE TABLE rep_ids AS
        SELECT row, id FROM read_parquet({_paths_sql(shard_paths)})
        SEMI JOIN (SELECT DISTINCT cluster_row AS row FROM removed WHERE cluster_row >= 0) USING (row)
        """
    )
