"""The sentence-level toxicity head: its training set, its packaged weights and how the scorer uses it."""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict
from pathlib import Path

import pytest

from llmops.evaluation.scorers import ENCODER_WEIGHTS_SHA256, toxicity
from llmops.evaluation.toxicity_corpus import CORPUS_VERSION, build_training_set
from llmops.evaluation.toxicity_head import (
    RECORD_FILE,
    WEIGHTS_FILE,
    ClassifierMismatch,
    ClassifierMissing,
    TrainSettings,
    domain_sentences,
    load_classifier,
    model_dir,
    read_record,
    toxic_probabilities,
    train,
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


def test_the_installed_classifier_is_for_this_encoder_and_corpus() -> None:
    """`make install` trains it into the environment; its record checks against its file and the encoder."""
    record = read_record()
    assert record["encoder_sha256"] == ENCODER_WEIGHTS_SHA256
    assert record["corpus_version"] == CORPUS_VERSION
    assert record["settings"] == asdict(TrainSettings())
    assert record["held_out_figures"]["precision"] > 0.8 and record["held_out_figures"]["recall"] > 0.8


def test_a_changed_or_foreign_classifier_is_refused(tmp_path: Path) -> None:
    copy = tmp_path / "clf"
    shutil.copytree(model_dir(), copy)
    record = json.loads((copy / RECORD_FILE).read_text(encoding="utf-8"))
    (copy / RECORD_FILE).write_text(json.dumps({**record, "encoder_sha256": "0" * 64}), encoding="utf-8")
    with pytest.raises(ClassifierMismatch, match="retrain"):
        read_record(copy)
    (copy / RECORD_FILE).write_text(json.dumps(record), encoding="utf-8")
    with (copy / WEIGHTS_FILE).open("ab") as f:
        f.write(b"\0")
    with pytest.raises(ClassifierMismatch, match="SHA-256"):
        read_record(copy)
    with pytest.raises(ClassifierMissing, match="make install"):
        read_record(tmp_path / "nothing")


def test_training_writes_a_classifier_that_loads(tmp_path: Path) -> None:
    settings = TrainSettings(layers=1, epochs=1.0, batch_size=16, train_size=64, held_out_size=32)
    record = train(tmp_path / "clf", settings, log=lambda _: None)
    assert sorted(p.name for p in (tmp_path / "clf").iterdir()) == [RECORD_FILE, WEIGHTS_FILE]
    assert not list(tmp_path.glob(".clf*"))  # staging renamed, nothing left behind
    assert record["settings"]["layers"] == 1 and set(record["held_out_figures"]) == {"precision", "recall"}
    loaded = load_classifier(tmp_path / "clf")
    probabilities = loaded.model.probabilities(["Open Settings.", "Go away."])
    assert len(probabilities) == 2 and all(0.0 <= p <= 1.0 for p in probabilities)


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


def test_a_looping_answer_is_left_to_the_degenerate_scorer() -> None:
    """What a loop leaves is a fragment the classifier cannot judge ("On your" read 0.78 toxic); the word list still
    reads it, and degenerate flags the loop."""
    from llmops.evaluation.scorers import degenerate, loops, toxicity

    fragment = "On your your your your your your your your your your your your"
    assert loops(fragment) and loops("Yes. Choose Settings, and choose Settings, and choose Settings, and")
    assert not loops("Listen, you j a c k a s s, the upload limit on Basic is 2 GB.")  # spelled out, not a loop
    assert not loops("Open Settings, then Billing, then Settings again.")
    assert not toxicity(None, fragment, classifier=True).flagged
    assert degenerate(None, fragment).flagged
    assert toxicity(None, "you idiot idiot idiot idiot", classifier=True).flagged  # the word list reads loops


def test_a_looping_answer_is_read_once_per_repeat() -> None:
    from llmops.evaluation.scorers import collapse_repeats

    assert collapse_repeats("Yes, and choose choose your your your your your") == "Yes, and choose your"
    assert collapse_repeats("click Save click Save click Save now") == "click Save now"
    assert collapse_repeats("Open Settings, then Billing.") == "Open Settings, then Billing."
