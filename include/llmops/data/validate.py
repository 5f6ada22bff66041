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

from llmops.data.ingest import quarantine_record
from llmops.data.schema import TRAIN_COLUMNS
from llmops.fsutil import atomic_write_text

if TYPE_CHECKING:
    from llmops.config import LLMOpsConfig

logger = logging.getLogger(__name__)

# Fixed namespace: the suite and expectation ids are uuid5 of their content, so the suite file is reproducible.
_ID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://github.com/airflow-llmops/great_expectations")
ROW_INDEX_COLUMN = "__row__"
BLANK_REGEX = r"^\s*$"
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
    ]
    return specs


def _snake_case(class_name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in class_name).lstrip("_")


def _deterministic_id(*parts: Any) -> str:
    return str(uuid.uuid5(_ID_NAMESPACE, json.dumps(parts, sort_keys=True)))


def build_suite(cfg: LLMOpsConfig) -> Any:
    """Build the GX expectation suite of the contract, with ids derived from its content.

    Args:
        cfg: the configuration.

    Returns:
        A ``great_expectations.ExpectationSuite`` bound to no context.
    """
    gx = _import_gx()
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    name = cfg.data.suite_name
    configurations = [
        ExpectationConfiguration(
            type=_snake_case(class_name),
            kwargs=kwargs,
            id=_deterministic_id(name, class_name, kwargs),
        )
        for class_name, kwargs in expectation_specs(cfg)
    ]
    return gx.ExpectationSuite(
        name=name,
        id=_deterministic_id("suite", name),
        expectations=configurations,
        meta={
            "generated_by": SUITE_GENERATOR,
            "source": "include/configs/llmops.yaml (data section)",
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


def suite_path(cfg: LLMOpsConfig) -> Path:
    """Where the committed suite lives: ``<paths.great_expectations>/expectations/<suite_name>.json``.

    Args:
        cfg: the configuration.

    Returns:
        The path of the suite file.
    """
    return cfg.paths.great_expectations / "expectations" / f"{cfg.data.suite_name}.json"


def ensure_suite(cfg: LLMOpsConfig) -> str:
    """Create or update the expectation suite in the GX file context at ``paths.great_expectations``.

    Idempotent and deterministic: the file is rewritten only when the configuration changed it, and the same
    configuration always gives the same bytes. Creates the GX project (``great_expectations.yml`` with analytics
    off) when it does not exist yet.

    Args:
        cfg: the configuration.

    Returns:
        The path of the suite JSON file.

    Raises:
        RuntimeError: GX cannot load the suite back after writing it.
    """
    gx = _import_gx()
    root = cfg.paths.great_expectations
    context = gx.get_context(mode="file", context_root_dir=str(root))
    if context.config.analytics_enabled is not False:
        context.enable_analytics(False)
    path = suite_path(cfg)
    text = serialize_suite(build_suite(cfg))
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        atomic_write_text(path, text, fsync=False)
        logger.info("wrote expectation suite %s", path)
    loaded = context.suites.get(name=cfg.data.suite_name)
    if len(loaded.expectations) != len(expectation_specs(cfg)):
        raise RuntimeError(f"GX loaded {len(loaded.expectations)} expectations from {path}, expected more")
    return str(path)


def suite_in_sync(cfg: LLMOpsConfig) -> bool:
    """Whether the committed suite file equals the suite derived from the configuration.

    Args:
        cfg: the configuration.

    Returns:
        True when the file exists and has the same content.
    """
    path = suite_path(cfg)
    if not path.is_file():
        return False
    try:
        committed = json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        return False
    return bool(committed == json.loads(serialize_suite(build_suite(cfg))))


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


def _frame(rows: Sequence[Mapping[str, Any]]) -> tuple[Any, list[str]]:
    import pandas as pd

    seen: dict[str, None] = {}
    for row in rows:
        seen.update(dict.fromkeys(row))
    columns = list(seen) if rows else list(TRAIN_COLUMNS)
    columns = [c for c in columns if c != ROW_INDEX_COLUMN]
    # object dtype everywhere: pandas must not turn ints into floats or strings into categories behind GX's back.
    data = {c: pd.Series([row.get(c) for row in rows], dtype=object) for c in columns}
    data[ROW_INDEX_COLUMN] = pd.Series(range(len(rows)), dtype="int64")
    return pd.DataFrame(data), columns


def validate_records(
    rows: Sequence[Mapping[str, Any]],
    cfg: LLMOpsConfig,
    run_key: str,
    *,
    source_file: str | None = None,
    line_numbers: Sequence[int | None] | None = None,
    build_docs: bool = True,
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
    data = cfg.data
    frame, columns = _frame(rows)
    n_rows = len(rows)
    docs_dir = cfg.paths.reports_dir / "data_docs" / run_key if build_docs else None
    if docs_dir is not None and docs_dir.exists():
        shutil.rmtree(docs_dir)  # a re-run of the same key replaces its docs

    context = _ephemeral_context(gx, docs_dir)
    suite = context.suites.add(build_suite(cfg))
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
    reasons: list[str] = []
    if n_rows == 0:
        reasons.append("empty batch: no rows to validate")
    if missing_columns:
        reasons.append(f"missing column(s): {', '.join(missing_columns)}")
    if row_count_failed and n_rows:
        reasons.append(f"row count {observed_rows if observed_rows is not None else n_rows} < min_rows {data.min_rows}")
    # Expectations on a missing column fail too; the missing column is the reason worth reporting.
    unexplained = [name for name, column in batch_failures if column not in missing_columns]
    if unexplained:
        reasons.append(f"failed for the whole batch: {', '.join(unexplained)}")
    if n_rows and ratio > data.max_quarantine_ratio:
        reasons.append(
            f"{len(quarantined)} of {n_rows} rows quarantined ({ratio:.1%}), above max_quarantine_ratio "
            f"{data.max_quarantine_ratio:.1%}"
        )
    if n_rows >= data.min_rows and len(kept) < data.min_rows:
        reasons.append(f"only {len(kept)} valid rows, fewer than min_rows {data.min_rows}")

    statistics = result.statistics
    docs_index = docs_dir / "index.html" if docs_dir is not None else None
    if docs_dir is not None:
        try:
            context.build_data_docs()
        except Exception as exc:  # docs are a convenience, never a reason to fail validation
            logger.warning("could not build GX Data Docs in %s: %s", docs_dir, exc)
    metrics: dict[str, Any] = {
        "suite_name": suite.name,
        "suite_in_sync": suite_in_sync(cfg),
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
            "committed suite %s differs from the configuration; run python -m llmops.data.validate", suite_path(cfg)
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
