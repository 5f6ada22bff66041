"""LSH banding derived from the threshold, the check of explicit bandings, and the dedup defaults measured on a
small sample of the labelled word-edit corpus (bench/dedup_corpus.py)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bench.dedup_corpus import DedupCorpus, build_dedup_corpus, score
from llmops.config import DedupConfig
from llmops.data import banding
from llmops.data import minhash as mh


@pytest.mark.parametrize("threshold", [0.3, 0.5, 0.6, 0.7, 0.8, 0.9])
def test_derived_banding_puts_the_s_curve_near_the_threshold(threshold: float) -> None:
    bands, rows = banding.derive_banding(threshold, 128)
    assert bands * rows <= 128
    assert threshold - 0.2 <= banding.s_curve_midpoint(bands, rows) <= threshold + 0.02
    assert banding.candidate_probability(threshold, bands, rows) >= 0.65
    assert banding.banding_problem(threshold, bands, rows) is None
    assert DedupConfig(threshold=threshold, contamination_threshold=threshold).banding == (bands, rows)


def test_derived_banding_serves_the_lowest_threshold_in_use() -> None:
    assert DedupConfig(threshold=0.9, contamination_threshold=0.5).banding == banding.derive_banding(0.5, 128)
    no_decontamination = DedupConfig(threshold=0.9, contamination_threshold=0.5, decontaminate=False)
    assert no_decontamination.banding == banding.derive_banding(0.9, 128)


def test_a_banding_far_from_the_threshold_is_refused_with_one_that_fits() -> None:
    fit = banding.derive_banding(0.5, 128)
    with pytest.raises(ValidationError) as caught:
        DedupConfig(threshold=0.5, bands=16, rows_per_band=8)
    message = str(caught.value)
    assert "16 bands x 8 rows" in message and "midpoint at 0.71" in message and "probability 0.06" in message
    assert f"use bands: {fit[0]}, rows_per_band: {fit[1]}" in message and "num_perm 128" in message
    with pytest.raises(ValidationError, match="use bands: "):
        DedupConfig(threshold=0.5, num_perm=256, bands=8, rows_per_band=16)


def test_explicit_bandings_that_fit_are_kept_and_partial_ones_completed() -> None:
    assert DedupConfig(threshold=0.8, contamination_threshold=0.8, bands=16, rows_per_band=8).banding == (16, 8)
    assert DedupConfig(threshold=0.5, bands=32, rows_per_band=4).banding == (32, 4)
    bands, rows = DedupConfig(threshold=0.5, contamination_threshold=0.5, bands=20).banding
    assert bands == 20 and banding.banding_problem(0.5, bands, rows) is None
    with pytest.raises(ValidationError, match="must be <= num_perm"):
        DedupConfig(num_perm=64, bands=16, rows_per_band=8)


def test_params_from_the_default_config_are_the_params_defaults() -> None:
    assert mh.MinHashParams.from_config(DedupConfig()) == mh.MinHashParams()


def _corpus(n: int) -> DedupCorpus:
    return build_dedup_corpus(n, seed=11)


def test_word_edit_corpus_is_deterministic_and_labelled() -> None:
    a, b = _corpus(300), _corpus(300)
    assert a.texts == b.texts and a.cluster == b.cluster
    kinds = set(a.kind)
    assert {"source", "copy", "swap", "boilerplate", "single"} <= kinds


@pytest.mark.parametrize(
    ("settings", "min_recall"),
    [({}, 0.95), ({"shingle_size": 3, "threshold": 0.8}, 0.0)],
    ids=["defaults", "demo-config"],
)
def test_word_edit_sample_through_the_dedup_kernels(settings: dict[str, float], min_recall: float) -> None:
    corpus = _corpus(400)
    params = mh.MinHashParams.from_config(DedupConfig(**settings))
    labels = mh.near_duplicate_clusters(corpus.texts, params)
    result = score(corpus, labels)
    assert result["precision"] >= 0.99 and result["hard_negatives_merged"] <= 2, result
    assert result["recall_by_edit_rate"]["0.02"] >= 0.95, result
    assert result["recall_up_to_10pct"] >= min_recall, result
