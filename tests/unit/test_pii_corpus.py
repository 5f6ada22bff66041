"""The labelled PII corpus of bench/pii_corpus.py: reproducible, well-formed, split cleanly, scored as documented."""

from __future__ import annotations

import itertools
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bench.pii_corpus import ENTITY_TYPES, LOCALES, PiiExample, build_pii_corpus, score


@pytest.fixture(scope="module")
def corpus() -> list[PiiExample]:
    return build_pii_corpus(2000, seed=0, split="test")


def _luhn(number: str) -> bool:
    digits = [int(c) for c in number if c.isdigit()][::-1]
    total = sum(d if i % 2 == 0 else (d * 2 - 9 if d > 4 else d * 2) for i, d in enumerate(digits))
    return total % 10 == 0


def _mod97(iban: str) -> bool:
    s = re.sub(r"\s", "", iban).upper()
    s = s[4:] + s[:4]
    return int("".join(str(int(c, 36)) for c in s)) % 97 == 1


def _frame_ids(examples: list[PiiExample]) -> set[str]:
    return {t for ex in examples for t in ex.template.split("+")}


def test_reproducible_for_a_seed() -> None:
    assert build_pii_corpus(50, seed=3) == build_pii_corpus(50, seed=3)
    assert build_pii_corpus(50, seed=3) != build_pii_corpus(50, seed=4)


def test_reproducible_across_hash_seeds() -> None:
    code = (
        "import hashlib; from bench.pii_corpus import build_pii_corpus as b; "
        "print(hashlib.sha1(repr(b(400)).encode()).hexdigest())"
    )
    root = Path(__file__).resolve().parents[2]
    digests = {
        subprocess.run(
            [sys.executable, "-c", code],
            cwd=root,
            env={**os.environ, "PYTHONHASHSEED": str(h), "PYTHONPATH": str(root)},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for h in (1, 2)
    }
    assert len(digests) == 1


def test_offsets_are_in_range_and_do_not_overlap(corpus: list[PiiExample]) -> None:
    for ex in corpus:
        marks = sorted([(s, e) for _, s, e in ex.spans] + [(s, e) for _, s, e in ex.lookalikes])
        for s, e in marks:
            assert 0 <= s < e <= len(ex.text)
            value = ex.text[s:e]
            assert value == value.strip() and value, (ex.text, value)
        for (_, e0), (s1, _) in itertools.pairwise(marks):
            assert e0 <= s1, ex.text


def test_every_type_and_locale_appears(corpus: list[PiiExample]) -> None:
    types = {t for ex in corpus for t, _, _ in ex.spans}
    assert types == set(ENTITY_TYPES)
    assert {ex.locale for ex in corpus} == set(LOCALES)
    for loc in LOCALES:
        assert any(ex.spans for ex in corpus if ex.locale == loc)
    empty = sum(1 for ex in corpus if not ex.spans)
    assert 0.1 < empty / len(corpus) < 0.3
    assert sum(1 for ex in corpus if len({t for t, _, _ in ex.spans}) >= 2) > 400


def test_dev_and_test_share_no_template() -> None:
    dev, test = build_pii_corpus(1500, split="dev"), build_pii_corpus(1500, split="test")
    assert _frame_ids(dev).isdisjoint(_frame_ids(test))
    with pytest.raises(ValueError):
        build_pii_corpus(1, split="train")


def test_cards_pass_luhn_and_lookalikes_fail(corpus: list[PiiExample]) -> None:
    cards = [ex.text[s:e] for ex in corpus for t, s, e in ex.spans if t == "CREDIT_CARD"]
    fakes = [ex.text[s:e] for ex in corpus for k, s, e in ex.lookalikes if k == "luhn_fail_number"]
    assert cards and fakes
    assert all(_luhn(c) for c in cards)
    assert not any(_luhn(f) for f in fakes)
    assert all(len(re.sub(r"\D", "", f)) == 16 for f in fakes)


def test_ibans_pass_mod97_and_lookalikes_fail(corpus: list[PiiExample]) -> None:
    ibans = [ex.text[s:e] for ex in corpus for t, s, e in ex.spans if t == "IBAN"]
    bad = [ex.text[s:e] for ex in corpus for k, s, e in ex.lookalikes if k == "iban_bad_checksum"]
    assert ibans and bad
    assert all(_mod97(i) for i in ibans)
    assert not any(_mod97(b) for b in bad)


def test_perfect_detector_scores_one(corpus: list[PiiExample]) -> None:
    spans = {ex.text: ex.spans for ex in corpus}
    result = score(lambda text: list(spans[text]), corpus)
    assert result["recall"] == 1.0 and result["precision"] == 1.0 and result["typed_recall"] == 1.0
    assert all(v["recall"] == 1.0 and v["precision"] == 1.0 for v in result["per_type"].values())
    assert all(r == 1.0 for r in result["per_locale"].values())
    assert sum(result["lookalikes_hit"].values()) == 0
    assert sum(result["lookalikes_planted"].values()) > 0
    assert result["missed_examples"] == {}


def test_empty_detector_scores_zero(corpus: list[PiiExample]) -> None:
    result = score(lambda text: [], corpus)
    assert result["recall"] == 0.0 and result["precision"] is None
    assert all(v["recall"] == 0.0 and v["precision"] is None for v in result["per_type"].values())
    assert all(len(v) <= 5 for v in result["missed_examples"].values())
    assert set(result["missed_examples"]) == set(ENTITY_TYPES)


def test_partial_coverage_is_not_redacted() -> None:
    examples = build_pii_corpus(300, seed=1)
    spans = {ex.text: ex.spans for ex in examples}

    def skip_first_char(text: str) -> list[tuple[str, int, int]]:  # misses the first letter/digit of every value
        out = []
        for t, s, e in spans[text]:
            first = next(i for i in range(s, e) if text[i].isalnum())
            out.append((t, first + 1, e))
        return out

    result = score(skip_first_char, examples)
    assert result["recall"] == 0.0
    assert result["precision"] == 1.0  # still overlapping planted values


def test_wrong_type_counts_as_redacted_but_not_typed_and_lookalike_hits_are_counted() -> None:
    examples = build_pii_corpus(300, seed=2)
    by_text = {ex.text: ex for ex in examples}

    def mislabel(text: str) -> list[tuple[str, int, int]]:
        ex = by_text[text]
        return [("SECRET" if t != "SECRET" else "PERSON", s, e) for t, s, e in ex.spans] + [
            ("PHONE", s, e) for _, s, e in ex.lookalikes
        ]

    result = score(mislabel, examples)
    assert result["recall"] == 1.0 and result["typed_recall"] == 0.0
    assert result["lookalikes_hit"] == result["lookalikes_planted"]
    assert result["per_type"]["PHONE"]["precision"] == 0.0
