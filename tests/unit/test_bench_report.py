from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPORT = Path(__file__).resolve().parents[2] / "bench" / "report.py"

PAGE = """# Benchmarks

How the figures are measured.

<!-- bench:begin -->
stale table
<!-- bench:end -->

## Method
text after the tables
"""


@pytest.fixture(scope="module")
def report() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_report", REPORT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their annotations through sys.modules
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def results(tmp_path: Path) -> Path:
    folder = tmp_path / "results"
    folder.mkdir()
    serve = {
        "batching_speedup_c8": 3.1,
        "triton": {
            "batching": {"c1": {"p50_ms": 113.24, "rps": 8.9}, "c8": {"p50_ms": 1054.0, "rps": 23.6}},
        },
        "targets": {
            "batching_speedup_c8": {"target": ">= 3.0", "met": True},
            "triton_overhead_c1": {"target": "<= 1.3", "met": False},
        },
    }
    monitor = {
        "benchmark": "monitor",
        "results": [
            {"rows": 10000, "ratio": 1.0504, "alerts": ["drift"]},
            {"rows": 100000, "ratio": 0.9987, "alerts": []},
        ],
        "loss_curve": [float(i) for i in range(50)],
    }
    (folder / "serve.json").write_text(json.dumps(serve))
    (folder / "monitor.json").write_text(json.dumps(monitor))
    return folder


def _run(report: ModuleType, results: Path, page: Path) -> str:
    assert report.main(["--results", str(results), "--docs", str(page)]) == 0
    return page.read_text()


def test_one_section_per_result_file_between_the_markers(report: ModuleType, results: Path, tmp_path: Path) -> None:
    page = tmp_path / "benchmarks.md"
    page.write_text(PAGE)
    text = _run(report, results, page)

    assert "stale table" not in text
    assert text.startswith("# Benchmarks\n\nHow the figures are measured.\n\n<!-- bench:begin -->\n")
    assert text.endswith("<!-- bench:end -->\n\n## Method\ntext after the tables\n")
    # sorted by file name, each naming the command that produces it
    assert text.index("### monitor") < text.index("### serve")
    assert "From `bench/results/serve.json` (`make bench-serve`)." in text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["benchmarks.md", "results"]  # no temporary file left


def test_records_that_share_keys_become_one_table(report: ModuleType, results: Path, tmp_path: Path) -> None:
    page = tmp_path / "benchmarks.md"
    page.write_text(PAGE)
    lines = _run(report, results, page).splitlines()

    start = lines.index("| `triton.batching` | p50_ms | rps |")
    assert lines[start + 1 : start + 4] == [
        "|---|---:|---:|",
        "| `c1` | 113.2 | 8.90 |",  # one precision per column; thousands grouped
        "| `c8` | 1,054.0 | 23.60 |",
    ]
    start = lines.index("| result | rows | ratio | alerts |")
    assert lines[start + 1 : start + 4] == [
        "|---|---:|---:|---|",
        "| `results[0]` | 10,000 | 1.050 | drift |",
        "| `results[1]` | 100,000 | 0.999 | none |",
    ]
    start = lines.index("| `targets` | target | met |")
    assert lines[start + 2 : start + 4] == [
        "| `batching_speedup_c8` | >= 3.0 | yes |",
        "| `triton_overhead_c1` | <= 1.3 | no |",
    ]


def test_loose_figures_and_long_lists(report: ModuleType, results: Path, tmp_path: Path) -> None:
    page = tmp_path / "benchmarks.md"
    page.write_text(PAGE)
    lines = _run(report, results, page).splitlines()

    assert "| `batching_speedup_c8` | 3.10 |" in lines
    assert "| `loss_curve` | 50 values |" in lines
    assert "| `benchmark` | monitor |" in lines


def test_rerun_is_stable_and_empty_results_say_how_to_produce_them(
    report: ModuleType, results: Path, tmp_path: Path
) -> None:
    page = tmp_path / "benchmarks.md"
    page.write_text(PAGE)
    first = _run(report, results, page)
    assert _run(report, results, page) == first

    empty = tmp_path / "none"
    empty.mkdir()
    text = _run(report, empty, page)
    assert "No results yet: run `make bench-<name>`, then `make bench-report`" in text
    assert "### serve" not in text


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, "–"),
        (True, "yes"),
        (1234567, "1,234,567"),
        (42, "42"),
        (0.0, "0"),
        (0.000123456, "0.000123"),
        (12.3456, "12.35"),
        (123.456, "123.5"),
        (98765.4, "98,765"),
        ("a|b\nc", "a\\|b c"),
        ([1.5, 2.25], "1.5, 2.25"),
    ],
)
def test_cell_format(report: ModuleType, value: object, expected: str) -> None:
    assert report.format_value(value) == expected


def test_page_without_markers_is_left_alone(report: ModuleType, results: Path, tmp_path: Path) -> None:
    page = tmp_path / "benchmarks.md"
    page.write_text("# Benchmarks\n")
    assert report.main(["--results", str(results), "--docs", str(page)]) == 2
    assert page.read_text() == "# Benchmarks\n"
