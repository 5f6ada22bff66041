"""The production-log index: each monitoring run reads only the bytes the logs gained, and only the lines of its own
interval.

Without it, every hourly run read every line of every log file ever written, so its time grew with the age of the
deployment. The index (``<curated_dir>/monitoring/log_index/<source digest>.json``) keeps, per log file:

* its identity: device and inode (a rotation renames a file, its inode stays: it is followed, not read again), and
  a SHA-256 of its first bytes (a file truncated or replaced under the same inode is read again from the start);
* ``offset`` and ``lines``: how far it was scanned (always the end of a complete line) and how many lines that is;
* ``segments``: per hour bucket (``interval_key`` of the hour), the byte ranges of consecutive lines placed in that
  hour, each with the number of its first line, its count of non-blank lines and the placement time of its first
  line; ``anchor``: the placement time of the last line scanned.

:meth:`LogIndex.update` scans what the files gained since the last run: each new complete line is parsed just for
its timestamp and placed by the rule of :func:`llmops.monitoring.interval.read_interval_lines` (a line without a
readable timestamp goes with the nearest readable one before it in the file; lines before a file's first readable
timestamp go with that one). A line still being written (no newline yet) waits for the next run, unless the file was
last modified before ``final_before`` (a file nobody writes any more: its cut last line is read and quarantined).
Lines at the head of a file with no readable timestamp yet wait too, and such a file that is no longer written is
placed at its modification time. Placement never changes once made, so every run and every re-run of an interval
reads the same lines.

:meth:`LogIndex.read` then reads only the ranges of the hour buckets that overlap the interval, through the ingest
layer's strict line reader (so quarantine records keep their true file and line), and keeps the lines placed inside
``[start, end)``. A file that is renamed between listing and reading is found by its inode on the next run: nothing
is lost, at worst read one run later (and then it re-curates its interval: :meth:`LogIndex.placed`).

Updates hold an exclusive lock (``<index>.lock``) and write the index to a temporary file renamed over it; files that
are gone (deleted by retention) leave the index with their segments.

No Airflow import here.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from llmops.data.prodlog import ProdLogLine, parse_log_timestamp, prod_log_lines_from

log = logging.getLogger(__name__)

INDEX_VERSION = 1
HEAD_BYTES = 4096
_DRAIN_BYTES = 1 << 16
HOUR = timedelta(hours=1)


def hour_key(at: datetime) -> str:
    """The hour bucket of a placement time (``YYYYmmddTHH0000Z``, as :func:`interval_key` of the hour)."""
    return at.astimezone(UTC).strftime("%Y%m%dT%H0000Z")


@dataclass
class FileEntry:
    """One log file in the index (see the module description)."""

    path: str
    dev: int
    ino: int
    head: str = ""
    head_len: int = 0
    offset: int = 0
    lines: int = 0
    anchor: str | None = None
    # hour key -> [[start byte, end byte, first line number, non-blank lines, first placement time (ISO)], ...]
    segments: dict[str, list[list[Any]]] = field(default_factory=dict)


class _Window:
    """A binary handle limited to the next ``length`` bytes (what the strict line reader reads a range through)."""

    def __init__(self, fh: Any, length: int) -> None:
        self.fh = fh
        self.left = length

    def readline(self, limit: int = -1) -> bytes:
        if self.left <= 0:
            return b""
        n = self.left if limit is None or limit < 0 else min(limit, self.left)
        chunk: bytes = self.fh.readline(n)
        self.left -= len(chunk)
        return chunk


def _timestamp(line: bytes, max_line_bytes: int) -> datetime | None:
    if len(line) > max_line_bytes:
        return None
    try:
        value = json.loads(line.decode("utf-8").lstrip("\ufeff"))
    except (ValueError, RecursionError):
        return None
    return parse_log_timestamp(value.get("timestamp")) if isinstance(value, dict) else None


def _lines(fh: Any, max_line_bytes: int, final: bool) -> Iterator[tuple[int, datetime | None, bool]]:
    """``(length in bytes, timestamp, blank)`` of each line from the handle's position; a last line without a
    newline only when ``final``. An oversized line is drained, never held whole."""
    while True:
        chunk: bytes = fh.readline(max_line_bytes + 1)
        if not chunk:
            return
        total = len(chunk)
        if total > max_line_bytes and not chunk.endswith(b"\n"):
            while not chunk.endswith(b"\n"):
                chunk = fh.readline(_DRAIN_BYTES)
                if not chunk:
                    break
                total += len(chunk)
            if not chunk.endswith(b"\n") and not final:
                return
            yield total, None, False
            continue
        if not chunk.endswith(b"\n") and not final:
            return
        line = chunk.rstrip(b"\n").rstrip(b"\r")
        blank = not line.strip()
        yield total, (None if blank else _timestamp(line, max_line_bytes)), blank


def _add(entry: FileEntry, start: int, end: int, line_no: int, counted: int, at: datetime) -> None:
    """Place one line (or blank ones, ``counted=0``) at ``at``; contiguous lines of one hour share a segment."""
    key = hour_key(at)
    segments = entry.segments.setdefault(key, [])
    if segments and segments[-1][1] == start:
        segments[-1][1] = end
        segments[-1][3] += counted
    else:
        segments.append([start, end, line_no, counted, at.isoformat()])
    entry.anchor = at.isoformat()


def _scan(entry: FileEntry, fh: Any, max_line_bytes: int, final: bool, mtime: datetime) -> int:
    """Place the lines after ``entry.offset``; returns how many non-blank lines were placed."""
    fh.seek(entry.offset)
    anchor = datetime.fromisoformat(entry.anchor) if entry.anchor else None
    pending: list[tuple[int, int, int, bool]] = []  # lines before the file's first readable timestamp
    pos, number, placed = entry.offset, entry.lines, 0
    for length, ts, blank in _lines(fh, max_line_bytes, final):
        number += 1
        if anchor is None and ts is None:
            pending.append((pos, pos + length, number, blank))
            pos += length
            continue
        if ts is not None and anchor is None:
            for p_start, p_end, p_no, p_blank in pending:
                _add(entry, p_start, p_end, p_no, 0 if p_blank else 1, ts)
                placed += not p_blank
            pending = []
        at = ts if ts is not None else anchor
        assert at is not None
        _add(entry, pos, pos + length, number, 0 if blank else 1, at)
        placed += not blank
        anchor = at
        pos += length
        entry.offset, entry.lines = pos, number
    if pending and final:  # a file no longer written with no readable timestamp at all: its modification time
        for p_start, p_end, p_no, p_blank in pending:
            _add(entry, p_start, p_end, p_no, 0 if p_blank else 1, mtime)
            placed += not p_blank
        entry.offset, entry.lines = pending[-1][1], pending[-1][2]
    elif anchor is not None and not pending:
        entry.offset, entry.lines = pos, number
    return placed


class LogIndex:
    """The index of one log source (a folder searched recursively for ``*.jsonl``, or one file).

    Args:
        source: the log folder or file.
        index_dir: where the index lives (``<curated_dir>/monitoring/log_index``).
        max_line_bytes: longest line parsed (``data.max_line_bytes``); longer ones are placed as untimed.
    """

    def __init__(self, source: Path, index_dir: Path, max_line_bytes: int) -> None:
        self.source = Path(source)
        digest = hashlib.sha256(str(self.source.resolve()).encode()).hexdigest()[:16]
        self.path = Path(index_dir) / f"{digest}.json"
        self.max_line_bytes = max_line_bytes
        self.files: dict[str, FileEntry] = {}
        self._load()

    def _load(self) -> None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return
        except (OSError, ValueError) as exc:
            log.warning("log index %s is unreadable (%s): the logs are scanned again from the start", self.path, exc)
            return
        if data.get("version") != INDEX_VERSION or data.get("source") != str(self.source):
            return
        self.files = {k: FileEntry(**v) for k, v in data.get("files", {}).items()}

    def _save(self) -> None:
        from llmops.fsutil import atomic_write_text

        body = {
            "version": INDEX_VERSION,
            "source": str(self.source),
            "files": {k: asdict(v) for k, v in sorted(self.files.items())},
        }
        atomic_write_text(self.path, json.dumps(body, separators=(",", ":")), fsync=False)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_suffix(".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                self._load()  # another run may have moved it on while this one waited
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _listing(self) -> list[Path]:
        if self.source.is_dir():
            return sorted(p for p in self.source.rglob("*.jsonl") if p.is_file())
        return [self.source] if self.source.is_file() else []

    def _name(self, path: Path) -> str:
        return str(path.relative_to(self.source)) if self.source.is_dir() else path.name

    def _file(self, entry: FileEntry) -> Path:
        return self.source / entry.path if self.source.is_dir() else self.source

    def update(self, final_before: datetime | None = None) -> dict[str, int]:
        """Scan what the log files gained since the last update (see the module description).

        Args:
            final_before: a file last modified before this is no longer written: its last line is read even without
                a newline, and its head without any readable timestamp is placed at its modification time.

        Returns:
            Counts: ``files`` listed, ``scanned`` (files that had new bytes), ``lines`` placed, ``reset`` (files
            read again from the start: truncated or replaced), ``gone`` (left the index).
        """
        counts = {"files": 0, "scanned": 0, "lines": 0, "reset": 0, "gone": 0}
        with self._locked():
            seen: set[str] = set()
            for path in self._listing():
                try:
                    with path.open("rb") as fh:
                        st = os.fstat(fh.fileno())
                        key = f"{st.st_dev}:{st.st_ino}"
                        entry = self.files.get(key)
                        first = fh.read(HEAD_BYTES)
                        if entry is not None:
                            entry.path = self._name(path)  # renamed by a rotation: same file
                            same = st.st_size >= entry.offset and len(first) >= entry.head_len
                            same = same and hashlib.sha256(first[: entry.head_len]).hexdigest() == entry.head
                            if not same:  # truncated, or another file under a reused inode
                                counts["reset"] += 1
                                entry = None
                        if entry is None:
                            entry = self.files[key] = FileEntry(self._name(path), st.st_dev, st.st_ino)
                        entry.head, entry.head_len = hashlib.sha256(first).hexdigest(), len(first)
                        seen.add(key)
                        counts["files"] += 1
                        if st.st_size > entry.offset or (entry.anchor is None and st.st_size):
                            mtime = datetime.fromtimestamp(st.st_mtime, UTC)
                            final = final_before is not None and mtime < final_before
                            placed = _scan(entry, fh, self.max_line_bytes, final, mtime)
                            counts["scanned"] += 1
                            counts["lines"] += placed
                except FileNotFoundError:  # renamed or deleted since the listing: found by its inode next time
                    continue
            for gone in set(self.files) - seen:
                del self.files[gone]
                counts["gone"] += 1
            self._save()
        return counts

    def _open(self, entry: FileEntry) -> tuple[Path, Any] | None:
        """The entry's file, opened: by its indexed path when that is still the same inode, else found by its inode
        (rotated since the update); ``None`` when it is gone."""
        candidates = [self._file(entry)]
        for attempt in range(2):
            for path in candidates:
                try:
                    fh = path.open("rb")
                except FileNotFoundError:
                    continue
                st = os.fstat(fh.fileno())
                if (st.st_dev, st.st_ino) == (entry.dev, entry.ino):
                    return path, fh
                fh.close()
            if attempt == 0:
                candidates = self._listing()
        return None

    def _buckets(self, start: datetime, end: datetime) -> list[str]:
        at = start.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        keys = []
        while at < end:
            keys.append(hour_key(at))
            at += HOUR
        return keys

    def placed(self, start: datetime, end: datetime) -> int | None:
        """Non-blank lines placed in ``[start, end)`` (``None`` unless the interval is whole hours: late lines are
        detected by this count growing past what the interval's curation read)."""
        seconds = (end - start).total_seconds()  # plain seconds: the bounds may be pendulum times (Airflow's)
        if start != start.replace(minute=0, second=0, microsecond=0) or seconds <= 0 or seconds % 3600:
            return None
        keys = set(self._buckets(start, end))
        return sum(seg[3] for e in self.files.values() for k, segs in e.segments.items() if k in keys for seg in segs)

    def read(self, start: datetime, end: datetime) -> Iterator[tuple[ProdLogLine, datetime]]:
        """Each non-blank line placed in ``[start, end)`` with its placement time, read strictly, in file order."""
        keys = self._buckets(start, end)
        for entry in sorted(self.files.values(), key=lambda e: e.path):
            ranges = sorted(seg for k in keys for seg in entry.segments.get(k, []))
            if not ranges:
                continue
            opened = self._open(entry)
            if opened is None:
                log.warning("log file %s is gone since it was indexed: its lines are not read", self._file(entry))
                continue
            path, fh = opened
            with fh:
                for seg_start, seg_end, first_line, _, first_at in ranges:
                    fh.seek(seg_start)
                    window = _Window(fh, seg_end - seg_start)
                    at = datetime.fromisoformat(first_at)
                    for line in prod_log_lines_from(window, str(path), self.max_line_bytes, first_line):
                        at = line.timestamp if line.timestamp is not None else at
                        if start <= at < end:
                            yield line, at
