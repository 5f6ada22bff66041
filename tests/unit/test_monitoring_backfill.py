"""Intervals missed while no monitoring run happened are curated by the next run (the watermark), logs and feedback."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from llmops.config import LLMOpsConfig, load_config
from llmops.errors import Refused
from llmops.monitoring import steps
from llmops.monitoring.backfill import advance_watermark, catch_up, missed_intervals, read_watermark, watermark_path
from llmops.monitoring.feedback import candidates_dir
from llmops.monitoring.interval import interval_key, partition_path, partitions_dir
from llmops.run import Run

H = datetime(2026, 4, 7, 9, tzinfo=UTC)
HOUR = timedelta(hours=1)


def _key(n: int) -> str:
    return interval_key(H + n * HOUR)


def _run(cfg: LLMOpsConfig, n: int) -> Run:
    start = H + n * HOUR
    return Run.for_test(cfg, f"monitor-{_key(n)}", interval_start=start, interval_end=start + HOUR)


@pytest.fixture
def cfg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LLMOpsConfig:
    import llmops.monitoring.monitor as monitor

    monkeypatch.setenv("LLMOPS_HOME", str(tmp_path / "home"))
    cfg = load_config()
    cfg.monitoring.min_interval_rows = 5
    monkeypatch.setattr(steps, "record", lambda run, verdict, *a, **k: verdict)
    monkeypatch.setattr(monitor, "champion_reference", lambda _cfg: (None, None, "no champion yet"))
    requests: list[dict[str, Any]] = []
    feedback: list[dict[str, Any]] = []
    for hour in range(6):
        for i in range(6):
            at = H + hour * HOUR + timedelta(minutes=7 * i)
            requests.append(
                {
                    "request_id": f"req-{hour}-{i}",
                    "timestamp": at.isoformat(),
                    "model_name": "support_assistant",
                    "model_version": "1",
                    "prompt": f"In hour {hour}, how do I move file {i} from my desktop into the team folder?",
                    "response": f"Drag file {i} into the team folder in hour {hour}, then wait for the sync.",
                    "latency_ms": 25.0 + i,
                }
            )
        at = H + hour * HOUR + timedelta(minutes=50)
        feedback.append({"request_id": f"req-{hour}-0", "timestamp": at.isoformat(), "rating": "up"})
    logs = cfg.paths.prod_log_dir / "requests.jsonl"
    logs.parent.mkdir(parents=True)
    logs.write_text("".join(json.dumps(r) + "\n" for r in requests))
    fb = cfg.paths.home / "feedback" / "feedback.jsonl"
    fb.parent.mkdir(parents=True)
    fb.write_text("".join(json.dumps(r) + "\n" for r in feedback))
    return cfg


def test_paused_hours_are_curated_by_the_next_run_once(cfg: LLMOpsConfig) -> None:
    first = steps.curate_interval(_run(cfg, 0))
    assert first["backfill"]["curated"] == []  # no watermark yet: nothing earlier
    assert read_watermark(cfg) == H + HOUR
    # Paused for three hours: the run of H+4 curates H+1..H+3 first, then its own.
    out = steps.curate_interval(_run(cfg, 4))
    assert out["backfill"] == {
        "curated": [_key(1), _key(2), _key(3)],
        "late": [],
        "already": [],
        "failed": {},
        "left_out": [],
    }
    assert all(partition_path(cfg, _key(n)).is_file() for n in range(5))
    assert not partition_path(cfg, _key(5)).exists()
    assert read_watermark(cfg) == H + 5 * HOUR
    assert json.loads(watermark_path(cfg).read_text())["interval"] == _key(4)
    assert not list(watermark_path(cfg).parent.glob(".*.tmp"))
    for n in range(1, 4):
        assert sorted(pd.read_parquet(partition_path(cfg, _key(n)))["request_id"]) == [f"req-{n}-{i}" for i in range(6)]
    stamps = {n: partition_path(cfg, _key(n)).stat().st_mtime_ns for n in range(5)}

    # Feedback of the missed hours is curated under their own intervals.
    fb0 = steps.curate_feedback(_run(cfg, 0))
    assert fb0["backfilled"] == {} and fb0["candidates"] == 1
    fb4 = steps.curate_feedback(_run(cfg, 4))
    assert fb4["backfilled"] == {_key(1): 1, _key(2): 1, _key(3): 1}
    assert fb4["asset_extra"]["candidates"] == 4
    for n in range(5):
        frame = pd.read_parquet(candidates_dir(cfg) / f"interval={_key(n)}" / "candidates.parquet")
        assert list(frame["request_id"]) == [f"req-{n}-0"]

    # Re-running H+4 curates only its own interval again, and duplicates nothing.
    again = steps.curate_interval(_run(cfg, 4))
    assert again["backfill"] == {"curated": [], "late": [], "already": [], "failed": {}, "left_out": []}
    assert {n: partition_path(cfg, _key(n)).stat().st_mtime_ns for n in range(4)} == {n: stamps[n] for n in range(4)}
    assert sorted(p.parent.name for p in partitions_dir(cfg).glob("interval=*/part.parquet")) == [
        f"interval={_key(n)}" for n in range(5)
    ]
    assert read_watermark(cfg) == H + 5 * HOUR
    fb4_again = steps.curate_feedback(_run(cfg, 4))
    assert fb4_again["backfilled"] == {} and fb4_again["candidates"] == 1
    assert len(list(candidates_dir(cfg).glob("interval=*/candidates.parquet"))) == 5

    # Re-running an old interval neither backfills nor moves the watermark back.
    assert steps.curate_interval(_run(cfg, 2))["backfill"]["curated"] == []
    assert read_watermark(cfg) == H + 5 * HOUR


def test_a_gap_beyond_the_bound_leaves_the_oldest_out(cfg: LLMOpsConfig, caplog: pytest.LogCaptureFixture) -> None:
    cfg.monitoring.max_backfill_intervals = 2
    advance_watermark(cfg, H, H + HOUR)
    todo, left_out = missed_intervals(cfg, H + 5 * HOUR, H + 6 * HOUR)
    assert [interval_key(s) for s, _ in todo] == [_key(3), _key(4)] and left_out == [_key(1), _key(2)]
    with caplog.at_level(logging.WARNING, logger="llmops.monitoring.backfill"):
        out = catch_up(cfg, H + 5 * HOUR, H + 6 * HOUR)
    assert out.curated == [_key(3), _key(4)] and out.left_out == [_key(1), _key(2)]
    assert _key(1) in caplog.text and "max_backfill_intervals=2" in caplog.text
    assert not partition_path(cfg, _key(1)).exists()
    cfg.monitoring.max_backfill_intervals = 0
    assert missed_intervals(cfg, H + 5 * HOUR, H + 6 * HOUR) == ([], [_key(n) for n in range(1, 5)])


def test_a_missed_interval_whose_contract_breaks_does_not_stop_the_run(cfg: LLMOpsConfig) -> None:
    logs = cfg.paths.prod_log_dir / "requests.jsonl"
    rows = [json.loads(line) for line in logs.read_text().splitlines()]
    for row in rows:
        if row["request_id"].startswith("req-2-"):
            row["latency_ms"] = -1.0  # every row of H+2 breaks the contract
    logs.write_text("".join(json.dumps(r) + "\n" for r in rows))
    advance_watermark(cfg, H, H + HOUR)
    out = steps.curate_interval(_run(cfg, 3))
    assert out["backfill"]["curated"] == [_key(1)] and list(out["backfill"]["failed"]) == [_key(2)]
    assert partition_path(cfg, _key(3)).is_file() and read_watermark(cfg) == H + 4 * HOUR


def test_a_skipped_own_interval_still_moves_the_watermark(cfg: LLMOpsConfig) -> None:
    advance_watermark(cfg, H, H + HOUR)
    cfg.monitoring.min_interval_rows = 50
    with pytest.raises(Refused):
        steps.curate_interval(_run(cfg, 2))
    assert read_watermark(cfg) == H + 3 * HOUR
    assert (partitions_dir(cfg) / f"interval={_key(1)}" / "summary.json").is_file()  # missed, skipped, curated
