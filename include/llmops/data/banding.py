"""LSH banding for MinHash near-duplicate detection: the S-curve, a banding derived from the threshold, and a check.

Two documents of Jaccard similarity ``s`` agree on one band of ``r`` signature rows with probability ``s ** r``, so
with ``b`` bands they become LSH candidates with probability ``P(s) = 1 - (1 - s ** r) ** b``, an S-curve whose
steepest part sits near ``(1 / b) ** (1 / r)``. Candidates are verified on their signatures afterwards, so a pair
that never becomes a candidate is lost (a false negative), while a candidate below the threshold only costs one
verification (a false positive of the LSH step, never of the result).

:func:`derive_banding` picks ``(b, r)`` with ``b * r <= num_perm`` that minimises the mean false-negative probability
over similarities at and above the threshold, among the bandings whose mean candidate probability below the threshold
stays within a bound (the verification work). :func:`banding_problem` says why an explicit banding does not suit a
threshold. Pure Python (no numpy), so the configuration can use it when it validates.
"""

from __future__ import annotations

import functools

# Mean candidate probability over similarities below the threshold that a derived banding may reach (the share of
# verification work spent on pairs that are not near-duplicates, for similarities spread evenly below the threshold).
MAX_FALSE_POSITIVE_WEIGHT = 0.25
# An explicit banding is refused when a pair exactly at the threshold becomes a candidate less often than this ...
MIN_CANDIDATE_PROBABILITY = 0.5
# ... or when the S-curve midpoint lies this far above the threshold.
MAX_MIDPOINT_ABOVE_THRESHOLD = 0.1
_STEPS = 64  # Simpson intervals per integral (even)


def candidate_probability(similarity: float, bands: int, rows_per_band: int) -> float:
    """Probability that two documents of the given Jaccard similarity share at least one band.

    Args:
        similarity: Jaccard similarity in [0, 1].
        bands: number of bands.
        rows_per_band: signature rows per band.

    Returns:
        ``1 - (1 - similarity ** rows_per_band) ** bands``.
    """
    return 1.0 - (1.0 - similarity**rows_per_band) ** bands


def s_curve_midpoint(bands: int, rows_per_band: int) -> float:
    """Similarity at the steep part of the S-curve, ``(1 / bands) ** (1 / rows_per_band)``."""
    return float((1.0 / bands) ** (1.0 / rows_per_band))


def _integral(lo: float, hi: float, bands: int, rows: int, miss: bool) -> float:
    """Simpson's rule over ``[lo, hi]`` of the candidate probability (or of its complement when ``miss``)."""
    if hi <= lo:
        return 0.0
    step = (hi - lo) / _STEPS
    total = 0.0
    for i in range(_STEPS + 1):
        p = candidate_probability(lo + i * step, bands, rows)
        value = 1.0 - p if miss else p
        total += value * (1 if i in (0, _STEPS) else 4 if i % 2 else 2)
    return total * step / 3.0


def error_weights(threshold: float, bands: int, rows_per_band: int) -> tuple[float, float]:
    """Mean false-negative probability above the threshold and mean candidate probability below it.

    Args:
        threshold: the similarity threshold in (0, 1].
        bands: number of bands.
        rows_per_band: signature rows per band.

    Returns:
        ``(false_negative, false_positive)``: the mean of ``1 - P(s)`` over ``s`` in ``[threshold, 1]`` and the mean of
        ``P(s)`` over ``s`` in ``[0, threshold]`` (0.0 for an empty interval).
    """
    fn = _integral(threshold, 1.0, bands, rows_per_band, miss=True)
    fp = _integral(0.0, threshold, bands, rows_per_band, miss=False)
    return (fn / (1.0 - threshold) if threshold < 1.0 else 0.0), fp / threshold


@functools.lru_cache(maxsize=256)
def derive_banding(
    threshold: float,
    num_perm: int,
    bands: int | None = None,
    rows_per_band: int | None = None,
    max_false_positive: float = MAX_FALSE_POSITIVE_WEIGHT,
) -> tuple[int, int]:
    """The banding for a threshold: least false negatives at and above it, with bounded work below it.

    Among the bandings with ``bands * rows_per_band <= num_perm`` (either one may be fixed) whose mean candidate
    probability below the threshold is at most ``max_false_positive``, the one with the smallest mean false-negative
    probability at and above the threshold; ties go to fewer bands. When none stays within the bound, the banding
    with the smallest false-positive weight.

    Args:
        threshold: the similarity threshold in (0, 1].
        num_perm: signature length.
        bands: a fixed number of bands, or ``None``.
        rows_per_band: a fixed number of rows per band, or ``None``.
        max_false_positive: the bound on the mean candidate probability below the threshold.

    Returns:
        ``(bands, rows_per_band)``.

    Raises:
        ValueError: the fixed value leaves no banding that fits ``num_perm``.
    """
    options = [
        (b, r)
        for b in ([bands] if bands is not None else range(1, num_perm + 1))
        for r in ([rows_per_band] if rows_per_band is not None else range(1, num_perm // b + 1))
        if b * r <= num_perm
    ]
    if not options:
        raise ValueError(f"no banding with bands={bands}, rows_per_band={rows_per_band} fits num_perm {num_perm}")
    scored = [(*error_weights(threshold, b, r), b, r) for b, r in options]
    within = [item for item in scored if item[1] <= max_false_positive]
    if within:
        best = min(within, key=lambda item: (round(item[0], 12), item[2]))
    else:
        best = min(scored, key=lambda item: (round(item[1], 12), item[2]))
    return best[2], best[3]


def banding_problem(threshold: float, bands: int, rows_per_band: int) -> str | None:
    """Why a banding does not suit a threshold, or ``None`` when it does.

    A banding is unsuitable when a pair exactly at the threshold becomes an LSH candidate with probability below
    :data:`MIN_CANDIDATE_PROBABILITY`, or when the S-curve midpoint lies more than
    :data:`MAX_MIDPOINT_ABOVE_THRESHOLD` above the threshold: near-duplicates just above the threshold would mostly
    never be compared.

    Args:
        threshold: the similarity threshold.
        bands: number of bands.
        rows_per_band: signature rows per band.

    Returns:
        A sentence naming the midpoint and the candidate probability at the threshold, or ``None``.
    """
    midpoint = s_curve_midpoint(bands, rows_per_band)
    p = candidate_probability(threshold, bands, rows_per_band)
    if p >= MIN_CANDIDATE_PROBABILITY and midpoint - threshold <= MAX_MIDPOINT_ABOVE_THRESHOLD:
        return None
    return (
        f"{bands} bands x {rows_per_band} rows put the LSH S-curve midpoint at {midpoint:.2f} for threshold "
        f"{threshold:g}; a pair at the threshold becomes a candidate with probability {p:.2f}"
    )
