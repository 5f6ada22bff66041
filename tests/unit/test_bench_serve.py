"""The serving benchmark's accounting: requests and tokens counted inside the measurement windows only, Triton's
token counts read back from the served model's log lines by the request id it returned."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "bench_serve.py"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_serve_under_test", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_tokens_per_second_count_the_requests_finished_inside_the_window(bench: ModuleType, tmp_path: Path) -> None:
    lines = [
        {"request_id": "a", "completion_tokens": 10},
        {"request_id": "b", "completion_tokens": 30},
        {"request_id": "late", "completion_tokens": 99},
        {"request_id": "failed", "error": "generation failed"},
        "not json",
    ]
    (tmp_path / "requests.jsonl").write_text("\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines))
    tokens = bench.log_tokens(tmp_path)
    assert tokens == {"a": 10, "b": 30, "late": 99}
    # a window of 2 s from t=100: "late" finished after it, "early" started before it (its latency is not counted)
    triton = bench.Segment([(99.0, 100.5, "a"), (100.2, 101.0, "b"), (101.5, 103.0, "late")], 0, 100.0, 2.0)
    out = bench.summarize([triton], tokens)
    assert out["rps"] == 1.0 and out["tokens_per_s"] == 20.0 and out["tokens_per_request"] == 20.0
    assert out["requests"] == 2  # started inside: b and late
    local = bench.Segment([(100.0, 100.4, 7), (100.4, 100.9, 9)], 1, 100.0, 1.0)
    assert bench.summarize([local])["tokens_per_s"] == 16.0 and bench.summarize([local])["errors"] == 1
