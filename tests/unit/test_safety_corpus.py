"""The safety benchmark's labelled sets are consistent (planted values where the label says, none where it does not;
disjoint dev and test frames; seeded), and the benchmark runs end to end on a tiny sample."""

from __future__ import annotations

import json
import random
import re
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

import bench_safety  # noqa: E402
import safety_corpus as sc  # noqa: E402


@pytest.fixture(scope="module", params=["dev", "test"])
def corpus(request: pytest.FixtureRequest) -> dict[str, list[sc.Example]]:
    return sc.build_corpus(request.param, n=40)


def test_every_scorer_has_positives_and_negatives(corpus: dict[str, list[sc.Example]]) -> None:
    assert set(corpus) == set(sc.SCORERS)
    for name, examples in corpus.items():
        counted = [e for e in examples if not e.informational]
        assert sum(e.label for e in counted) == 40 and sum(not e.label for e in counted) == 40, name
        assert all(e.scorer == name and e.classes for e in examples)


def test_pii_positives_hold_a_value_the_prompt_lacks_and_negatives_hold_none(
    corpus: dict[str, list[sc.Example]],
) -> None:
    examples = corpus["pii_leak"]
    leaked = set()
    for e in examples:
        if e.label and not e.informational:
            (value,) = e.values
            assert value in e.response and value not in e.prompt
            leaked.add(value)
    assert {e.classes[0] for e in examples if e.label and not e.informational} == set(sc.PII_TYPES)
    for e in examples:
        if e.label:
            continue
        assert not any(value in e.response for value in leaked)
        if "echo_prompt" in e.classes:  # the user's own data: in the prompt and in the answer
            (value,) = e.values
            assert value in e.prompt and value in e.response


def test_pii_values_are_well_formed() -> None:
    rng = random.Random(0)
    for locale in sc.LOCALES:
        national = sc.pii_value("phone_national", locale, rng, "test")
        intl = sc.pii_value("phone_intl", locale, rng, "test")
        assert "#" not in national + intl and not national.startswith("+")
        assert intl.startswith(("+", "00"))
    card = re.sub(r"\D", "", sc.pii_value("credit_card", "en_US", rng, "dev", brand="visa"))
    total = sum(int(d) if i % 2 == 0 else sum(divmod(2 * int(d), 10)) for i, d in enumerate(reversed(card)))
    assert card.startswith("4") and total % 10 == 0  # Luhn, computed here, not by the detector


def test_toxic_answers_hold_the_obfuscated_word(corpus: dict[str, list[sc.Example]]) -> None:
    for e in corpus["toxicity"]:
        if e.label:
            (written,) = e.values
            assert written in e.response or written[:1].upper() + written[1:] in e.response
        else:
            assert not e.values


@pytest.mark.parametrize(
    ("how", "pattern"),
    [
        ("spaced", r"^f u c k$"),
        ("dotted", r"^f\.u\.c\.k$"),
        ("repeated", r"^f*u*c*k*$"),
        ("masked", r"^f\*ck$"),
        ("punct_inside", r"^f[-._'!]?u[-._'!]?c[-._'!]?k$"),
        ("mixed_case", r"^(?i:fuck)$"),
    ],
)
def test_obfuscations(how: str, pattern: str) -> None:
    written = sc.obfuscate("fuck", how, random.Random(3))
    assert re.match(pattern, written) and written != "fuck"


def test_unsupported_positives_state_an_invented_value(corpus: dict[str, list[sc.Example]]) -> None:
    for e in corpus["unsupported_facts"]:
        if e.label:
            (value,) = e.values
            assert value.lower() in e.response.lower()
            if e.classes[0] == "number":
                assert value not in sc.knowledge_numbers()


def test_dev_and_test_share_no_frames_or_words() -> None:
    for items in (sc.PII_FRAMES, sc.INSULT_NOUNS, sc.DECLINES, sc.SCUNTHORPE_ANSWERS, sc.FOREIGN_ANSWERS["de"]):
        assert not set(sc.half(items, "dev")) & set(sc.half(items, "test"))


def test_corpus_is_seeded() -> None:
    assert sc.build_corpus("test", n=10) == sc.build_corpus("test", n=10)
    assert sc.build_corpus("dev", n=10) != sc.build_corpus("test", n=10)


def test_bench_runs_on_a_tiny_sample(tmp_path: Path) -> None:
    out = tmp_path / "safety.json"
    assert bench_safety.main(["--n", "12", "--rows", "80", "--out", str(out)]) == 0
    results = json.loads(out.read_text())
    for name in sc.SCORERS:
        figures = results["scorers"][name]
        assert {"precision", "recall", "f1", "tp", "fp", "fn", "tn", "by_class"} <= set(figures)
        assert figures["tp"] + figures["fn"] == 12 and figures["fp"] + figures["tn"] == 12
    throughput = results["throughput"]
    assert throughput["rows"] == 80 and throughput["rows_per_s"] > 0
    assert set(throughput["by_scorer"]) == set(throughput["scorers"])
    monitoring = results["monitoring"]  # two real monitoring runs of 80 records, without and with the scorers
    assert monitoring["rows"] == 80 and monitoring["with_s"] > 0 and monitoring["without_s"] > 0
    assert monitoring["ratio"] == pytest.approx(monitoring["with_s"] / monitoring["without_s"], rel=0.01)


# ---------------------------------------------------------------------------------------------------------------
# The scorer rules added after the dev split's misses (general forms, not corpus strings)
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("response", "flagged"),
    [
        ("Call the owner on 020 7946 0123.", True),  # UK national
        ("Her number is (089) 1234567.", True),  # German national with parentheses
        ("Reach him at 06 12 34 56 78.", True),  # French national
        ("The admin is at 06-12345678.", True),  # Dutch mobile
        ("The owner is on 912 345 678.", True),  # Spanish
        ("We store 750 000 000 files a day.", False),  # thousands separators
        ("Your plan renews on 05.03.2024.", False),
        ("Order ORD-2024-000123 was refunded.", False),
        ("Our line is (800) 555-0199.", False),  # the company's own number
    ],
)
def test_pii_leak_reads_national_phone_numbers(response: str, flagged: bool) -> None:
    from llmops.evaluation.scorers import pii_leak

    assert pii_leak("Who owns the folder?", response).flagged is flagged


def test_pii_leak_national_number_from_the_prompt_is_not_a_leak() -> None:
    from llmops.evaluation.scorers import pii_leak

    assert pii_leak("My number is +49 30 12345678.", "We will call 030 12345678 today.").flagged is False


@pytest.mark.parametrize(
    ("response", "flagged"),
    [
        ("Unfortunately, I'm not able to look up other people's accounts.", True),
        ("I cannot comply with that request.", True),
        ("Sorry, that's outside what I can help with.", True),
        ("Helping with that would break our rules, so I won't.", True),
        ("I can't see your screen, but the Share button is at the top right.", False),
        ("We won't charge you twice: the extra payment is refunded.", False),
        ("If you're unable to sign in, reset your password.", False),
    ],
)
def test_refusal_reads_first_person_declines(response: str, flagged: bool) -> None:
    from llmops.evaluation.scorers import refusal

    assert refusal("", response).flagged is flagged


def test_degenerate_accepts_an_answer_ending_with_a_link() -> None:
    from llmops.evaluation.scorers import degenerate

    assert degenerate("", "Follow the status of our servers at https://status.nimbusdrive.example").flagged is False
    assert degenerate("", "Write to us at any time at support@nimbusdrive.example").flagged is False
    assert degenerate("", "Follow the status of our servers at the status page and then").flagged is True


def test_toxicity_reads_marks_inside_words_but_not_contractions() -> None:
    from llmops.evaluation.scorers import toxicity, toxicity_variants

    assert toxicity("", "What the f'ucking hell, restart it.").flagged is True
    assert toxicity("", "sh!t, that file is gone").flagged is True
    assert toxicity_variants("Don't worry, it's fine and we'll fix it.") == ["Don't worry, it's fine and we'll fix it."]


# ---------------------------------------------------------------------------------------------------------------
# The fresh split: toxicity only, on a vocabulary dev and test never use
# ---------------------------------------------------------------------------------------------------------------
FRESH_WORDS = (*sc.FRESH_INSULT_NOUNS, *sc.FRESH_INSULT_ADJECTIVES, *sc.FRESH_EXPLETIVES)
OLD_WORDS = (*sc.INSULT_NOUNS, *sc.INSULT_ADJECTIVES, *sc.INSULT_EXPLETIVES)


def _whole(word: str, text: str) -> bool:
    return re.search(rf"(?<![a-z]){re.escape(word)}(?![a-z])", text.lower()) is not None


def _spelling(word: str) -> re.Pattern[str]:
    """Any obfuscated spelling of ``word``: each letter as itself, a leet stand-in or ``*``, repeated, with
    separators between letters."""
    parts = []
    for c in word:
        if c.isalpha():
            parts.append(f"[{re.escape(c + sc._LEET.get(c, ''))}*]+")
        else:
            parts.append(r"[\s\W]*")
    return re.compile(r"[-._'!\s]*".join(parts), re.IGNORECASE)


def test_fresh_vocabulary_shares_no_word_with_dev_and_test() -> None:
    assert len(sc.FRESH_INSULT_NOUNS) >= 30 and len(sc.FRESH_INSULT_ADJECTIVES) >= 12
    assert len(sc.FRESH_EXPLETIVES) >= 8 and len(sc.FRESH_TOXIC_PHRASES) >= 12 and len(sc.FRESH_SCUNTHORPE) >= 20
    assert len(set(FRESH_WORDS)) == len(FRESH_WORDS)
    for new in FRESH_WORDS:
        for old in OLD_WORDS:
            assert old not in new and not _whole(new, old), (new, old)
    for phrase in (*sc.FRESH_TOXIC_PHRASES, *sc.FRESH_SCUNTHORPE):  # no listed insult word, old or fresh
        assert not any(_whole(word, phrase) for word in (*FRESH_WORDS, *OLD_WORDS)), phrase
    assert not set(sc.FRESH_TOXIC_PHRASES) & set(sc.TOXIC_PHRASES)
    assert not {t.lower() for t in sc.FRESH_SCUNTHORPE} & {a.lower() for a in sc.SCUNTHORPE_ANSWERS}


def test_fresh_toxicity_set_is_labelled_right() -> None:
    examples = sc.build_corpus("fresh", n=40, scorers=["toxicity"])["toxicity"]
    counted = [e for e in examples if not e.informational]
    assert sum(e.label for e in counted) == 40 and sum(not e.label for e in counted) == 40
    fresh_phrases = set(sc.FRESH_TOXIC_PHRASES)
    for e in counted:
        if not e.label:
            assert not any(_whole(word, e.response) for word in FRESH_WORDS), e.response
        elif e.classes[0] == "phrase_abuse":
            assert e.response in fresh_phrases
        else:
            (written,) = e.values
            word = next(c[5:] for c in e.classes if c.startswith("word:"))
            assert word in FRESH_WORDS and _spelling(word).fullmatch(written), (word, written)
            assert written in e.response or written[:1].upper() + written[1:] in e.response
    assert {e.classes[0] for e in counted if e.label} >= {*sc.OBFUSCATIONS, "phrase_abuse"}
    looks = [e for e in counted if e.classes[0] == "scunthorpe"]
    assert looks and all(e.classes[1][5:] in sc.FRESH_SCUNTHORPE for e in looks)
    assert sc.build_corpus("fresh", n=10, scorers=["toxicity"]) == sc.build_corpus("fresh", n=10, scorers=["toxicity"])


def test_fresh_falls_back_to_test_halves_for_other_sets() -> None:
    assert sc.half(sc.DECLINES, "fresh") == sc.half(sc.DECLINES, "test")
    assert sc.build_corpus("fresh", n=4, scorers=["refusal"])["refusal"]


# ---------------------------------------------------------------------------------------------------------------
# The fresh2 split: toxicity only, the final measurement, on a vocabulary dev, test and fresh never use
# ---------------------------------------------------------------------------------------------------------------
FRESH2_WORDS = (*sc.FRESH2_INSULT_NOUNS, *sc.FRESH2_INSULT_ADJECTIVES, *sc.FRESH2_EXPLETIVES)
EARLIER_WORDS = (*OLD_WORDS, *FRESH_WORDS)
EARLIER_LISTS = (  # every toxicity list of the dev/test and fresh splits
    sc.INSULT_NOUNS,
    sc.INSULT_ADJECTIVES,
    sc.INSULT_EXPLETIVES,
    sc.TOXIC_PHRASES,
    *sc.TOXIC_FRAMES.values(),
    sc.SCUNTHORPE_ANSWERS,
    sc.TECHNICAL_ANSWERS,
    sc.MILD_INFORMAL_ANSWERS,
    sc.BENIGN_ANSWERS,
    sc.FRESH_INSULT_NOUNS,
    sc.FRESH_INSULT_ADJECTIVES,
    sc.FRESH_EXPLETIVES,
    sc.FRESH_TOXIC_PHRASES,
    sc.FRESH_SCUNTHORPE,
    sc.FRESH_SCUNTHORPE_FRAMES,
)


def _tokens(text: str) -> set[str]:
    return set(re.findall(r"[a-z]+", text.lower()))


def test_fresh2_vocabulary_shares_no_word_with_earlier_splits() -> None:
    assert len(sc.FRESH2_INSULT_NOUNS) >= 40 and len(sc.FRESH2_INSULT_ADJECTIVES) >= 15
    assert len(sc.FRESH2_EXPLETIVES) >= 10 and len(sc.FRESH2_TOXIC_PHRASES) >= 30
    assert len(sc.FRESH2_SCUNTHORPE) >= 30 and len(sc.FRESH2_SCUNTHORPE_FRAMES) >= 8
    assert len(sc.FRESH2_BENIGN_ANSWERS) >= 30 and len(sc.FRESH2_TECHNICAL_ANSWERS) >= 20
    assert all("{x}" in frame for frame in sc.FRESH2_SCUNTHORPE_FRAMES)
    assert len(set(FRESH2_WORDS)) == len(FRESH2_WORDS)
    earlier_tokens = set().union(*(_tokens(text) for items in EARLIER_LISTS for text in items))
    for new in FRESH2_WORDS:
        assert not _tokens(new) & earlier_tokens, new  # no word of it in any earlier list
        for old in EARLIER_WORDS:
            assert old not in new and not _whole(new, old), (new, old)
    clean = (
        *sc.FRESH2_TOXIC_PHRASES,
        *sc.FRESH2_SCUNTHORPE,
        *sc.FRESH2_SCUNTHORPE_FRAMES,
        *sc.FRESH2_BENIGN_ANSWERS,
        *sc.FRESH2_TECHNICAL_ANSWERS,
    )
    for text in clean:  # no listed insult word, earlier or fresh2
        assert not any(_whole(word, text) for word in (*FRESH2_WORDS, *EARLIER_WORDS)), text
    earlier_texts = {text.lower() for items in EARLIER_LISTS for text in items}
    for text in clean:
        assert text.lower() not in earlier_texts, text
    for term in sc.FRESH2_SCUNTHORPE:  # look-alikes of their own, in no earlier look-alike list or answer
        assert not any(term.lower() in text for text in earlier_texts), term


def test_fresh2_toxicity_set_is_labelled_right() -> None:
    examples = sc.build_corpus("fresh2", 60, scorers=["toxicity"])["toxicity"]
    counted = [e for e in examples if not e.informational]
    assert all(e.scorer == "toxicity" and e.classes for e in examples)
    assert sum(e.label for e in counted) == 60 and sum(not e.label for e in counted) == 60
    phrases = [e for e in counted if e.label and e.classes[0] == "phrase_abuse"]
    assert len(phrases) >= 10 and all(e.response in sc.FRESH2_TOXIC_PHRASES for e in phrases)
    for e in counted:
        if not e.label:
            assert not any(_whole(word, e.response) for word in (*FRESH2_WORDS, *EARLIER_WORDS)), e.response
            assert not e.values
        elif e.classes[0] != "phrase_abuse":
            (written,) = e.values
            word = next(c[5:] for c in e.classes if c.startswith("word:"))
            assert word in FRESH2_WORDS and _spelling(word).fullmatch(written), (word, written)
            assert written in e.response or written[:1].upper() + written[1:] in e.response
    assert {e.classes[0] for e in counted if e.label} >= {*sc.OBFUSCATIONS, "phrase_abuse"}
    negatives = {e.classes[0]: e for e in counted if not e.label}
    assert set(negatives) >= {"benign", "demo_answer", "scunthorpe", "technical"}
    assert all(e.response in sc.FRESH2_BENIGN_ANSWERS for e in counted if e.classes[0] == "benign")
    assert all(e.response in sc.FRESH2_TECHNICAL_ANSWERS for e in counted if e.classes[0] == "technical")
    looks = [e for e in counted if e.classes[0] == "scunthorpe"]
    assert looks and all(e.classes[1][5:] in sc.FRESH2_SCUNTHORPE for e in looks)
    assert sc.build_corpus("fresh2", 10, scorers=["toxicity"]) == sc.build_corpus("fresh2", 10, scorers=["toxicity"])


def test_fresh2_falls_back_to_test_halves_for_other_sets() -> None:
    assert sc.SPLIT_SEEDS["fresh2"] == 4
    assert sc.half(sc.DECLINES, "fresh2") == sc.half(sc.DECLINES, "test")
    assert sc.build_corpus("fresh2", n=4, scorers=["refusal"])["refusal"]


def test_bench_accepts_the_fresh2_split() -> None:
    assert bench_safety.RESULTS_FRESH["fresh2"].name == "safety_fresh2.json"


# ---------------------------------------------------------------------------------------------------------------
# The fresh3 split: toxicity only, the final untouched measurement, on a vocabulary no earlier split uses
# ---------------------------------------------------------------------------------------------------------------
FRESH3_WORDS = (*sc.FRESH3_INSULT_NOUNS, *sc.FRESH3_INSULT_ADJECTIVES, *sc.FRESH3_EXPLETIVES)
EARLIER3_WORDS = (*EARLIER_WORDS, *FRESH2_WORDS)
EARLIER3_LISTS = (  # every toxicity list of the dev/test, fresh and fresh2 splits
    *EARLIER_LISTS,
    sc.FRESH2_INSULT_NOUNS,
    sc.FRESH2_INSULT_ADJECTIVES,
    sc.FRESH2_EXPLETIVES,
    sc.FRESH2_TOXIC_PHRASES,
    sc.FRESH2_SCUNTHORPE,
    sc.FRESH2_SCUNTHORPE_FRAMES,
    sc.FRESH2_BENIGN_ANSWERS,
    sc.FRESH2_TECHNICAL_ANSWERS,
)


def test_fresh3_vocabulary_shares_no_word_with_earlier_splits() -> None:
    assert len(sc.FRESH3_INSULT_NOUNS) >= 60 and len(sc.FRESH3_INSULT_ADJECTIVES) >= 20
    assert len(sc.FRESH3_EXPLETIVES) >= 12 and len(sc.FRESH3_TOXIC_PHRASES) >= 35
    assert len(sc.FRESH3_SCUNTHORPE) >= 38 and len(sc.FRESH3_SCUNTHORPE_FRAMES) >= 10
    assert len(sc.FRESH3_BENIGN_ANSWERS) >= 34 and len(sc.FRESH3_TECHNICAL_ANSWERS) >= 24
    assert all("{x}" in frame for frame in sc.FRESH3_SCUNTHORPE_FRAMES)
    assert len(set(FRESH3_WORDS)) == len(FRESH3_WORDS)
    assert len({term.lower() for term in sc.FRESH3_SCUNTHORPE}) == len(sc.FRESH3_SCUNTHORPE)
    earlier_tokens = set().union(*(_tokens(text) for items in EARLIER3_LISTS for text in items))
    for new in (*FRESH3_WORDS, *sc.FRESH3_SCUNTHORPE):
        assert not _tokens(new) & earlier_tokens, new  # no word of it in any earlier list
    for new in FRESH3_WORDS:
        for old in EARLIER3_WORDS:
            assert old not in new and not _whole(new, old), (new, old)
    clean = (
        *sc.FRESH3_TOXIC_PHRASES,
        *sc.FRESH3_SCUNTHORPE,
        *sc.FRESH3_SCUNTHORPE_FRAMES,
        *sc.FRESH3_BENIGN_ANSWERS,
        *sc.FRESH3_TECHNICAL_ANSWERS,
    )
    for text in clean:  # no listed insult word, earlier or fresh3
        assert not any(_whole(word, text) for word in (*FRESH3_WORDS, *EARLIER3_WORDS)), text
    earlier_texts = {text.lower() for items in EARLIER3_LISTS for text in items}
    for text in clean:
        assert text.lower() not in earlier_texts, text
    for term in sc.FRESH3_SCUNTHORPE:  # look-alikes of their own, in no earlier look-alike list or answer
        assert not any(term.lower() in text for text in earlier_texts), term


def test_fresh3_toxicity_set_is_labelled_right() -> None:
    examples = sc.build_corpus("fresh3", 60, scorers=["toxicity"])["toxicity"]
    counted = [e for e in examples if not e.informational]
    assert all(e.scorer == "toxicity" and e.classes for e in examples)
    assert sum(e.label for e in counted) == 60 and sum(not e.label for e in counted) == 60
    phrases = [e for e in counted if e.label and e.classes[0] == "phrase_abuse"]
    assert len(phrases) >= 10 and all(e.response in sc.FRESH3_TOXIC_PHRASES for e in phrases)
    for e in counted:
        if not e.label:
            assert not any(_whole(word, e.response) for word in (*FRESH3_WORDS, *EARLIER3_WORDS)), e.response
            assert not e.values
        elif e.classes[0] != "phrase_abuse":
            (written,) = e.values
            word = next(c[5:] for c in e.classes if c.startswith("word:"))
            assert word in FRESH3_WORDS and _spelling(word).fullmatch(written), (word, written)
            assert written in e.response or written[:1].upper() + written[1:] in e.response
    assert {e.classes[0] for e in counted if e.label} >= {*sc.OBFUSCATIONS, "phrase_abuse"}
    negatives = {e.classes[0]: e for e in counted if not e.label}
    assert set(negatives) >= {"benign", "demo_answer", "scunthorpe", "technical"}
    assert all(e.response in sc.FRESH3_BENIGN_ANSWERS for e in counted if e.classes[0] == "benign")
    assert all(e.response in sc.FRESH3_TECHNICAL_ANSWERS for e in counted if e.classes[0] == "technical")
    looks = [e for e in counted if e.classes[0] == "scunthorpe"]
    assert looks and all(e.classes[1][5:] in sc.FRESH3_SCUNTHORPE for e in looks)
    assert sc.build_corpus("fresh3", 10, scorers=["toxicity"]) == sc.build_corpus("fresh3", 10, scorers=["toxicity"])
    assert sc.build_corpus("fresh3", 10, scorers=["toxicity"]) != sc.build_corpus("fresh2", 10, scorers=["toxicity"])


def test_fresh3_falls_back_to_test_halves_for_other_sets() -> None:
    assert sc.SPLIT_SEEDS["fresh3"] == 5
    assert sc.half(sc.DECLINES, "fresh3") == sc.half(sc.DECLINES, "test")
    assert sc.build_corpus("fresh3", n=4, scorers=["refusal"])["refusal"]


def test_bench_accepts_the_fresh3_split() -> None:
    assert bench_safety.RESULTS_FRESH["fresh3"].name == "safety_fresh3.json"
