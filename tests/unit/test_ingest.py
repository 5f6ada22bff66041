"""Raw-file ingestion: every line ends up kept or quarantined with a reason, and counts reconcile."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from llmops.data.ingest import IngestResult, read_records, stable_id
from llmops.data.schema import QUARANTINE_COLUMNS, TRAIN_COLUMNS

MAX_LINE = 2048


def _good(i: int, **extra: object) -> dict[str, object]:
    row: dict[str, object] = {
        "id": f"r{i}",
        "prompt": f"How do I share folder {i}?",
        "response": "Right-click it and choose Share.",
        "category": "sharing",
        "source": "unit",
    }
    row.update(extra)
    return row


def _line(obj: object) -> bytes:
    return json.dumps(obj).encode("utf-8")


# (raw line, expected reason fragment or None for a kept row)
JSONL_CASES: list[tuple[str, bytes, str | None]] = [
    ("good", _line(_good(1)), None),
    ("truncated", _line(_good(2))[:30], "invalid JSON"),
    ("plain_text", b"this export broke halfway", "invalid JSON"),
    ("trailing_garbage", _line(_good(3)) + b" }", "invalid JSON"),
    ("single_quotes", repr(_good(4)).encode(), "invalid JSON"),
    ("not_utf8", _line(_good(5)).replace(b"share", b"caf\xe9 share"), "not UTF-8"),
    ("oversized", _line(_good(6, response="x" * (MAX_LINE * 3))), f"line exceeds {MAX_LINE} bytes"),
    ("array", _line(["a prompt", "a response"]), "not a JSON object (got array)"),
    ("string", _line("just a string"), "not a JSON object (got str)"),
    ("null", b"null", "not a JSON object (got null)"),
    ("missing_prompt", _line({"response": "r", "category": "general"}), "missing field 'prompt'"),
    ("missing_response", _line({"prompt": "some prompt"}), "missing field 'response'"),
    ("int_prompt", _line(_good(7, prompt=12345)), "field 'prompt' has type int, expected string"),
    ("list_response", _line(_good(8, response=["a", "b"])), "field 'response' has type list, expected string"),
    ("float_category", _line(_good(9, category=1.5)), "field 'category' has type float, expected string"),
    ("deep_nesting", b"[" * 100_000 + b"]" * 100_000, None),  # either way: never a crash (checked below)
    ("null_prompt_kept", _line(_good(10, prompt=None)), None),  # nulls are the contract's job
    ("int_id_kept", _line(_good(11, id=42)), None),
]


@pytest.fixture
def planted_jsonl(tmp_path: Path) -> tuple[Path, dict[int, tuple[str, str | None]]]:
    path = tmp_path / "raw.jsonl"
    lines: list[bytes] = [b"\xef\xbb\xbf" + _line(_good(0))]  # a BOM on line 1 must not break it
    expected: dict[int, tuple[str, str | None]] = {1: ("bom", None)}
    for name, raw, reason in JSONL_CASES:
        if name == "deep_nesting":
            raw = raw[: MAX_LINE - 10]  # keep it under the byte limit so the JSON parser sees it
        lines.append(raw)
        expected[len(lines)] = (name, reason)
        if name == "truncated":
            lines.append(b"   ")  # a blank line is not a record
    lines.append(_line({"prompt": "no id, category or source here", "response": "fine"}) + b"\r")  # CRLF
    expected[len(lines)] = ("defaults", None)
    path.write_bytes(b"\n".join(lines))  # no newline after the last line
    return path, expected


def test_each_planted_line_is_kept_or_quarantined_with_its_reason(
    planted_jsonl: tuple[Path, dict[int, tuple[str, str | None]]],
) -> None:
    path, expected = planted_jsonl
    result = read_records(path, MAX_LINE)

    assert result.reconciles
    assert result.records_read == len(expected)
    assert result.blank_lines == 1
    by_line = {q["line_number"]: q for q in result.quarantined}
    kept_lines = set(result.line_numbers)
    assert kept_lines.isdisjoint(by_line)
    assert kept_lines | set(by_line) == set(expected)
    for line_number, (name, reason) in expected.items():
        if name == "deep_nesting":
            continue
        if reason is None:
            assert line_number in kept_lines, f"{name} should be kept, got {by_line.get(line_number)}"
        else:
            assert line_number in by_line, f"{name} should be quarantined"
            assert reason in by_line[line_number]["reason"], (name, by_line[line_number]["reason"])
    for record in result.quarantined:
        assert tuple(record) == QUARANTINE_COLUMNS
        assert record["source_file"] == str(path)
        assert len(record["raw"]) <= 1000


def test_rows_are_normalised_to_the_training_layout(
    planted_jsonl: tuple[Path, dict[int, tuple[str, str | None]]],
) -> None:
    path, expected = planted_jsonl
    result = read_records(path, MAX_LINE)
    rows = dict(zip(result.line_numbers, result.rows, strict=True))

    for row in result.rows:
        assert tuple(row) == TRAIN_COLUMNS
    assert rows[1]["id"] == "r0"
    defaults = rows[max(expected)]
    assert defaults["category"] == "general"
    assert defaults["source"] == "raw.jsonl"
    assert defaults["id"] == stable_id(defaults["prompt"], defaults["response"])
    int_id_line = next(n for n, (name, _) in expected.items() if name == "int_id_kept")
    assert rows[int_id_line]["id"] == "42"
    null_line = next(n for n, (name, _) in expected.items() if name == "null_prompt_kept")
    assert rows[null_line]["prompt"] is None


def test_oversized_line_keeps_only_a_preview(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    path.write_bytes(_line(_good(1)) + b"\n" + b'{"prompt": "' + b"y" * 5_000_000 + b'"}\n' + _line(_good(2)) + b"\n")
    result = read_records(path, MAX_LINE)
    assert [q["line_number"] for q in result.quarantined] == [2]
    assert result.quarantined[0]["reason"] == "line exceeds 2048 bytes (5000014 bytes)"
    assert result.line_numbers == [1, 3]


def test_empty_file_is_a_clean_empty_result(tmp_path: Path) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_bytes(b"")
    result = read_records(path, MAX_LINE)
    assert result == IngestResult(source_file=str(path), fmt="jsonl")
    assert result.reconciles


def test_missing_file_and_unknown_suffix_raise(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_records(tmp_path / "absent.jsonl", MAX_LINE)
    odd = tmp_path / "data.xlsx"
    odd.write_bytes(b"x")
    with pytest.raises(ValueError, match="unsupported"):
        read_records(odd, MAX_LINE)


def test_parquet_rows_and_type_errors(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "raw.parquet"
    table = pa.table(
        {
            "prompt": ["How do I reset my password?", None, "Third prompt here"],
            "response": ["Use the reset link.", "r", "r3"],
            "category": ["account", None, "billing"],
            "priority": [1, 2, 3],  # extra column: dropped
        }
    )
    pq.write_table(table, path)
    result = read_records(path, MAX_LINE)
    assert result.fmt == "parquet"
    assert result.reconciles and result.records_read == 3 and not result.quarantined
    assert result.rows[1]["category"] == "general" and result.rows[1]["prompt"] is None
    assert all(tuple(r) == TRAIN_COLUMNS and r["source"] == "raw.parquet" for r in result.rows)

    bad = tmp_path / "bad_types.parquet"
    pq.write_table(pa.table({"prompt": [1, 2], "response": ["a", "b"]}), bad)
    result = read_records(bad, MAX_LINE)
    assert [q["line_number"] for q in result.quarantined] == [1, 2]
    assert all("field 'prompt' has type int, expected string" in q["reason"] for q in result.quarantined)

    no_prompt = tmp_path / "no_prompt.parquet"
    pq.write_table(pa.table({"response": ["a"]}), no_prompt)
    assert read_records(no_prompt, MAX_LINE).quarantined[0]["reason"] == "missing field 'prompt'"


def test_corrupt_parquet_is_one_quarantine_record(tmp_path: Path) -> None:
    path = tmp_path / "corrupt.parquet"
    path.write_bytes(b"PAR1 this is not really parquet")
    result = read_records(path, MAX_LINE)
    assert result.rows == []
    assert len(result.quarantined) == 1 and result.quarantined[0]["line_number"] is None
    assert result.quarantined[0]["reason"].startswith("unreadable Parquet file")
    assert result.reconciles


def test_csv_records_with_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "raw.csv"
    path.write_bytes(
        b"id,prompt,response,category\n"
        b"c1,How do I share a folder?,Right-click it,sharing\n"
        b'c2,"A prompt with a comma, and\na newline",fine,general\n'
        b"c3,too,many,fields,here\n"
        b"\n"
        b"c4,caf\xe9 prompt,bad bytes,general\n"
        b",,,\n"
        b"c5,Last prompt,Last response,billing\n"
    )
    result = read_records(path, MAX_LINE)
    assert result.fmt == "csv"
    assert result.reconciles
    assert result.records_read == 6 and result.blank_lines == 1
    assert result.line_numbers == [2, 3, 8, 9]
    reasons = {q["line_number"]: q["reason"] for q in result.quarantined}
    assert reasons == {5: "expected 4 fields, got 5", 7: "not UTF-8"}
    empty = result.rows[2]
    assert empty["prompt"] == "" and empty["category"] == "general" and empty["id"].startswith("sha1-")
    assert result.rows[1]["prompt"] == "A prompt with a comma, and\na newline"


def test_chunks_stream_the_file_and_add_up_to_read_records(
    planted_jsonl: tuple[Path, dict[int, tuple[str, str | None]]],
) -> None:
    from llmops.data.ingest import iter_record_chunks

    path, _ = planted_jsonl
    whole = read_records(path, MAX_LINE)
    chunks = list(iter_record_chunks(path, MAX_LINE, batch_rows=4))
    assert len(chunks) > 3
    assert all(c.reconciles and len(c.rows) + len(c.quarantined) <= 4 for c in chunks)
    merged = IngestResult(source_file=str(path), fmt="jsonl")
    for chunk in chunks:
        merged.extend(chunk)
    assert merged == whole


def test_production_log_layout(tmp_path: Path) -> None:
    from llmops.data.ingest import iter_record_chunks

    good = {
        "request_id": "a",
        "timestamp": "2026-01-01T00:00:00.000Z",
        "model_name": "m",
        "model_version": 3,
        "prompt": "p",
        "response": "r",
        "latency_ms": 12,
    }
    usage = {"prompt_tokens": 20, "completion_tokens": 7, "batch_size": 4, "compute_ms": 31}
    path = tmp_path / "requests.jsonl"
    lines = [
        good,
        {**good, "latency_ms": "fast"},
        {k: v for k, v in good.items() if k != "timestamp"},
        {**good, "request_id": "b", "prompt_version": "support/2"},
        {**good, "request_id": "c", "prompt_version": 2},
        {**good, "request_id": "d", **usage},
        {**good, "request_id": "e", **usage, "completion_tokens": 2.5},
        {**good, "request_id": "f", **usage, "batch_size": "4"},
        {**good, "request_id": "g", **usage, "compute_ms": -1},
        {**good, "request_id": "h", **usage, "prompt_tokens": True},
    ]
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    (chunk,) = list(iter_record_chunks(path, MAX_LINE, None, layout="production_logs"))
    # client_request_id is optional (logs from before it existed), and so are the served model's prompt_version and
    # usage (other writers): null when missing.
    base = {**good, "model_version": "3", "latency_ms": 12.0, "client_request_id": None, **dict.fromkeys(usage)}
    assert chunk.rows == [
        {**base, "prompt_version": None},
        {**base, "request_id": "b", "prompt_version": "support/2"},
        {**base, "request_id": "d", "prompt_version": None, **usage, "compute_ms": 31.0},
    ]
    assert [q["reason"] for q in chunk.quarantined] == [
        "field 'latency_ms' has type str, expected number",
        "missing field 'timestamp'",
        "field 'prompt_version' has type int, expected string",
        "field 'completion_tokens' has type float, expected integer",
        "field 'batch_size' has type str, expected integer",
        "field 'compute_ms' is -1, expected a finite number >= 0",
        "field 'prompt_tokens' has type bool, expected integer",
    ]
    with pytest.raises(ValueError, match="layout"):
        list(iter_record_chunks(path, MAX_LINE, None, layout="nope"))
