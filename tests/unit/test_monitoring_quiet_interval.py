"""A quiet hour (fewer answered requests than monitoring.min_interval_rows): skipped for drift and the rollback watch,
but its requests are indexed so that feedback on them becomes training candidates."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from llmops.config import LLMOpsConfig, load_config
from llmops.monitoring.feedback import curate_feedback
from llmops.monitoring.interval import (
    REQUEST_INDEX_COLUMNS,
    curate_interval,
    interval_key,
    interval_quarantine_path,
    partition_path,
    read_interval_result,
    requests_path,
    window_partitions,
    window_request_files,
)
from llmops.monitoring.rollback_watch import monitored_intervals, version_figures

START = datetime(2026, 3, 2, 14, tzinfo=UTC)
HOUR = timedelta(hours=1)
KEY = interval_key(START)


def _request(i: int, **extra: Any) -> dict[str, Any]:
    return {
        "request_id": f"req-{i}",
        "client_request_id": f"client-{i}",
        "timestamp": (START + timedelta(minutes=3 * i)).isoformat(),
        "model_name": "support_assistant",
        "model_version": "1",
        "prompt": f"How do I invite colleague number {i} to the shared folder {i} of our team?",
        "response": f"Open folder {i}, click Share and enter the colleague's address.",
        "latency_ms": 30.0 + i,
        "prompt_version": f"support/{1 if i < 5 else 2}",
    } | extra


@pytest.fixture
def cfg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LLMOpsConfig:
    monkeypatch.setenv("LLMOPS_HOME", str(tmp_path / "home"))
    cfg = load_config()
    cfg.monitoring.min_interval_rows = 20
    requests = [_request(i) for i in range(10)]
    requests[3] = _request(3, prompt="My address is jane.doe@example.com, why can I not log in to the web app?")
    requests[8] = _request(8, latency_ms=-5.0)  # the contract's row-level checks refuse it
    logs = cfg.paths.prod_log_dir / "requests.jsonl"
    logs.parent.mkdir(parents=True)
    logs.write_text("".join(json.dumps(r) + "\n" for r in requests))
    at = (START + 40 * timedelta(minutes=1)).isoformat()
    feedback = [
        {"request_id": "req-0", "timestamp": at, "rating": "up"},
        {"request_id": "req-1", "timestamp": at, "rating": "up", "user": "u-3"},
        {
            "request_id": "req-2",
            "timestamp": at,
            "rating": "down",
            "corrected_response": "Open the folder, click Share, type the colleague's address and choose Editor.",
        },
        {"request_id": "req-5", "timestamp": at, "rating": "down"},
        {"request_id": "req-8", "timestamp": at, "rating": "up"},  # refused by the contract: not indexed
    ]
    fb = cfg.paths.home / "feedback" / "feedback.jsonl"
    fb.parent.mkdir(parents=True)
    fb.write_text("".join(json.dumps(r) + "\n" for r in feedback))
    return cfg


def test_quiet_interval_is_skipped_but_its_feedback_becomes_candidates(cfg: LLMOpsConfig) -> None:
    curated = curate_interval(cfg, START, START + HOUR)
    # Skipped for drift exactly as before: no partition, the same counts, no contract quarantine.
    assert curated.skipped and "fewer than min_interval_rows=20" in curated.reason
    assert curated.partition_path == "" and not partition_path(cfg, KEY).exists()
    assert (curated.rows, curated.rows_not_curated, curated.rows_quarantined) == (0, 10, 0)
    assert curated.reconciles
    assert not interval_quarantine_path(cfg, KEY).exists()
    assert window_partitions(cfg, KEY, 24) == []
    # Its request index: scrubbed, without the row the contract refuses.
    assert curated.requests_path == str(requests_path(cfg, KEY))
    index = pd.read_parquet(curated.requests_path)
    assert list(index.columns) == list(REQUEST_INDEX_COLUMNS)
    assert sorted(index["request_id"]) == [f"req-{i}" for i in range(10) if i != 8]
    assert not index["prompt"].str.contains("jane.doe").any()
    assert window_request_files(cfg, KEY, 24) == [requests_path(cfg, KEY)]

    result = curate_feedback(cfg, START, START + HOUR, None)
    assert (result.feedback, result.unmatched, result.rejected, result.candidates) == (5, 1, 1, 3)
    frame = pd.read_parquet(result.candidates_path)
    assert sorted(frame["request_id"]) == ["req-0", "req-1", "req-2"]
    assert frame.set_index("request_id").loc["req-2"]["source"] == "feedback-corrected"
    assert result.by_version == {"1": [2, 2]}
    assert result.by_prompt == {"support/1": [2, 1], "support/2": [0, 1]}  # sliced by the prompt served with

    # The rollback watch sees the interval as before: traffic but no partition, so no answered rows of its own.
    assert monitored_intervals(cfg) == [KEY]
    figures = version_figures(cfg, [KEY], "1")
    assert figures.requests == 0 and figures.latency_p95_ms is None and figures.error_rate is None

    # Re-runs replace the same outputs with the same content.
    again = curate_interval(cfg, START, START + HOUR)
    assert again.to_dict() == curated.to_dict()
    pd.testing.assert_frame_equal(pd.read_parquet(again.requests_path), index)
    assert sorted(p.name for p in requests_path(cfg, KEY).parent.iterdir()) == ["requests.parquet", "summary.json"]
    rerun = curate_feedback(cfg, START, START + HOUR, None)
    assert rerun.to_dict() == result.to_dict()
    pd.testing.assert_frame_equal(pd.read_parquet(rerun.candidates_path), frame)


def test_feedback_an_hour_later_finds_the_quiet_hours_requests(cfg: LLMOpsConfig) -> None:
    curate_interval(cfg, START, START + HOUR)
    assert curate_interval(cfg, START + HOUR, START + 2 * HOUR).requests_path == ""  # no request: no index
    late = cfg.paths.home / "feedback" / "late.jsonl"
    late.write_text(json.dumps({"request_id": "req-4", "timestamp": (START + 70 * HOUR / 60).isoformat(), "rating": 1}))
    result = curate_feedback(cfg, START + HOUR, START + 2 * HOUR, None)
    assert (result.feedback, result.candidates, result.unmatched) == (1, 1, 0)


def test_index_gives_way_to_a_partition_and_back(cfg: LLMOpsConfig) -> None:
    logs = cfg.paths.prod_log_dir / "requests.jsonl"
    logs.write_text("".join(json.dumps(_request(i)) + "\n" for i in range(10)))
    assert curate_interval(cfg, START, START + HOUR).skipped
    cfg.monitoring.min_interval_rows = 5
    done = curate_interval(cfg, START, START + HOUR)
    assert not done.skipped and done.requests_path == "" and not requests_path(cfg, KEY).exists()
    assert window_request_files(cfg, KEY, 24) == [partition_path(cfg, KEY)]
    cfg.monitoring.min_interval_rows = 20
    skipped = curate_interval(cfg, START, START + HOUR)
    assert skipped.skipped and not partition_path(cfg, KEY).exists()
    assert read_interval_result(requests_path(cfg, KEY).with_name("summary.json")) == skipped
    assert len(pd.read_parquet(skipped.requests_path)) == 10
