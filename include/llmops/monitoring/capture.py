"""Feedback capture: one rating from an application, checked, scrubbed and appended where monitoring reads it.

An application that showed an answer of the served model sends the user's rating of it as one JSON object::

    {"request_id": "<the id the server issued with the answer>", "rating": "up" | "down",
     "corrected_response": "<optional: what the answer should have said>", "user": "<optional: opaque user id>"}

:func:`capture` takes the body as bytes and either accepts it or raises :class:`CaptureError`, whose ``status`` is
the HTTP status an endpoint answers with (:mod:`llmops.web.feedback_api` serves it inside the Airflow api-server):

* ``401`` the caller's token is missing or not one of the configured ones (``monitoring.feedback_token_env``);
  ``503`` when no token is configured at all (capture is off rather than open to anyone);
* ``413`` the body is longer than ``monitoring.feedback_max_body_bytes``;
* ``400`` the body is not UTF-8 JSON holding an object;
* ``422`` a field is missing, unknown, of the wrong type or too long (the error names it), or ``user`` holds
  personal data (a user id must be an opaque account or session id: erasure by user id matches it as sent);
* ``404`` the request id is not one the served model issued: :class:`RequestIndex` reads the ids from the served
  model's log lines (``paths.prod_log_dir``, rotated files included), reading only the bytes added since it last
  looked. A line shipped from another host later than its answer reached the client makes the id known then.

Scrubbed on arrival: the correction is typed by a person, so the personal data in it (the data stage's detector,
named-entity model included) is replaced with typed placeholders before anything is written; the record keeps how
many values of each type were replaced (``pii_found``), which feedback screening reads (a correction that held
personal data is never trained on). Nothing is kept in clear, not even briefly.

Nothing lost on a crash: each accepted record is one line appended (``O_APPEND``) and fsynced before the caller
hears ``accepted``, in ``<feedback dir>/capture-<UTC date>-<host>-<pid>.jsonl`` (mode 0640): one file per process,
so concurrent api-server workers never interleave, and per day, so retention deletes whole files. The record's
``timestamp`` is the time it was received, which places it in the monitoring interval that reads it.

No Airflow or web-framework import here.
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import re
import socket
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from llmops.config import LLMOpsConfig

log = logging.getLogger(__name__)

CAPTURE_PREFIX = "capture-"
_REQUEST_ID = re.compile(rb'"request_id":\s*"([A-Za-z0-9._:\-]{1,200})"')
FILE_MODE = 0o640


class CaptureError(Exception):
    """A feedback record that was not accepted; ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class FeedbackIn(BaseModel):
    """The body of one feedback record (unknown fields are refused, so a misspelt field is not dropped silently)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    request_id: str = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9._:\-]+$")
    rating: Literal["up", "down"]
    corrected_response: str | None = Field(default=None, max_length=8000)
    user: str | None = Field(default=None, min_length=1, max_length=200)


def configured_tokens(cfg: LLMOpsConfig, environ: Mapping[str, str] | None = None) -> list[str]:
    """The tokens a caller may present: ``$<monitoring.feedback_token_env>``, comma-separated (two in a rotation)."""
    env = os.environ if environ is None else environ
    raw = env.get(cfg.monitoring.feedback_token_env, "")
    return [t.strip() for t in raw.split(",") if t.strip()]


def check_token(presented: str | None, tokens: Iterable[str]) -> None:
    """Raise :class:`CaptureError` unless ``presented`` is one of ``tokens`` (compared in constant time)."""
    allowed = [t.encode() for t in tokens]
    if not allowed:
        raise CaptureError(503, "feedback capture is not configured: no token is set for it")
    given = (presented or "").encode()
    if not given or not any(hmac.compare_digest(given, t) for t in allowed):
        raise CaptureError(401, "missing or invalid token: send 'Authorization: Bearer <feedback token>'")


def _errors(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "body"
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)


def parse_body(body: bytes, max_bytes: int) -> FeedbackIn:
    """The feedback record in ``body``, or :class:`CaptureError` (413, 400 or 422) saying what is wrong."""
    if len(body) > max_bytes:
        raise CaptureError(413, f"body of {len(body)} bytes is over the limit of {max_bytes} bytes")
    try:
        obj = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise CaptureError(400, f"body is not UTF-8 (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise CaptureError(400, f"body is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    if not isinstance(obj, dict):
        raise CaptureError(400, f"body must be a JSON object, not {type(obj).__name__}")
    try:
        return FeedbackIn.model_validate(obj)
    except ValidationError as exc:
        raise CaptureError(422, _errors(exc)) from None


@dataclass
class _Tail:
    inode: int
    offset: int
    ids: set[str] = field(default_factory=set)


class RequestIndex:
    """The request ids the served model issued, read from its log lines, only the bytes added since the last look.

    A file whose inode changed or that shrank is read again from the start; a file that is gone (rotated away and
    deleted by retention) takes its ids with it. Only complete lines (ending in a newline) are read. Thread-safe.

    Args:
        log_dir: the served model's log folder (``*.jsonl`` searched recursively, rotated files included).
        max_line_bytes: longer lines are skipped (never decoded).
    """

    def __init__(self, log_dir: Path, max_line_bytes: int = 1_000_000) -> None:
        self.log_dir = Path(log_dir)
        self.max_line_bytes = max_line_bytes
        self._tails: dict[Path, _Tail] = {}
        self._lock = threading.Lock()

    def _read(self, path: Path, tail: _Tail, size: int) -> None:
        with path.open("rb") as handle:
            handle.seek(tail.offset)
            data = handle.read(size - tail.offset)
        end = data.rfind(b"\n")
        if end < 0:
            return
        for line in data[: end + 1].splitlines():
            if not line or len(line) > self.max_line_bytes:
                continue
            # The key as the writer writes it (a quote inside a logged text is escaped, so it cannot match there);
            # a regular expression instead of a JSON parse: the first look reads every retained line.
            found = _REQUEST_ID.search(line)
            if found:
                tail.ids.add(found.group(1).decode("ascii"))
        tail.offset += end + 1

    def refresh(self) -> int:
        """Read what the log folder gained; returns the number of ids known."""
        with self._lock:
            seen: set[Path] = set()
            for path in sorted(self.log_dir.rglob("*.jsonl")) if self.log_dir.is_dir() else []:
                try:
                    st = path.stat()
                    tail = self._tails.get(path)
                    if tail is None or tail.inode != st.st_ino or st.st_size < tail.offset:
                        tail = self._tails[path] = _Tail(inode=st.st_ino, offset=0)
                    if st.st_size > tail.offset:
                        self._read(path, tail, st.st_size)
                except FileNotFoundError:  # rotated or deleted between listing and reading
                    continue
                seen.add(path)
            for gone in set(self._tails) - seen:
                del self._tails[gone]
            return sum(len(t.ids) for t in self._tails.values())

    def _has(self, request_id: str) -> bool:
        return any(request_id in t.ids for t in self._tails.values())

    def known(self, request_id: str) -> bool:
        """Whether the served model issued ``request_id`` (the log folder is read again when it is not known yet)."""
        with self._lock:
            if self._has(request_id):
                return True
        self.refresh()
        with self._lock:
            return self._has(request_id)


class FeedbackSink:
    """Appends accepted records to this process's file of the day, one fsynced line each.

    Args:
        folder: where monitoring reads feedback (:func:`llmops.monitoring.feedback.feedback_dir`).
    """

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self._lock = threading.Lock()
        self._host = socket.gethostname().split(".")[0] or "host"

    def path_for(self, received_at: datetime) -> Path:
        """The file a record received at ``received_at`` goes to."""
        day = received_at.astimezone(UTC).strftime("%Y%m%d")
        return self.folder / f"{CAPTURE_PREFIX}{day}-{self._host}-{os.getpid()}.jsonl"

    def append(self, record: Mapping[str, Any], received_at: datetime) -> Path:
        """Write one record as one line and fsync it (the file and, when new, its folder)."""
        from llmops.fsutil import fsync_dir

        line = (json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")
        path = self.path_for(received_at)
        with self._lock:
            created = not path.exists()
            if created:
                self.folder.mkdir(parents=True, exist_ok=True, mode=0o750)
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, FILE_MODE)
            try:
                os.write(fd, line)
                os.fsync(fd)
            finally:
                os.close(fd)
            if created:
                fsync_dir(self.folder)
        return path


@dataclass(frozen=True)
class Accepted:
    """What an accepted record became: where it was written and what was replaced in it."""

    request_id: str
    path: Path
    pii_found: dict[str, int]

    def to_dict(self) -> dict[str, Any]:
        return {"status": "accepted", "request_id": self.request_id, "pii_found": self.pii_found}


class FeedbackCapture:
    """Checks, scrubs and appends feedback records (:func:`capture` with the state it keeps between calls).

    Args:
        cfg: configuration (``monitoring`` capture settings, ``data.pii`` detector, paths).
        environ: where the tokens are read from (the process environment by default).
    """

    def __init__(self, cfg: LLMOpsConfig, environ: Mapping[str, str] | None = None) -> None:
        from llmops.data.pii import PiiScrubber
        from llmops.monitoring.feedback import feedback_dir

        self.cfg = cfg
        self.tokens = configured_tokens(cfg, environ)
        self.index = RequestIndex(cfg.paths.prod_log_dir, cfg.data.max_line_bytes)
        self.sink = FeedbackSink(feedback_dir(cfg))
        # Scrubbed whatever `data.pii.enabled` says for training data: feedback is stored, not only trained on.
        self.scrubber = PiiScrubber.from_config(cfg)

    def capture(self, body: bytes, token: str | None, received_at: datetime) -> Accepted:
        """Accept one record or raise :class:`CaptureError` (see the module docstring for the statuses).

        Args:
            body: the request body as sent.
            token: the bearer token the caller presented (``None`` when none).
            received_at: when it was received (aware); the record's ``timestamp``.
        """
        check_token(token, self.tokens)
        item = parse_body(body, self.cfg.monitoring.feedback_max_body_bytes)
        if item.user is not None and self.scrubber.analyze(item.user):
            raise CaptureError(422, "user: must be an opaque account or session id, not personal data")
        if not self.index.known(item.request_id):
            raise CaptureError(404, f"request_id {item.request_id!r} is not an id the served model issued")
        record: dict[str, Any] = {
            "request_id": item.request_id,
            "timestamp": received_at.astimezone(UTC).isoformat(),
            "rating": item.rating,
        }
        found: dict[str, int] = {}
        if item.corrected_response:
            text, counts = self.scrubber.scrub(item.corrected_response)
            record["corrected_response"] = text
            found = {k: int(v) for k, v in sorted(counts.items()) if v}
        record["pii_found"] = found
        if item.user is not None:
            record["user"] = item.user
        path = self.sink.append(record, received_at)
        # No id in the log: an erasure rewrites the state folder's data files, not the api-server's log.
        log.info("feedback accepted (%s), personal data replaced: %s", item.rating, found)
        return Accepted(item.request_id, path, found)


def send_feedback(url: str, token: str, record: Mapping[str, Any], wait_s: float = 30.0) -> dict[str, Any]:
    """POST one feedback record to a feedback endpoint (a client's side, used by the demo).

    A ``404`` is retried until ``wait_s`` has passed: the served model writes its log line just after it answers,
    so an id can be a moment younger than its answer. Any other refusal raises :class:`CaptureError`.

    Args:
        url: the endpoint, e.g. ``http://127.0.0.1:8080/llmops/feedback``.
        token: the caller's token.
        record: ``{request_id, rating, corrected_response?, user?}``.
        wait_s: how long an unknown request id is retried.

    Returns:
        The endpoint's answer (``{"status": "accepted", ...}``).
    """
    import time
    import urllib.error
    import urllib.request

    body = json.dumps(dict(record)).encode("utf-8")
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    deadline = time.monotonic() + wait_s
    while True:
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                answer: dict[str, Any] = json.loads(response.read())
                return answer
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", "replace")
            if exc.code == 404 and time.monotonic() < deadline:
                time.sleep(0.5)
                continue
            raise CaptureError(exc.code, detail) from None
