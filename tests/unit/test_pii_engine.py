"""The PII engine: Presidio's analyzer with the project's recognizers, phonenumbers and the packaged spaCy model."""

from __future__ import annotations

import itertools
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from llmops.data.pii import ENTITY_TYPES, PATTERN_TYPES, PiiScrubber


def _scrubbed(text: str, entities: tuple[str, ...] | None = None) -> str:
    out, _ = PiiScrubber(entities).scrub(text)
    assert out is not None
    return out


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # gaps an independent corpus found in the pattern-only scrubber
        ("Reply to o'neil40@corp.example.org please", "Reply to <EMAIL> please"),
        ("the answer named e-mail 'jo.baker+vip@mail.example.net' twice", "the answer named e-mail '<EMAIL>' twice"),
        ("my credit card is 9405 3327 1546 7014, expiry 09/27", "my credit card is <CREDIT_CARD>, expiry 09/27"),
        ("IBAN de89 3704 0044 0532 0130 00 for the refund", "IBAN <IBAN> for the refund"),
        ("call me on 07700 900123 after five", "call me on <PHONE> after five"),
        ("my number is 0490 75 40 81", "my number is <PHONE>"),
        ("the JCB card 3530 1113 3330 0000 was declined", "the JCB card <CREDIT_CARD> was declined"),
        ("Maestro 6759 6498 2643 8453 was charged", "Maestro <CREDIT_CARD> was charged"),
        # types the pattern-only scrubber did not have
        ("I was born on 14/03/1987 in Leeds.", "I was born on <DATE_OF_BIRTH> in Leeds."),
        ("The ID shows 1987-03-14 as my date of birth.", "The ID shows <DATE_OF_BIRTH> as my date of birth."),
        ("My national insurance number is QQ 12 34 56 C.", "My national insurance number is <NATIONAL_ID>."),
        ("DNI 12345678Z, please update it", "DNI <NATIONAL_ID>, please update it"),
        ("Ship it to 221B Baker Street, London NW1 6XE.", "Ship it to <ADDRESS>."),
        ("Lieferung an Hauptstraße 5, 10115 Berlin bitte.", "Lieferung an <ADDRESS> bitte."),
        ("Envoyez-le au 12, rue de la Paix, 75002 Paris.", "Envoyez-le au <ADDRESS>."),
        ("my wifi password is 'k9#Lm2!x' since Monday", "my wifi password is '<SECRET>' since Monday"),
        ("export ACME_API_KEY=Zq81kLm0Pw2xYv7Rt5Uo", "export ACME_API_KEY=<SECRET>"),
    ],
)
def test_planted_values_are_replaced(text: str, expected: str) -> None:
    assert _scrubbed(text, PATTERN_TYPES) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Order #A-2024-118833 shipped on 12/03/2024.",
        "Version 3.12.4 fixed it; ISBN 978-3-16-148410-0 is the manual.",
        "Ticket CS-0916620 was merged. Can I restore the folder as of 02-05-2021?",
        "The card 4111 1111 1111 1112 fails the checksum.",
        "Our office in Berlin moved; the Basic plan costs $9.99.",
        "Commit 636ed578d7fa5c8a0f155b1ed302ca4737f2d3d2 and UUID 0a30983b-8697-416c-9b03-99899bf8ada8.",
    ],
)
def test_lookalikes_stay(text: str) -> None:
    assert _scrubbed(text) == text


def test_names_from_the_model_and_from_introductions() -> None:
    assert _scrubbed("I already spoke to Jason Horton from billing.") == "I already spoke to <PERSON> from billing."
    assert _scrubbed("hi, my name is john smith and sync is stuck") == "hi, my name is <PERSON> and sync is stuck"
    assert _scrubbed("Thanks,\nAnna Schmidt") == "Thanks,\n<PERSON>"
    # what the small model alone takes for a person at the start of a sentence, or a product, stays
    for text in ("Tel. +44 20 7946 0958 works", "Git says it is fine.", "The Max Family plan went up."):
        assert "<PERSON>" not in _scrubbed(text), text
    # without PERSON the model is not consulted and names stay
    assert _scrubbed("I spoke to Jason Horton.", PATTERN_TYPES) == "I spoke to Jason Horton."


def test_overlapping_detections_merge_into_one_placeholder() -> None:
    from llmops.data.pii import PiiMatch, merge

    # two recognizers see parts of one value: nothing of it stays in clear, the stronger type names it
    merged = merge([PiiMatch("PERSON", 10, 24), PiiMatch("ADDRESS", 4, 18), PiiMatch("EMAIL", 30, 40)])
    assert merged == [PiiMatch("ADDRESS", 4, 24), PiiMatch("EMAIL", 30, 40)]
    text = "Write to Dana Whitfield at dana.whitfield@mailbox-example.org or 221 Baker Street, London."
    matches = PiiScrubber().analyze(text)
    assert all(a.end <= b.start for a, b in itertools.pairwise(matches))
    assert [m.entity for m in matches] == ["PERSON", "EMAIL", "ADDRESS"]


def test_records_are_scrubbed_in_batches_with_counts() -> None:
    rows = [
        {"prompt": "I'm Margaret Thompson, call 07700 900123", "response": "Noted."},
        {"prompt": "How do I share a folder?", "response": "Open Settings."},
        {"prompt": None, "response": "My SSN is 123-45-6789? No: 219-09-9998 is an example."},
    ]
    out, counts, changed = PiiScrubber().scrub_records(rows)
    assert out[0]["prompt"] == "I'm <PERSON>, call <PHONE>"
    assert out[1] == rows[1] and out[2]["prompt"] is None
    assert changed == 2 and counts["PERSON"] == 1 and counts["PHONE"] == 1 and counts["US_SSN"] == 1
    assert set(counts) == set(ENTITY_TYPES)


def test_the_model_files_are_checked_before_loading(monkeypatch: pytest.MonkeyPatch) -> None:
    from llmops.data import pii_engine

    path = pii_engine.spacy_model_path()
    assert not [p for p in path.rglob("*") if p.suffix in {".pkl", ".pickle", ".joblib"}]
    monkeypatch.setitem(pii_engine.SPACY_WEIGHTS_SHA256, "ner/model", "0" * 64)
    with pytest.raises(pii_engine.ModelMismatch, match=r"ner/model has SHA-256 .* not the pinned"):
        pii_engine.spacy_model_path()


def test_the_engine_needs_no_network(tmp_path: Path) -> None:
    """A fresh process with every socket refused builds the engine, loads the model and finds a name, a phone
    number (phonenumbers) and an e-mail address: nothing is fetched (no model download, no public-suffix list)."""
    script = textwrap.dedent(
        """
        import socket

        class Refused(socket.socket):
            def connect(self, *a, **k):
                raise OSError("network refused in this test")

            def connect_ex(self, *a, **k):
                raise OSError("network refused in this test")

        socket.socket = Refused
        socket.create_connection = lambda *a, **k: (_ for _ in ()).throw(OSError("network refused in this test"))
        from llmops.data.pii import PiiScrubber
        print(PiiScrubber().scrub("I spoke to Jason Horton, +33 1 42 68 53 00, jason@acme-example.fr")[0])
        """
    )
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "HF_HUB_OFFLINE": "1"}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "I spoke to <PERSON>, <PHONE>, <EMAIL>"


def test_held_out_sample_of_the_labelled_corpus() -> None:
    """A small sample of the benchmark's held-out corpus (``make bench-data`` runs 5,000 rows): recall of every
    type and overall precision stay near the benchmark's figures."""
    from bench.pii_corpus import build_pii_corpus, score

    examples = build_pii_corpus(300, seed=7, split="test")
    scrubber = PiiScrubber()
    found = {e.text: [(m.entity, m.start, m.end) for m in scrubber.analyze(e.text)] for e in examples}
    figures = score(lambda text: found[text], examples)
    assert figures["precision"] >= 0.9, figures["precision"]
    floors = {"PERSON": 0.75, "ADDRESS": 0.7, "US_SSN": 0.85}
    for entity, item in figures["per_type"].items():
        if item["planted"]:
            assert item["recall"] >= floors.get(entity, 0.9), (entity, item)


def test_the_national_windows_keep_every_number_the_full_text_gives() -> None:
    """The second and later phone regions read only the stretches where a number phone_context keeps without "+"
    can be: on the labelled corpus (both halves) the phone matches are exactly those of every region on the whole
    text."""
    import phonenumbers

    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from bench.pii_corpus import build_pii_corpus
    from llmops.data.pii import QUICK, phone_context
    from llmops.data.pii_engine import national_windows

    texts = [e.text for split in ("dev", "test") for e in build_pii_corpus(600, seed=3, split=split)]
    texts += ["Ring 020 7946 0958 or (0)20 7946 0959 today", "order 06123456789x, ref 0612345678", "call 0612345678"]
    regions = ["US", "GB", "DE", "FR", "ES", "NL", "IT"]

    def matches(windowed: bool) -> list[set[tuple[int, int]]]:
        out = []
        for text in texts:
            found: set[tuple[int, int]] = set()
            if QUICK["PHONE"](text):
                national = national_windows(text) if windowed else text
                for i, region in enumerate(regions):
                    searched = text if i == 0 else national
                    for m in phonenumbers.PhoneNumberMatcher(searched, region, leniency=phonenumbers.Leniency.VALID):
                        if phone_context(text, m.start, m.end):
                            found.add((m.start, m.end))
            out.append(found)
        return out

    full, windowed = matches(False), matches(True)
    assert sum(map(len, full)) > 50
    assert windowed == full


def test_the_model_reads_only_the_stretches_around_possible_names_and_finds_the_same_names() -> None:
    """The engine loads the recognizer alone (it embeds with its own tok2vec layer) and feeds it only the stretches
    of name_windows: on the labelled corpus (both halves) the entities equal those of the full pipeline (tok2vec
    and ner) on the whole text, and the kept names are the same."""
    import spacy

    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from bench.pii_corpus import build_pii_corpus
    from llmops.data.pii import name_windows, plausible_name
    from llmops.data.pii_engine import _nlp, spacy_model_path

    texts = [e.text for split in ("dev", "test") for e in build_pii_corpus(400, seed=5, split=split)]
    texts = [t for t in texts if name_windows(t)]
    assert len(texts) > 100
    full = spacy.load(spacy_model_path(), exclude=["tagger", "parser", "attribute_ruler", "lemmatizer", "senter"])
    assert full.pipe_names == ["tok2vec", "ner"] and _nlp(True).pipe_names == ["ner"]

    def entities(docs: Any, offsets: list[int]) -> list[tuple[int, int, str]]:
        pairs = zip(docs, offsets, strict=True)
        return [(o + e.start_char, o + e.end_char, e.label_) for d, o in pairs for e in d.ents]

    whole = [entities(full.pipe([t]), [0]) for t in texts]
    assert whole == [entities(_nlp(True).pipe([t]), [0]) for t in texts]
    kept_names = 0
    for text, found in zip(texts, whole, strict=True):
        windows = name_windows(text)
        in_windows = entities(_nlp(True).pipe([text[a:b] for a, b in windows]), [a for a, _ in windows])
        names = {(a, b) for a, b, label in found if label == "PERSON" and plausible_name(text, a, b)}
        kept_names += len(names)
        assert names == {(a, b) for a, b, label in in_windows if label == "PERSON" and plausible_name(text, a, b)}
    assert kept_names > 50
