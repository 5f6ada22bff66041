"""The monitoring path reads production logs strictly: corrupt lines are quarantined with their true file, line and
reason, counts reconcile, repeats are decided after the type checks and a re-run leaves no stale quarantine."""

from __future__ import annotations

import json
import os
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from llmops.config import LLMOpsConfig, load_config
from llmops.monitoring.interval import (
    curate_interval,
    duplicate_ids_path,
    interval_key,
    interval_quarantine_path,
    read_interval_lines,
    read_interval_result,
)

START = datetime(2026, 1, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)
MAX_LINE = 4096
BIG = 10 * 1024 * 1024


@pytest.fixture
def cfg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LLMOpsConfig:
    monkeypatch.setenv("LLMOPS_HOME", str(tmp_path / "home"))
    config = load_config(environ={})
    config.data.max_line_bytes = MAX_LINE
    config.data.max_quarantine_ratio = 0.5
    config.scorers.toxicity_classifier = False  # not what is tested here; keeps the test free of model files
    return config


def _record(rid: str, second: int, **extra: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "request_id": rid,
        "client_request_id": None,
        "timestamp": (START + timedelta(seconds=second)).isoformat(),
        "model_name": "support_assistant",
        "model_version": "1",
        "prompt": f"How do I share folder {rid}?",
        "response": "Open the folder and click Share.",
        "latency_ms": 12.5,
        "pii_leak": False,
        "pii_found": 0,
    }
    record.update(extra)
    return record


def _line(obj: Any) -> bytes:
    return json.dumps(obj).encode("utf-8")


def _big_line(rid: str, second: int) -> bytes:
    head = _line(_record(rid, second))[:-1]
    return head + b', "padding": "' + b"x" * BIG + b'"}'


# Bad lines planted at the same line numbers in both files: line -> (reason fragment, the bad line for a prefix).
BAD_LINES: dict[int, tuple[str, Any]] = {
    3: ("invalid JSON", lambda p: _line(_record(f"{p}-cut", 2, prompt="write to jane.doe@example.com"))[:200]),
    5: ("not UTF-8", lambda p: _line(_record(f"{p}-bytes", 4)).replace(b"share", b"caf\xe9 share")),
    6: (f"line exceeds {MAX_LINE} bytes", lambda p: _big_line(f"{p}-big", 5)),
    7: (
        "field 'prompt' has type int, expected string",
        lambda p: _line(_record(f"{p}-schema", 6, prompt=123, response="mail bob.smith@example.org")),
    ),
    8: ("invalid JSON", lambda p: b"<!DOCTYPE html>"),
    9: ("invalid JSON", lambda p: b"<html><body><h1>502 Bad Gateway</h1></body></html>"),
    10: ("expect_column_values_to_not_be_null(response)", lambda p: _line(_record(f"{p}-null", 9, response=None))),
}
GOOD_PER_FILE = 40


def _write_logs(folder: Path, *, with_good: bool = True) -> dict[tuple[str, int], str]:
    """Two log files with the bad lines at the same line numbers, an empty file, and in ``a.jsonl`` a malformed copy
    of a good record (same request_id) just before it. Returns ``(file name, line) -> reason fragment``."""
    folder.mkdir(parents=True, exist_ok=True)
    expected: dict[tuple[str, int], str] = {}
    for prefix in ("a", "b"):
        lines: list[bytes] = []
        good = iter(range(GOOD_PER_FILE))
        while len(lines) < 10 + GOOD_PER_FILE:
            number = len(lines) + 1
            if number in BAD_LINES:
                reason, make = BAD_LINES[number]
                lines.append(make(prefix))
                expected[(f"{prefix}.jsonl", number)] = reason
                continue
            i = next(good, None)
            if i is None:
                break
            if prefix == "a" and i == 20:  # a malformed copy of a-20 comes first
                lines.append(_line(_record("a-20", 100 + i, latency_ms="fast")))
                expected[(f"{prefix}.jsonl", len(lines))] = "field 'latency_ms' has type str, expected number"
            if with_good:
                lines.append(_line(_record(f"{prefix}-{i}", 100 + i)))
            else:
                lines.append(b"")  # keep the line numbers of the bad lines
        (folder / f"{prefix}.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    (folder / "c.jsonl").write_bytes(b"")
    return expected


def _quarantine(cfg: LLMOpsConfig, key: str) -> dict[tuple[str, int], dict[str, Any]]:
    frame = pd.read_parquet(interval_quarantine_path(cfg, key))
    out = {(Path(r["source_file"]).name, int(r["line_number"])): r for r in frame.to_dict("records")}
    assert len(out) == len(frame), "one quarantine record per line"
    return out


def test_corrupt_logs_are_quarantined_with_file_line_and_reason(cfg: LLMOpsConfig) -> None:
    logs = cfg.paths.prod_log_dir
    expected = _write_logs(logs)
    assert b"jane.doe@example.com" in (logs / "a.jsonl").read_bytes().splitlines()[2]
    result = curate_interval(cfg, START, START + HOUR)
    key = interval_key(START)

    assert not result.skipped
    quarantine = _quarantine(cfg, key)
    assert set(quarantine) == set(expected)
    for where, fragment in expected.items():
        record = quarantine[where]
        assert fragment in record["reason"], (where, record["reason"])
        assert record["source_file"] == str(logs / where[0])  # the true file, not "<memory>"
        assert len(record["raw"]) <= 1000
    # The 10 MB line: only a bounded preview, never the line.
    assert quarantine[("a.jsonl", 6)]["raw"].startswith('{"request_id": "a-big"')
    # Personal data never reaches the quarantine, JSON or not.
    raws = " ".join(r["raw"] for r in quarantine.values())
    assert "@example.com" not in raws and "@example.org" not in raws
    assert json.loads(quarantine[("b.jsonl", 7)]["raw"])["request_id"] == "b-schema"

    # Counts reconcile: every line read for the interval is kept, quarantined, a repeat or a failed request.
    bad = len(expected)
    assert result.lines_read == 2 * GOOD_PER_FILE + bad
    assert result.rows_quarantined == bad and result.rows_malformed == bad - 2  # two null responses: the contract's
    assert result.unattributed_lines == 10  # no readable timestamp: cut, not UTF-8, too long, two HTML lines per file
    assert result.rows == 2 * GOOD_PER_FILE and result.duplicates == 0 and result.duplicate_request_ids == 0
    assert result.reconciles
    assert result.lines_read == result.rows + result.rows_quarantined + result.duplicates + result.failed_requests
    assert read_interval_result(Path(result.partition_path).parent / "summary.json") == result

    # The good a-20 is kept although a malformed copy of it came first; neither is a repeat of the other.
    frame = pd.read_parquet(result.partition_path)
    assert frame["request_id"].tolist().count("a-20") == 1
    assert len(pd.read_parquet(duplicate_ids_path(cfg, key))) == 0


def test_a_skipped_rerun_leaves_no_stale_quarantine(cfg: LLMOpsConfig) -> None:
    logs = cfg.paths.prod_log_dir
    _write_logs(logs)
    key = interval_key(START)
    first = curate_interval(cfg, START, START + HOUR)
    assert not first.skipped and ("a.jsonl", 10) in _quarantine(cfg, key)  # a contract quarantine of this run

    # The good lines are gone: too few answers left. The quarantine is this run's reader quarantine only.
    expected = _write_logs(logs, with_good=False)
    second = curate_interval(cfg, START, START + HOUR)
    assert second.skipped and "fewer than min_interval_rows" in second.reason
    structural = {where for where, reason in expected.items() if not reason.startswith("expect_")}
    assert set(_quarantine(cfg, key)) == structural
    assert not duplicate_ids_path(cfg, key).exists()
    assert second.rows_not_curated == 2  # the two null responses: valid records, not curated
    assert second.reconciles and second.rows_quarantined == len(structural)

    # Nothing left at all: no quarantine file of an earlier run either.
    for path in logs.glob("*.jsonl"):
        path.unlink()
    third = curate_interval(cfg, START, START + HOUR)
    assert third.skipped and third.lines_read == 0 and third.reconciles
    assert not interval_quarantine_path(cfg, key).exists() and not duplicate_ids_path(cfg, key).exists()


def test_the_reader_never_holds_a_long_line_whole(cfg: LLMOpsConfig) -> None:
    logs = cfg.paths.prod_log_dir
    logs.mkdir(parents=True, exist_ok=True)
    lines = [_line(_record("r0", 1)), _big_line("r-big", 2), _line(_record("r1", 3))]
    (logs / "requests.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    tracemalloc.start()
    try:
        read = read_interval_lines(logs, START, START + HOUR, MAX_LINE)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < BIG // 20, f"peak {peak} bytes while reading a {BIG}-byte line"
    assert [r["request_id"] for r in read.records] == ["r0", "r1"]
    [quarantined] = read.quarantined
    assert quarantined["line_number"] == 2 and quarantined["reason"].startswith(f"line exceeds {MAX_LINE} bytes")
    assert len(quarantined["raw"]) <= 1000


def test_lines_without_a_timestamp_are_placed_in_exactly_one_interval(tmp_path: Path) -> None:
    """Rule: the interval of the nearest readable timestamp before the line in its file; before the first one, that
    first one; in a file without any, the file's modification time."""
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "a.jsonl").write_bytes(
        b"\n".join(
            [
                b"<html>leading junk</html>",  # before the first readable timestamp: with 00:10
                _line(_record("a0", 600)),  # 00:10
                b"{cut",  # after 00:10
                _line({**_record("a1", 700), "timestamp": "later"}),  # unreadable timestamp: after 00:10
                _line(_record("a2", 4200)),  # 01:10
                b"\xff\xfe",  # after 01:10
            ]
        )
    )
    (logs / "junk.jsonl").write_bytes(b"<!DOCTYPE html>\n<p>Service Unavailable</p>\n")
    mtime = (START + timedelta(hours=3, minutes=5)).timestamp()
    os.utime(logs / "junk.jsonl", (mtime, mtime))

    placed: dict[tuple[str, int], list[int]] = {}
    for hour in range(5):
        read = read_interval_lines(logs, START + hour * HOUR, START + (hour + 1) * HOUR, MAX_LINE)
        for q in read.quarantined:
            placed.setdefault((Path(q["source_file"]).name, q["line_number"]), []).append(hour)
        assert read.lines_read == len(read.records) + len(read.failed) + len(read.quarantined)
    assert placed == {
        ("a.jsonl", 1): [0],
        ("a.jsonl", 3): [0],
        ("a.jsonl", 4): [0],
        ("a.jsonl", 6): [1],
        ("junk.jsonl", 1): [3],
        ("junk.jsonl", 2): [3],
    }
