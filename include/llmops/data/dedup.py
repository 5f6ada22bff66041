"""Duplicate removal for training records.

Only exact duplicates (after text normalisation) are removed here. Near-duplicate detection (MinHash/LSH) is a later
step; it will return the same :class:`DedupResult`, so callers do not change.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

_WHITESPACE = re.compile(r"\s+")

# Columns added to every removed row: which kept row it duplicates, and which method found it.
DEDUP_COLUMNS: tuple[str, ...] = ("cluster_id", "dedup_method")


@dataclass
class DedupResult:
    """Outcome of a deduplication pass.

    Attributes:
        kept: rows that survive, in input order.
        removed: removed rows, each a copy of the input row plus ``cluster_id`` (the ``id`` of the kept row it
            duplicates) and ``dedup_method``.
        metrics: JSON-serialisable counts (``rows_in``, ``rows_out``, ``duplicates_removed``, ``clusters``,
            ``duplicate_ratio``, ``method``).
    """

    kept: list[dict[str, Any]] = field(default_factory=list)
    removed: list[dict[str, Any]] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)


def _is_punctuation(ch: str) -> bool:
    return unicodedata.category(ch).startswith("P")


def normalize_text(s: str | None) -> str:
    """Canonical form of a text for duplicate detection.

    NFKC normalisation, lower-casing (``casefold``), whitespace runs collapsed to one space, and whitespace and
    punctuation stripped from both ends. Inner punctuation is kept: ``"Hi, there!"`` becomes ``"hi, there"``.

    Args:
        s: the text; ``None`` is treated as the empty string.

    Returns:
        The normalised text.
    """
    if not s:
        return ""
    text = unicodedata.normalize("NFKC", s).casefold()
    text = _WHITESPACE.sub(" ", text)
    start, end = 0, len(text)
    while start < end and (text[start].isspace() or _is_punctuation(text[start])):
        start += 1
    while end > start and (text[end - 1].isspace() or _is_punctuation(text[end - 1])):
        end -= 1
    return text[start:end]


def content_key(row: Mapping[str, Any]) -> str:
    """Hash of the normalised prompt and response of a row (the exact-duplicate key).

    Args:
        row: a training record with ``prompt`` and ``response``.

    Returns:
        A hex SHA-1 digest.
    """
    prompt = normalize_text(row.get("prompt"))
    response = normalize_text(row.get("response"))
    # The unit separator cannot appear in normalised text, so ("a b", "c") and ("a", "b c") never collide.
    return hashlib.sha1(f"{prompt}\x1f{response}".encode()).hexdigest()


def exact_dedup(rows: Iterable[Mapping[str, Any]]) -> DedupResult:
    """Remove rows whose normalised prompt and response equal those of an earlier row.

    The first occurrence in input order is kept, so the result is deterministic for a given input order.

    Args:
        rows: training records (``id``, ``prompt``, ``response``, ...).

    Returns:
        The kept rows, the removed rows annotated with the ``cluster_id`` of the row they duplicate, and metrics.
    """
    first_by_key: dict[str, str] = {}
    cluster_sizes: dict[str, int] = {}
    kept: list[dict[str, Any]] = []
    removed: list[dict[str, Any]] = []
    for row in rows:
        key = content_key(row)
        if key in first_by_key:
            cluster_sizes[key] += 1
            removed.append({**row, "cluster_id": first_by_key[key], "dedup_method": "exact"})
        else:
            first_by_key[key] = str(row.get("id") or key)
            cluster_sizes[key] = 1
            kept.append(dict(row))
    rows_in = len(kept) + len(removed)
    metrics: dict[str, Any] = {
        "method": "exact",
        "rows_in": rows_in,
        "rows_out": len(kept),
        "duplicates_removed": len(removed),
        "clusters": sum(1 for size in cluster_sizes.values() if size > 1),
        "duplicate_ratio": round(len(removed) / rows_in, 6) if rows_in else 0.0,
    }
    return DedupResult(kept=kept, removed=removed, metrics=metrics)
