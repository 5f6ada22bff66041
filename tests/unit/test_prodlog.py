"""Production logs: the strict line reader monitoring shares, and curation through the production-log contract."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from llmops.config import LLMOpsConfig, load_config
from llmops.data.gates import DataContractError
from llmops.data.prodlog import UNREADABLE_TIMESTAMP, curate_production_logs, iter_prod_log_lines
from llmops.data.sinks import read_parquet_rows


@pytest.fixture
def cfg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LLMOpsConfig:
    monkeypatch.setenv("LLMOPS_HOME", str(tmp_path / "home"))
    return load_config(environ={})


def test_log_lines_are_read_strictly_with_their_line_and_reason(tmp_path: Path) -> None:
    good = {
        "request_id": "r1",
        "timestamp": "2026-01-01T00:00:00Z",
        "model_name": "m",
        "model_version": "1",
        "prompt": "p",
        "response": "r",
        "latency_ms": 1.0,
        "pii_leak": False,
    }
    failed = {**good, "request_id": "r2", "response": "", "error": "boom", "error_kind": "server"}
    path = tmp_path / "requests.jsonl"
    path.write_bytes(
        b"\n".join(
            [
                json.dumps(good).encode(),
                b"",
                b"[1, 2]",
                b"{broken",
                b'{"c": "\xe9"}',
                json.dumps(failed).encode(),
                json.dumps({**good, "timestamp": "yesterday"}).encode(),
                json.dumps({**good, "latency_ms": "fast"}).encode(),
                b'{"half": ',
            ]
        )
    )
    lines = list(iter_prod_log_lines(path, 1024))
    assert [line.line_number for line in lines] == [1, 3, 4, 5, 6, 7, 8, 9]  # the blank line 2 is skipped
    assert lines[0].record == good and lines[0].reason is None  # extra keys kept
    assert lines[1].reason == "not a JSON object (got array)"
    assert lines[2].reason is not None and lines[2].reason.startswith("invalid JSON")
    assert lines[3].reason is not None and lines[3].reason.startswith("not UTF-8") and lines[3].record is None
    assert lines[4].failed and lines[4].reason is None and lines[4].record == failed
    assert lines[5].reason == UNREADABLE_TIMESTAMP and lines[5].timestamp is None
    assert lines[6].reason == "field 'latency_ms' has type str, expected number" and lines[6].timestamp is not None
    assert lines[7].reason is not None and lines[7].reason.startswith("invalid JSON")
    assert {line.source_file for line in lines} == {str(path)}


def test_production_logs_are_validated_quarantined_and_scrubbed(cfg: LLMOpsConfig) -> None:
    from llmops.demo import generate_prod_logs

    log_dir = cfg.paths.prod_log_dir / "demo"
    generate_prod_logs(60, 0.2, 3, log_dir / "requests-a.jsonl")
    with (log_dir / "requests-a.jsonl").open("a") as fh:
        fh.write("{broken\n")
        bad = {
            "request_id": "x1",
            "timestamp": "not a time",
            "model_name": "support_assistant",
            "model_version": "1",
            "prompt": "Reach me at jane@example.com please",
            "response": "ok",
            "latency_ms": -5,
        }
        fh.write(json.dumps(bad) + "\n")
        fh.write(json.dumps({**bad, "request_id": "x2", "timestamp": "2026-01-02T00:00:00Z", "latency_ms": 9}) + "\n")
    result = curate_production_logs(cfg, None, "day1", build_docs=False)
    json.dumps(result)
    assert result["rows_in"] == 63 and result["rows_valid"] == 61 and result["rows_quarantined"] == 2
    quarantine = {q["line_number"]: q for q in read_parquet_rows(Path(result["quarantine_path"]))}
    assert quarantine[61]["reason"].startswith("invalid JSON")
    assert "expect_column_values_to_be_between(latency_ms)" in quarantine[62]["reason"]
    assert "expect_column_values_to_match_regex(timestamp)" in quarantine[62]["reason"]
    assert quarantine[62]["source_file"].endswith("requests-a.jsonl")
    logs = read_parquet_rows(Path(result["logs_path"]))
    assert any(r["prompt"] == "Reach me at <EMAIL> please" for r in logs)
    assert result["pii_counts"]["EMAIL"] == 1

    with pytest.raises(DataContractError, match="no production logs"):
        curate_production_logs(cfg, [], "empty", build_docs=False)


def test_contract_quarantine_names_the_file_of_each_row(cfg: LLMOpsConfig) -> None:
    """Two files with a bad row on the same line: each quarantine record names its own file (and line)."""
    from llmops.demo import generate_prod_logs

    log_dir = cfg.paths.prod_log_dir / "two"
    for seed, name in enumerate(("requests-a.jsonl", "requests-b.jsonl")):
        generate_prod_logs(30, 0.2, 3 + seed, log_dir / name)
        lines = (log_dir / name).read_text(encoding="utf-8").splitlines()
        bad = {**json.loads(lines[1]), "latency_ms": -5, "request_id": f"bad-{name}"}
        lines[1] = json.dumps(bad)
        (log_dir / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = curate_production_logs(cfg, log_dir, "two-files", build_docs=False)
    quarantined = read_parquet_rows(Path(result["quarantine_path"]))
    assert sorted((Path(q["source_file"]).name, q["line_number"]) for q in quarantined) == [
        ("requests-a.jsonl", 2),
        ("requests-b.jsonl", 2),
    ]
    assert {json.loads(q["raw"])["request_id"] for q in quarantined} == {"bad-requests-a.jsonl", "bad-requests-b.jsonl"}
