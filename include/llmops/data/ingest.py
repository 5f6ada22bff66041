"""Read raw training files without crashing and without losing a row.

Every input line (JSONL) or record (Parquet, CSV) ends up either as a normalised row or as a quarantine record that
says where it came from and why it was rejected, so ``records_read == len(rows) + len(quarantined)`` always holds.
Content checks (lengths, allowed categories, ...) are the data contract's job (:mod:`llmops.data.validate`); this
module only rejects what cannot be a record at all: bytes that are not UTF-8, lines that are not JSON objects, missing
required fields and fields of the wrong type.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmops.data.schema import (
    PROD_LOG_COLUMNS,
    PROD_LOG_SERVING_COLUMNS,
    PROD_LOG_USAGE_COLUMNS,
    QUARANTINE_COLUMNS,
    REQUIRED_PROD_LOG_COLUMNS,
    REQUIRED_TRAIN_COLUMNS,
    TRAIN_COLUMNS,
)

RAW_PREVIEW_CHARS = 1000
JSONL_SUFFIXES = frozenset({".jsonl", ".ndjson", ".json"})
PARQUET_SUFFIXES = frozenset({".parquet", ".pq"})
CSV_SUFFIXES = frozenset({".csv"})
DEFAULT_CATEGORY = "general"

_UTF8_BOM = b"\xef\xbb\xbf"
_PARQUET_BATCH_ROWS = 4096
# The rest of an oversized line is skipped in chunks of this size (memory stays bounded whatever the line's length).
_DRAIN_BYTES = 1 << 16


@dataclass
class IngestResult:
    """What :func:`read_records` found in one file.

    Attributes:
        source_file: the file read (as a string).
        fmt: ``"jsonl"``, ``"parquet"`` or ``"csv"``.
        rows: records normalised to :data:`~llmops.data.schema.TRAIN_COLUMNS`, in file order.
        quarantined: rejected lines/records in the :data:`~llmops.data.schema.QUARANTINE_COLUMNS` layout.
        line_numbers: for each entry of ``rows``, its 1-based line (JSONL) or record number (Parquet, CSV).
        records_read: non-blank lines (JSONL) or records (Parquet, CSV) seen, counted independently of the
            outcome; it equals ``len(rows) + len(quarantined)``.
        blank_lines: whitespace-only lines skipped (not records).
    """

    source_file: str
    fmt: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    quarantined: list[dict[str, Any]] = field(default_factory=list)
    line_numbers: list[int] = field(default_factory=list)
    records_read: int = 0
    blank_lines: int = 0

    def take(self) -> IngestResult:
        """Move the collected rows and counts into a new result and start this one afresh (same source)."""
        chunk = IngestResult(
            source_file=self.source_file,
            fmt=self.fmt,
            rows=self.rows,
            quarantined=self.quarantined,
            line_numbers=self.line_numbers,
            records_read=self.records_read,
            blank_lines=self.blank_lines,
        )
        self.rows, self.quarantined, self.line_numbers = [], [], []
        self.records_read = self.blank_lines = 0
        return chunk

    def extend(self, other: IngestResult) -> None:
        """Append another chunk of the same file."""
        self.rows.extend(other.rows)
        self.quarantined.extend(other.quarantined)
        self.line_numbers.extend(other.line_numbers)
        self.records_read += other.records_read
        self.blank_lines += other.blank_lines

    @property
    def reconciles(self) -> bool:
        """Whether every record read was either kept or quarantined."""
        return self.records_read == len(self.rows) + len(self.quarantined)

    def summary(self) -> dict[str, Any]:
        """Small JSON-serialisable counts for logs and XCom."""
        return {
            "source_file": self.source_file,
            "format": self.fmt,
            "records_read": self.records_read,
            "rows": len(self.rows),
            "quarantined": len(self.quarantined),
            "blank_lines": self.blank_lines,
        }


def _type_name(value: Any) -> str:
    return type(value).__name__


def _preview(text: str) -> str:
    return text[:RAW_PREVIEW_CHARS]


def _json_preview(obj: Any) -> str:
    return _preview(json.dumps(obj, ensure_ascii=False, default=str))


def quarantine_record(source_file: str, line_number: int | None, reason: str, raw: str) -> dict[str, Any]:
    """Build one quarantine record.

    Args:
        source_file: the file the record came from.
        line_number: its 1-based line or record number, or ``None`` when unknown.
        reason: why it was rejected.
        raw: the raw content (truncated to 1000 characters).

    Returns:
        A dict with exactly the :data:`~llmops.data.schema.QUARANTINE_COLUMNS` keys.
    """
    return dict(zip(QUARANTINE_COLUMNS, (source_file, line_number, reason, _preview(raw)), strict=True))


def stable_id(prompt: Any, response: Any) -> str:
    """Content-derived id for records that arrive without one.

    Args:
        prompt: the prompt value.
        response: the response value.

    Returns:
        ``"sha1-"`` followed by the first 16 hex digits of the SHA-1 of the JSON-encoded pair.
    """
    payload = json.dumps([prompt, response], ensure_ascii=False, sort_keys=True)
    return "sha1-" + hashlib.sha1(payload.encode("utf-8")).hexdigest()[:16]


def normalize_record(obj: Any, source_name: str) -> tuple[dict[str, Any] | None, str | None]:
    """Check the structure of one parsed record and normalise it to the training layout.

    Extra keys are dropped. ``prompt`` and ``response`` must be present; every field must be a string or null (an
    integer ``id`` is converted to a string). A null ``prompt``/``response`` is kept: the data contract rejects it
    with a named expectation. A missing ``id`` gets :func:`stable_id`, a missing ``category`` becomes ``"general"``
    and a missing ``source`` becomes ``source_name``.

    Args:
        obj: the parsed JSON value or table record.
        source_name: default for ``source`` (the file name).

    Returns:
        ``(row, None)`` for a usable record, ``(None, reason)`` otherwise.
    """
    if not isinstance(obj, dict):
        kind = "array" if isinstance(obj, list) else "null" if obj is None else _type_name(obj)
        return None, f"not a JSON object (got {kind})"
    problems = [f"missing field '{name}'" for name in REQUIRED_TRAIN_COLUMNS if name not in obj]
    row: dict[str, Any] = {}
    for name in TRAIN_COLUMNS:
        value = obj.get(name)
        if name == "id" and isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if value is not None and not isinstance(value, str):
            problems.append(f"field '{name}' has type {_type_name(value)}, expected string")
        row[name] = value
    if problems:
        return None, "; ".join(problems)
    if not (row["id"] or "").strip():
        row["id"] = stable_id(row["prompt"], row["response"])
    if not (row["category"] or "").strip():
        row["category"] = DEFAULT_CATEGORY
    if not (row["source"] or "").strip():
        row["source"] = source_name
    return row, None


def _usage(name: str, value: Any, problems: list[str]) -> int | float | None:
    """A usage field (:data:`~llmops.data.schema.PROD_LOG_USAGE_COLUMNS`): null, or a number of its kind >= 0."""
    if value is None:
        return None
    kind = PROD_LOG_USAGE_COLUMNS[name]
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if not number or (kind is int and not float(value).is_integer()):
        expected = "integer" if kind is int else "number"
        problems.append(f"field '{name}' has type {_type_name(value)}, expected {expected}")
        return None
    if not math.isfinite(float(value)) or value < 0:
        problems.append(f"field '{name}' is {value}, expected a finite number >= 0")
        return None
    return int(value) if kind is int else float(value)


def normalize_prod_record(obj: Any, source_name: str) -> tuple[dict[str, Any] | None, str | None]:
    """Check the structure of one production log record (:data:`~llmops.data.schema.PROD_LOG_COLUMNS`).

    Every column but ``client_request_id`` must be present (a missing one is null); text columns must be strings or
    null and ``latency_ms`` a number or null (the contract rejects nulls and out-of-range values with named
    expectations). Extra keys are dropped.

    Args:
        obj: the parsed JSON value.
        source_name: unused (production logs carry their own metadata).

    Returns:
        ``(row, None)`` for a usable record, ``(None, reason)`` otherwise.
    """
    del source_name
    if not isinstance(obj, dict):
        kind = "array" if isinstance(obj, list) else "null" if obj is None else _type_name(obj)
        return None, f"not a JSON object (got {kind})"
    problems = [f"missing field '{name}'" for name in REQUIRED_PROD_LOG_COLUMNS if name not in obj]
    row: dict[str, Any] = {}
    for name in (*PROD_LOG_COLUMNS, *PROD_LOG_SERVING_COLUMNS):  # the serving columns are optional, typed when set
        value = obj.get(name)
        if name == "latency_ms":
            if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
                problems.append(f"field 'latency_ms' has type {_type_name(value)}, expected number")
            row[name] = float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
            continue
        if name in PROD_LOG_USAGE_COLUMNS:
            row[name] = _usage(name, value, problems)
            continue
        if name == "model_version" and isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if value is not None and not isinstance(value, str):
            problems.append(f"field '{name}' has type {_type_name(value)}, expected string")
        row[name] = value
    if problems:
        return None, "; ".join(problems)
    return row, None


Normalizer = Callable[[Any, str], tuple[dict[str, Any] | None, str | None]]
_NORMALIZERS: dict[str, Normalizer] = {"training": normalize_record, "production_logs": normalize_prod_record}


def detect_format(path: Path) -> str:
    """Format of a raw file from its suffix.

    Args:
        path: the file.

    Returns:
        ``"jsonl"``, ``"parquet"`` or ``"csv"``.

    Raises:
        ValueError: the suffix is not one of ``.jsonl/.ndjson/.json``, ``.parquet/.pq`` or ``.csv``.
    """
    suffix = path.suffix.lower()
    if suffix in JSONL_SUFFIXES:
        return "jsonl"
    if suffix in PARQUET_SUFFIXES:
        return "parquet"
    if suffix in CSV_SUFFIXES:
        return "csv"
    raise ValueError(f"unsupported raw file type {suffix!r} for {path} (expected .jsonl, .parquet or .csv)")


def read_records(path: Path, max_line_bytes: int) -> IngestResult:
    """Read a JSONL, Parquet or CSV file of training records.

    Bad input never raises: each bad line or record becomes a quarantine record (``"invalid JSON: ..."``,
    ``"not UTF-8: ..."``, ``"line exceeds N bytes ..."``, ``"not a JSON object ..."``, ``"missing field 'prompt'"``,
    ``"field 'prompt' has type int, expected string"``). An empty file is a clean result with zero rows; whether that
    is acceptable is the data contract's decision. A Parquet file that cannot be opened at all is one quarantine
    record with ``line_number=None``.

    Args:
        path: the file; the format comes from its suffix.
        max_line_bytes: longest accepted line (JSONL) or record (Parquet, CSV), in bytes.

    Returns:
        The normalised rows and the quarantine records.

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: the suffix is not supported.
    """
    result = IngestResult(source_file=str(path), fmt=detect_format(Path(path)))
    for chunk in iter_record_chunks(path, max_line_bytes, batch_rows=None):
        result.extend(chunk)
    return result


def iter_record_chunks(
    path: Path,
    max_line_bytes: int,
    batch_rows: int | None = 50_000,
    layout: str = "training",
) -> Iterator[IngestResult]:
    """Stream a raw file as chunks of at most ``batch_rows`` records (kept plus quarantined), in file order.

    Memory stays bounded by the chunk size whatever the file size. Each chunk reconciles on its own, and
    concatenating the chunks gives exactly what :func:`read_records` returns. At least one chunk is yielded (an
    empty one for an empty file).

    Args:
        path: the file; the format comes from its suffix.
        max_line_bytes: longest accepted line or record, in bytes.
        batch_rows: records per chunk; ``None`` for one chunk.
        layout: ``"training"`` (:func:`normalize_record`) or ``"production_logs"`` (:func:`normalize_prod_record`).

    Yields:
        :class:`IngestResult` chunks.

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: the suffix or the layout is not supported.
    """
    path = Path(path)
    fmt = detect_format(path)
    if not path.is_file():
        raise FileNotFoundError(f"raw data file not found: {path}")
    normalizer = _NORMALIZERS.get(layout)
    if normalizer is None:
        raise ValueError(f"unknown record layout {layout!r} (expected one of {sorted(_NORMALIZERS)})")
    result = IngestResult(source_file=str(path), fmt=fmt)
    if path.stat().st_size > 0:
        reader = {"jsonl": _read_jsonl, "parquet": _read_parquet, "csv": _read_csv}[fmt]
        for _ in reader(path, max_line_bytes, result, normalizer):
            if batch_rows is not None and len(result.rows) + len(result.quarantined) >= batch_rows:
                yield result.take()
    yield result.take()


def _accept(
    result: IngestResult, obj: Any, line_number: int, raw: str, source_name: str, normalizer: Normalizer
) -> None:
    row, reason = normalizer(obj, source_name)
    if row is None:
        result.quarantined.append(quarantine_record(result.source_file, line_number, reason or "invalid record", raw))
    else:
        result.rows.append(row)
        result.line_numbers.append(line_number)


def _iter_lines(fh: Any, max_line_bytes: int) -> Iterator[tuple[bytes, int]]:
    """Yield ``(line without newline, full length)``; oversized lines are cut to a preview and drained."""
    while True:
        chunk: bytes = fh.readline(max_line_bytes + 1)
        if not chunk:
            return
        if len(chunk) > max_line_bytes and not chunk.endswith(b"\n"):
            # Never hold a huge line in memory: keep a preview, skip the rest.
            head, total = chunk[: RAW_PREVIEW_CHARS * 4], len(chunk)
            while not chunk.endswith(b"\n"):
                chunk = fh.readline(_DRAIN_BYTES)
                if not chunk:
                    break
                total += len(chunk)
            yield head, total - (1 if chunk.endswith(b"\n") else 0)
            continue
        line = chunk[:-1] if chunk.endswith(b"\n") else chunk
        if line.endswith(b"\r"):
            line = line[:-1]
        yield line, len(line)


def _parse_line(line: bytes, length: int, max_line_bytes: int) -> tuple[Any, str | None]:
    """``(parsed JSON value, None)`` for a line that is JSON, ``(None, reason)`` otherwise.

    The size is checked first: an oversized line (``line`` is then only its head) is never decoded or parsed.
    """
    if length > max_line_bytes:
        return None, f"line exceeds {max_line_bytes} bytes ({length} bytes)"
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, f"not UTF-8: {exc.reason} at byte {exc.start}"
    try:
        return json.loads(text), None
    except (ValueError, RecursionError) as exc:
        if isinstance(exc, json.JSONDecodeError):
            return None, f"invalid JSON: {exc.msg} (char {exc.pos})"
        return None, f"invalid JSON: {exc or type(exc).__name__}"


def _iter_numbered_lines(fh: Any, max_line_bytes: int, first_line: int = 1) -> Iterator[tuple[int, bytes, int]]:
    """``(1-based line number, line, full length)`` of every line (a UTF-8 BOM on line 1 removed); ``first_line``
    is the number of the handle's first line (a handle positioned inside a file)."""
    for line_number, (line, length) in enumerate(_iter_lines(fh, max_line_bytes), start=first_line):
        if line_number == 1 and line.startswith(_UTF8_BOM):
            line, length = line[len(_UTF8_BOM) :], length - len(_UTF8_BOM)
        yield line_number, line, length


def _read_jsonl(path: Path, max_line_bytes: int, result: IngestResult, normalizer: Normalizer) -> Iterator[None]:
    source_name = path.name
    with path.open("rb") as fh:
        for line_number, line, length in _iter_numbered_lines(fh, max_line_bytes):
            yield
            if not line.strip():
                result.blank_lines += 1
                continue
            result.records_read += 1
            raw = line.decode("utf-8", errors="replace")
            obj, reason = _parse_line(line, length, max_line_bytes)
            if reason is not None:
                result.quarantined.append(quarantine_record(result.source_file, line_number, reason, raw))
                continue
            _accept(result, obj, line_number, raw, source_name, normalizer)


@dataclass(frozen=True)
class JsonLine:
    """One non-blank line of a JSONL file, read strictly (:func:`iter_json_lines`).

    Attributes:
        source_file: the file (as a string).
        line_number: the 1-based line in that file.
        value: the parsed JSON value (any JSON type, extra keys of an object included); ``None`` when ``reason``
            is set (a ``null`` line has ``value=None`` and no reason).
        reason: why the line is not JSON at all (over the size limit, not UTF-8, invalid JSON), else ``None``.
        raw: a preview of the line (at most 1000 characters, undecodable bytes replaced) for a quarantine record.
    """

    source_file: str
    line_number: int
    value: Any
    reason: str | None
    raw: str


def iter_json_lines(path: Path, max_line_bytes: int) -> Iterator[JsonLine]:
    """The non-blank lines of a JSONL file, each parsed or with the reason it could not be, in file order.

    The file is read in binary in chunks of at most ``max_line_bytes + 1`` bytes: a longer line is never held
    whole, decoded or parsed (its head is kept for the preview and the rest skipped). Bytes that are not UTF-8
    make the line fail (never replaced in a value). Blank lines are skipped but still counted in the numbering.

    Args:
        path: the file.
        max_line_bytes: longest accepted line, in bytes.

    Yields:
        One :class:`JsonLine` per non-blank line.

    Raises:
        FileNotFoundError: the file does not exist.
    """
    with Path(path).open("rb") as fh:
        yield from iter_json_lines_from(fh, str(path), max_line_bytes)


def iter_json_lines_from(fh: Any, source_file: str, max_line_bytes: int, first_line: int = 1) -> Iterator[JsonLine]:
    """:func:`iter_json_lines` of an open binary handle (e.g. positioned at a byte offset of ``source_file`` and
    bounded to a range of its lines, whose first is line ``first_line``)."""
    for line_number, line, length in _iter_numbered_lines(fh, max_line_bytes, first_line):
        if not line.strip():
            continue
        value, reason = _parse_line(line, length, max_line_bytes)
        raw = _preview(line[: RAW_PREVIEW_CHARS * 4].decode("utf-8", errors="replace"))
        yield JsonLine(source_file, line_number, value, reason, raw)


def _read_parquet(path: Path, max_line_bytes: int, result: IngestResult, normalizer: Normalizer) -> Iterator[None]:
    import pyarrow.parquet as pq

    source_name = path.name
    try:
        parquet_file = pq.ParquetFile(path)
    except Exception as exc:  # any reader error means the file is unreadable, not a crash
        result.records_read += 1
        reason = f"unreadable Parquet file: {type(exc).__name__}: {exc}"
        result.quarantined.append(quarantine_record(result.source_file, None, reason, ""))
        return
    yield
    record_number = 0
    try:
        for batch in parquet_file.iter_batches(batch_size=_PARQUET_BATCH_ROWS):
            for obj in batch.to_pylist():
                yield
                record_number += 1
                result.records_read += 1
                raw = _json_preview(obj)
                size = len(json.dumps(obj, ensure_ascii=False, default=str).encode("utf-8"))
                if size > max_line_bytes:
                    reason = f"record exceeds {max_line_bytes} bytes ({size} bytes)"
                    result.quarantined.append(quarantine_record(result.source_file, record_number, reason, raw))
                    continue
                _accept(result, obj, record_number, raw, source_name, normalizer)
    except Exception as exc:  # a corrupt row group must not lose what was read before it
        result.records_read += 1
        reason = f"unreadable Parquet data after record {record_number}: {type(exc).__name__}: {exc}"
        result.quarantined.append(quarantine_record(result.source_file, None, reason, ""))


def _read_csv(path: Path, max_line_bytes: int, result: IngestResult, normalizer: Normalizer) -> Iterator[None]:
    """CSV through the standard library: it reports the line of every record, and malformed rows stay visible."""
    source_name = path.name
    previous_limit = csv.field_size_limit()
    csv.field_size_limit(max(previous_limit, max_line_bytes + 1))
    try:
        # surrogateescape keeps undecodable bytes so a bad record can be quarantined without stopping the read.
        with path.open("r", encoding="utf-8-sig", errors="surrogateescape", newline="") as fh:
            reader = csv.reader(fh)
            header: list[str] | None = None
            last_line = 0
            while True:
                yield
                start_line = last_line + 1
                try:
                    fields = next(reader)
                except StopIteration:
                    break
                except csv.Error as exc:
                    result.records_read += 1
                    reason = f"invalid CSV: {exc}"
                    result.quarantined.append(quarantine_record(result.source_file, start_line, reason, ""))
                    if reader.line_num <= last_line:
                        break
                    last_line = reader.line_num
                    continue
                last_line = reader.line_num
                if not fields or (len(fields) == 1 and not fields[0].strip()):
                    result.blank_lines += 1
                    continue
                if header is None:
                    header = [h.strip() for h in fields]
                    continue
                result.records_read += 1
                raw = _preview(",".join(fields).encode("utf-8", "surrogateescape").decode("utf-8", "replace"))
                if any(_has_surrogates(f) for f in fields):
                    result.quarantined.append(quarantine_record(result.source_file, start_line, "not UTF-8", raw))
                    continue
                size = sum(len(f.encode("utf-8")) for f in fields)
                if size > max_line_bytes:
                    reason = f"record exceeds {max_line_bytes} bytes ({size} bytes)"
                    result.quarantined.append(quarantine_record(result.source_file, start_line, reason, raw))
                    continue
                if len(fields) != len(header):
                    reason = f"expected {len(header)} fields, got {len(fields)}"
                    result.quarantined.append(quarantine_record(result.source_file, start_line, reason, raw))
                    continue
                _accept(result, dict(zip(header, fields, strict=True)), start_line, raw, source_name, normalizer)
    finally:
        csv.field_size_limit(previous_limit)


def _has_surrogates(text: str) -> bool:
    return any("\udc80" <= ch <= "\udcff" for ch in text)
