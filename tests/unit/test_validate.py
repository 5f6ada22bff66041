"""The data contract with real Great Expectations: suite file, row quarantine by expectation name, broken contracts."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from llmops.config import LLMOpsConfig, load_config
from llmops.data.schema import QUARANTINE_COLUMNS
from llmops.data.validate import ensure_suite, suite_in_sync, suite_path, validate_records

MakeConfig = Callable[..., LLMOpsConfig]


@pytest.fixture
def make_cfg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> MakeConfig:
    monkeypatch.setenv("LLMOPS_HOME", str(tmp_path / "home"))

    def make(**sections: Any) -> LLMOpsConfig:
        return load_config(overrides=sections, environ={})

    return make


def _rows(n: int, start: int = 0, **extra: Any) -> list[dict[str, Any]]:
    return [
        {
            "id": f"r{i}",
            "prompt": f"How do I share the folder number {i}?",
            "response": "Right-click the folder and choose Share.",
            "category": "sharing",
            "source": "unit",
            **extra,
        }
        for i in range(start, start + n)
    ]


def test_ensure_suite_is_idempotent_and_deterministic(tmp_path: Path, make_cfg: MakeConfig) -> None:
    cfg_a = make_cfg(paths={"great_expectations": str(tmp_path / "gx_a")})
    cfg_b = make_cfg(paths={"great_expectations": str(tmp_path / "gx_b")})
    path = Path(ensure_suite(cfg_a))
    assert path == suite_path(cfg_a) == tmp_path / "gx_a" / "expectations" / "raw_training_data.json"
    first = path.read_bytes()
    assert Path(ensure_suite(cfg_a)).read_bytes() == first
    assert Path(ensure_suite(cfg_b)).read_bytes() == first  # same config, fresh project: same bytes
    assert "analytics_enabled: false" in (tmp_path / "gx_a" / "great_expectations.yml").read_text()
    assert suite_in_sync(cfg_a)

    suite = json.loads(first)
    types = {(e["type"], e["kwargs"].get("column")) for e in suite["expectations"]}
    assert {
        ("expect_column_to_exist", "prompt"),
        ("expect_table_row_count_to_be_between", None),
        ("expect_column_values_to_not_be_null", "response"),
        ("expect_column_value_lengths_to_be_between", "prompt"),
        ("expect_column_values_to_be_in_set", "category"),
    } <= types
    in_set = next(e for e in suite["expectations"] if e["type"] == "expect_column_values_to_be_in_set")
    assert in_set["kwargs"]["value_set"] == cfg_a.data.allowed_categories

    changed = make_cfg(paths={"great_expectations": str(tmp_path / "gx_a")}, data={"min_rows": 7})
    assert not suite_in_sync(changed)
    assert Path(ensure_suite(changed)).read_bytes() != first
    assert suite_in_sync(changed)


def test_committed_suite_matches_the_default_config(make_cfg: MakeConfig) -> None:
    cfg = make_cfg()
    assert suite_path(cfg).is_file(), "run `python -m llmops.data.validate` and commit great_expectations/"
    assert suite_in_sync(cfg), "the data section changed: run `python -m llmops.data.validate` and commit the suite"


def test_rows_failing_expectations_are_quarantined_by_name(make_cfg: MakeConfig) -> None:
    cfg = make_cfg()
    good = _rows(80)
    bad = [
        {**good[0], "id": "empty_prompt", "prompt": ""},
        {**good[0], "id": "blank_prompt", "prompt": "     "},
        {**good[0], "id": "long_response", "response": "x" * (cfg.data.max_response_chars + 1)},
        {**good[0], "id": "bad_category", "category": "weather"},
        {**good[0], "id": "null_response", "response": None},
        {**good[0], "id": "int_prompt", "prompt": 12345},
    ]
    rows = good[:40] + bad + good[40:]
    lines = list(range(101, 101 + len(rows)))
    outcome = validate_records(rows, cfg, "unit-run", source_file="raw.jsonl", line_numbers=lines)

    assert outcome.passed, outcome.reason
    assert outcome.kept_rows == good
    # bad rows sit at positions 40..45, i.e. lines 141..146
    ids_by_line = {141 + i: row["id"] for i, row in enumerate(bad)}
    reasons = {ids_by_line[q["line_number"]]: q["reason"] for q in outcome.quarantined}
    expected = {
        "empty_prompt": [
            "expect_column_value_lengths_to_be_between(prompt)",
            "expect_column_values_to_not_match_regex(prompt)",
        ],
        "blank_prompt": ["expect_column_values_to_not_match_regex(prompt)"],
        "long_response": ["expect_column_value_lengths_to_be_between(response)"],
        "bad_category": ["expect_column_values_to_be_in_set(category)"],
        "null_response": ["expect_column_values_to_not_be_null(response)"],
        "int_prompt": ["expect_column_values_to_be_of_type(prompt)"],
    }
    assert set(reasons) == set(expected)
    for row_id, names in expected.items():
        for name in names:
            assert name in reasons[row_id].split("; "), (row_id, reasons[row_id])
    for record in outcome.quarantined:
        assert tuple(record) == QUARANTINE_COLUMNS and record["source_file"] == "raw.jsonl"
    assert [q["line_number"] for q in outcome.quarantined] == list(range(141, 147))
    assert json.loads(outcome.quarantined[0]["raw"])["id"] == "empty_prompt"

    metrics = outcome.metrics
    assert metrics["rows_evaluated"] == 86 and metrics["rows_quarantined"] == 6
    assert metrics["unexpected_counts"]["expect_column_values_to_be_in_set(category)"] == 1
    assert metrics["evaluated_expectations"] > 10 and 0 < metrics["success_percent"] < 100
    assert Path(metrics["data_docs"]).is_file()
    json.dumps(metrics)  # XCom-safe


def test_every_unexpected_row_is_found_not_just_a_sample(make_cfg: MakeConfig) -> None:
    cfg = make_cfg()
    rows = _rows(170) + _rows(30, start=170, category="weather")
    outcome = validate_records(rows, cfg, "many-bad", build_docs=False)
    assert outcome.passed
    assert len(outcome.quarantined) == 30 and len(outcome.kept_rows) == 170
    assert "data_docs" not in outcome.metrics


@pytest.mark.parametrize(
    ("rows", "overrides", "fragment"),
    [
        ([], {}, "empty batch"),
        (_rows(10), {}, "row count 10 < min_rows 50"),
        (_rows(60) + _rows(20, start=60, prompt=""), {}, "above max_quarantine_ratio"),
        (_rows(45) + _rows(10, start=45, category="weather"), {}, "only 45 valid rows, fewer than min_rows 50"),
        ([{k: v for k, v in r.items() if k != "response"} for r in _rows(60)], {}, "missing column(s): response"),
    ],
    ids=["empty", "too_few_rows", "too_many_bad_rows", "too_few_valid_rows", "missing_column"],
)
def test_broken_contract(
    make_cfg: MakeConfig, rows: list[dict[str, Any]], overrides: dict[str, Any], fragment: str
) -> None:
    outcome = validate_records(rows, make_cfg(data=overrides), "broken", build_docs=False)
    assert not outcome.passed
    assert fragment in outcome.reason
