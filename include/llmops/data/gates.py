"""The data stage's three decisions, as :class:`~llmops.verdict.Verdict` s, and the errors a failed one raises.

- ``data_contract`` (:func:`data_contract`): the raw file passed the Great Expectations suite and the share of
  quarantined records stays within ``data.max_quarantine_ratio``.
- ``duplicate_ceiling`` (:func:`duplicate_ceiling`): exact and near duplicates stay within
  ``data.max_duplicate_ratio``.
- ``count_reconciliation`` (:func:`count_reconciliation`): every row read went somewhere exactly once,
  ``rows in = kept + quarantined + duplicates + contaminated``.

A failed verdict is recorded, then :func:`enforce` raises a :class:`DataContractError` (a
:class:`~llmops.errors.Permanent` error: the data will not fix itself on a retry). Engines also call
:func:`reconcile` on their own writes: a row lost between reading and writing is a bug and raises
:class:`ReconciliationError` at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from llmops.errors import Permanent
from llmops.verdict import Verdict

if TYPE_CHECKING:
    from llmops.config import LLMOpsConfig


class DataContractError(Permanent, ValueError):
    """The data breaks its contract; the run must fail without retrying (the data will not fix itself)."""


class ReconciliationError(DataContractError):
    """Counts do not add up: a record was lost or counted twice between reading and writing."""


def reconciliation(stage: str, rows_in: int, **parts: int) -> tuple[bool, str]:
    """Whether every row that came in went somewhere exactly once, and the sum that says so.

    Args:
        stage: names the check in the message.
        rows_in: rows that entered the stage.
        **parts: the named outcomes (kept, quarantined, duplicates, contaminated, ...).

    Returns:
        ``(True, "stage: 10 rows in = kept 8 + quarantined 2")`` or
        ``(False, "stage: 10 rows in but kept 7 + quarantined 2 = 9")``.
    """
    total = sum(parts.values())
    detail = " + ".join(f"{name} {count}" for name, count in parts.items())
    if rows_in == total:
        return True, f"{stage}: {rows_in} rows in = {detail}"
    return False, f"{stage}: {rows_in} rows in but {detail} = {total}"


def reconcile(stage: str, rows_in: int, **parts: int) -> None:
    """Check that every row that came in went somewhere, exactly once.

    Raises:
        ReconciliationError: ``rows_in != sum(parts)``; the message names every part.
    """
    ok, message = reconciliation(stage, rows_in, **parts)
    if not ok:
        raise ReconciliationError(message)


def data_contract(cfg: LLMOpsConfig, validated: Mapping[str, Any]) -> Verdict:
    """The ``data_contract`` verdict on a result of :func:`llmops.data.validation.validate_raw_file`.

    Returns:
        Passed: ``"quarantined 19 of 2559 rows (0.7%) ≤ max_quarantine_ratio 5.0%; suite raw_training_data: 14 of
        16 expectations met by every raw row (rows breaking the others are quarantined)"``. Failed: the
        validator's reason and where the quarantined rows are.
    """
    metrics = validated.get("metrics") or {}
    rows_in, quarantined = int(validated["rows_in"]), int(validated["rows_quarantined"])
    ratio = quarantined / rows_in if rows_in else 0.0
    bound = cfg.data.max_quarantine_ratio
    figures: dict[str, float] = {
        "rows_in": rows_in,
        "rows_valid": int(validated["rows_valid"]),
        "rows_quarantined": quarantined,
        "quarantine_ratio": ratio,
        "max_quarantine_ratio": bound,
        "evaluated_expectations": metrics.get("evaluated_expectations", 0),
        "successful_expectations": metrics.get("successful_expectations", 0),
    }
    if validated["passed"]:
        reason = (
            f"quarantined {quarantined} of {rows_in} rows ({ratio:.1%}) ≤ max_quarantine_ratio {bound:.1%}; "
            f"suite {metrics.get('suite_name')}: {figures['successful_expectations']} of "
            f"{figures['evaluated_expectations']} expectations met by every raw row (rows breaking the others are "
            "quarantined)"
        )
    else:
        reason = f"{validated['reason']} (quarantined rows: {validated['quarantine_path']})"
    return Verdict("data_contract", bool(validated["passed"]), reason, figures)


def duplicate_ceiling(cfg: LLMOpsConfig, deduped: Mapping[str, Any]) -> Verdict:
    """The ``duplicate_ceiling`` verdict on a result of :func:`llmops.data.dedup.dedup_shards`.

    Contaminated rows (copies of eval examples) are removed but do not count towards the ceiling.

    Returns:
        Passed: ``"130 of 2540 rows are duplicates (5.1%: 100 exact, 30 near) ≤ max_duplicate_ratio 30.0%; 10
        contaminated rows removed"``. Failed: ``"... above max_duplicate_ratio 30.0% (removed rows: <path>)"``.
    """
    rows_in, duplicates = int(deduped["rows_in"]), int(deduped["duplicates_removed"])
    ratio = duplicates / rows_in if rows_in else 0.0
    bound = cfg.data.max_duplicate_ratio
    passed = ratio <= bound
    share = f"{duplicates} of {rows_in} rows are duplicates ({ratio:.1%}"
    if passed:
        reason = (
            f"{share}: {deduped['exact_duplicates']} exact, {deduped['near_duplicates']} near) ≤ max_duplicate_ratio "
            f"{bound:.1%}; {deduped['contaminated']} contaminated rows removed"
        )
    else:
        reason = f"{share}), above max_duplicate_ratio {bound:.1%} (removed rows: {deduped['removed_path']})"
    figures: dict[str, float] = {
        "rows_in": rows_in,
        "duplicates": duplicates,
        "exact_duplicates": int(deduped["exact_duplicates"]),
        "near_duplicates": int(deduped["near_duplicates"]),
        "contaminated": int(deduped["contaminated"]),
        "duplicate_ratio": ratio,
        "max_duplicate_ratio": bound,
    }
    return Verdict("duplicate_ceiling", passed, reason, figures)


def count_reconciliation(validated: Mapping[str, Any], deduped: Mapping[str, Any]) -> Verdict:
    """The ``count_reconciliation`` verdict over the whole stage, from the validator's and dedup's counts.

    Returns:
        Passed: ``"data stage: 2559 rows in = kept 2400 + quarantined 19 + duplicates 130 + contaminated 10"``.
        Failed: ``"data stage: 2559 rows in but kept ... = 2558"``.
    """
    parts: dict[str, int] = {
        "kept": int(deduped["rows_out"]),
        "quarantined": int(validated["rows_quarantined"]),
        "duplicates": int(deduped["duplicates_removed"]),
        "contaminated": int(deduped["contaminated"]),
    }
    rows_in = int(validated["rows_in"])
    passed, reason = reconciliation("data stage", rows_in, **parts)
    figures: dict[str, float] = {"rows_in": rows_in, **parts}
    return Verdict("count_reconciliation", passed, reason, figures)


def enforce(verdict: Verdict) -> Verdict:
    """Raise the data stage's error for a failed verdict; return a passed one.

    Raises:
        ReconciliationError: a failed ``count_reconciliation`` verdict (its reason is the message).
        DataContractError: any other failed verdict.
    """
    if verdict.passed:
        return verdict
    if verdict.gate == "count_reconciliation":
        raise ReconciliationError(verdict.reason)
    raise DataContractError(verdict.reason)
