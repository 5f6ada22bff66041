"""The raw-data contract, checked with Great Expectations 1.x.

The expectation suite is derived from the ``data`` section of the configuration (:func:`expectation_specs`), so the
thresholds live in one place. :func:`ensure_suite` writes it, deterministically, into the GX file context at
``paths.great_expectations`` (``great_expectations/expectations/<suite>.json``, committed to the repository; GX's
``uncommitted/`` folder is not). :func:`validate_records` runs the same suite on a batch in an ephemeral context,
so a validation never writes into the repository, and reports whether the committed suite is in sync with the
configuration.

Run ``python -m llmops.data.validate`` to (re)generate the committed suite after changing the ``data`` section.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from llmops.data.ingest import quarantine_record
from llmops.data.schema import PROD_LOG_COLUMNS, REQUIRED_PROD_LOG_COLUMNS, TRAIN_COLUMNS
from llmops.fsutil import atomic_write_text

if TYPE_CHECKING:
    from llmops.config import LLMOpsConfig

logger = logging.getLogger(__name__)

# Fixed namespace: the suite and expectation ids are uuid5 of their content, so the suite file is reproducible.
_ID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://github.com/airflow-llmops/great_expectations")
ROW_INDEX_COLUMN = "__row__"
BLANK_REGEX = r"^\s*$"
CONTENT_KEY_COLUMN = "content_key"
TRAINING = "training"
PRODUCTION_LOGS = "production_logs"
ISO_TIMESTAMP_REGEX = (
    r"^\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d{1,9})?"
    r"(?:Z|[+-](?:[01]\d|2[0-3]):?[0-5]\d)$"
)

SUITE_GENERATOR = "llmops.data.validate.ensure_suite"

ExpectationSpec = tuple[str, dict[str, Any]]


@dataclass
class ValidationOutcome:
    """Result of checking one batch against the data contract.

    Attributes:
        passed: False when the contract is broken (empty batch, missing column, too few rows, too many bad rows).
        kept_rows: the input rows that failed no row-level expectation, in input order.
        quarantined: the other rows, in the :data:`~llmops.data.schema.QUARANTINE_COLUMNS` layout; ``reason``
            lists the names of the expectations the row failed, ``raw`` is the row as JSON.
        metrics: JSON-serialisable numbers (``rows_evaluated``, ``evaluated_expectations``, ``success_percent``,
            ``unexpected_counts`` per expectation, ``failed_expectations``, ``quarantine_ratio``, ...).
        reason: why the contract is broken, or a one-line summary when it holds.
    """

    passed: bool
    kept_rows: list[dict[str, Any]] = field(default_factory=list)
    quarantined: list[dict[str, Any]] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    reason: str = ""


def _import_gx() -> Any:
    # Set before the first import: GX reads it when a context is created; the project never reports usage.
    os.environ["GX_ANALYTICS_ENABLED"] = "false"
    import great_expectations as gx

    return gx


def expectation_specs(cfg: LLMOpsConfig) -> list[ExpectationSpec]:
    """The expectations of the raw-data contract, as ``(GX class name, kwargs)`` pairs.

    Args:
        cfg: the configuration; only its ``data`` section is used.

    Returns:
        The expectations in a fixed order.
    """
    data = cfg.data
    specs: list[ExpectationSpec] = [("ExpectColumnToExist", {"column": name}) for name in TRAIN_COLUMNS]
    specs.append(("ExpectTableRowCountToBeBetween", {"min_value": data.min_rows}))
    bounds = {
        "prompt": (data.min_prompt_chars, data.max_prompt_chars),
        "response": (data.min_response_chars, data.max_response_chars),
    }
    for column, (low, high) in bounds.items():
        specs += [
            ("ExpectColumnValuesToNotBeNull", {"column": column}),
            ("ExpectColumnValuesToBeOfType", {"column": column, "type_": "str"}),
            ("ExpectColumnValueLengthsToBeBetween", {"column": column, "min_value": low, "max_value": high}),
            ("ExpectColumnValuesToNotMatchRegex", {"column": column, "regex": BLANK_REGEX}),
        ]
    specs += [
        ("ExpectColumnValuesToNotBeNull", {"column": "id"}),
        ("ExpectColumnValuesToNotBeNull", {"column": "category"}),
        ("ExpectColumnValuesToBeInSet", {"column": "category", "value_set": list(data.allowed_categories)}),
        ("ExpectColumnValuesToNotBeNull", {"column": "source"}),
        # Ceiling on exact duplicates: `content_key` is the hash of the normalised prompt and response.
        (
            "ExpectColumnProportionOfUniqueValuesToBeBetween",
            {"column": CONTENT_KEY_COLUMN, "min_value": round(1.0 - data.max_duplicate_ratio, 6)},
        ),
    ]
    return specs


def prod_log_expectation_specs(cfg: LLMOpsConfig) -> list[ExpectationSpec]:
    """The expectations of the production-log contract (the request log the served model writes).

    Args:
        cfg: the configuration (``data`` and ``triton`` sections).

    Returns:
        The expectations in a fixed order.
    """
    data = cfg.data
    specs: list[ExpectationSpec] = [("ExpectColumnToExist", {"column": name}) for name in REQUIRED_PROD_LOG_COLUMNS]
    specs.append(("ExpectTableRowCountToBeBetween", {"min_value": 1}))
    for column in ("request_id", "timestamp", "model_name", "model_version", "prompt", "response", "latency_ms"):
        specs.append(("ExpectColumnValuesToNotBeNull", {"column": column}))
    for column in ("request_id", "timestamp", "model_name", "model_version", "prompt", "response"):
        specs.append(("ExpectColumnValuesToBeOfType", {"column": column, "type_": "str"}))
    specs += [
        ("ExpectColumnValuesToBeUnique", {"column": "request_id"}),
        ("ExpectColumnValuesToMatchRegex", {"column": "timestamp", "regex": ISO_TIMESTAMP_REGEX}),
        (
            "ExpectColumnValueLengthsToBeBetween",
            {"column": "prompt", "min_value": 1, "max_value": cfg.triton.max_prompt_chars},
        ),
        ("ExpectColumnValuesToNotMatchRegex", {"column": "prompt", "regex": BLANK_REGEX}),
        (
            "ExpectColumnValueLengthsToBeBetween",
            {"column": "response", "min_value": 0, "max_value": data.max_response_chars},
        ),
        ("ExpectColumnValuesToBeOfType", {"column": "latency_ms", "type_": "float"}),
        ("ExpectColumnValuesToBeBetween", {"column": "latency_ms", "min_value": 0, "max_value": data.max_latency_ms}),
    ]
    return specs


def suite_specs(cfg: LLMOpsConfig, kind: str = TRAINING) -> tuple[str, list[ExpectationSpec]]:
    """Name and expectations of one contract.

    Args:
        cfg: the configuration.
        kind: :data:`TRAINING` or :data:`PRODUCTION_LOGS`.

    Returns:
        ``(suite name, specs)``.
    """
    if kind == TRAINING:
        return cfg.data.suite_name, expectation_specs(cfg)
    if kind == PRODUCTION_LOGS:
        return cfg.data.prod_log_suite_name, prod_log_expectation_specs(cfg)
    raise ValueError(f"unknown contract {kind!r} (expected {TRAINING!r} or {PRODUCTION_LOGS!r})")


def _snake_case(class_name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in class_name).lstrip("_")


def _deterministic_id(*parts: Any) -> str:
    return str(uuid.uuid5(_ID_NAMESPACE, json.dumps(parts, sort_keys=True)))


def build_suite(cfg: LLMOpsConfig, kind: str = TRAINING) -> Any:
    """Build the GX expectation suite of a contract, with ids derived from its content.

    Args:
        cfg: the configuration.
        kind: :data:`TRAINING` or :data:`PRODUCTION_LOGS`.

    Returns:
        A ``great_expectations.ExpectationSuite`` bound to no context.
    """
    gx = _import_gx()
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    name, specs = suite_specs(cfg, kind)
    configurations = [
        ExpectationConfiguration(
            type=_snake_case(class_name),
            kwargs=kwargs,
            id=_deterministic_id(name, class_name, kwargs),
        )
        for class_name, kwargs in specs
    ]
    return gx.ExpectationSuite(
        name=name,
        id=_deterministic_id("suite", name),
        expectations=configurations,
        meta={
            "generated_by": SUITE_GENERATOR,
            "source": "include/configs/llmops.yaml (data section)",
            "contract": kind,
            "great_expectations_version": gx.__version__,
        },
    )


def serialize_suite(suite: Any) -> str:
    """Serialise a suite exactly as GX's file-backed expectations store writes it.

    Args:
        suite: a ``great_expectations.ExpectationSuite``.

    Returns:
        The JSON text (sorted keys, two-space indent).
    """
    from great_expectations.core.expectation_suite import ExpectationSuiteSchema

    text: str = ExpectationSuiteSchema().dumps(suite, indent=2, sort_keys=True)
    return text


def suite_path(cfg: LLMOpsConfig, kind: str = TRAINING) -> Path:
    """Where a committed suite lives: ``<paths.great_expectations>/expectations/<suite name>.json``.

    Args:
        cfg: the configuration.
        kind: :data:`TRAINING` or :data:`PRODUCTION_LOGS`.

    Returns:
        The path of the suite file.
    """
    return cfg.paths.great_expectations / "expectations" / f"{suite_specs(cfg, kind)[0]}.json"


def ensure_suite(cfg: LLMOpsConfig) -> str:
    """Create or update the contracts' expectation suites in the GX file context at ``paths.great_expectations``.

    Writes both suites (raw training data and production logs). Idempotent and deterministic: a file is rewritten
    only when the configuration changed it, and the same configuration always gives the same bytes. Creates the GX
    project (``great_expectations.yml`` with analytics off) when it does not exist yet.

    Args:
        cfg: the configuration.

    Returns:
        The path of the training suite's JSON file.

    Raises:
        RuntimeError: GX cannot load a suite back after writing it.
    """
    gx = _import_gx()
    root = cfg.paths.great_expectations
    context = gx.get_context(mode="file", context_root_dir=str(root))
    if context.config.analytics_enabled is not False:
        context.enable_analytics(False)
    for kind in (TRAINING, PRODUCTION_LOGS):
        path = suite_path(cfg, kind)
        text = serialize_suite(build_suite(cfg, kind))
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            atomic_write_text(path, text, fsync=False)
            logger.info("wrote expectation suite %s", path)
        name, specs = suite_specs(cfg, kind)
        loaded = context.suites.get(name=name)
        if len(loaded.expectations) != len(specs):
            raise RuntimeError(f"GX loaded {len(loaded.expectations)} expectations from {path}, expected {len(specs)}")
    return str(suite_path(cfg, TRAINING))


def suite_in_sync(cfg: LLMOpsConfig, kind: str = TRAINING) -> bool:
    """Whether a committed suite file equals the suite derived from the configuration.

    Args:
        cfg: the configuration.
        kind: :data:`TRAINING` or :data:`PRODUCTION_LOGS`.

    Returns:
        True when the file exists and has the same content.
    """
    path = suite_path(cfg, kind)
    if not path.is_file():
        return False
    try:
        committed = json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        return False
    return bool(committed == json.loads(serialize_suite(build_suite(cfg, kind))))


def _expectation_name(config: Any) -> str:
    column = config.kwargs.get("column")
    return f"{config.type}({column})" if column else str(config.type)


def _ephemeral_context(gx: Any, docs_dir: Path | None) -> Any:
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    sites: dict[str, Any] = {}
    if docs_dir is not None:
        sites["local_site"] = {
            "class_name": "SiteBuilder",
            "show_how_to_buttons": False,
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        }
    project_config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(),
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
        data_docs_sites=sites,
    )
    return gx.get_context(mode="ephemeral", project_config=project_config)


def _frame(rows: Sequence[Mapping[str, Any]], kind: str = TRAINING) -> tuple[Any, list[str]]:
    import pandas as pd

    seen: dict[str, None] = {}
    for row in rows:
        seen.update(dict.fromkeys(row))
    columns = list(seen) if rows else list(TRAIN_COLUMNS if kind == TRAINING else PROD_LOG_COLUMNS)
    columns = [c for c in columns if c not in (ROW_INDEX_COLUMN, CONTENT_KEY_COLUMN)]
    # object dtype everywhere: pandas must not turn ints into floats or strings into categories behind GX's back.
    data = {c: pd.Series([row.get(c) for row in rows], dtype=object) for c in columns}
    if kind == TRAINING and {"prompt", "response"} <= set(columns):
        keys = _content_key_column(rows)
        data[CONTENT_KEY_COLUMN] = pd.Series([None if k is None else int(k) for k in keys], dtype=object)
    data[ROW_INDEX_COLUMN] = pd.Series(range(len(rows)), dtype="int64")
    return pd.DataFrame(data), columns


def _content_key_column(rows: Sequence[Mapping[str, Any]]) -> list[int | None]:
    """Content keys of rows whose prompt and response are strings (``None`` otherwise)."""
    import pyarrow as pa

    from llmops.data.dedup import content_keys

    prompts = [r.get("prompt") if isinstance(r.get("prompt"), str) else None for r in rows]
    responses = [r.get("response") if isinstance(r.get("response"), str) else None for r in rows]
    keys = content_keys(pa.array(prompts, type=pa.string()), pa.array(responses, type=pa.string()))
    return [None if p is None or r is None else int(k) for p, r, k in zip(prompts, responses, keys, strict=True)]


def contract_reasons(
    cfg: LLMOpsConfig,
    kind: str,
    n_rows: int,
    n_kept: int,
    n_quarantined: int,
    missing_columns: Sequence[str],
    row_count_failed: bool,
    observed_rows: int | None,
    batch_failures: Sequence[str],
) -> list[str]:
    """Why a batch breaks its contract (empty list: it holds). Shared by both engines and the streaming validator.

    Args:
        cfg: the configuration.
        kind: :data:`TRAINING` or :data:`PRODUCTION_LOGS`.
        n_rows: rows evaluated.
        n_kept: rows that failed no row-level expectation.
        n_quarantined: rows that failed one.
        missing_columns: columns the batch lacks.
        row_count_failed: the row-count expectation failed.
        observed_rows: the row count GX observed.
        batch_failures: names of other expectations that failed for the batch as a whole.

    Returns:
        The reasons, in a fixed order.
    """
    data = cfg.data
    min_rows = data.min_rows if kind == TRAINING else 1
    reasons: list[str] = []
    ratio = n_quarantined / n_rows if n_rows else 0.0
    if n_rows == 0:
        reasons.append("empty batch: no rows to validate")
    if missing_columns:
        reasons.append(f"missing column(s): {', '.join(missing_columns)}")
    if row_count_failed and n_rows:
        reasons.append(f"row count {observed_rows if observed_rows is not None else n_rows} < min_rows {min_rows}")
    if batch_failures:
        reasons.append(f"failed for the whole batch: {', '.join(batch_failures)}")
    if n_rows and ratio > data.max_quarantine_ratio:
        reasons.append(
            f"{n_quarantined} of {n_rows} rows quarantined ({ratio:.1%}), above max_quarantine_ratio "
            f"{data.max_quarantine_ratio:.1%}"
        )
    if n_rows >= min_rows and n_kept < min_rows:
        reasons.append(f"only {n_kept} valid rows, fewer than min_rows {min_rows}")
    return reasons


def validate_records(
    rows: Sequence[Mapping[str, Any]],
    cfg: LLMOpsConfig,
    run_key: str,
    *,
    source_file: str | None = None,
    line_numbers: Sequence[int | None] | None = None,
    build_docs: bool = True,
    kind: str = TRAINING,
    engine: str | None = None,
) -> ValidationOutcome:
    """Run a contract's expectation suite on a batch and split it into kept and quarantined rows.

    Rows failing a row-level expectation (null, wrong type, length bounds, blank, value not allowed, ...) are
    quarantined with the names of the expectations they failed, e.g.
    ``"expect_column_value_lengths_to_be_between(prompt)"``. The contract is broken (``passed=False``) when the batch
    is empty, a column is missing, the row count is below the minimum (before or after quarantine), another
    expectation fails for the batch as a whole (e.g. too many exact duplicates), or more than
    ``data.max_quarantine_ratio`` of the rows are quarantined.

    Args:
        rows: records (training layout for ``kind="training"``, request-log layout for ``"production_logs"``).
        cfg: the configuration.
        run_key: names the GX run and the Data Docs folder ``<paths.reports_dir>/data_docs/<run_key>``.
        source_file: ``source_file`` of quarantine records; defaults to each row's ``source``.
        line_numbers: line of each row in its file, for quarantine records (``None`` when unknown).
        build_docs: build GX Data Docs for this run.
        kind: which contract.
        engine: ``"arrow"`` or ``"gx"``; defaults to ``data.validation_engine``.

    Returns:
        The outcome; ``metrics["data_docs"]`` is the docs index when built.
    """
    chosen = engine or cfg.data.validation_engine
    if chosen == "gx":
        return _validate_gx(
            rows, cfg, run_key, source_file=source_file, line_numbers=line_numbers, build_docs=build_docs, kind=kind
        )
    if chosen != "arrow":
        raise ValueError(f"unknown validation engine {chosen!r} (expected 'arrow' or 'gx')")
    from llmops.data.contract import columns_from_rows

    started = time.perf_counter()
    text_columns = TRAIN_COLUMNS if kind == TRAINING else tuple(c for c in PROD_LOG_COLUMNS if c != "latency_ms")
    batch = columns_from_rows(rows, text_columns)
    if not rows:
        batch = columns_from_rows([dict.fromkeys(text_columns)], text_columns)
        batch = {name: type(col)(col.values.slice(0, 0), None) for name, col in batch.items()}
    if kind == TRAINING and {"prompt", "response"} <= set(batch):
        import pyarrow as pa

        from llmops.data.contract import Column

        batch[CONTENT_KEY_COLUMN] = Column(pa.array(_content_key_column(rows), type=pa.uint64()))
    check = check_batch(batch, len(rows), cfg, kind)
    kept: list[dict[str, Any]] = []
    quarantined: list[dict[str, Any]] = []
    reason_by_row = dict(zip(np.flatnonzero(check.failed).tolist(), check.reasons, strict=True))
    for index, row in enumerate(rows):
        reason = reason_by_row.get(index)
        if reason is None:
            kept.append(dict(row))
            continue
        line = line_numbers[index] if line_numbers is not None else None
        source = source_file if source_file is not None else str(row.get("source") or "")
        quarantined.append(
            quarantine_record(source, line, reason, json.dumps(dict(row), ensure_ascii=False, default=str))
        )
    summary = summarize(check.outcomes, cfg, kind, len(rows), len(kept), len(quarantined))
    docs_index = None
    if build_docs:
        docs_index = build_data_docs(cfg, kind, check.outcomes, run_key, len(rows))
        if docs_index is not None:
            write_docs_summary(docs_index.parent, kind, check.outcomes, summary, len(rows), len(kept), len(quarantined))
    metrics = {**summary.metrics, "engine": "arrow", "duration_s": round(time.perf_counter() - started, 3)}
    if docs_index is not None:
        metrics["data_docs"] = str(docs_index)
    return ValidationOutcome(
        passed=summary.passed, kept_rows=kept, quarantined=quarantined, metrics=metrics, reason=summary.reason
    )


@dataclass
class BatchCheck:
    """Row-level result of the arrow engine on one batch: which rows failed which expectations."""

    outcomes: list[Any]
    failed: Any
    reasons: list[str]


def check_batch(batch: Mapping[str, Any], n_rows: int, cfg: LLMOpsConfig, kind: str = TRAINING) -> BatchCheck:
    """Evaluate a contract on one batch with the arrow engine (row-level results; table level left to the caller).

    Args:
        batch: columns (:class:`llmops.data.contract.Column`) by name; training batches need ``content_key``.
        n_rows: rows in the batch.
        cfg: the configuration.
        kind: which contract.

    Returns:
        The outcomes, the failing-row mask and each failing row's reason.
    """
    from llmops.data.contract import evaluate, row_failures

    _, specs = suite_specs(cfg, kind)
    outcomes = evaluate(batch, specs, n_rows)
    for outcome in outcomes:
        if outcome.type == "expect_column_proportion_of_unique_values_to_be_between":
            column = batch.get(outcome.kwargs["column"])
            if column is not None:
                outcome.observed_value = _unique_stats(column.values)
    failed, reasons = row_failures(outcomes, n_rows)
    return BatchCheck(outcomes=outcomes, failed=failed, reasons=reasons)


def _unique_stats(values: Any) -> tuple[int, Any]:
    """``(non-null count, non-null values)``; the distinct count is taken once, on the totals, in :func:`summarize`."""
    import pyarrow.compute as pc

    valid = pc.drop_null(values)
    return len(valid), valid.to_numpy(zero_copy_only=False)


def distinct_count(values: Any) -> int:
    """Number of distinct values of a numeric array (sort-based: faster than ``np.unique`` on hashes)."""
    if len(values) == 0:
        return 0
    ordered = np.sort(values)
    return int(np.count_nonzero(ordered[1:] != ordered[:-1])) + 1


@dataclass
class ContractSummary:
    """The verdict on a whole batch (or stream of batches)."""

    passed: bool
    reason: str
    metrics: dict[str, Any]
    outcomes: list[Any]


def summarize(
    outcomes: list[Any], cfg: LLMOpsConfig, kind: str, n_rows: int, n_kept: int, n_quarantined: int
) -> ContractSummary:
    """Decide the table-level expectations on the totals and the contract's verdict.

    Args:
        outcomes: per-expectation outcomes of the whole batch (merged over chunks); a proportion-of-unique outcome
            carries ``(non-null count, unique keys)`` in ``observed_value`` and gets its final value here.
        cfg: the configuration.
        kind: which contract.
        n_rows: rows evaluated.
        n_kept: rows kept.
        n_quarantined: rows quarantined.

    Returns:
        The summary; ``metrics`` has the same keys as the GX engine's.
    """
    missing_columns: list[str] = []
    batch_failures: list[str] = []
    row_count_failed = False
    for outcome in outcomes:
        if outcome.type == "expect_table_row_count_to_be_between":
            outcome.observed_value = n_rows
            low, high = outcome.kwargs.get("min_value"), outcome.kwargs.get("max_value")
            outcome.success = (low is None or n_rows >= low) and (high is None or n_rows <= high)
            row_count_failed = not outcome.success
        elif outcome.type == "expect_column_to_exist":
            if not outcome.success:
                missing_columns.append(str(outcome.kwargs["column"]))
        elif outcome.type == "expect_column_proportion_of_unique_values_to_be_between":
            stats = outcome.observed_value
            if isinstance(stats, tuple):
                count, keys = stats
                outcome.observed_value = round(distinct_count(keys) / count, 6) if count else None
            value = outcome.observed_value
            low, high = outcome.kwargs.get("min_value"), outcome.kwargs.get("max_value")
            outcome.success = value is None or (
                (low is None or value >= low - 1e-12) and (high is None or value <= high + 1e-12)
            )
            if not outcome.success and not outcome.column_missing:
                batch_failures.append(outcome.name)
    reasons = contract_reasons(
        cfg, kind, n_rows, n_kept, n_quarantined, missing_columns, row_count_failed, n_rows, batch_failures
    )
    evaluated = len(outcomes)
    successful = sum(1 for o in outcomes if o.success)
    ratio = n_quarantined / n_rows if n_rows else 0.0
    metrics: dict[str, Any] = {
        "suite_name": suite_specs(cfg, kind)[0],
        "suite_in_sync": suite_in_sync(cfg, kind),
        "rows_evaluated": n_rows,
        "rows_kept": n_kept,
        "rows_quarantined": n_quarantined,
        "quarantine_ratio": round(ratio, 6),
        "evaluated_expectations": evaluated,
        "successful_expectations": successful,
        "success_percent": round(100.0 * successful / evaluated, 4) if evaluated else 100.0,
        "unexpected_counts": dict(sorted((o.name, o.unexpected_count) for o in outcomes if o.row_level)),
        "failed_expectations": sorted(o.name for o in outcomes if not o.success),
        "gx_success": all(o.success for o in outcomes),
    }
    for outcome in outcomes:
        if outcome.type == "expect_column_proportion_of_unique_values_to_be_between":
            metrics["unique_content_ratio"] = outcome.observed_value
    passed = not reasons
    reason = "; ".join(reasons) if reasons else f"{n_kept} of {n_rows} rows passed, {n_quarantined} quarantined"
    return ContractSummary(passed=passed, reason=reason, metrics=metrics, outcomes=outcomes)


def build_data_docs(cfg: LLMOpsConfig, kind: str, outcomes: Sequence[Any], run_key: str, n_rows: int) -> Path | None:
    """Render GX Data Docs for one run from the arrow engine's outcomes.

    The outcomes become a GX ``ExpectationSuiteValidationResult`` (same expectation configurations as the committed
    suite), stored in an ephemeral context whose docs site is ``<reports_dir>/data_docs/<run_key>``; GX renders it.

    Args:
        cfg: the configuration.
        kind: which contract.
        outcomes: the final outcomes (table level decided).
        run_key: names the run and the folder.
        n_rows: rows evaluated.

    Returns:
        The docs index, or ``None`` when GX could not render them (logged; never fails the validation).
    """
    gx = _import_gx()
    import dataclasses

    from great_expectations.core import ExpectationSuiteValidationResult, ExpectationValidationResult
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    from llmops.data.pii import PiiScrubber

    docs_dir = cfg.paths.reports_dir / "data_docs" / run_key
    if docs_dir.exists():
        shutil.rmtree(docs_dir)  # a re-run of the same key replaces its docs
    try:
        context = _ephemeral_context(gx, docs_dir)
        suite = build_suite(cfg, kind)
        scrubber = PiiScrubber.from_config(cfg)
        results = []
        for config, outcome in zip(suite.expectation_configurations, outcomes, strict=True):
            # the docs show up to 20 unexpected values per expectation: scrubbed, as everything else written
            shown = [scrubber.scrub(v)[0] if isinstance(v, str) else v for v in outcome.partial_unexpected]
            result = dataclasses.replace(outcome, partial_unexpected=shown).gx_result()
            results.append(
                ExpectationValidationResult(success=bool(outcome.success), expectation_config=config, result=result)
            )
        evaluated = len(results)
        successful = sum(1 for r in results if r.success)
        run_id = RunIdentifier(run_name=run_key)
        batch_id = f"llmops-{kind}-{run_key}"
        validation = ExpectationSuiteValidationResult(
            success=all(r.success for r in results),
            results=results,
            suite_name=suite.name,
            statistics={
                "evaluated_expectations": evaluated,
                "successful_expectations": successful,
                "unsuccessful_expectations": evaluated - successful,
                "success_percent": 100.0 * successful / evaluated if evaluated else 100.0,
            },
            meta={
                "great_expectations_version": gx.__version__,
                "run_id": run_id,
                "batch_spec": {"rows": n_rows, "engine": "arrow"},
                "active_batch_definition": {
                    "datasource_name": "llmops",
                    "data_connector_name": "arrow",
                    "data_asset_name": kind,
                    "batch_identifiers": {"run": run_key},
                },
            },
            batch_id=batch_id,
        )
        key = ValidationResultIdentifier(
            expectation_suite_identifier=ExpectationSuiteIdentifier(name=suite.name),
            run_id=run_id,
            batch_identifier=batch_id,
        )
        context.validation_results_store.set(key, validation)
        context.build_data_docs()
    except Exception as exc:  # docs are a convenience, never a reason to fail validation
        logger.warning("could not build GX Data Docs in %s: %s", docs_dir, exc)
        return None
    index = docs_dir / "index.html"
    return index if index.is_file() else None


DOCS_SUMMARY = "summary.html"


def write_docs_summary(
    docs_dir: Path, kind: str, outcomes: Sequence[Any], summary: Any, n_rows: int, n_kept: int, n_quarantined: int
) -> Path:
    """A self-contained page beside the Data Docs (no external style or script: readable offline) that says what the
    contract decided, in the same counts as the task log, and what GX's own "Failed" status means.

    GX calls a suite failed as soon as one expectation found one row breaking it. The contract quarantines such rows
    with their reason and fails only on table-level breaches or when more than ``data.max_quarantine_ratio`` of the
    rows were quarantined, so the two can disagree: the headline says which one the pipeline acted on.
    """
    import html

    from llmops.fsutil import atomic_write_text

    e = html.escape
    failing_rows = [o for o in outcomes if o.row_level and not o.success]
    failing_table = [o for o in outcomes if not o.row_level and not o.success]
    verdict = "held" if summary.passed else "broken"
    note = " (those rows are the quarantined ones)" if failing_rows else ""
    rows = "".join(
        f"<tr class='{'ok' if o.success else 'bad'}'><td>{e(o.name)}</td><td>{'row' if o.row_level else 'table'}</td>"
        f"<td>{'passed' if o.success else 'failed'}</td><td>{o.unexpected_count if o.row_level else ''}</td>"
        f"<td>{e(str(o.observed_value)) if not o.row_level and o.observed_value is not None else ''}</td></tr>"
        for o in outcomes
    )
    page = f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Data contract: {e(kind)}</title>
<style>body{{font-family:system-ui,sans-serif;margin:1rem 2rem}}table{{border-collapse:collapse;font-size:.9rem}}
td,th{{border-bottom:1px solid #ddd;padding:.2rem .6rem;text-align:left}}.bad td{{color:#b00020}}
.held{{color:#2a7d2a}}.broken{{color:#b00020}}</style></head><body>
<h1 class="{verdict}">Data contract {verdict} ({e(kind)})</h1>
<p>{e(summary.reason)}</p>
<p><b>{n_rows}</b> rows checked: <b>{n_kept}</b> kept, <b>{n_quarantined}</b> quarantined with their reason.</p>
<p>{len(failing_rows)} row-level expectation(s) found rows breaking them{note};
{len(failing_table)} table-level expectation(s) failed. The Great Expectations report
(<a href="index.html">index.html</a>) marks the suite "Failed" as soon as one row breaks one expectation; the
contract quarantines such rows and fails only on a table-level breach or when too large a share of the rows is
quarantined, so "Failed" there and "held" here can both be true.</p>
<table><tr><th>expectation</th><th>level</th><th>result</th><th>rows breaking it</th><th>observed</th></tr>
{rows}</table>
</body></html>
"""
    path = docs_dir / DOCS_SUMMARY
    atomic_write_text(path, page, fsync=False)
    return path


def _validate_gx(
    rows: Sequence[Mapping[str, Any]],
    cfg: LLMOpsConfig,
    run_key: str,
    *,
    source_file: str | None = None,
    line_numbers: Sequence[int | None] | None = None,
    build_docs: bool = True,
    kind: str = TRAINING,
) -> ValidationOutcome:
    """Run the contract's expectation suite on a batch and split it into kept and quarantined rows.

    Rows failing a row-level expectation (null, wrong type, length bounds, blank, category not allowed) are
    quarantined with the names of the expectations they failed, e.g.
    ``"expect_column_value_lengths_to_be_between(prompt)"``. The contract is broken (``passed=False``) when the batch
    is empty, a column is missing, the row count is below ``data.min_rows`` (before or after quarantine), another
    expectation fails for the batch as a whole, or more than ``data.max_quarantine_ratio`` of the rows are
    quarantined.

    Args:
        rows: records in the training layout (``id``, ``prompt``, ``response``, ``category``, ``source``).
        cfg: the configuration.
        run_key: names the GX run and the Data Docs folder ``<paths.reports_dir>/data_docs/<run_key>``.
        source_file: ``source_file`` of quarantine records; defaults to each row's ``source``.
        line_numbers: line of each row in its file, for quarantine records (``None`` when unknown).
        build_docs: build GX Data Docs for this run (about 0.2 s).

    Returns:
        The outcome; ``metrics["data_docs"]`` is the docs index when built.
    """
    gx = _import_gx()
    from great_expectations.core.run_identifier import RunIdentifier

    started = time.perf_counter()
    frame, columns = _frame(rows, kind)
    n_rows = len(rows)
    docs_dir = cfg.paths.reports_dir / "data_docs" / run_key if build_docs else None
    if docs_dir is not None and docs_dir.exists():
        shutil.rmtree(docs_dir)  # a re-run of the same key replaces its docs

    context = _ephemeral_context(gx, docs_dir)
    suite = context.suites.add(build_suite(cfg, kind))
    batch_definition = (
        context.data_sources.add_pandas("llmops_raw")
        .add_dataframe_asset("raw_records")
        .add_batch_definition_whole_dataframe("whole_batch")
    )
    validation = context.validation_definitions.add(
        gx.ValidationDefinition(name=f"{suite.name}_validation", data=batch_definition, suite=suite)
    )
    checkpoint = context.checkpoints.add(
        gx.Checkpoint(
            name=f"{suite.name}_checkpoint",
            validation_definitions=[validation],
            result_format={"result_format": "COMPLETE", "unexpected_index_column_names": [ROW_INDEX_COLUMN]},
        )
    )
    checkpoint_result = checkpoint.run(batch_parameters={"dataframe": frame}, run_id=RunIdentifier(run_name=run_key))
    result = next(iter(checkpoint_result.run_results.values()))

    failures_by_row: dict[int, set[str]] = {}
    unexpected_counts: dict[str, int] = {}
    failed: list[str] = []
    batch_failures: list[tuple[str, str | None]] = []
    missing_columns: list[str] = []
    row_count_failed = False
    observed_rows: int | None = None
    for expectation_result in result.results:
        config = expectation_result.expectation_config
        name = _expectation_name(config)
        details = expectation_result.result or {}
        if config.type == "expect_table_row_count_to_be_between":
            observed_rows = details.get("observed_value")
        index_list = details.get("unexpected_index_list")
        count = details.get("unexpected_count")
        if count is not None:
            unexpected_counts[name] = int(count)
        if expectation_result.success:
            continue
        failed.append(name)
        if config.type == "expect_column_to_exist":
            missing_columns.append(str(config.kwargs.get("column")))
        elif config.type == "expect_table_row_count_to_be_between":
            row_count_failed = True
        elif index_list is not None and count and len(index_list) == int(count):
            for item in index_list:
                failures_by_row.setdefault(int(item[ROW_INDEX_COLUMN]), set()).add(name)
        else:
            # No row to blame (GX raised, or could not list every unexpected row): the batch as a whole fails.
            batch_failures.append((name, config.kwargs.get("column")))

    kept: list[dict[str, Any]] = []
    quarantined: list[dict[str, Any]] = []
    for index, row in enumerate(rows):
        names = failures_by_row.get(index)
        if not names:
            kept.append(dict(row))
            continue
        line = line_numbers[index] if line_numbers is not None else None
        source = source_file if source_file is not None else str(row.get("source") or "")
        raw = json.dumps(dict(row), ensure_ascii=False, default=str)
        quarantined.append(quarantine_record(source, line, "; ".join(sorted(names)), raw))

    ratio = len(quarantined) / n_rows if n_rows else 0.0
    # Expectations on a missing column fail too; the missing column is the reason worth reporting.
    unexplained = [name for name, column in batch_failures if column not in missing_columns]
    reasons = contract_reasons(
        cfg, kind, n_rows, len(kept), len(quarantined), missing_columns, row_count_failed, observed_rows, unexplained
    )

    statistics = result.statistics
    docs_index = docs_dir / "index.html" if docs_dir is not None else None
    if docs_dir is not None:
        try:
            context.build_data_docs()
        except Exception as exc:  # docs are a convenience, never a reason to fail validation
            logger.warning("could not build GX Data Docs in %s: %s", docs_dir, exc)
    metrics: dict[str, Any] = {
        "suite_name": suite.name,
        "suite_in_sync": suite_in_sync(cfg, kind),
        "rows_evaluated": n_rows,
        "rows_kept": len(kept),
        "rows_quarantined": len(quarantined),
        "quarantine_ratio": round(ratio, 6),
        "columns": columns,
        "evaluated_expectations": int(statistics["evaluated_expectations"]),
        "successful_expectations": int(statistics["successful_expectations"]),
        "success_percent": float(statistics["success_percent"] or 0.0),
        "unexpected_counts": dict(sorted(unexpected_counts.items())),
        "failed_expectations": sorted(failed),
        "gx_success": bool(result.success),
        "duration_s": round(time.perf_counter() - started, 3),
    }
    if docs_index is not None and docs_index.is_file():
        metrics["data_docs"] = str(docs_index)
    if not metrics["suite_in_sync"]:
        logger.warning(
            "committed suite %s differs from the configuration; run python -m llmops.data.validate",
            suite_path(cfg, kind),
        )
    passed = not reasons
    reason = "; ".join(reasons) if reasons else f"{len(kept)} of {n_rows} rows passed, {len(quarantined)} quarantined"
    return ValidationOutcome(passed=passed, kept_rows=kept, quarantined=quarantined, metrics=metrics, reason=reason)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: write the expectation suite for the current configuration and print its path.

    Args:
        argv: arguments (``--config PATH``); defaults to ``sys.argv[1:]``.

    Returns:
        The exit status.
    """
    import argparse

    from llmops.config import load_config

    parser = argparse.ArgumentParser(description="Write the GX expectation suite derived from the configuration.")
    parser.add_argument(
        "--config", type=Path, default=None, help="YAML config (default: $LLMOPS_CONFIG or llmops.yaml)"
    )
    args = parser.parse_args(argv)
    print(ensure_suite(load_config(args.config)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
