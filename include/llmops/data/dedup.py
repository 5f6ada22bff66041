"""Exact duplicate keys and in-memory deduplication of training records.

The exact-duplicate key of a row is a hash of its normalised prompt and response. :func:`normalize_text` is the
per-row definition; :func:`normalize_texts` is the same normalisation vectorized on Arrow, and :func:`content_keys`
hashes whole columns at once (the sharded pipeline uses those). Near-duplicates are found with MinHash + LSH
(:mod:`llmops.data.minhash`); :func:`exact_dedup` is the small in-memory exact pass.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

_WHITESPACE = re.compile(r"\s+")
# Python's str.isspace() set, spelled so that RE2 (Arrow) and `re` agree on it.

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

    Lower-casing, NFKC normalisation, whitespace runs collapsed to one space, and whitespace and
    punctuation stripped from both ends. Inner punctuation is kept: ``"Hi, there!"`` becomes ``"hi, there"``.

    Args:
        s: the text; ``None`` is treated as the empty string.

    Returns:
        The normalised text.
    """
    if not s:
        return ""
    text = unicodedata.normalize("NFKC", s.lower())
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


_ASCII_WS = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f "
_ASCII_TRIM = _ASCII_WS + "".join(chr(c) for c in range(33, 127) if unicodedata.category(chr(c)).startswith("P"))


def _rows_needing_collapse(array: Any) -> Any:
    """Rows holding two whitespace bytes in a row or a whitespace byte other than a space (numpy over the bytes)."""
    import numpy as np

    offsets = np.frombuffer(array.buffers()[1], dtype=np.int32)[array.offset : array.offset + len(array) + 1]
    buffer = array.buffers()[2]
    if buffer is None or len(array) == 0:
        return np.zeros(len(array), dtype=bool)
    data = np.frombuffer(buffer, dtype=np.uint8)
    step = 1 << 18  # cache-sized slices, overlapping by one byte so pairs across a cut are seen
    found: list[Any] = []
    start, end = int(offsets[0]), int(offsets[-1])
    for lo in range(start, end, step):
        piece = data[lo : min(end, lo + step + 1)]
        low = piece <= 32  # every ASCII whitespace byte is <= 32; other control bytes only cost a no-op regex
        odd = low & (piece != 32)
        odd[:-1] |= low[:-1] & low[1:]
        found.append(np.flatnonzero(odd[: min(step, end - lo)]) + lo)
    hits = np.concatenate(found) if found else np.zeros(0, dtype=np.int64)
    out = np.zeros(len(array), dtype=bool)
    out[np.searchsorted(offsets, hits, side="right") - 1] = True
    return out


def normalize_texts(texts: Any) -> Any:
    """:func:`normalize_text` for a whole column, with Arrow compute kernels.

    ASCII rows (almost all of them) go through Arrow's ASCII kernels: lower-casing, a whitespace-collapsing regex
    only on rows that hold a whitespace run or a non-space whitespace character, and trimming of whitespace and
    punctuation. Other rows are normalised by :func:`normalize_text` itself, so the result is identical for every
    row.

    Args:
        texts: a pyarrow string array (nulls become empty strings).

    Returns:
        A pyarrow string array.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    array = texts if isinstance(texts, pa.Array | pa.ChunkedArray) else pa.array(list(texts), type=pa.string())
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks() if array.num_chunks else pa.array([], type=pa.string())
    original = pc.fill_null(array.cast(pa.string()), "")
    array = pc.ascii_lower(original)
    # Rows that need the whitespace regex: a run of two whitespace characters, or whitespace other than " ".
    needs = pa.array(_rows_needing_collapse(array))
    if pc.any(needs).as_py():
        collapsed = pc.replace_substring_regex(pc.filter(array, needs), pattern=f"[{_ASCII_WS}]+", replacement=" ")
        array = pc.replace_with_mask(array, needs, collapsed)
    array = pc.ascii_trim(array, characters=_ASCII_TRIM)
    non_ascii = pc.invert(pc.string_is_ascii(original))
    if pc.any(non_ascii).as_py():
        values = pc.filter(original, non_ascii).to_pylist()
        array = pc.replace_with_mask(array, non_ascii, pa.array([normalize_text(v) for v in values], type=pa.string()))
    return array


def content_keys(prompts: Any, responses: Any) -> Any:
    """Exact-duplicate keys of whole columns (64-bit hashes of normalised prompt and response).

    Args:
        prompts: pyarrow string array.
        responses: pyarrow string array of the same length.

    Returns:
        numpy uint64 array; equal keys mean equal normalised (prompt, response) pairs.
    """
    import pyarrow.compute as pc

    from llmops.data.minhash import string_hashes

    joined = pc.binary_join_element_wise(normalize_texts(prompts), normalize_texts(responses), "\x1f")
    return string_hashes(joined)
