"""The hash-chained audit log: appends are chained, idempotent and repair a cut-short line; any change to a record,
a removed, inserted or reordered record is found, and the first bad record is named."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from llmops.audit import GENESIS, append, audit_log_path, check_chain, read_records, record_hash, verify
from llmops.config import LLMOpsConfig, load_config

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def cfg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LLMOpsConfig:
    monkeypatch.setenv("LLMOPS_HOME", str(tmp_path / "home"))
    return load_config()


def _three(cfg: LLMOpsConfig) -> list[dict[str, Any]]:
    for n, change in enumerate(("promotion", "promotion", "rollback"), start=1):
        append(cfg, change, f"{n}@run_{n}", {"to_version": str(n), "at": f"2026-03-0{n}T00:00:00+00:00"})
    return read_records(audit_log_path(cfg))


def _rewrite(cfg: LLMOpsConfig, records: list[dict[str, Any]]) -> None:
    lines = (json.dumps(r, sort_keys=True, separators=(",", ":")) + "\n" for r in records)
    audit_log_path(cfg).write_text("".join(lines))


def test_records_are_chained_and_appended_once(cfg: LLMOpsConfig) -> None:
    records = _three(cfg)
    assert [r["seq"] for r in records] == [1, 2, 3]
    assert records[0]["prev"] == GENESIS
    assert [r["prev"] for r in records[1:]] == [r["hash"] for r in records[:-1]]
    assert all(r["hash"] == record_hash(r) and len(r["config_sha256"]) == 64 and r["code_version"] for r in records)
    assert append(cfg, "promotion", "2@run_2", {"to_version": "2"}) is None  # a retry writes nothing
    assert len(read_records(audit_log_path(cfg))) == 3
    check = check_chain(audit_log_path(cfg))
    assert (check.records, check.first_bad_line, check.problem) == (3, None, "")
    verdict = verify(cfg, check_serving=False)
    assert verdict.passed and verdict.gate == "audit_chain" and "3 audit records, chain intact" in verdict.reason


def _rehashed(record: dict[str, Any], **changes: str) -> dict[str, Any]:
    changed = {**record, **changes}
    return {**changed, "hash": record_hash(changed)}


@pytest.mark.parametrize(
    ("tamper", "line", "problem"),
    [
        (lambda rs: [rs[0], {**rs[1], "to_version": "9"}, rs[2]], 2, "record 2 (line 2) was changed"),
        (lambda rs: [rs[0], rs[2]], 2, "has seq 3, not 2"),
        (lambda rs: [rs[0], rs[2], rs[1]], 2, "has seq 3, not 2"),
        # rewritten consistently but not re-chained: the next record no longer follows it
        (lambda rs: [rs[0], _rehashed(rs[1], to_version="9"), rs[2]], 3, "record 3 (line 3) does not follow record 2"),
        (lambda rs: [_rehashed(rs[0], prev="f" * 64), *rs[1:]], 1, "record 1 (line 1) does not follow record 0"),
    ],
    ids=["changed", "removed", "reordered", "rehashed", "first-replaced"],
)
def test_tampering_names_the_first_bad_record(cfg: LLMOpsConfig, tamper: Any, line: int, problem: str) -> None:
    _rewrite(cfg, tamper(_three(cfg)))
    check = check_chain(audit_log_path(cfg))
    assert check.first_bad_line == line and problem in check.problem, check
    verdict = verify(cfg, check_serving=False)
    assert not verdict.passed and problem in verdict.reason


def test_any_changed_byte_of_an_earlier_record_names_that_record(cfg: LLMOpsConfig) -> None:
    """Every byte of every record but the last (newlines included), changed one at a time in two ways: the check
    fails at that record's line."""
    _three(cfg)
    append(cfg, "erasure", "e1@2026-03-04", {"note": "caf\u00e9 \u2014 escapes too"})  # non-ASCII is escaped
    path = audit_log_path(cfg)
    original = path.read_bytes()
    lines = original.splitlines(keepends=True)
    start = 0
    for number, line in enumerate(lines[:-1], start=1):
        for at in range(start, start + len(line)):
            for new in (original[at] ^ 0x01, original[at] ^ 0x20):
                changed = bytearray(original)
                changed[at] = new
                path.write_bytes(bytes(changed))
                check = check_chain(path)
                assert check.first_bad_line == number, (at, bytes([new]), check)
        start += len(line)
    path.write_bytes(original)
    assert check_chain(path).first_bad_line is None
    # Same values written differently (an upper-case escape, a space) are a changed record too.
    for old, new in ((b"\\u00e9", b"\\u00E9"), (b'"seq":4', b'"seq": 4')):
        path.write_bytes(original.replace(old, new))
        check = check_chain(path)
        assert check.first_bad_line == 4 and "not the canonical form" in check.problem, check
    path.write_bytes(original)


def test_a_line_that_is_not_json_breaks_the_chain(cfg: LLMOpsConfig) -> None:
    _three(cfg)
    path = audit_log_path(cfg)
    lines = path.read_text().splitlines(keepends=True)
    path.write_text(lines[0] + "garbage\n" + "".join(lines[1:]))
    check = check_chain(path)
    assert check.first_bad_line == 2 and "line 2 is not JSON" in check.problem


def test_a_partial_last_line_is_repaired_before_the_next_append(cfg: LLMOpsConfig) -> None:
    _three(cfg)
    path = audit_log_path(cfg)
    with open(path, "ab") as fh:
        fh.write(b'{"change":"promotion","key":"4@run_4","se')  # a write cut short
    check = check_chain(path)
    assert check.first_bad_line is None and "partial last line" in check.problem
    assert verify(cfg, check_serving=False).passed
    record = append(cfg, "promotion", "4@run_4", {"to_version": "4"})
    assert record is not None and record["seq"] == 4
    assert check_chain(path) == check_chain(path) and check_chain(path).records == 4
    kept = [json.loads(x) for x in path.with_name(path.name + ".partial").read_text().splitlines()]
    assert kept[0]["content"].endswith('"se') and "partial last line" in kept[0]["reason"]


def test_the_command_line_names_the_first_bad_record(cfg: LLMOpsConfig) -> None:
    records = _three(cfg)
    env = {"LLMOPS_HOME": str(cfg.paths.home), "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT / "include")}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "llmops.cli", "audit", *args]
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)

    ok = run("verify", "--chain-only")
    assert ok.returncode == 0 and ok.stdout.startswith("OK: 3 audit records, chain intact"), ok.stdout + ok.stderr
    _rewrite(cfg, [records[0], {**records[1], "reason": "edited"}, records[2]])
    bad = run("verify", "--chain-only", "--json")
    assert bad.returncode == 1, bad.stderr
    assert not json.loads(bad.stdout)["passed"] and "record 2 (line 2) was changed" in json.loads(bad.stdout)["reason"]
    shown = run("show")
    assert [json.loads(x)["seq"] for x in shown.stdout.splitlines()] == [1, 2, 3]
