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
