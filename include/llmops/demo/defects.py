"""The defects planted in the demo training file: near-duplicates, PII, empty and oversized fields, broken lines."""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from typing import Any

from llmops.checksums import luhn_check_digit

# Planted oversized fields: above the default contract limits (2000 / 4000 characters).
OVERSIZED_PROMPT_CHARS = 2600
OVERSIZED_RESPONSE_CHARS = 4800

_WORD_SWAPS: tuple[tuple[str, str], ...] = (
    ("How do I", "How can I"),
    ("I want", "I would like"),
    ("Can I", "Could I"),
    ("What is", "What's"),
    ("folder", "directory"),
    ("account", "profile"),
    ("Please", "Kindly"),
    ("files", "documents"),
    ("my ", "our "),
    ("the ", "that "),
)
NEAR_DUPLICATE_KINDS: tuple[str, ...] = ("case", "punctuation", "whitespace", "word")
EMPTY_KINDS: tuple[str, ...] = ("empty_prompt", "empty_response", "blank_prompt", "null_response")
OVERSIZED_KINDS: tuple[str, ...] = ("long_prompt", "long_response")
MALFORMED_KINDS: tuple[str, ...] = (
    "truncated_json",
    "plain_text",
    "not_utf8",
    "single_quotes",
    "json_array",
    "trailing_garbage",
)
_FIRST_NAMES: tuple[str, ...] = ("jane", "omar", "li", "maria", "tom", "aisha", "kofi", "sven", "priya", "diego")
_LAST_NAMES: tuple[str, ...] = ("doe", "rahman", "wei", "garcia", "baker", "khan", "mensah", "berg", "nair", "lopez")
RAMBLE: tuple[str, ...] = (
    "I have been a customer for years and never had a problem like this before.",
    "Yesterday I tried again from a different network and it still did not work.",
    "My colleague says it works for her, but she uses a different computer.",
    "I restarted everything twice and even reinstalled the app from scratch.",
    "It is really important because I need these files for a meeting tomorrow morning.",
    "The error message disappears too quickly for me to read it properly.",
    "I also noticed the app feels slower than it used to be last month.",
)


def near_duplicate(rng: random.Random, prompt: str, kind: str) -> str:
    """A small edit of a prompt (the kind of near-duplicate that real exports are full of).

    Args:
        rng: the random source.
        prompt: the original prompt.
        kind: ``case``, ``punctuation``, ``whitespace`` or ``word``.

    Returns:
        The edited prompt (never equal to the original).
    """
    if kind == "word":
        swaps = [(a, b) for a, b in _WORD_SWAPS if a in prompt]
        if swaps:
            old, new = rng.choice(swaps)
            return prompt.replace(old, new, 1)
        kind = "case"
    if kind == "punctuation":
        if prompt[-1] in ".?!":
            return prompt[:-1] if rng.random() < 0.5 else prompt + prompt[-1]
        return prompt + "?"
    if kind == "whitespace":
        words = prompt.split(" ")
        at = rng.randrange(1, len(words))
        return " ".join(words[:at]) + "  " + " ".join(words[at:])
    lowered = prompt.lower()
    return lowered if lowered != prompt else prompt.upper()


def _card_number(rng: random.Random) -> str:
    prefix = rng.choice(("4", "51", "52", "53", "54", "55"))
    body = prefix + "".join(str(rng.randrange(10)) for _ in range(15 - len(prefix)))
    number = body + luhn_check_digit(body)
    separator = rng.choice((" ", "-", ""))
    return separator.join(number[i : i + 4] for i in range(0, 16, 4))


def _pii_sentence(rng: random.Random, kind: str) -> str:
    if kind == "email":
        user = f"{rng.choice(_FIRST_NAMES)}.{rng.choice(_LAST_NAMES)}{rng.randrange(1, 99)}"
        domain = rng.choice(("example.com", "example.org", "mail.example.net"))
        return rng.choice(("My account email is {v}.", "Please reply to {v}.", "You can reach me at {v}.")).format(
            v=f"{user}@{domain}"
        )
    if kind == "phone":
        number = rng.choice(
            (
                f"+1 415 555 01{rng.randrange(10, 100)}",
                f"(212) 555-01{rng.randrange(10, 100)}",
                f"+44 20 7946 0{rng.randrange(100, 1000)}",
            )
        )
        return rng.choice(("Call me at {v}.", "My phone number is {v}.", "Text me on {v} if needed.")).format(v=number)
    return rng.choice(("My card number is {v}.", "The card {v} was charged.", "I paid with card {v}.")).format(
        v=_card_number(rng)
    )


def with_pii(rng: random.Random, example: dict[str, str], kinds: Sequence[str]) -> dict[str, str]:
    """``example`` with one sentence per kind (``email``, ``phone``, ``card``) appended to its prompt."""
    sentences = " ".join(_pii_sentence(rng, kind) for kind in kinds)
    return {**example, "prompt": f"{example['prompt']} {sentences}"}


def long_text(rng: random.Random, start: str, min_chars: int) -> str:
    """``start`` followed by rambling sentences until it is longer than ``min_chars``."""
    parts = [start]
    length = len(start)
    while length <= min_chars:
        sentence = rng.choice(RAMBLE)
        parts.append(sentence)
        length += len(sentence) + 1
    return " ".join(parts)


def json_line(record: dict[str, Any]) -> bytes:
    """One JSONL line (without the newline), UTF-8, non-ASCII kept as is."""
    return json.dumps(record, ensure_ascii=False).encode("utf-8")


def malformed_line(kind: str, record: dict[str, Any]) -> bytes:
    """A line that ingest must quarantine, made from ``record`` as one of :data:`MALFORMED_KINDS` says."""
    line = json_line(record)
    if kind == "truncated_json":
        return line[: len(line) // 2]
    if kind == "plain_text":
        return f"customer asked about {record['category']} but the export broke here".encode()
    if kind == "not_utf8":
        # Latin-1 bytes where UTF-8 is required (an accented word from a mis-encoded export).
        return json.dumps({**record, "prompt": "Caf\u00e9 " + record["prompt"]}, ensure_ascii=False).encode("latin-1")
    if kind == "single_quotes":
        return repr(record).encode("utf-8")
    if kind == "json_array":
        return json.dumps([record["prompt"], record["response"]], ensure_ascii=False).encode("utf-8")
    return line + b' {"extra": true}'
