"""The LSH kernels of the dedup merge: band joins between two sets and each row's best verified match."""

from __future__ import annotations

import numpy as np

from llmops.data.lsh import best_matches, cross_candidates


def test_cross_candidates_are_the_pairs_sharing_a_band() -> None:
    bands = np.array([[1, 2], [3, 4], [5, 6], [1, 9]], dtype=np.uint64)
    other = np.array([[1, 0], [0, 4], [1, 6], [7, 7]], dtype=np.uint64)
    none = np.zeros(4, dtype=bool)
    brute = {(i, j) for i in range(4) for j in range(4) if (bands[i] == other[j]).any()}
    assert {tuple(p) for p in cross_candidates(bands, other, none, none).tolist()} == brute
    skip_row_0 = np.array([True, False, False, False])
    skip_other_2 = np.array([False, False, True, False])
    kept = cross_candidates(bands, other, skip_row_0, skip_other_2).tolist()
    assert kept == sorted([list(p) for p in brute if p[0] != 0 and p[1] != 2])


def test_cross_candidates_of_disjoint_sets_is_empty() -> None:
    pairs = cross_candidates(
        np.array([[1]], np.uint64), np.array([[2]], np.uint64), np.zeros(1, bool), np.zeros(1, bool)
    )
    assert pairs.shape == (0, 2)


def test_best_match_per_row_above_the_threshold_first_wins_ties() -> None:
    pairs = np.array([[0, 0], [0, 1], [1, 0], [1, 2], [2, 1]])
    sim = np.array([0.9, 0.95, 0.85, 0.85, 0.5])
    rows, matches, similarity = best_matches(pairs, sim, 0.8)
    assert rows.tolist() == [0, 1] and matches.tolist() == [1, 0] and similarity.tolist() == [0.95, 0.85]
