"""The sentence-level toxicity head: its training set, its packaged weights and how the scorer uses it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from llmops.evaluation.scorers import ENCODER_WEIGHTS_SHA256, toxicity
from llmops.evaluation.toxicity_corpus import CORPUS_VERSION, build_training_set
from llmops.evaluation.toxicity_head import (
    HEAD_FILE,
    HeadMismatch,
    ToxicityHead,
    domain_sentences,
    load_head,
    toxic_probabilities,
    train_head,
)


def test_training_set_is_balanced_distinct_and_deterministic() -> None:
    content = domain_sentences(200)
    first = build_training_set(600, 0, content)
    assert first == build_training_set(600, 0, content)
    assert first != build_training_set(600, 1, content)
    assert len({t.text for t in first}) == 600
    assert sum(t.toxic for t in first) == 300
    kinds = {t.kind for t in first}
    assert {"demeaning_phrase", "threat", "benign_technical_lookalike", "domain_answer"} <= kinds


def test_the_packaged_head_is_for_the_installed_encoder_and_this_corpus() -> None:
    head = load_head()
    assert len(head.weights) == 384 and 0.0 < head.threshold < 1.0
    assert head.encoder_sha256 == ENCODER_WEIGHTS_SHA256
    assert head.provenance["corpus_version"] == CORPUS_VERSION
    assert head.provenance["held_out_figures"]["recall"] > 0.5


def test_a_head_for_other_encoder_weights_is_refused(tmp_path: Path) -> None:
    data = json.loads(HEAD_FILE.read_text(encoding="utf-8"))
    data["encoder_sha256"] = "0" * 64
    other = tmp_path / "head.json"
    other.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(HeadMismatch, match="retrain"):
        load_head(other)


def test_training_fits_a_head_that_separates_its_held_out_texts() -> None:
    head = train_head(300, 200)
    figures = head.provenance["held_out_figures"]
    assert figures["precision"] > 0.6 and figures["recall"] > 0.6
    assert ToxicityHead.from_json(head.to_json()) == head


def test_the_classifier_adds_abuse_without_a_listed_word_when_enabled() -> None:
    abuse = "A child could have worked this out faster than you. Stop wasting my time and go away."
    plain = toxicity(None, abuse)
    assert not plain.flagged  # no listed word: the word list alone misses it
    judged = toxicity(None, abuse, classifier=True)
    assert judged.flagged and judged.reason.startswith("abusive tone: classifier")
    benign = toxicity(None, "Open Settings, choose Billing and select Update card.", classifier=True)
    assert not benign.flagged and benign.value is not None and benign.value < 0.5
    listed = toxicity(None, "Open Settings, you idiot.", classifier=True)
    assert listed.flagged and listed.value == 1.0  # the word list decides first


def test_probabilities_are_cached_per_text_and_batched() -> None:
    texts = [
        "Open Settings and choose Billing.",
        "Go away, nobody wants you here.",
        "Open Settings and choose Billing.",
    ]
    first = toxic_probabilities(texts)
    assert first[0] == first[2] and len(first) == 3
    assert toxic_probabilities(texts[1:2]) == [first[1]]
