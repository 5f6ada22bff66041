"""The promotion journal, the repository lock's deadline and owner, the promotion log's idempotent and
tear-resistant appends, and the kill hook, without Triton or MLflow."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from llmops.registry.registry import append_event, read_events
from llmops.serving.journal import Operation, advance, journal_path, read_journal, write_journal
from llmops.serving.repository import (
    LockTimeout,
    clean_staging,
    lock_holder,
    model_path,
    repository_lock,
)

NAME = "m"


def _op(**kw: object) -> Operation:
    base: dict[str, object] = {
        "kind": "promotion",
        "model": NAME,
        "from_version": "1",
        "to_version": "2",
        "run_key": "r",
        "reason": "why",
        "at": "2026-01-01T00:00:00+00:00",
        "existed_before": False,
    }
    base.update(kw)
    return Operation(**base)  # type: ignore[arg-type]


def test_journal_round_trip_and_steps(tmp_path: Path) -> None:
    assert read_journal(tmp_path, NAME) is None
    op = write_journal(tmp_path, NAME, _op())
    assert read_journal(tmp_path, NAME) == op and op.open
    op = advance(tmp_path, NAME, op, "switched")
    assert read_journal(tmp_path, NAME) == op and op.step == "switched" and op.open
    done = advance(tmp_path, NAME, op, "committed", "completed")
    assert not done.open and read_journal(tmp_path, NAME) == done
    assert not [p for p in model_path(tmp_path, NAME).iterdir() if p.name.endswith(".tmp")]


def test_an_unreadable_journal_is_an_error_naming_the_file(tmp_path: Path) -> None:
    path = journal_path(tmp_path, NAME)
    path.parent.mkdir(parents=True)
    path.write_text('{"kind": "promotion"')
    with pytest.raises(ValueError, match="unreadable") as info:
        read_journal(tmp_path, NAME)
    assert str(path) in str(info.value)
    path.write_text(json.dumps({"kind": "promotion", "step": "started"}))
    with pytest.raises(ValueError, match="does not hold an operation"):
        read_journal(tmp_path, NAME)
    path.write_text(json.dumps({**_op().to_dict(), "step": "halfway"}))
    with pytest.raises(ValueError, match="unknown step"):
        read_journal(tmp_path, NAME)


def test_clean_staging_removes_half_written_files_but_not_the_journal(tmp_path: Path) -> None:
    write_journal(tmp_path, NAME, _op())
    directory = model_path(tmp_path, NAME)
    (directory / ".staging-3-abc").mkdir()
    (directory / ".trash-1-abc").mkdir()
    (directory / ".promotion-journal.json.123-ab.tmp").write_text("{")
    (directory / ".config.pbtxt.123-ab.tmp").write_text("x")
    removed = sorted(p.name for p in clean_staging(tmp_path, NAME))
    assert len(removed) == 4
    assert read_journal(tmp_path, NAME) is not None


HOLD = """
import sys, time
from pathlib import Path
from llmops.serving.repository import repository_lock
with repository_lock(Path(sys.argv[1]), "m", purpose="holding for the test"):
    print("held", flush=True)
    time.sleep(60)
"""


def _holder(tmp_path: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def test_a_waiter_gives_up_after_the_deadline_naming_the_holder(tmp_path: Path) -> None:
    proc = _holder(tmp_path)
    try:
        holder = lock_holder(tmp_path, NAME)
        assert holder is not None and holder["pid"] == proc.pid and holder["purpose"] == "holding for the test"
        started = time.monotonic()
        with pytest.raises(LockTimeout) as info, repository_lock(tmp_path, NAME, timeout_s=0.5):
            pass
        assert time.monotonic() - started < 5
        message = str(info.value)
        assert f"pid {proc.pid}" in message and "holding for the test" in message and holder["since"] in message
    finally:
        proc.kill()
        proc.wait()


def test_a_dead_holder_releases_the_lock_at_once(tmp_path: Path) -> None:
    proc = _holder(tmp_path)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    started = time.monotonic()
    with repository_lock(tmp_path, NAME, timeout_s=5, purpose="next"):
        assert lock_holder(tmp_path, NAME)["pid"] == os.getpid()  # type: ignore[index]
    assert time.monotonic() - started < 1


def _event(kind: str, to: str, key: str) -> dict[str, str]:
    return {"kind": kind, "to_version": to, "run_key": key, "from_version": "1", "at": "t", "reason": "r", "model": "x"}


def test_promotion_log_appends_each_event_once(tmp_path: Path) -> None:
    log_path = tmp_path / "promotions.jsonl"
    assert append_event(log_path, _event("promotion", "2", "a"))
    assert not append_event(log_path, _event("promotion", "2", "a"))  # a retry, or reconcile after a kill
    assert append_event(log_path, _event("rollback", "2", "a"))
    assert append_event(log_path, _event("promotion", "2", "b"))
    assert [(e["kind"], e["run_key"]) for e in read_events(log_path)] == [
        ("promotion", "a"),
        ("rollback", "a"),
        ("promotion", "b"),
    ]


def test_a_partial_last_line_is_kept_aside_and_the_next_event_starts_a_line(tmp_path: Path) -> None:
    log_path = tmp_path / "promotions.jsonl"
    append_event(log_path, _event("promotion", "2", "a"))
    with open(log_path, "a") as fh:
        fh.write('{"kind": "promotion", "to_ver')  # power lost mid-write
    assert append_event(log_path, _event("promotion", "3", "b"))
    lines = log_path.read_text().splitlines()
    assert [json.loads(line)["to_version"] for line in lines] == ["2", "3"]
    partial = [json.loads(line) for line in (tmp_path / "promotions.jsonl.partial").read_text().splitlines()]
    assert partial[0]["content"] == '{"kind": "promotion", "to_ver' and "partial" in partial[0]["reason"]


KILL = """
import sys
from llmops.faults import checkpoint
for i in range(3):
    checkpoint("a")
    print(f"passed a {i}", flush=True)
checkpoint("b")
print("done", flush=True)
"""


@pytest.mark.parametrize(("kill_at", "printed"), [("a", 0), ("a@2", 1), ("b", 3), ("c", 4)])
def test_the_kill_hook_kills_at_the_named_point_and_occurrence(tmp_path: Path, kill_at: str, printed: int) -> None:
    phases = tmp_path / "phases"
    env = {**os.environ, "LLMOPS_KILL_AT": kill_at, "LLMOPS_PHASE_FILE": str(phases)}
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(KILL)], env=env, capture_output=True, text=True)
    assert len(proc.stdout.splitlines()) == printed
    assert proc.returncode == (0 if kill_at == "c" else -signal.SIGKILL)
    assert phases.read_text().split()[-1] == ("b" if kill_at in ("b", "c") else "a")


def test_the_kill_once_file_lets_the_retry_through(tmp_path: Path) -> None:
    env = {**os.environ, "LLMOPS_KILL_AT": "b", "LLMOPS_KILL_ONCE_FILE": str(tmp_path / "killed")}
    first = subprocess.run([sys.executable, "-c", textwrap.dedent(KILL)], env=env, capture_output=True, text=True)
    retry = subprocess.run([sys.executable, "-c", textwrap.dedent(KILL)], env=env, capture_output=True, text=True)
    assert first.returncode == -signal.SIGKILL and (tmp_path / "killed").exists()
    assert retry.returncode == 0 and retry.stdout.splitlines()[-1] == "done"


def test_the_kill_hook_does_nothing_without_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from llmops import faults

    for var in (faults.KILL_AT_ENV, faults.PHASE_FILE_ENV, faults.PAUSE_AT_ENV):
        monkeypatch.delenv(var, raising=False)
    faults.checkpoint("anything")  # returns: nothing set
