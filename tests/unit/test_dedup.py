"""Exact deduplication: normalisation, first-occurrence wins, cluster ids."""

from __future__ import annotations

import copy

import pytest

from llmops.data.dedup import content_key, exact_dedup, normalize_text


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


def _row(row_id: str, prompt: str, response: str = "Open Settings.") -> dict[str, str]:
    return {"id": row_id, "prompt": prompt, "response": response, "category": "general", "source": "unit"}


def test_exact_dedup_keeps_first_and_records_cluster_ids() -> None:
    rows = [
        _row("a", "How do I reset my password?"),
        _row("b", "How do I share a folder?"),
        _row("c", "how do i reset my password"),  # same after normalisation -> duplicate of a
        _row("d", "How do I reset my password?", response="Something else."),  # different response: kept
        _row("e", "  How do I share a folder?!  "),  # duplicate of b
        _row("f", "How do I reset my password?"),  # exact copy of a, new id
    ]
    original = copy.deepcopy(rows)
    result = exact_dedup(rows)

    assert [r["id"] for r in result.kept] == ["a", "b", "d"]
    assert [(r["id"], r["cluster_id"], r["dedup_method"]) for r in result.removed] == [
        ("c", "a", "exact"),
        ("e", "b", "exact"),
        ("f", "a", "exact"),
    ]
    assert result.metrics == {
        "method": "exact",
        "rows_in": 6,
        "rows_out": 3,
        "duplicates_removed": 3,
        "clusters": 2,
        "duplicate_ratio": 0.5,
    }
    assert rows == original  # inputs are not mutated


def test_exact_dedup_depends_only_on_order() -> None:
    rows = [_row("x", "Same prompt"), _row("y", "same prompt.")]
    assert [r["id"] for r in exact_dedup(rows).kept] == ["x"]
    assert [r["id"] for r in exact_dedup(list(reversed(rows))).kept] == ["y"]


def test_prompt_response_boundary_does_not_collide() -> None:
    assert content_key({"prompt": "a b", "response": "c"}) != content_key({"prompt": "a", "response": "b c"})


def test_empty_input() -> None:
    result = exact_dedup([])
    assert result.kept == [] and result.removed == []
    assert result.metrics["rows_in"] == 0 and result.metrics["duplicate_ratio"] == 0.0


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
