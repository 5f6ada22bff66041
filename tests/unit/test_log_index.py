"""The production-log index: only new bytes are scanned, only the interval's ranges are read, and what is read is
exactly what a full read of every file places in the interval (same lines, same files and line numbers), through
appends cut mid-line, rotations, truncation, deletion and lines without timestamps; late lines re-curate their
interval."""

from __future__ import annotations

import json
import os
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from llmops.config import LLMOpsConfig, load_config
from llmops.monitoring.backfill import catch_up, late_intervals
from llmops.monitoring.interval import (
    SUMMARY_FILE,
    curate_interval,
    interval_dir,
    read_interval_lines,
    read_interval_result,
)
from llmops.monitoring.logindex import LogIndex

START = datetime(2026, 3, 1, 8, tzinfo=UTC)
HOUR = timedelta(hours=1)
MAX_LINE = 4096


def _line(i: int, at: datetime, **extra: Any) -> str:
    record = {
        "request_id": f"r-{i}",
        "timestamp": at.isoformat(),
        "model_name": "support_assistant",
        "model_version": "1",
        "prompt": f"How do I share folder {i} with my team?",
        "response": f"Open folder {i}, choose Share and add them.",
        "latency_ms": 12.5,
        **extra,
    }
    return json.dumps(record) + "\n"


def _index(tmp_path: Path, logs: Path) -> LogIndex:
    return LogIndex(logs, tmp_path / "index", MAX_LINE)


def _figures(got: Any) -> dict[str, Any]:
    """What a read of one interval placed, comparable between a full read and an indexed one."""
    return {
        "lines_read": got.lines_read,
        "origins": [(Path(f).name, n) for f, n in got.origins],
        "quarantined": sorted((Path(q["source_file"]).name, q["line_number"], q["reason"]) for q in got.quarantined),
        "failed": len(got.failed),
        "untimed": got.untimed,
    }


def _full(logs: Path, start: datetime, end: datetime) -> dict[str, Any]:
    return _figures(read_interval_lines(logs, start, end, MAX_LINE))


def _indexed(index: LogIndex, start: datetime, end: datetime) -> dict[str, Any]:
    from llmops.monitoring.interval import _collect

    return _figures(_collect(index.read(start, end), start, end))


def test_only_new_bytes_are_scanned_and_only_the_interval_is_read(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    history = [logs / f"requests-2026030{d}-host-1-0.jsonl" for d in range(1, 4)]
    for n, path in enumerate(history):
        path.write_text("".join(_line(n * 100 + i, START - (3 - n) * 24 * HOUR + i * timedelta(minutes=1))
                                for i in range(50)))  # fmt: skip
    live = logs / "requests.jsonl"
    live.write_text("".join(_line(1000 + i, START + i * timedelta(minutes=2)) for i in range(40)))  # 08:00-09:18
    index = _index(tmp_path, logs)
    assert index.update() == {"files": 4, "scanned": 4, "lines": 190, "reset": 0, "gone": 0}
    assert index.placed(START, START + HOUR) == 30 and index.placed(START + HOUR, START + 2 * HOUR) == 10
    assert index.placed(START, START + timedelta(minutes=30)) is None  # not whole hours: no late detection
    import pendulum  # Airflow's data intervals are pendulum times

    assert index.placed(pendulum.instance(START), pendulum.instance(START + HOUR)) == 30
    read = list(index.read(START, START + HOUR))
    assert [line.line_number for line, _ in read] == list(range(1, 31))
    # The next run: only the live file grew; the history is neither scanned nor read.
    with live.open("a") as handle:
        handle.write("".join(_line(2000 + i, START + HOUR + i * timedelta(minutes=1)) for i in range(5)))
    reopened = _index(tmp_path, logs)
    assert reopened.update() == {"files": 4, "scanned": 1, "lines": 5, "reset": 0, "gone": 0}
    assert reopened.placed(START + HOUR, START + 2 * HOUR) == 15
    entry = next(e for e in reopened.files.values() if e.path == "requests.jsonl")
    assert entry.offset == live.stat().st_size and entry.lines == 45


def test_a_line_being_written_waits_and_a_dead_files_cut_line_is_quarantined(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    live = logs / "requests.jsonl"
    whole = _line(1, START + timedelta(minutes=5))
    live.write_text(_line(0, START) + whole[:30])
    index = _index(tmp_path, logs)
    index.update(final_before=START)  # modified after START: still written
    assert index.placed(START, START + HOUR) == 1
    with live.open("a") as handle:
        handle.write(whole[30:])
    index.update(final_before=START)
    assert [line.record["request_id"] for line, _ in index.read(START, START + HOUR)] == ["r-0", "r-1"]
    # A rotated file nobody writes any more, cut mid-line by a crash: its last line is read and quarantined.
    dead = logs / "requests-20260301T0800-host-2-0.jsonl"
    dead.write_text(_line(5, START + timedelta(minutes=9)) + _line(6, START + timedelta(minutes=10))[:25])
    old = (START - HOUR).timestamp()
    os.utime(dead, (old, old))
    index.update(final_before=START)
    assert index.placed(START, START + HOUR) == 4
    cut = [line for line, _ in index.read(START, START + HOUR) if line.reason]
    assert [(Path(c.source_file).name, c.line_number) for c in cut] == [(dead.name, 2)]
    assert "invalid JSON" in (cut[0].reason or "")


def test_rotation_truncation_and_deletion(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    live = logs / "requests.jsonl"
    live.write_text("".join(_line(i, START + i * timedelta(minutes=1)) for i in range(10)))
    index = _index(tmp_path, logs)
    index.update()
    # Rotation: renamed (same inode, followed, not read again), a new live file starts.
    rotated = logs / "requests-20260301T0810-host-1-0.jsonl"
    live.rename(rotated)
    live.write_text(_line(10, START + timedelta(minutes=20)))
    assert index.update() == {"files": 2, "scanned": 1, "lines": 1, "reset": 0, "gone": 0}
    names = [(Path(line.source_file).name, line.line_number) for line, _ in index.read(START, START + HOUR)]
    assert names == [(rotated.name, n) for n in range(1, 11)] + [(live.name, 1)]  # path order, as a full read
    # Rotated between the update and the read: the indexed path is another file now; found by its inode.
    live.rename(logs / "requests-20260301T0820-host-1-0.jsonl")
    live.write_text(_line(99, START + timedelta(minutes=40)) * 3)
    names = [(Path(line.source_file).name, line.line_number) for line, _ in index.read(START, START + HOUR)]
    assert names[-1] == ("requests-20260301T0820-host-1-0.jsonl", 1) and ("requests.jsonl", 1) not in names
    index.update()
    # Truncated and rewritten under the same inode: read again from the start.
    with rotated.open("r+") as handle:
        handle.truncate(0)
        handle.write(_line(50, START + timedelta(minutes=30)))
    counts = index.update()
    assert counts["reset"] == 1 and index.placed(START, START + HOUR) == 5  # 1 + 1 + the new file's 3
    # Deleted by retention: it leaves the index (its interval is not re-curated for having fewer lines).
    rotated.unlink()
    assert index.update()["gone"] == 1 and index.placed(START, START + HOUR) == 4


def test_lines_without_a_timestamp_are_placed_as_a_full_read_places_them(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    # Untimed lines at the head of a file wait for its first timestamp.
    headed = logs / "a.jsonl"
    headed.write_text("<html>502 Bad Gateway</html>\n\n")
    index = _index(tmp_path, logs)
    index.update(final_before=START - 2 * HOUR)
    assert index.placed(START, START + HOUR) == 0
    with headed.open("a") as handle:
        handle.write(_line(1, START + timedelta(minutes=3)) + "not json\n" + _line(2, START + HOUR))
    index.update(final_before=START - 2 * HOUR)
    assert _indexed(index, START, START + HOUR) == _full(logs, START, START + HOUR)
    assert _indexed(index, START, START + HOUR)["quarantined"][0][:2] == ("a.jsonl", 1)
    # A file with no readable timestamp at all, no longer written: placed at its modification time.
    junk = logs / "b.jsonl"
    junk.write_text('\xff\xfe garbage\n{"cut": \n')
    at = (START + timedelta(minutes=45)).timestamp()
    os.utime(junk, (at, at))
    index.update(final_before=START + 2 * HOUR)
    assert _indexed(index, START, START + HOUR) == _full(logs, START, START + HOUR)
    assert _indexed(index, START, START + HOUR)["untimed"] == 4  # two in each file


def test_indexed_reads_equal_full_reads_through_random_appends(tmp_path: Path) -> None:
    """Property: logs appended in random chunks (cut mid-line), with corrupt, untimed, oversized, failed and
    out-of-order lines over four hours, rotated on the way; after every update, every hour's indexed read equals a
    full read of all files (records, origins, quarantine with file and line, counts)."""
    rng = random.Random(7)
    logs = tmp_path / "logs"
    logs.mkdir()
    content: list[str] = []
    for i in range(400):
        at = START + timedelta(seconds=i * 36 + rng.randint(-300, 300))  # four hours, a little out of order
        kind = rng.random()
        if kind < 0.05:
            content.append("not json at all\n")
        elif kind < 0.08:
            content.append(json.dumps({"request_id": f"r-{i}", "prompt": "no time"}) + "\n")
        elif kind < 0.10:
            content.append(_line(i, at, prompt="x" * MAX_LINE))
        elif kind < 0.13:
            content.append(json.dumps({"request_id": f"r-{i}", "timestamp": at.isoformat(), "error": "boom",
                                       "model_version": "1"}) + "\n")  # fmt: skip
        elif kind < 0.15:
            content.append("\n")
        else:
            content.append(_line(i, at))
    blob = "".join(content).encode()
    index = _index(tmp_path, logs)
    live = logs / "requests.jsonl"
    pos, rotation, compared = 0, 0, 0
    while pos < len(blob):
        step = rng.randint(1, 6000)
        if rng.random() < 0.4:  # often a writer stops at the end of a line
            step = blob.find(b"\n", pos + step) + 1 - pos if blob.find(b"\n", pos + step) >= 0 else len(blob) - pos
        with live.open("ab") as handle:
            handle.write(blob[pos : pos + step])
        pos += step
        if rng.random() < 0.2 and live.read_bytes().endswith(b"\n"):
            live.rename(logs / f"requests-{rotation:04d}.jsonl")
            rotation += 1
        index.update()
        # Compared when no line is being written (a full read would see the cut tail) and every file has had a
        # timestamp (a full read places a head without one at the file's modification time; the index waits).
        settled = all(p.read_bytes().endswith(b"\n") for p in logs.glob("*.jsonl") if p.stat().st_size)
        if settled and all(e.anchor for e in index.files.values()):
            compared += 1
            for h in range(-1, 5):
                s = START + h * HOUR
                assert _indexed(index, s, s + HOUR) == _full(logs, s, s + HOUR), (pos, h)
    assert rotation >= 2 and compared >= 10, (rotation, compared)
    total = sum(index.placed(START + h * HOUR, START + (h + 1) * HOUR) or 0 for h in range(-1, 5))
    assert total == sum(1 for line in content if line.strip())


@pytest.fixture
def cfg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LLMOpsConfig:
    monkeypatch.setenv("LLMOPS_HOME", str(tmp_path / "home"))
    cfg = load_config()
    cfg.monitoring.min_interval_rows = 5
    cfg.scorers.toxicity_classifier = False
    return cfg


def test_late_lines_curate_their_interval_again_without_duplicates(cfg: LLMOpsConfig) -> None:
    logs = cfg.paths.prod_log_dir
    logs.mkdir(parents=True)
    (logs / "requests.jsonl").write_text("".join(_line(i, START + i * timedelta(minutes=5)) for i in range(10)))
    first = curate_interval(cfg, START, START + HOUR)
    assert first.rows == 10
    # Lines of 08:xx shipped late from another host, after the 08:00 interval ran.
    (logs / "host-b").mkdir()
    (logs / "host-b" / "requests.jsonl").write_text(
        "".join(_line(100 + i, START + timedelta(minutes=50, seconds=i)) for i in range(4))
    )
    assert late_intervals(cfg, START + 3 * HOUR, START + 4 * HOUR) == [(START, START + HOUR)]
    done = catch_up(cfg, START + 3 * HOUR, START + 4 * HOUR)
    assert done.late == [interval_key_of(START)]
    again = read_interval_result(interval_dir(cfg, interval_key_of(START)) / SUMMARY_FILE)
    assert again is not None and again.rows == 14 and again.duplicates == 0 and again.lines_read == 14
    # Nothing new: not curated again.
    assert late_intervals(cfg, START + 3 * HOUR, START + 4 * HOUR) == []


def interval_key_of(at: datetime) -> str:
    from llmops.monitoring.interval import interval_key

    return interval_key(at)
