"""Atomic Parquet writers: records round-trip, reruns write the same bytes, no temporary file is left behind."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from llmops.data.schema import QUARANTINE_COLUMNS, TRAIN_COLUMNS
from llmops.data.sinks import read_parquet_rows, records_to_parquet, write_quarantine


def test_records_to_parquet_round_trip_is_atomic_and_stable(tmp_path: Path) -> None:
    rows = [{"id": "a", "prompt": "p", "response": "r", "category": "general", "source": "s"}]
    path = tmp_path / "out" / "rows.parquet"
    records_to_parquet(rows, path, columns=TRAIN_COLUMNS)
    first = path.read_bytes()
    records_to_parquet(rows, path, columns=TRAIN_COLUMNS)
    assert path.read_bytes() == first
    assert read_parquet_rows(path) == rows
    assert [p.name for p in path.parent.iterdir()] == ["rows.parquet"]  # no temp file left behind

    empty = tmp_path / "empty.parquet"
    records_to_parquet([], empty, columns=TRAIN_COLUMNS)
    import pyarrow.parquet as pq

    assert pq.read_schema(empty).names == list(TRAIN_COLUMNS)


def test_write_quarantine_keeps_layout_and_null_line_numbers(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    records: list[dict[str, Any]] = [
        {"source_file": "f", "line_number": 3, "reason": "invalid JSON: x", "raw": "{"},
        {"source_file": "f", "line_number": None, "reason": "expect_x(prompt)", "raw": "{}"},
    ]
    path = write_quarantine(records, tmp_path / "q.parquet")
    assert read_parquet_rows(path) == records
    assert str(pq.read_schema(path).field("line_number").type) == "int64"
    write_quarantine([], tmp_path / "q0.parquet")
    assert pq.read_schema(tmp_path / "q0.parquet").names == list(QUARANTINE_COLUMNS)


def test_quarantine_holds_scrubbed_text_only(tmp_path: Path) -> None:
    """A quarantined row keeps its file, line and reason, and its text without personal data; JSON stays JSON."""
    import json

    from llmops.data.pii import PiiScrubber

    email, card = "o'neil40@corp.example.org", "4111 1111 1111 1111"
    records: list[dict[str, Any]] = [
        {
            "source_file": "raw.jsonl",
            "line_number": 7,
            "reason": "expect_column_values_to_be_in_set(category)",
            "raw": json.dumps({"prompt": f"my card is {card}", "response": f"Mail {email}", "category": "x"}),
        },
        {"source_file": "raw.jsonl", "line_number": 8, "reason": "not JSON", "raw": f'{{"prompt": "call {email}'},
    ]
    path = write_quarantine(records, tmp_path / "quarantine.parquet", PiiScrubber(["EMAIL", "CREDIT_CARD"]))
    rows = read_parquet_rows(path)
    blob = path.read_bytes()
    assert email.encode() not in blob and card.encode() not in blob
    assert [r["line_number"] for r in rows] == [7, 8] and rows[0]["reason"] == records[0]["reason"]
    first = json.loads(rows[0]["raw"])
    assert first == {"prompt": "my card is <CREDIT_CARD>", "response": "Mail <EMAIL>", "category": "x"}
    assert rows[1]["raw"] == '{"prompt": "call <EMAIL>'
