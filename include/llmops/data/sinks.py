"""Where the data stage writes, and how: run folders, file names, Arrow schemas and atomic Parquet writers.

Every output of a run lives under ``<paths.curated_dir>/<run_key>/`` (quarantine under
``<paths.quarantine_dir>/<run_key>/``). A :class:`ParquetSink` writes record batches to a temporary file and renames
it into place on :meth:`~ParquetSink.close`, so a reader (or a crash) never sees half a file;
:func:`records_to_parquet` does the same for records held in memory.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llmops.data.schema import QUARANTINE_COLUMNS, TRAIN_COLUMNS

if TYPE_CHECKING:
    from llmops.data.pii import PiiScrubber

VALIDATED_FILE = "validated.parquet"
QUARANTINE_FILE = "quarantine.parquet"
TRAIN_FILE = "train.parquet"
REMOVED_FILE = "removed_duplicates.parquet"
CONTAMINATED_FILE = "removed_contaminated.parquet"
DECISIONS_FILE = "dedup_decisions.parquet"
MANIFEST_FILE = "manifest.json"
SHARDS_DIR = "shards"
SNAPSHOTS_DIR = "snapshots"
# A row's global position in the validated file (0-based): it identifies the row through dedup.
ROW_COLUMN = "row"
LINE_COLUMN = "line_number"
# Arrow types for columns whose type cannot be inferred from an all-null or empty column.
_ARROW_TYPES: dict[str, str] = {
    "line_number": "int64",
    "latency_ms": "float64",
    "prompt_tokens": "int64",
    "completion_tokens": "int64",
    "batch_size": "int64",
    "compute_ms": "float64",
}


def run_dir(base: Path, run_key: str) -> Path:
    """``base / run_key``, for a run key that is exactly one path component.

    Raises:
        ValueError: ``run_key`` is empty, ``.``/``..``, or holds a path separator or NUL.
    """
    if not run_key or run_key in {".", ".."} or "/" in run_key or "\\" in run_key or "\x00" in run_key:
        raise ValueError(f"run_key must be a non-empty single path component, got {run_key!r}")
    return base / run_key


class ParquetSink:
    """Writes record batches to ``path`` through a temporary file; :meth:`close` renames it into place."""

    def __init__(self, path: Path, schema: Any) -> None:
        import pyarrow.parquet as pq

        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        self.schema = schema
        self.rows = 0
        self._writer = pq.ParquetWriter(self.tmp, schema)

    def write(self, table: Any) -> None:
        """Append ``table`` (its columns in the sink's order and types)."""
        if table.num_rows:
            self._writer.write_table(table.select(self.schema.names).cast(self.schema))
            self.rows += table.num_rows

    def close(self) -> Path:
        """Finish the file and move it into place."""
        self._writer.close()
        os.replace(self.tmp, self.path)
        return self.path

    def abort(self) -> None:
        """Drop what was written; ``path`` keeps whatever it held before."""
        try:
            self._writer.close()
        finally:
            self.tmp.unlink(missing_ok=True)


def write_table(path: Path, table: Any) -> Path:
    """Write one whole table atomically through a :class:`ParquetSink`."""
    sink = ParquetSink(path, table.schema)
    sink.write(table)
    return sink.close()


def train_schema(with_line: bool = False, with_row: bool = False) -> Any:
    """The training columns as strings, optionally with the source line number and the global ``row``."""
    import pyarrow as pa

    fields = [pa.field(name, pa.string()) for name in TRAIN_COLUMNS]
    if with_line:
        fields.append(pa.field(LINE_COLUMN, pa.int64()))
    if with_row:
        fields.insert(0, pa.field(ROW_COLUMN, pa.int64()))
    return pa.schema(fields)


def quarantine_schema() -> Any:
    """The :data:`~llmops.data.schema.QUARANTINE_COLUMNS` layout."""
    import pyarrow as pa

    types = {"line_number": pa.int64()}
    return pa.schema([pa.field(name, types.get(name, pa.string())) for name in QUARANTINE_COLUMNS])


def _scrub_json(value: Any, scrub: Any) -> Any:
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, list):
        return [_scrub_json(v, scrub) for v in value]
    if isinstance(value, dict):
        return {k: _scrub_json(v, scrub) for k, v in value.items()}
    return value


def scrub_quarantine_text(text: str | None, scrubber: PiiScrubber | None = None) -> str | None:
    """A quarantined line or reason with personal data replaced by typed placeholders.

    A JSON object or array has its string values scrubbed one by one (it stays valid JSON that the rollback watch and
    people can read); any other text (a broken line, a JSON document cut at 1,000 characters) is scrubbed whole.
    """
    if text is None:
        return None
    from llmops.data.pii import PiiScrubber

    engine = scrubber or PiiScrubber()

    def scrub(value: str) -> str:
        return engine.scrub(value)[0] or ""

    stripped = text.lstrip()
    if stripped[:1] in ("{", "["):
        try:
            parsed = json.loads(text)
        except ValueError:
            pass
        else:
            return json.dumps(_scrub_json(parsed, scrub), ensure_ascii=False)
    return scrub(text)


def _scrubbed_quarantine(records: Sequence[Mapping[str, Any]], scrubber: PiiScrubber | None) -> list[dict[str, Any]]:
    """Quarantine records with ``raw`` and ``reason`` scrubbed (:func:`scrub_quarantine_text`), one scrubber for all."""
    from llmops.data.pii import PiiScrubber

    scrubber = scrubber or PiiScrubber()
    return [
        {
            **r,
            "raw": scrub_quarantine_text(r.get("raw"), scrubber),
            "reason": scrub_quarantine_text(r.get("reason"), scrubber),
        }
        for r in records
    ]


def quarantine_table(records: Sequence[Mapping[str, Any]], scrubber: PiiScrubber | None = None) -> Any:
    """Quarantine records as a table in :func:`quarantine_schema`, their ``raw`` and ``reason`` scrubbed of personal
    data (``scrubber``: the configured one; default: every entity type)."""
    import pyarrow as pa

    schema = quarantine_schema()
    scrubbed = _scrubbed_quarantine(records, scrubber)
    return pa.table({f.name: pa.array([r.get(f.name) for r in scrubbed], type=f.type) for f in schema}, schema=schema)


def rows_table(rows: Sequence[Mapping[str, Any]], line_numbers: Sequence[int] | None = None) -> Any:
    """Training records as a table of string columns, optionally with their line numbers."""
    import pyarrow as pa

    columns = {name: pa.array([r.get(name) for r in rows], type=pa.string()) for name in TRAIN_COLUMNS}
    if line_numbers is not None:
        columns[LINE_COLUMN] = pa.array(list(line_numbers), type=pa.int64())
    return pa.table(columns)


def _infer_arrow_array(name: str, values: list[Any]) -> Any:
    import pyarrow as pa

    if name in _ARROW_TYPES:
        return pa.array(values, type=pa.type_for_alias(_ARROW_TYPES[name]))
    try:
        array = pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        # Mixed types in one column: keep every value, as text.
        array = pa.array(
            [None if v is None else v if isinstance(v, str) else json.dumps(v, default=str) for v in values]
        )
    if pa.types.is_null(array.type):
        array = array.cast(pa.string())
    return array


def records_to_parquet(
    records: Sequence[Mapping[str, Any]],
    path: Path,
    columns: Sequence[str] | None = None,
) -> Path:
    """Write records to a Parquet file atomically (temporary file in the same directory, then ``os.replace``).

    Args:
        records: the rows.
        path: destination; parent directories are created.
        columns: column order; defaults to the keys of the records in first-seen order. Keys not listed are dropped,
            listed keys missing from a record are written as null. An empty list of records with ``columns`` writes
            an empty table with those columns (string-typed unless known otherwise).

    Returns:
        ``path``.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(path)
    if columns is None:
        seen: dict[str, None] = {}
        for record in records:
            seen.update(dict.fromkeys(record))
        columns = list(seen)
    arrays = [_infer_arrow_array(name, [record.get(name) for record in records]) for name in columns]
    table = pa.table(dict(zip(columns, arrays, strict=True))) if columns else pa.table({})
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        pq.write_table(table, tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def write_quarantine(records: Sequence[Mapping[str, Any]], path: Path, scrubber: PiiScrubber | None = None) -> Path:
    """Write quarantine records (:data:`~llmops.data.schema.QUARANTINE_COLUMNS`) to Parquet atomically, their ``raw``
    and ``reason`` scrubbed of personal data (:func:`scrub_quarantine_text`).

    Args:
        records: quarantine records; an empty list writes an empty table with the quarantine columns.
        path: destination.
        scrubber: the configured scrubber (default: every entity type).

    Returns:
        ``path``.
    """
    scrubbed = _scrubbed_quarantine(records, scrubber)
    return records_to_parquet(scrubbed, path, columns=QUARANTINE_COLUMNS)


def read_parquet_rows(path: Path) -> list[dict[str, Any]]:
    """Read a Parquet file written by :func:`records_to_parquet` back into a list of dicts.

    Args:
        path: the file.

    Returns:
        One dict per row, in file order.
    """
    import pyarrow.parquet as pq

    rows: list[dict[str, Any]] = pq.read_table(path).to_pylist()
    return rows
