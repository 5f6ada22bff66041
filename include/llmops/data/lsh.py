"""LSH kernels of the dedup merge on numpy arrays: band joins between two sets and best matches.

Candidates within one set (near duplicates) come from :func:`llmops.data.minhash.candidate_pairs`; the kernels here
join one set against another (training rows against the eval set) and pick each row's best verified match.
"""

from __future__ import annotations

import numpy as np


def cross_candidates(
    bands: np.ndarray, other_bands: np.ndarray, skip: np.ndarray, other_skip: np.ndarray
) -> np.ndarray:
    """Pairs ``(i, j)`` where row ``i`` of ``bands`` shares a band hash with row ``j`` of ``other_bands``.

    For each band the other set is sorted once and every row is looked up with a binary search, so the cost is
    ``O((n + m) log m)`` per band plus the pairs found.

    Args:
        bands: ``(n, n_bands)`` uint64 band hashes.
        other_bands: ``(m, n_bands)`` uint64 band hashes.
        skip: ``(n,)`` bool, rows of ``bands`` that match nothing (documents without shingles).
        other_skip: ``(m,)`` bool, rows of ``other_bands`` that match nothing.

    Returns:
        ``(k, 2)`` int64 array of unique pairs, sorted.
    """
    pairs: list[np.ndarray] = []
    for band in range(bands.shape[1]):
        order = np.argsort(other_bands[:, band], kind="stable")
        sorted_keys = other_bands[order, band]
        lo = np.searchsorted(sorted_keys, bands[:, band], side="left")
        hi = np.searchsorted(sorted_keys, bands[:, band], side="right")
        hit = np.flatnonzero((hi > lo) & ~skip)
        for d in range(int((hi - lo)[hit].max()) if hit.size else 0):
            sel = hit[(hi - lo)[hit] > d]
            pairs.append(np.stack((sel, order[lo[sel] + d]), axis=1))
    if not pairs:
        return np.zeros((0, 2), dtype=np.int64)
    cand = np.unique(np.concatenate(pairs), axis=0).astype(np.int64)
    return cand[~other_skip[cand[:, 1]]]


def best_matches(pairs: np.ndarray, similarity: np.ndarray, threshold: float) -> tuple[np.ndarray, ...]:
    """For each left row, its most similar right row among the pairs at or above ``threshold``.

    Ties go to the first pair in order (the smallest right row for sorted pairs).

    Args:
        pairs: ``(k, 2)`` pairs ``(left, right)``.
        similarity: ``(k,)`` estimated similarity of each pair.
        threshold: minimum similarity.

    Returns:
        ``(left_rows, right_rows, similarities)``, one entry per matched left row, by left row.
    """
    ok = similarity >= threshold - 1e-12
    best: dict[int, tuple[int, float]] = {}
    for left, right, value in zip(pairs[ok, 0], pairs[ok, 1], similarity[ok], strict=True):
        seen = best.get(int(left))
        if seen is None or value > seen[1]:
            best[int(left)] = (int(right), float(value))
    rows = np.array(sorted(best), dtype=np.int64)
    return (
        rows,
        np.array([best[r][0] for r in rows], dtype=np.int64),
        np.array([best[r][1] for r in rows], dtype=np.float64),
    )
