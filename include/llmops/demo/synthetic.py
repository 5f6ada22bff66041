"""Seeded synthetic corpora with known answers, for benchmarks and tests.

- :func:`near_duplicate_corpus`: documents of about 200 words in clusters of a source document and its copies edited
  at given character edit rates, plus unrelated documents; each document carries its cluster label.
- :func:`planted_pii_corpus`: support-ticket-like records with planted PII of every type the scrubber knows, at known
  character spans, mixed with look-alikes that are not PII (order numbers, dates, version strings, invalid card
  numbers, ...).

Everything is a pure function of its arguments and the seed.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass, field
from typing import Any

from llmops.checksums import luhn_check_digit

# ---------------------------------------------------------------------------------------------------------------
# Near-duplicate corpus
# ---------------------------------------------------------------------------------------------------------------
_LETTERS = "etaoinshrdlucmfwypvbgkjqxz"
_LETTER_WEIGHTS = (
    12,
    9,
    8,
    7.5,
    7,
    6.7,
    6.3,
    6,
    4.3,
    4,
    2.8,
    2.8,
    2.4,
    2.4,
    2.2,
    2,
    2,
    1.9,
    1,
    1.5,
    0.8,
    0.2,
    0.2,
    0.1,
    0.2,
    0.1,
)


@dataclass
class NearDuplicateCorpus:
    """Documents with cluster labels.

    Attributes:
        texts: the documents.
        labels: cluster label of each document (unrelated documents have a label of their own).
        edit_rates: the character edit rate each document was made with (0.0 for sources and unrelated documents).
    """

    texts: list[str] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)
    edit_rates: list[float] = field(default_factory=list)


def _vocabulary(rng: random.Random, size: int) -> list[str]:
    words: set[str] = set()
    while len(words) < size:
        length = max(1, min(12, int(rng.gauss(5, 2))))
        words.add("".join(rng.choices(_LETTERS, weights=_LETTER_WEIGHTS, k=length)))
    return sorted(words)


def _document(rng: random.Random, vocab: list[str], cum_weights: list[float], n_words: int) -> str:
    words = rng.choices(vocab, cum_weights=cum_weights, k=n_words)
    sentences, i = [], 0
    while i < len(words):
        length = rng.randint(6, 18)
        chunk = words[i : i + length]
        sentences.append(chunk[0].capitalize() + (" " + " ".join(chunk[1:]) if len(chunk) > 1 else "") + ".")
        i += length
    return " ".join(sentences)


def edit_text(rng: random.Random, text: str, rate: float, mean_span: int = 24) -> str:
    """Apply character edits to about ``rate * len(text)`` characters.

    Edits come in spans (geometric lengths, mean ``mean_span`` characters) at random places; each span is
    substituted with random letters, deleted, or has random letters inserted before it, the way copies of a document
    drift apart (a changed phrase, a removed clause, an inserted remark, typos).

    Args:
        rng: the random source.
        text: the original.
        rate: share of characters to edit, in [0, 1).
        mean_span: mean length of an edited span.

    Returns:
        The edited text.
    """
    chars = list(text)
    budget = round(rate * len(text))
    while budget > 0 and chars:
        span = min(budget, max(1, int(rng.expovariate(1 / mean_span)) + 1))
        start = rng.randrange(0, max(1, len(chars) - span))
        op = rng.random()
        if op < 0.5:  # substitute
            for j in range(start, min(len(chars), start + span)):
                chars[j] = rng.choice(string.ascii_lowercase + " ")
        elif op < 0.75:  # delete
            del chars[start : start + span]
        else:  # insert
            chars[start:start] = rng.choices(string.ascii_lowercase + " ", k=span)
        budget -= span
    return "".join(chars)


def near_duplicate_corpus(
    n_docs: int,
    seed: int = 0,
    edit_rates: tuple[float, ...] = (0.01, 0.05, 0.15, 0.30),
    duplicate_share: float = 0.5,
    words_per_doc: int = 200,
    vocabulary_size: int = 20_000,
    mean_span: int = 24,
) -> NearDuplicateCorpus:
    """A labeled near-duplicate corpus.

    About ``duplicate_share`` of the documents belong to clusters of one source document plus one copy per edit
    rate; the rest are unrelated documents. Words are drawn from a Zipf-like vocabulary, so unrelated documents
    share common words as real text does. Documents are shuffled.

    Args:
        n_docs: number of documents.
        seed: random seed.
        edit_rates: the character edit rate of each copy in a cluster.
        duplicate_share: share of documents in clusters.
        words_per_doc: mean words per document (uniform within +-20%).
        vocabulary_size: distinct words.
        mean_span: mean length of an edited span (see :func:`edit_text`).

    Returns:
        The corpus.
    """
    rng = random.Random(seed)
    vocab = _vocabulary(rng, vocabulary_size)
    rng.shuffle(vocab)
    cum: list[float] = []
    total = 0.0
    for rank in range(len(vocab)):
        total += 1.0 / (rank + 1) ** 1.05
        cum.append(total)
    cluster_size = len(edit_rates) + 1
    n_clusters = int(n_docs * duplicate_share) // cluster_size
    n_unrelated = n_docs - n_clusters * cluster_size
    docs: list[tuple[str, int, float]] = []
    low, high = int(words_per_doc * 0.8), int(words_per_doc * 1.2)
    for label in range(n_clusters):
        source = _document(rng, vocab, cum, rng.randint(low, high))
        docs.append((source, label, 0.0))
        docs.extend((edit_text(rng, source, rate, mean_span), label, rate) for rate in edit_rates)
    for offset in range(n_unrelated):
        docs.append((_document(rng, vocab, cum, rng.randint(low, high)), n_clusters + offset, 0.0))
    rng.shuffle(docs)
    return NearDuplicateCorpus(texts=[d[0] for d in docs], labels=[d[1] for d in docs], edit_rates=[d[2] for d in docs])


def pairwise_scores(true_labels: Any, predicted_labels: Any) -> dict[str, float]:
    """Pairwise precision, recall and F1 of a clustering against true clusters.

    A pair of documents is positive when both are in the same cluster; counts come from cluster sizes, so no pair
    is enumerated.

    Args:
        true_labels: true cluster label per document.
        predicted_labels: predicted cluster label per document.

    Returns:
        ``{"precision", "recall", "f1", "true_pairs", "predicted_pairs", "correct_pairs"}``.
    """
    import numpy as np

    truth = np.asarray(true_labels, dtype=np.int64)
    pred = np.asarray(predicted_labels, dtype=np.int64)

    def pairs(*columns: np.ndarray) -> int:
        _, counts = np.unique(np.stack(columns, axis=1), axis=0, return_counts=True)
        return int((counts * (counts - 1) // 2).sum())

    true_pairs = pairs(truth)
    predicted_pairs = pairs(pred)
    correct = pairs(truth, pred)
    precision = correct / predicted_pairs if predicted_pairs else 1.0
    recall = correct / true_pairs if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "true_pairs": true_pairs,
        "predicted_pairs": predicted_pairs,
        "correct_pairs": correct,
    }


# ---------------------------------------------------------------------------------------------------------------
# Planted PII corpus
# ---------------------------------------------------------------------------------------------------------------
@dataclass
class PiiRecord:
    """A text with the character spans of its planted PII and of its look-alikes.

    Attributes:
        text: the record.
        spans: ``(entity type, start, end)`` of every planted PII value.
        lookalikes: ``(kind, start, end)`` of every planted value that looks like PII but is not.
    """

    text: str
    spans: list[tuple[str, int, int]] = field(default_factory=list)
    lookalikes: list[tuple[str, int, int]] = field(default_factory=list)


_FIRST = ("jane", "omar", "li", "maria", "tom", "aisha", "kofi", "sven", "priya", "diego", "yuki", "ines")
_LAST = ("doe", "rahman", "wei", "garcia", "baker", "khan", "mensah", "berg", "nair", "lopez", "sato", "silva")
_DOMAINS = ("example.com", "example.org", "mail.example.net", "corp.example.co.uk", "example.io")
_B64 = string.ascii_letters + string.digits
_IBAN_COUNTRIES = ("DE", "GB", "FR", "NL", "ES", "IT", "CH", "BE", "AT", "PL")


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(string.digits) for _ in range(n))


def _card(rng: random.Random, valid: bool = True) -> str:
    kind = rng.choice(("visa", "mc", "amex", "discover"))
    if kind == "amex":
        body = rng.choice(("34", "37")) + _digits(rng, 12)
        number = body + luhn_check_digit(body)
        groups = [number[:4], number[4:10], number[10:]]
    else:
        prefix = {"visa": "4", "mc": str(rng.randint(51, 55)), "discover": "6011"}[kind]
        body = prefix + _digits(rng, 15 - len(prefix))
        number = body + luhn_check_digit(body)
        groups = [number[i : i + 4] for i in range(0, 16, 4)]
    if not valid:  # break the checksum
        last = groups[-1]
        groups[-1] = last[:-1] + str((int(last[-1]) + rng.randint(1, 9)) % 10)
    sep = rng.choice((" ", "-", ""))
    return sep.join(groups)


def _iban(rng: random.Random, valid: bool = True) -> str:
    from llmops.data.pii import IBAN_LENGTHS

    country = rng.choice(_IBAN_COUNTRIES)
    length = IBAN_LENGTHS[country]
    bban = (
        "".join(rng.choice(string.ascii_uppercase) for _ in range(4)) + _digits(rng, length - 8)
        if country in ("GB", "NL")
        else _digits(rng, length - 4)
    )
    numeric = "".join(str(int(ch, 36)) for ch in bban + country + "00")
    check = 98 - int(numeric) % 97
    if not valid:
        check = (check + rng.randint(1, 50)) % 97 + 2
    iban = f"{country}{check:02d}{bban}"
    return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4)) if rng.random() < 0.6 else iban


def _ssn(rng: random.Random) -> str:
    while True:
        area = rng.randint(1, 899)
        if area != 666:
            break
    return f"{area:03d}-{rng.randint(1, 99):02d}-{rng.randint(1, 9999):04d}"


def _phone(rng: random.Random) -> str:
    kind = rng.randrange(5)
    a, b, c = rng.randint(201, 989), rng.randint(200, 999), rng.randint(0, 9999)
    if kind == 0:
        return f"({a}) {b}-{c:04d}"
    if kind == 1:
        return f"{a}-{b}-{c:04d}"
    if kind == 2:
        return f"+1 {a} {b} {c:04d}"
    if kind == 3:
        return rng.choice(("+44 20 7946 ", "+49 30 9018 ", "+33 1 7036 ", "+91 98765 ")) + _digits(rng, 4)
    return f"{a}.{b}.{c:04d}"


def _ipv4(rng: random.Random) -> str:
    return ".".join(str(rng.randint(1, 254)) for _ in range(4))


def _ipv6(rng: random.Random) -> str:
    groups = [f"{rng.randint(0, 0xFFFF):x}" for _ in range(8)]
    if rng.random() < 0.5:
        return ":".join(groups)
    return f"2001:db8:{groups[2]}::{groups[7]}"


def _secret(rng: random.Random) -> tuple[str, str]:
    """(sentence with {v}, secret value) pairs; the value is what must be replaced."""
    kind = rng.randrange(9)
    if kind == 0:
        return "our AWS access key is {v} if that helps", "AKIA" + "".join(
            rng.choice(string.ascii_uppercase + string.digits) for _ in range(16)
        )
    if kind == 1:
        return "I pasted my GitHub token {v} into the sync settings", "ghp_" + "".join(
            rng.choice(_B64) for _ in range(36)
        )
    if kind == 2:
        return "the Slack bot uses {v} for alerts", "xoxb-" + _digits(rng, 12) + "-" + "".join(
            rng.choice(_B64) for _ in range(24)
        )
    if kind == 3:
        return "the integration calls the API with {v} as the key", "sk-" + "".join(rng.choice(_B64) for _ in range(40))
    if kind == 4:

        def part(n: int) -> str:
            return "".join(rng.choice(_B64 + "-_") for _ in range(n))

        return "the session cookie was {v} when it failed", "eyJhbGciOiJIUzI1NiJ9.eyJ" + part(30) + "." + part(43)
    if kind == 5:
        return "my config says password={v} for the share", "".join(rng.choice(_B64 + "!@#") for _ in range(14))
    if kind == 6:
        return 'the script has "api_key": "{v}" at the top', "".join(rng.choice(_B64) for _ in range(32))
    if kind == 7:
        body = "\n".join("".join(rng.choice(_B64 + "+/") for _ in range(64)) for _ in range(3))
        return "here is the key file:\n{v}\nplease fix sync", (
            f"-----BEGIN RSA PRIVATE KEY-----\n{body}\n-----END RSA PRIVATE KEY-----"
        )
    return "the webhook signing secret is {v} on the dashboard", "".join(rng.choice(_B64) for _ in range(40))


def _pii_fragment(rng: random.Random, entity: str) -> tuple[str, str]:
    if entity == "EMAIL":
        user = f"{rng.choice(_FIRST)}.{rng.choice(_LAST)}{rng.randint(1, 99)}"
        return rng.choice(("please reply to {v}", "my login email is {v}", "cc {v} on the ticket")), (
            f"{user}@{rng.choice(_DOMAINS)}"
        )
    if entity == "PHONE":
        return rng.choice(("call me at {v}", "my mobile is {v}", "you can reach me on {v} after five")), _phone(rng)
    if entity == "CREDIT_CARD":
        return rng.choice(("the card {v} was charged twice", "I paid with card {v}", "card number {v} expired")), (
            _card(rng)
        )
    if entity == "IBAN":
        return rng.choice(("refund to IBAN {v} please", "my bank account is {v}", "send it to {v}")), _iban(rng)
    if entity == "IP_ADDRESS":
        value = _ipv4(rng) if rng.random() < 0.7 else _ipv6(rng)
        return rng.choice(
            ("sync fails from {v} since Monday", "the login came from {v}", "my server {v} is blocked")
        ), (value)
    if entity == "US_SSN":
        return rng.choice(("my SSN is {v}", "for tax forms use {v} as my social security number")), _ssn(rng)
    return _secret(rng)


def _lookalike_fragment(rng: random.Random) -> tuple[str, str, str]:
    """(kind, sentence with {v}, value) of something that must not be scrubbed."""
    kind = rng.randrange(14)
    if kind == 0:
        return "order_number", "my order number is {v}", f"{rng.randint(10_000_000, 99_999_999)}"
    if kind == 1:
        return "order_id", "order {v} never arrived", f"ORD-{rng.randint(2019, 2026)}-{rng.randint(0, 999_999):06d}"
    if kind == 2:
        return (
            "date",
            "it started on {v}",
            f"{rng.randint(2019, 2026)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        )
    if kind == 3:
        return (
            "date",
            "the invoice dated {v} is wrong",
            f"{rng.randint(1, 12):02d}/{rng.randint(1, 28):02d}/{rng.randint(2019, 2026)}",
        )
    if kind == 4:
        return (
            "version",
            "I run version {v} of the app",
            f"{rng.randint(1, 12)}.{rng.randint(0, 30)}.{rng.randint(0, 99)}",
        )
    if kind == 5:
        return "version", "after updating to v{v} it broke", ".".join(str(rng.randint(0, 20)) for _ in range(4))
    if kind == 6:
        return "invalid_card", "the number {v} on the box", _card(rng, valid=False)
    if kind == 7:
        return "invalid_iban", "the reference {v} from the bank", _iban(rng, valid=False).replace(" ", "")
    if kind == 8:
        area = rng.choice((0, 666, rng.randint(900, 999)))
        return "invalid_ssn", "the form shows {v}", f"{area:03d}-{rng.randint(1, 99):02d}-{rng.randint(1, 9999):04d}"
    if kind == 9:
        return "commit_sha", "we are on commit {v}", "".join(rng.choice("0123456789abcdef") for _ in range(40))
    if kind == 10:
        return "uuid", "the request id was {v}", str(__import__("uuid").UUID(int=rng.getrandbits(128), version=4))
    if kind == 11:
        return (
            "time",
            "it failed at {v} today",
            f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}",
        )
    if kind == 12:
        return "ticket", "see ticket #{v} for details", f"{rng.randint(100_000, 9_999_999)}"
    return (
        "amount",
        "I was billed ${v} this month",
        f"{rng.randint(1, 9):d},{rng.randint(0, 999):03d}.{rng.randint(0, 99):02d}",
    )


PLANTED_TYPES: tuple[str, ...] = ("EMAIL", "PHONE", "CREDIT_CARD", "IBAN", "IP_ADDRESS", "SECRET", "US_SSN")
"""The PII types :func:`planted_pii_corpus` plants (the demo's own patterns; the benchmark's independent corpus,
``bench/pii_corpus.py``, has names, addresses, national IDs and dates of birth too)."""


def planted_pii_corpus(n_records: int, seed: int = 0, pii_share: float = 0.6) -> list[PiiRecord]:
    """Support-ticket-like records with planted PII and look-alikes at known spans.

    Each record has one to three sentences; a sentence carries a PII value (each type equally often), a look-alike
    (order numbers, dates, version strings, invalid cards/IBANs/SSNs, commit hashes, UUIDs, times, ticket numbers,
    amounts) or nothing.

    Args:
        n_records: number of records.
        seed: random seed.
        pii_share: probability that a sentence carries PII (the rest is split between look-alikes and plain text).

    Returns:
        The records.
    """
    rng = random.Random(seed)
    fillers = (
        "Hi team, sync stopped working on my laptop.",
        "Thanks for the quick help last time.",
        "The shared folder shows an error.",
        "I cannot open the Projects folder on my phone.",
        "Please check my account.",
        "Nothing has changed on my side.",
    )
    records: list[PiiRecord] = []
    for _ in range(n_records):
        text = ""
        record = PiiRecord(text="")
        for _sentence in range(rng.randint(1, 3)):
            draw = rng.random()
            prefix = (text + " ") if text else ""
            if draw < pii_share:
                entity = rng.choice(PLANTED_TYPES)
                template, value = _pii_fragment(rng, entity)
                before, after = template.split("{v}")
                start = len(prefix) + len(before)
                text = prefix + before + value + after + "."
                record.spans.append((entity, start, start + len(value)))
            elif draw < pii_share + (1 - pii_share) * 0.6:
                kind, template, value = _lookalike_fragment(rng)
                before, after = template.split("{v}")
                start = len(prefix) + len(before)
                text = prefix + before + value + after + "."
                record.lookalikes.append((kind, start, start + len(value)))
            else:
                text = prefix + rng.choice(fillers)
            text = text[0].upper() + text[1:]
        record.text = text
        records.append(record)
    return records
