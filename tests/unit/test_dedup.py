"""Exact-duplicate keys: normalisation, row by row and vectorized."""

from __future__ import annotations

import pytest

from llmops.data.dedup import content_key, normalize_text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  Hello,   WORLD!! ", "hello, world"),
        ("How do I\tshare\na folder?", "how do i share a folder"),
        ("\uff28\uff45\uff4c\uff4c\uff4f", "hello"),  # full-width letters (NFKC)
        ("\u00bfQu\u00e9 tal?", "qu\u00e9 tal"),  # Unicode punctuation at both ends
        ("...", ""),
        ("", ""),
        (None, ""),
        ("Don't strip inner punctuation: a-b, c.d", "don't strip inner punctuation: a-b, c.d"),
        ("STRASSE", "strasse"),
    ],
)
def test_normalize_text(text: str | None, expected: str) -> None:
    assert normalize_text(text) == expected


def test_prompt_response_boundary_does_not_collide() -> None:
    assert content_key({"prompt": "a b", "response": "c"}) != content_key({"prompt": "a", "response": "b c"})


def test_vectorized_normalisation_and_keys_match_the_row_definition() -> None:
    import pyarrow as pa

    from llmops.data.dedup import content_keys, normalize_texts

    texts = [
        "  Hello,   WORLD!! ",
        "How do I\tshare\na folder?",
        "\uff28\uff45\uff4c\uff4c\uff4f",
        "\u00bfQu\u00e9 tal?",
        "a\u00a0\u00a0b\u2003",
        "x\x1cy \r\n z",
        "...",
        "",
        None,
        "Don't strip inner punctuation: a-b, c.d",
        "tab\t\tend\t",
    ]
    assert normalize_texts(pa.array(texts)).to_pylist() == [normalize_text(t) for t in texts]
    prompts = pa.array(["Reset my password?", "reset   MY password", "a b", "a"])
    responses = pa.array(["Open Settings.", "open settings", "c", "b c"])
    keys = content_keys(prompts, responses)
    assert keys[0] == keys[1] and keys[2] != keys[3]
