"""Vectorized evaluation of the data contracts' Great Expectations suites on Arrow data.

The contracts are GX expectation suites (``great_expectations/expectations/*.json``, generated from the
configuration by :mod:`llmops.data.validate`). GX's own pandas engine checks a million rows in seconds, far too slow
for training corpora, so this module evaluates the same expectations with pyarrow compute kernels and numpy, with
GX's semantics (nulls are outside the domain of column-value expectations, ``unexpected_percent`` is over the
non-null values, ...). The results are turned back into GX validation results, so GX still renders the Data Docs
(:func:`llmops.data.validate.build_data_docs`), and a unit test checks that both engines agree expectation by
expectation and row by row.

Supported expectation types are listed in :data:`SUPPORTED`; a suite with any other type is validated with GX.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

ExpectationSpec = tuple[str, dict[str, Any]]

# Python's str.isspace() characters, as one literal character class both `re` and RE2 understand.
WHITESPACE_CLASS = (
    "[\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
    "\u200a\u2028\u2029\u202f\u205f\u3000]"
)
SUPPORTED: frozenset[str] = frozenset(
    {
        "expect_column_to_exist",
        "expect_table_row_count_to_be_between",
        "expect_column_values_to_not_be_null",
        "expect_column_values_to_be_of_type",
        "expect_column_value_lengths_to_be_between",
        "expect_column_values_to_not_match_regex",
        "expect_column_values_to_match_regex",
        "expect_column_values_to_be_in_set",
        "expect_column_values_to_be_between",
        "expect_column_values_to_be_unique",
        "expect_column_proportion_of_unique_values_to_be_between",
    }
)
# Expectations that judge the batch as a whole; every other one judges rows (and quarantines them).
TABLE_LEVEL: frozenset[str] = frozenset(
    {
        "expect_column_to_exist",
        "expect_table_row_count_to_be_between",
        "expect_column_proportion_of_unique_values_to_be_between",
    }
)
_PARTIAL = 20
_TEXT_TYPES = {"str", "string", "object"}
_NUMBER_TYPES = {"float", "float64", "int", "int64", "number"}


def snake_case(class_name: str) -> str:
    """``ExpectColumnToExist`` -> ``expect_column_to_exist``."""
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in class_name).lstrip("_")


def expectation_name(expectation_type: str, kwargs: Mapping[str, Any]) -> str:
    """The name quarantine reasons use, e.g. ``expect_column_values_to_be_in_set(category)``."""
    column = kwargs.get("column")
    return f"{expectation_type}({column})" if column else expectation_type


def re2_pattern(regex: str) -> str:
    """A Python regex rewritten so RE2 (Arrow) matches what Python's ``re`` matches for ``\\s`` and ``\\d``."""
    return regex.replace(r"\s", WHITESPACE_CLASS).replace(r"\d", "[0-9]")


@dataclass
class Column:
    """One column of a batch: an Arrow array plus what does not fit its type.

    Attributes:
        values: Arrow array (string for text columns; values of another Python type are null here).
        wrong_type: positions whose original value had another type (kept apart from real nulls).
    """

    values: Any
    wrong_type: np.ndarray | None = None


@dataclass
class ExpectationOutcome:
    """The result of one expectation on one batch (or on several, once merged)."""

    type: str
    kwargs: dict[str, Any]
    name: str
    success: bool = True
    element_count: int = 0
    missing_count: int = 0
    unexpected_count: int = 0
    observed_value: Any = None
    partial_unexpected: list[Any] = field(default_factory=list)
    unexpected_mask: np.ndarray | None = None  # row-level expectations, per batch only
    column_missing: bool = False

    @property
    def row_level(self) -> bool:
        return self.type not in TABLE_LEVEL

    def gx_result(self) -> dict[str, Any]:
        """The ``result`` dict in the layout of GX's SUMMARY result format."""
        if not self.row_level:
            return {"observed_value": self.observed_value}
        nonmissing = self.element_count - self.missing_count
        result: dict[str, Any] = {
            "element_count": self.element_count,
            "unexpected_count": self.unexpected_count,
            "unexpected_percent": 100.0 * self.unexpected_count / nonmissing if nonmissing else None,
            "partial_unexpected_list": self.partial_unexpected[:_PARTIAL],
        }
        if self.type != "expect_column_values_to_not_be_null":
            result["missing_count"] = self.missing_count
            result["missing_percent"] = 100.0 * self.missing_count / self.element_count if self.element_count else None
            result["unexpected_percent_total"] = (
                100.0 * self.unexpected_count / self.element_count if self.element_count else None
            )
            result["unexpected_percent_nonmissing"] = result["unexpected_percent"]
        else:
            result["unexpected_percent"] = (
                100.0 * self.unexpected_count / self.element_count if self.element_count else None
            )
        return result


def columns_from_rows(rows: Sequence[Mapping[str, Any]], text_columns: Sequence[str]) -> dict[str, Column]:
    """Build a batch from Python rows (the union of their keys), keeping values of the wrong type visible.

    Args:
        rows: the records.
        text_columns: columns expected to hold strings; any other value there is recorded in ``wrong_type``.

    Returns:
        Columns by name.
    """
    import pyarrow as pa

    names: dict[str, None] = {}
    for row in rows:
        names.update(dict.fromkeys(row))
    out: dict[str, Column] = {}
    for name in names:
        raw = [row.get(name) for row in rows]
        if name in text_columns:
            wrong = np.fromiter((v is not None and not isinstance(v, str) for v in raw), dtype=bool, count=len(raw))
            values = [v if isinstance(v, str) else None for v in raw]
            out[name] = Column(pa.array(values, type=pa.string()), wrong if wrong.any() else None)
            continue
        try:
            array = pa.array(raw)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            array = pa.array([None if v is None else str(v) for v in raw], type=pa.string())
            out[name] = Column(array, np.fromiter((v is not None for v in raw), dtype=bool, count=len(raw)))
            continue
        if pa.types.is_null(array.type):
            array = array.cast(pa.string())
        out[name] = Column(array)
    return out


def columns_from_table(table: Any) -> dict[str, Column]:
    """A batch from an Arrow table (types as stored)."""
    return {name: Column(table.column(name).combine_chunks()) for name in table.column_names}


def _mask(array: Any) -> np.ndarray:
    """Arrow boolean array (nulls as False) to numpy."""
    import pyarrow.compute as pc

    return np.asarray(pc.fill_null(array, False).to_numpy(zero_copy_only=False), dtype=bool)


def _type_ok(column: Column, type_: str) -> np.ndarray:
    import pyarrow as pa

    n = len(column.values)
    t = column.values.type
    if type_ in _TEXT_TYPES:
        ok = pa.types.is_string(t) or pa.types.is_large_string(t)
    elif type_ in _NUMBER_TYPES:
        ok = pa.types.is_floating(t) or pa.types.is_integer(t)
        if type_ in ("int", "int64"):
            ok = pa.types.is_integer(t)
    else:
        raise ValueError(f"type {type_!r} is not supported by the arrow engine")
    result = np.full(n, bool(ok))
    if column.wrong_type is not None:
        result &= ~column.wrong_type
    return result


def evaluate(
    batch: Mapping[str, Column],
    specs: Sequence[ExpectationSpec],
    n_rows: int,
) -> list[ExpectationOutcome]:
    """Evaluate a suite's expectations on one batch.

    Args:
        batch: the batch's columns.
        specs: ``(GX class name, kwargs)`` pairs, as in the suite.
        n_rows: rows in the batch.

    Returns:
        One outcome per expectation, in suite order. Row-level outcomes carry ``unexpected_mask`` (True where the
        row fails); nulls never fail a column-value expectation other than ``not_be_null``.

    Raises:
        ValueError: an expectation type is not in :data:`SUPPORTED`.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    outcomes: list[ExpectationOutcome] = []
    for class_name, kwargs in specs:
        etype = snake_case(class_name)
        if etype not in SUPPORTED:
            raise ValueError(f"expectation {etype} is not supported by the arrow engine")
        out = ExpectationOutcome(type=etype, kwargs=dict(kwargs), name=expectation_name(etype, kwargs))
        outcomes.append(out)
        if etype == "expect_table_row_count_to_be_between":
            out.observed_value = n_rows
            continue
        column_name = kwargs.get("column")
        column = batch.get(column_name) if column_name else None
        if etype == "expect_column_to_exist":
            out.success = column is not None
            out.observed_value = column is not None
            continue
        if column is None:
            out.column_missing = True
            out.success = False
            continue
        values = column.values
        out.element_count = n_rows
        null = ~_mask(pc.is_valid(values))
        if column.wrong_type is not None:
            null &= ~column.wrong_type
        out.missing_count = int(null.sum())
        if etype == "expect_column_values_to_not_be_null":
            bad = null
        elif etype == "expect_column_proportion_of_unique_values_to_be_between":
            continue  # decided on the whole batch by the caller (it needs every chunk)
        else:
            domain = ~null
            if etype == "expect_column_values_to_be_of_type":
                bad = domain & ~_type_ok(column, kwargs["type_"])
            elif column.wrong_type is not None and column.wrong_type.any():
                # values of another type are judged by the type expectation alone, as GX's pandas engine does
                bad = domain & ~column.wrong_type & ~_check(values, etype, kwargs, pa, pc)
            else:
                bad = domain & ~_check(values, etype, kwargs, pa, pc)
        out.unexpected_mask = bad
        out.unexpected_count = int(bad.sum())
        out.success = out.unexpected_count == 0
        if out.unexpected_count:
            picked = np.flatnonzero(bad)[:_PARTIAL]
            out.partial_unexpected = [_short(v) for v in values.take(pa.array(picked, type=pa.int64())).to_pylist()]
    return outcomes


def _short(value: Any) -> Any:
    return value[:80] if isinstance(value, str) else value


def _check(values: Any, etype: str, kwargs: Mapping[str, Any], pa: Any, pc: Any) -> np.ndarray:
    """True where a non-null value meets a column-value expectation."""
    if etype == "expect_column_value_lengths_to_be_between":
        lengths = pc.utf8_length(values)
        ok = np.ones(len(values), dtype=bool)
        if kwargs.get("min_value") is not None:
            ok &= _mask(pc.greater_equal(lengths, kwargs["min_value"]))
        if kwargs.get("max_value") is not None:
            ok &= _mask(pc.less_equal(lengths, kwargs["max_value"]))
        return ok
    if etype in ("expect_column_values_to_not_match_regex", "expect_column_values_to_match_regex"):
        found = _mask(pc.match_substring_regex(values, re2_pattern(kwargs["regex"])))
        return found if etype == "expect_column_values_to_match_regex" else ~found
    if etype == "expect_column_values_to_be_in_set":
        return _mask(pc.is_in(values, value_set=pa.array(kwargs["value_set"], type=values.type)))
    if etype == "expect_column_values_to_be_between":
        ok = np.ones(len(values), dtype=bool)
        if kwargs.get("min_value") is not None:
            cmp = pc.greater if kwargs.get("strict_min") else pc.greater_equal
            ok &= _mask(cmp(values, kwargs["min_value"]))
        if kwargs.get("max_value") is not None:
            cmp = pc.less if kwargs.get("strict_max") else pc.less_equal
            ok &= _mask(cmp(values, kwargs["max_value"]))
        return ok
    if etype == "expect_column_values_to_be_unique":
        # every occurrence of a repeated value is unexpected, as in GX
        counts = pc.value_counts(values)
        repeated = counts.field("values").filter(pc.greater(counts.field("counts"), 1))
        return ~_mask(pc.is_in(values, value_set=repeated))
    raise ValueError(f"expectation {etype} is not supported by the arrow engine")


def merge_outcomes(parts: Sequence[list[ExpectationOutcome]]) -> list[ExpectationOutcome]:
    """Combine the outcomes of several batches of one stream (counts add up, the partial lists are concatenated).

    Table-level expectations are left for the caller to decide on the totals.

    Args:
        parts: outcomes per batch, each in suite order.

    Returns:
        One outcome per expectation, without row masks.
    """
    if not parts:
        return []
    merged: list[ExpectationOutcome] = []
    for index, first in enumerate(parts[0]):
        out = ExpectationOutcome(type=first.type, kwargs=first.kwargs, name=first.name)
        for part in parts:
            item = part[index]
            out.element_count += item.element_count
            out.missing_count += item.missing_count
            out.unexpected_count += item.unexpected_count
            out.column_missing = out.column_missing or item.column_missing
            out.success = out.success and item.success
            if len(out.partial_unexpected) < _PARTIAL:
                out.partial_unexpected.extend(item.partial_unexpected[: _PARTIAL - len(out.partial_unexpected)])
            out.observed_value = item.observed_value
        merged.append(out)
    return merged


def row_failures(outcomes: Sequence[ExpectationOutcome], n_rows: int) -> tuple[np.ndarray, list[str]]:
    """Which rows failed which row-level expectations.

    Args:
        outcomes: outcomes of one batch.
        n_rows: rows in the batch.

    Returns:
        ``(failed, reasons)``: a boolean mask of failing rows and, for each failing row in order, the sorted names of
        the expectations it failed joined with ``"; "``.
    """
    masks = [(o.name, o.unexpected_mask) for o in outcomes if o.row_level and o.unexpected_mask is not None]
    failed = np.zeros(n_rows, dtype=bool)
    for _, mask in masks:
        failed |= mask
    rows = np.flatnonzero(failed)
    if rows.size == 0:
        return failed, []
    names = sorted(masks, key=lambda item: item[0])
    reasons = ["; ".join(name for name, mask in names if mask[row]) for row in rows]
    return failed, reasons
