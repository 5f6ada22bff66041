"""The out-of-core merge (DuckDB) decides exactly what the in-memory kernels decide, and stays in its scratch folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from llmops.config import LLMOpsConfig, load_config
from llmops.data import merge, minhash
from llmops.data.gates import ReconciliationError
from llmops.data.minhash import MinHashParams

NUM_PERM = 32


@pytest.fixture
def cfg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LLMOpsConfig:
    monkeypatch.setenv("LLMOPS_HOME", str(tmp_path / "home"))
    dedup = {"decontaminate": False, "num_perm": NUM_PERM, "bands": 10, "rows_per_band": 3, "threshold": 0.5}
    return load_config(overrides={"data": {"dedup": {**dedup, "max_bucket_pairs": 3}}}, environ={})


def _signatures(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Signatures with planted near-duplicate families (some of them one big bucket), exact keys with repeats."""
    sigs = rng.integers(0, 2**32, size=(n, NUM_PERM), dtype=np.uint64).astype(np.uint32)
    for start in range(0, n - 12, 40):  # families: copies of a source with a few positions changed
        for j in range(1, 6):
            sigs[start + j] = sigs[start]
            sigs[start + j, rng.choice(NUM_PERM, size=int(rng.integers(0, 14)), replace=False)] = rng.integers(0, 2**31)
    big = np.arange(n - 60, n)  # one bucket of 60 rows in band 0 (more than max_bucket_pairs + 1 members)
    sigs[big, :3] = sigs[big[0], :3]
    keys = rng.integers(0, 3 * n, size=n).astype(np.uint64)
    return sigs, keys


def _write_shards(tmp_path: Path, sigs: np.ndarray, keys: np.ndarray, params: MinHashParams, size: int) -> list[Any]:
    bands = minhash.band_hashes(sigs, params.bands, params.rows_per_band)
    empty = minhash.empty_mask(sigs)
    shards = []
    for i, lo in enumerate(range(0, len(sigs), size)):
        hi = min(lo + size, len(sigs))
        path = tmp_path / f"shard-{i:03d}.sig.parquet"
        table = pa.table(
            {
                "row": pa.array(np.arange(lo, hi), pa.int64()),
                "content_key": pa.array(keys[lo:hi], pa.uint64()),
                "empty": pa.array(empty[lo:hi]),
                "bands": pa.FixedSizeListArray.from_arrays(
                    pa.array(bands[lo:hi].reshape(-1), pa.uint64()), params.bands
                ),
                "signature": pa.array([s.tobytes() for s in sigs[lo:hi]], pa.binary(4 * NUM_PERM)),
            }
        )
        pq.write_table(table, path)
        shards.append({"signature_path": str(path), "shard_path": str(path)})
    return shards


def _reference(sigs: np.ndarray, keys: np.ndarray, params: MinHashParams) -> tuple[dict[int, tuple[int, int]], int]:
    """Decisions of the in-memory kernels: exact duplicates by key, then verified LSH clusters among the rest; and
    the number of candidate pairs."""
    removed: dict[int, tuple[int, int]] = {}
    first: dict[int, int] = {}
    for row, key in enumerate(keys.tolist()):
        if key in first:
            removed[row] = (merge.EXACT, first[key])
        else:
            first[key] = row
    alive = np.array([r for r in range(len(keys)) if r not in removed])
    bands = minhash.band_hashes(sigs[alive], params.bands, params.rows_per_band)
    pairs = minhash.candidate_pairs(bands, params.max_bucket_pairs)
    kept, _ = minhash.verify_pairs(sigs[alive], pairs, params.threshold)
    labels = minhash.connected_components(alive.size, kept)
    for local in np.flatnonzero(labels != np.arange(alive.size)):
        removed[int(alive[local])] = (merge.NEAR, int(alive[labels[local]]))
    return removed, len(pairs)


@pytest.mark.parametrize("batch_rows", [merge.BATCH_ROWS, 16], ids=["one-batch", "many-batches"])
def test_the_merge_matches_the_in_memory_kernels(
    cfg: LLMOpsConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, batch_rows: int
) -> None:
    """With many batches, the decisions recorded while pairs stream in still cover every pair."""
    monkeypatch.setattr(merge, "BATCH_ROWS", batch_rows)
    rng = np.random.default_rng(7)
    sigs, keys = _signatures(rng, 600)
    params = MinHashParams.from_config(cfg.data.dedup)
    shards = _write_shards(tmp_path, sigs, keys, params, size=170)
    with merge.engine(tmp_path / ".merge", 256, threads=1) as con:
        counts = merge.merge(cfg, con, shards, params)
        got = {
            row: (status, cluster)
            for row, status, cluster in con.execute("SELECT row, status, cluster_row FROM removed").fetchall()
        }
        sims = con.execute("SELECT row, similarity FROM removed WHERE status = 2").fetchall()
    expected, candidates = _reference(sigs, keys, params)
    assert counts.candidate_pairs == candidates  # the same pairs per bucket, a large bucket capped alike
    assert counts.near > 40 and counts.exact > 40  # the planted families and repeated keys were found
    assert got == expected
    assert counts.kept == 600 - len(expected)
    assert counts.verified_pairs <= counts.candidate_pairs
    for row, sim in sims:  # the similarity recorded is the one to the row kept for the cluster
        rep = expected[row][1]
        assert sim == pytest.approx(float((sigs[row] == sigs[rep]).mean()))
    assert not (tmp_path / ".merge").exists()


def test_a_missing_shard_fails_reconciliation(cfg: LLMOpsConfig, tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    sigs, keys = _signatures(rng, 200)
    params = MinHashParams.from_config(cfg.data.dedup)
    shards = _write_shards(tmp_path, sigs, keys, params, size=50)
    with merge.engine(tmp_path / ".merge", 256) as con, pytest.raises(ReconciliationError, match="shard is missing"):
        merge.merge(cfg, con, [shards[0], shards[2], shards[3]], params)


def test_a_scratch_folder_left_by_a_crash_is_replaced(tmp_path: Path) -> None:
    work = tmp_path / ".merge"
    (work / "spill").mkdir(parents=True)
    (work / "merge.duckdb").write_bytes(b"not a database")
    with merge.engine(work, 256) as con:
        assert con.execute("SELECT current_setting('memory_limit')").fetchone()[0].endswith("MiB")
    assert not work.exists()


def test_the_sketch_screen_keeps_every_pair_that_can_reach_the_threshold(cfg: LLMOpsConfig, tmp_path: Path) -> None:
    """Pairs at every similarity, some changed only above the sketch's low bits (equal sketches, unequal values)."""
    rng = np.random.default_rng(5)
    n = 2 * (NUM_PERM + 1) * 4
    sigs = rng.integers(0, 2**32, size=(n, NUM_PERM), dtype=np.uint64).astype(np.uint32)
    for i in range(0, n, 2):
        changed = rng.choice(NUM_PERM, size=(i // 2) % (NUM_PERM + 1), replace=False)
        sigs[i + 1] = sigs[i]
        if i % 4:  # a different value with the same low bits
            sigs[i + 1, changed] ^= np.uint32(1 << 20)
        else:
            sigs[i + 1, changed] = rng.integers(0, 2**32, size=changed.size, dtype=np.uint64).astype(np.uint32)
    params = MinHashParams.from_config(cfg.data.dedup)
    shards = _write_shards(tmp_path, sigs, np.arange(n, dtype=np.uint64), params, size=n)
    pairs = np.array([(i, i + 1) for i in range(0, n, 2)] + [(i, (i + 7) % n) for i in range(n - 7)], dtype=np.int64)
    with merge.engine(tmp_path / ".merge", 256) as con:
        con.execute(f"CREATE VIEW sig AS SELECT * FROM read_parquet('{shards[0]['signature_path']}')")
        con.execute("CREATE TABLE pairs (a BIGINT, b BIGINT)")
        merge._insert(con, "pairs", {"a": pairs[:, 0], "b": pairs[:, 1]})
        merge._screen(con, params)
        survivors = set(con.execute("SELECT a, b FROM survivors").fetchall())
    similarity = (sigs[pairs[:, 0]] == sigs[pairs[:, 1]]).mean(axis=1)
    reaching = {(int(a), int(b)) for (a, b), s in zip(pairs, similarity, strict=True) if s >= params.threshold - 1e-12}
    assert len(reaching) > 50 and reaching <= survivors
    below = {(int(a), int(b)) for (a, b), s in zip(pairs, similarity, strict=True) if s < params.threshold - 1e-12}
    # Pairs far below the threshold are dropped; only those with low bits equal by construction survive below it.
    assert len(survivors - reaching) < len(below) / 2
