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


def _planted_batch() -> list[dict[str, Any]]:
    good = _rows(70)
    bad = [
        {**good[0], "id": "empty_prompt", "prompt": ""},
        {**good[0], "id": "blank_prompt", "prompt": " \u00a0\t "},
        {**good[0], "id": "long_response", "response": "x" * 4001},
        {**good[0], "id": "bad_category", "category": "weather"},
        {**good[0], "id": "null_response", "response": None},
        {**good[0], "id": "null_category", "category": None},
        {**good[0], "id": "int_prompt", "prompt": 12345},
        {**good[0], "id": "short_prompt", "prompt": "ab"},
    ]
    return good[:30] + bad + good[30:]


def test_arrow_engine_agrees_with_gx_row_by_row(make_cfg: MakeConfig) -> None:
    cfg = make_cfg()
    rows = _planted_batch()
    arrow = validate_records(rows, cfg, "parity-a", build_docs=False, engine="arrow")
    gx_outcome = validate_records(rows, cfg, "parity-g", build_docs=False, engine="gx")
    assert arrow.passed == gx_outcome.passed
    assert arrow.kept_rows == gx_outcome.kept_rows
    assert [(q["raw"], q["reason"]) for q in arrow.quarantined] == [
        (q["raw"], q["reason"]) for q in gx_outcome.quarantined
    ]
    for key in ("rows_quarantined", "evaluated_expectations", "failed_expectations"):
        assert arrow.metrics[key] == gx_outcome.metrics[key], key
    for name, count in gx_outcome.metrics["unexpected_counts"].items():
        assert arrow.metrics["unexpected_counts"].get(name, 0) == count, name


def test_duplicate_ceiling_is_part_of_the_contract(make_cfg: MakeConfig) -> None:
    cfg = make_cfg(data={"max_duplicate_ratio": 0.1})
    rows = _rows(60)
    copies = [{**r, "id": f"copy-{r['id']}", "prompt": r["prompt"].upper() + "!"} for r in rows[:20]]
    outcome = validate_records(rows + copies, cfg, "dups", build_docs=False)
    assert not outcome.passed
    assert "expect_column_proportion_of_unique_values_to_be_between(content_key)" in outcome.reason
    assert outcome.metrics["unique_content_ratio"] == 0.75


def test_data_docs_render_the_arrow_results(make_cfg: MakeConfig) -> None:
    cfg = make_cfg()
    outcome = validate_records(_planted_batch(), cfg, "docs-run")
    index = Path(outcome.metrics["data_docs"])
    assert index == cfg.paths.reports_dir / "data_docs" / "docs-run" / "index.html"
    pages = [p.read_text(encoding="utf-8") for p in index.parent.rglob("*.html") if p != index]
    assert any(
        "expect_column_values_to_be_in_set" in page or "values must belong to this set" in page for page in pages
    )
    # Beside them, a self-contained summary (readable offline) in the task log's counts, saying what GX's "Failed"
    # means when the contract held.
    summary = (index.parent / "summary.html").read_text(encoding="utf-8")
    kept, quarantined = len(outcome.kept_rows), len(outcome.quarantined)
    assert quarantined > 0 and f"<b>{kept}</b> kept, <b>{quarantined}</b> quarantined" in summary
    assert ("Data contract held" if outcome.passed else "Data contract broken") in summary
    assert outcome.reason.split(";")[0] in summary.replace("&#x27;", "'") and "http" not in summary


def _log(i: int, **extra: Any) -> dict[str, Any]:
    return {
        "request_id": f"req-{i}",
        "timestamp": f"2026-01-01T00:00:{i % 60:02d}.123Z",
        "model_name": "support_assistant",
        "model_version": "1",
        "prompt": f"How do I share folder {i}?",
        "response": "Right-click it and choose Share.",
        "latency_ms": 12.5,
        **extra,
    }


def test_production_log_contract(make_cfg: MakeConfig) -> None:
    cfg = make_cfg()
    assert suite_in_sync(cfg, "production_logs"), "run `python -m llmops.data.validate` and commit the suite"
    good = [_log(i) for i in range(40)]
    bad = {
        "negative_latency": _log(100, latency_ms=-1.0),
        "huge_latency": _log(101, latency_ms=1e9),
        "bad_timestamp": _log(102, timestamp="yesterday"),
        "month_13": _log(103, timestamp="2026-13-01T00:00:00Z"),
        "null_model": _log(104, model_name=None),
        "blank_prompt": _log(105, prompt="   "),
        "duplicate_id": _log(0),
    }
    rows = good + list(bad.values())
    outcome = validate_records(rows, cfg, "prod", build_docs=False, kind="production_logs")
    assert outcome.passed, outcome.reason
    reasons = [q["reason"] for q in outcome.quarantined]
    assert any("expect_column_values_to_be_between(latency_ms)" in r for r in reasons)
    assert sum("expect_column_values_to_match_regex(timestamp)" in r for r in reasons) == 2
    assert any("expect_column_values_to_not_be_null(model_name)" in r for r in reasons)
    assert any("expect_column_values_to_not_match_regex(prompt)" in r for r in reasons)
    # both rows with request_id "req-0" are quarantined, as GX does
    assert sum("expect_column_values_to_be_unique(request_id)" in r for r in reasons) == 2
    assert len(outcome.kept_rows) == 39
    gx_outcome = validate_records(rows, cfg, "prod-gx", build_docs=False, kind="production_logs", engine="gx")
    assert [q["reason"] for q in gx_outcome.quarantined] == reasons


def test_production_log_contract_breaks_on_missing_column(make_cfg: MakeConfig) -> None:
    cfg = make_cfg()
    rows = [{k: v for k, v in _log(i).items() if k != "latency_ms"} for i in range(5)]
    outcome = validate_records(rows, cfg, "prod-bad", build_docs=False, kind="production_logs")
    assert not outcome.passed and "missing column(s): latency_ms" in outcome.reason


def test_data_docs_show_unexpected_values_scrubbed(make_cfg: MakeConfig) -> None:
    """The docs list up to 20 unexpected values per expectation; personal data in them is replaced, not shown."""
    cfg = make_cfg()
    good = _rows(40)
    planted = "jo.baker+support@mail.example.net"
    bad = [{**good[0], "id": "leaky", "prompt": f"Mail {planted} my invoice", "category": "weather"}]
    outcome = validate_records(good + bad, cfg, "docs-scrub")
    index = Path(outcome.metrics["data_docs"])
    text = "".join(p.read_text(encoding="utf-8", errors="replace") for p in index.parent.rglob("*") if p.is_file())
    assert "weather" in text  # the unexpected value is shown ...
    assert planted not in text  # ... but no personal data from the row
