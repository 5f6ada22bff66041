"""Vectorized MinHash/LSH: equal to the per-document definition and to datasketch, deterministic, and correct on
planted near-duplicates."""

from __future__ import annotations

import random

import numpy as np
import pytest

from llmops.data import minhash as mh
from llmops.demo.synthetic import near_duplicate_corpus, pairwise_scores

TEXTS = [
    "Hello, World!  how are you today",
    "",
    None,
    "one",
    "a b",
    "Ünïcödé  words—here, ok; fine",
    "  leading separators",
    "trailing separators!!",
    "x y z w v",
    "tabs\tand\nnewlines\r\nmixed",
]


@pytest.mark.parametrize("k", [1, 2, 3, 5])
def test_vectorized_shingles_equal_the_scalar_definition(k: int) -> None:
    values, offsets = mh.shingle_hashes(TEXTS, k)
    assert offsets[0] == 0 and offsets[-1] == len(values) and len(offsets) == len(TEXTS) + 1
    for i, text in enumerate(TEXTS):
        assert values[offsets[i] : offsets[i + 1]].tolist() == mh.shingle_hashes_scalar(text, k), text


def test_shingles_ignore_case_punctuation_and_whitespace_runs() -> None:
    same = ["How do I share a folder?", "how do i   share a folder", "HOW DO I SHARE, A FOLDER!!"]
    assert len({tuple(mh.shingle_hashes_scalar(t, 3)) for t in same}) == 1
    assert mh.shingle_hashes_scalar("ab c", 1) != mh.shingle_hashes_scalar("a bc", 1)


def test_chunked_batches_give_the_same_values(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(3)
    texts = [
        " ".join(rng.choice(["alpha", "beta", "gamma", "delta", "é"]) for _ in range(rng.randint(0, 40)))
        for _ in range(300)
    ]
    whole = mh.shingle_hashes(texts, 3)
    monkeypatch.setattr(mh, "CHUNK_BYTES", 97)  # many tiny slices
    chunked = mh.shingle_hashes(texts, 3)
    assert np.array_equal(whole[0], chunked[0]) and np.array_equal(whole[1], chunked[1])


def test_signatures_equal_datasketch_with_the_same_permutations() -> None:
    datasketch = pytest.importorskip("datasketch")
    a, b = mh.permutations(64, 7)
    values, offsets = mh.shingle_hashes(TEXTS, 2)
    sigs = mh.signatures(values, offsets, a, b)
    reference = datasketch.MinHash(num_perm=64, seed=7, hashfunc=int, scheme="affine32")
    assert np.array_equal(reference.permutations[0], a) and np.array_equal(reference.permutations[1], b)
    for i in range(len(TEXTS)):
        m = datasketch.MinHash(num_perm=64, seed=7, hashfunc=int, permutations=(a, b), scheme="affine32")
        m.update_batch(values[offsets[i] : offsets[i + 1]].tolist())
        assert np.array_equal(m.hashvalues, sigs[i]), TEXTS[i]


def test_empty_documents_have_the_empty_signature_and_never_cluster() -> None:
    params = mh.MinHashParams(num_perm=32, bands=8, rows_per_band=4, shingle_size=2, threshold=0.5)
    labels = mh.near_duplicate_clusters(["", None, "   ", "!!"], params)
    assert labels.tolist() == [0, 1, 2, 3]


def test_estimate_tracks_exact_jaccard() -> None:
    rng = random.Random(1)
    vocab = [f"w{i}" for i in range(400)]
    base = [rng.choice(vocab) for _ in range(300)]
    a, b = mh.permutations(256, 1)
    for keep in (0.95, 0.8, 0.5, 0.2):
        other = [w if rng.random() < keep else rng.choice(vocab) + "x" for w in base]
        texts = [" ".join(base), " ".join(other)]
        values, offsets = mh.shingle_hashes(texts, 1)
        sigs = mh.signatures(values, offsets, a, b)
        estimate = float(mh.estimated_jaccard(sigs[:1], sigs[1:])[0])
        exact = mh.exact_jaccard(mh.shingle_hashes_scalar(texts[0], 1), mh.shingle_hashes_scalar(texts[1], 1))
        assert abs(estimate - exact) < 0.1, (keep, estimate, exact)


def test_connected_components_label_by_smallest_node() -> None:
    edges = np.array([[5, 3], [3, 9], [1, 2], [7, 8], [8, 2]])
    labels = mh.connected_components(10, edges)
    assert labels.tolist() == [0, 1, 1, 3, 4, 3, 6, 1, 1, 3]
    assert np.array_equal(labels, mh.connected_components(10, edges[::-1]))  # edge order does not matter


def test_candidate_pairs_stay_linear_for_large_buckets() -> None:
    bands = np.zeros((500, 2), dtype=np.uint64)  # every document in one bucket
    pairs = mh.candidate_pairs(bands, max_bucket_pairs=4)
    assert len(pairs) < 500 * 6
    assert mh.connected_components(500, pairs).tolist() == [0] * 500


def test_planted_near_duplicates_are_found_deterministically() -> None:
    corpus = near_duplicate_corpus(1000, seed=5, words_per_doc=120)
    params = mh.MinHashParams(num_perm=128, bands=37, rows_per_band=3, shingle_size=3, threshold=0.3)
    labels = mh.near_duplicate_clusters(corpus.texts, params)
    scores = pairwise_scores(corpus.labels, labels)
    assert scores["precision"] >= 0.99 and scores["recall"] >= 0.95, scores
    # deterministic, and representatives are the smallest row of each cluster
    assert np.array_equal(labels, mh.near_duplicate_clusters(corpus.texts, params))
    for label in np.unique(labels):
        assert label == np.flatnonzero(labels == label).min()


def test_params_validate_banding() -> None:
    with pytest.raises(ValueError, match="num_perm"):
        mh.MinHashParams(num_perm=16, bands=8, rows_per_band=4)


def test_string_hashes_are_stable_and_distinguish() -> None:
    h = mh.string_hashes(["a", "b", "a", "", None])
    assert h[0] == h[2] and h[0] != h[1] and h[3] == h[4]
