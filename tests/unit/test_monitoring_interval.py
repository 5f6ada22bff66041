"""Interval selection and curation of production logs: partition per interval, idempotent, tiny intervals skipped."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from llmops.config import LLMOpsConfig, load_config
from llmops.demo import generate_prod_logs
from llmops.monitoring.interval import (
    curate_interval,
    interval_key,
    partition_path,
    read_interval_records,
    read_interval_result,
    window_partitions,
)

START = datetime(2026, 1, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)


@pytest.fixture
def cfg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LLMOpsConfig:
    monkeypatch.setenv("LLMOPS_HOME", str(tmp_path / "home"))
    return load_config()


def test_interval_key_is_utc_start() -> None:
    assert interval_key(START) == "20260101T000000Z"
    assert interval_key(datetime(2026, 1, 1, 3)) == "20260101T030000Z"  # naive taken as UTC
    paris = datetime(2026, 1, 1, 4, tzinfo=UTC).astimezone(ZoneInfo("Europe/Paris"))
    assert interval_key(paris) == "20260101T040000Z"


def test_read_interval_records_filters_by_timestamp(tmp_path: Path) -> None:
    lines = [
        json.dumps({"request_id": "a", "timestamp": "2026-01-01T00:10:00Z"}),
        json.dumps({"request_id": "b", "timestamp": "2026-01-01T01:00:00+00:00"}),  # end is exclusive
        json.dumps({"request_id": "c", "timestamp": "2026-01-01T00:00:00+00:00"}),  # start is inclusive
        json.dumps({"request_id": "d", "timestamp": "yesterday"}),
        "{not json",
        json.dumps(["a", "list"]),
        "",
    ]
    (tmp_path / "sub").mkdir()
    (tmp_path / "requests.jsonl").write_text("\n".join(lines[:3]) + "\n")
    (tmp_path / "sub" / "requests.1.jsonl").write_text("\n".join(lines[3:]) + "\n")
    records, unattributed = read_interval_records(tmp_path, START, START + HOUR)
    assert [r["request_id"] for r in records] == ["a", "c"]
    assert unattributed == 3
    assert read_interval_records(tmp_path / "missing", START, START + HOUR) == ([], 0)


def test_curate_interval_writes_one_partition_and_reruns_identically(cfg: LLMOpsConfig) -> None:
    logs = generate_prod_logs(150, 0.3, 7, cfg.paths.prod_log_dir / "requests.jsonl", start=START)
    # A copied rotated file repeats every request: counted once.
    shutil.copy(logs, cfg.paths.prod_log_dir / "requests.1.jsonl")
    first = curate_interval(cfg, START, START + HOUR)
    assert not first.skipped
    assert first.partition_path == str(partition_path(cfg, "20260101T000000Z"))
    df1 = pd.read_parquet(first.partition_path)
    assert first.rows == len(df1) == df1["request_id"].nunique()
    assert first.duplicates == first.rows_read // 2
    assert first.rows + first.rows_quarantined + first.duplicates == first.rows_read
    ts = pd.to_datetime(df1["timestamp"], utc=True)
    assert ts.min() >= START and ts.max() < START + HOUR

    again = curate_interval(cfg, START, START + HOUR)
    df2 = pd.read_parquet(again.partition_path)
    pd.testing.assert_frame_equal(df1, df2)
    assert again.to_dict() == first.to_dict()
    assert list(partition_path(cfg, "20260101T000000Z").parent.glob("*.parquet")) == [Path(first.partition_path)]


def test_pii_is_scrubbed_in_the_partition(cfg: LLMOpsConfig) -> None:
    path = cfg.paths.prod_log_dir / "requests.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [
        {
            "request_id": f"r{i}",
            "timestamp": (START + timedelta(seconds=i)).isoformat(),
            "model_name": "support_assistant",
            "model_version": "1",
            "prompt": f"my mail is jane.doe{i}@example.com, how do I share a folder?",
            "response": "Open the folder and click Share.",
            "latency_ms": 12.5,
        }
        for i in range(30)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    result = curate_interval(cfg, START, START + HOUR)
    df = pd.read_parquet(result.partition_path)
    assert not df["prompt"].str.contains("@example.com").any()
    assert (result.pii_counts or {})["EMAIL"] == 30


def test_tiny_interval_is_skipped_and_drops_an_old_partition(cfg: LLMOpsConfig) -> None:
    generate_prod_logs(60, 0.0, 3, cfg.paths.prod_log_dir / "requests.jsonl", start=START)
    done = curate_interval(cfg, START, START + HOUR)
    assert not done.skipped
    cfg.monitoring.min_interval_rows = 10_000
    skipped = curate_interval(cfg, START, START + HOUR)
    assert skipped.skipped and "fewer than min_interval_rows=10000" in skipped.reason
    assert not Path(done.partition_path).exists()
    empty = curate_interval(cfg, START + 5 * HOUR, START + 6 * HOUR)
    assert empty.skipped and empty.rows_read == 0 and empty.partition_path == ""


def test_failed_requests_are_counted_per_version_and_kept_out_of_the_partition(cfg: LLMOpsConfig) -> None:
    logs = generate_prod_logs(40, 0.0, 3, cfg.paths.prod_log_dir / "requests.jsonl", start=START)
    answered = len(logs.read_text().splitlines())
    failed = [
        {
            "request_id": f"failed-{i}",
            "timestamp": (START + timedelta(minutes=i)).isoformat(),
            "model_name": "support-assistant",
            "model_version": "7" if i < 5 else "8",
            "prompt": "How do I sync?" if i < 7 else "",
            "response": "",
            "latency_ms": 3.0,
            "error": "generation failed: out of memory" if i < 7 else "prompt is empty",
            "error_kind": "server" if i < 7 else "client",
        }
        for i in range(9)
    ]
    with logs.open("a") as handle:
        handle.writelines(json.dumps(r) + "\n" for r in failed)
    result = curate_interval(cfg, START, START + HOUR)
    assert result.failed_requests == 9 and result.server_errors_by_version == {"7": 5, "8": 2}
    assert result.rows_read == answered and result.rows_quarantined == 0
    frame = pd.read_parquet(result.partition_path)
    assert not frame["request_id"].str.startswith("failed-").any()
    summary = json.loads((Path(result.partition_path).parent / "summary.json").read_text())
    assert summary["server_errors_by_version"] == {"7": 5, "8": 2}
    assert read_interval_result(Path(result.partition_path).parent / "summary.json") == result
    figures = result.error_figures()
    assert figures["failed_requests"] == 9 and figures["server_errors"] == 7
    assert figures["server_error_rate"] == pytest.approx(7 / (answered + 9))
    # An interval too small to curate keeps its failed-request counts (they still alert).
    cfg.monitoring.min_interval_rows = 10_000
    skipped = curate_interval(cfg, START, START + HOUR)
    assert skipped.skipped and skipped.error_figures()["server_error_rate"] == pytest.approx(7 / (answered + 9))


def test_window_partitions_are_the_latest_up_to_the_key(cfg: LLMOpsConfig) -> None:
    for hour in range(4):
        path = partition_path(cfg, interval_key(START + hour * HOUR))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
    window = window_partitions(cfg, interval_key(START + 2 * HOUR), 2)
    assert [p.parent.name for p in window] == ["interval=20260101T010000Z", "interval=20260101T020000Z"]


def _writer_status(folder: Path, name: str, losses: dict[str, dict[str, int]]) -> None:
    (folder / "writer_status").mkdir(parents=True, exist_ok=True)
    (folder / "writer_status" / f"{name}.json").write_text(json.dumps({"losses_by_minute": losses}))


def test_log_records_lost_by_the_served_model_are_counted_per_interval(cfg: LLMOpsConfig) -> None:
    from llmops.monitoring.interval import read_log_losses

    logs = cfg.paths.prod_log_dir
    generate_prod_logs(40, 0.0, 3, logs / "requests.jsonl", start=START)
    # Two model instances; minutes before, inside and after the interval (the end is exclusive).
    _writer_status(
        logs,
        "host-1-aa",
        {
            "2025-12-31T23:59Z": {"dropped": 100, "failed_records": 0, "failed_writes": 0},
            "2026-01-01T00:00Z": {"dropped": 3, "failed_records": 0, "failed_writes": 0},
            "2026-01-01T00:59Z": {"dropped": 0, "failed_records": 5, "failed_writes": 1},
            "2026-01-01T01:00Z": {"dropped": 7, "failed_records": 0, "failed_writes": 0},
        },
    )
    _writer_status(logs, "host-2-bb", {"2026-01-01T00:30Z": {"dropped": 2, "failed_records": 0, "failed_writes": 0}})
    (logs / "writer_status" / "broken.json").write_text("{not json")
    assert read_log_losses(logs, START, START + HOUR) == {"dropped": 5, "failed_records": 5, "failed_writes": 1}
    assert read_log_losses(logs / "requests.jsonl", START, START + HOUR)["dropped"] == 5, "a file: its folder"
    assert read_log_losses(logs / "missing", START, START + HOUR) == {
        "dropped": 0,
        "failed_records": 0,
        "failed_writes": 0,
    }

    result = curate_interval(cfg, START, START + HOUR)
    assert (result.log_records_dropped, result.log_records_failed, result.log_write_failures) == (5, 5, 1)
    assert result.log_records_lost == 10 and result.error_figures()["log_records_lost"] == 10.0
    assert read_interval_result(Path(result.partition_path).parent / "summary.json") == result
    # The status files are not log lines: nothing of them reaches the partition or the unattributed count.
    assert result.unattributed_lines == 0
    cfg.monitoring.min_interval_rows = 10_000
    assert curate_interval(cfg, START, START + HOUR).log_records_lost == 10, "a skipped interval still counts"
    assert curate_interval(cfg, START + 2 * HOUR, START + 3 * HOUR).log_records_lost == 0


def test_lost_log_records_raise_an_alert(cfg: LLMOpsConfig, monkeypatch: pytest.MonkeyPatch) -> None:
    from llmops.monitoring import steps
    from llmops.monitoring.interval import IntervalResult
    from llmops.run import Run

    sent: list[tuple[str, str, dict]] = []

    class Capture:
        def send(self, subject: str, body: str, payload: dict) -> None:
            sent.append((subject, body, dict(payload)))

    verdicts: list = []
    monkeypatch.setattr(steps, "record", lambda run, verdict, *a, **k: verdicts.append(verdict) or verdict)
    run = Run.for_test(cfg, "monitor-test", notifiers=[Capture()])

    steps._check_log_loss(run, IntervalResult(key="k", skipped=False, reason="r"))
    assert [(v.gate, v.passed) for v in verdicts] == [("prod_log_loss", True)] and sent == []

    lost = IntervalResult(
        key="k", skipped=False, reason="r", log_records_dropped=4, log_records_failed=3, log_write_failures=1
    )
    steps._check_log_loss(run, lost)
    verdict = verdicts[-1]
    assert (verdict.gate, verdict.passed, verdict.on_fail) == ("prod_log_loss", False, "warn")
    assert verdict.metrics["log_records_lost"] == 7.0
    [(subject, body, payload)] = sent
    assert "interval k" in subject and "7 production-log records lost" in body
    assert payload["alerts"][0]["name"] == "log_records_lost"


def test_the_prompt_version_of_every_line_reaches_the_partition_and_the_safety_slices(cfg: LLMOpsConfig) -> None:
    from llmops.monitoring.interval import interval_quarantine_path

    logs = generate_prod_logs(120, 0.0, 3, cfg.paths.prod_log_dir / "requests.jsonl", start=START)
    records = [json.loads(line) for line in logs.read_text().splitlines()]
    for i, record in enumerate(records):
        record["prompt_version"] = f"support/{1 + i % 2}"
    records[5]["prompt_version"] = 5  # a wrong type: quarantined like any other field
    del records[7]["prompt_version"]  # optional: a writer that does not record it
    logs.write_text("".join(json.dumps(r) + "\n" for r in records))
    result = curate_interval(cfg, START, START + HOUR)
    frame = pd.read_parquet(result.partition_path)
    assert frame.set_index("request_id")["prompt_version"].to_dict() == {
        r["request_id"]: r.get("prompt_version") for r in records if r["request_id"] in set(frame["request_id"])
    }
    assert records[5]["request_id"] not in set(frame["request_id"])
    quarantine = pd.read_parquet(interval_quarantine_path(cfg, result.key))
    assert "field 'prompt_version' has type int, expected string" in " ".join(quarantine["reason"])
    assert set(result.safety_by_prompt) == {"support/1", "support/2", "None"}
    scored = {prompt: counts["toxicity"][1] for prompt, counts in result.safety_by_prompt.items()}
    assert sum(scored.values()) == result.rows and scored["None"] == 1
