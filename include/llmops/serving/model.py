"""Triton Python-backend model serving the fine-tuned causal LM.

Copied verbatim into every version directory as ``<repo>/<name>/<N>/model.py`` next to ``<N>/model/`` (weights
and tokenizer). It runs inside Triton's Python stub with the serving venv's interpreter, so it imports only what
that venv has (numpy, torch, transformers, triton_python_backend_utils) and never ``llmops``.

Tensors (``max_batch_size`` > 0, so every tensor has a leading batch dimension):

- ``prompt`` TYPE_STRING [1]: the raw user prompt; wrapped before generation with the prompt the version was
  trained with (``model/prompt.json``; :data:`PROMPT_TEMPLATE` when the folder has none); every log line names it
  (``prompt_version``).
- ``max_new_tokens`` TYPE_INT32 [1], optional: defaults to the ``default_max_new_tokens`` parameter.
- ``temperature`` TYPE_FP32 [1], optional: ``<= 0`` or absent means greedy decoding.
- ``response`` TYPE_STRING [1]: the decoded continuation only, stripped.
- ``request_id`` TYPE_STRING [1]: the id the server gave this prompt (:func:`new_request_id`), the one its log line
  carries and the one feedback must name.

Each dynamic batch is generated with ONE batched ``generate`` call: left padding plus attention mask, per-row
``max_new_tokens`` (stopping criterion) and per-row ``temperature`` (logits processor). A request that fails
validation (empty or oversized prompt, bad ``max_new_tokens``/``temperature``) gets an error response; the others in
the batch are still answered.
Every request gets its id from the server (time-ordered, unique), never from the client: a client could otherwise
reuse ids to collide with other requests' feedback or flood monitoring with duplicates. Triton's request id, which
the client chooses, is logged beside it as ``client_request_id`` so that a client can match its own records.
Each answered prompt is logged as one JSON line (``PROD_LOG_COLUMNS`` of ``llmops.data.schema``) to
``<log_dir>/requests.jsonl`` by a background thread, so inference never waits for the disk. A failed request is
logged too, with an empty ``response`` and ``error`` / ``error_kind`` set (``client``: the request was invalid;
``server``: generation or the model failed), so that monitoring can tell a version's error rate. Records the writer
loses (queue full, a write failing twice) are counted per minute in ``<log_dir>/writer_status/<instance>.json``;
the monitoring DAG alerts on them. An answered prompt's line also says what it cost: ``prompt_tokens`` (the rendered
prompt, template included), ``completion_tokens`` (generated, up to the end-of-sequence token), ``batch_size``
(prompts in the one ``generate`` call that answered it) and ``compute_ms`` (that call's time, shared by the batch);
``latency_ms`` is the whole ``execute`` call.

Nothing a user wrote reaches the disk in clear: before a line is written, the writer replaces the personal data in
its prompt and answer with typed placeholders (``<EMAIL>``, ``<PHONE>``, ...), using the project's pattern
recognizers (``llmops.data.pii``, copied into ``<N>/scrub/`` by promotion, with python-stdnum from the serving
environment), and records ``pii_leak``: whether the answer held personal data that neither the prompt nor the
company's public contacts (``public_contacts``) held. Monitoring reads that flag, since it can no longer see the
values. Raw text is kept only when ``retain_raw_hours`` > 0: in hourly files ``requests-<hour>-<host>-<pid>.jsonl``
under ``raw_log_dir`` (folder 0700, files 0600), deleted by the writer once older than that many hours.

Error responses never carry internal details: a request the model cannot serve gets "internal error" or
"generation failed" plus an error id, and the full exception is written to Triton's log under that id. Only
messages about the client's own input (empty prompt, ``max_new_tokens`` out of range, ...) are returned as they are.

Placement: an instance of kind ``KIND_GPU`` (``triton.instance_kind``) runs on the device Triton gave it, in
bfloat16 where the device supports it (:func:`placement`); any other kind runs on the CPU in float32. The load log
line names the device and the precision.

Parameters (``config.pbtxt``): ``model_name``, ``log_dir``, ``log_rotate_bytes``, ``max_prompt_chars``,
``default_max_new_tokens``; optional ``torch_num_threads``, ``max_new_tokens_limit``, ``log_scrub`` (``true``
unless ``false``), ``public_contacts`` (a JSON list of strings), ``raw_log_dir`` and ``retain_raw_hours``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import queue
import secrets
import socket
import sys
import threading
import time
import traceback
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

try:  # only importable inside Triton's Python stub
    import triton_python_backend_utils as pb_utils
except ImportError:  # unit tests import this file to read its constants
    pb_utils = None

# The prompt a version serves with is the one it was trained with: ``prompt.json`` beside the weights
# (llmops.prompts.PROMPT_FILE: name, version, template, sha256). A folder written before prompts were versioned has
# none and serves with this template, identical to llmops.data.schema.PROMPT_TEMPLATE (a unit test compares them).
PROMPT_TEMPLATE = "### Instruction:\n{{prompt}}\n### Response:\n"
PROMPT_FILE = "prompt.json"
PROMPT_VARIABLE = "{{prompt}}"
UNVERSIONED_PROMPT = "unversioned"

LOG_FILE = "requests.jsonl"
DEFAULT_MAX_PROMPT_CHARS = 2000
DEFAULT_MAX_NEW_TOKENS = 48
DEFAULT_MAX_NEW_TOKENS_LIMIT = 1024
DEFAULT_LOG_ROTATE_BYTES = 5_000_000
LOG_QUEUE_SIZE = 10_000
LOG_BATCH_LINES = 512
# Loss counters of each writer, per minute, read by llmops.monitoring.interval (identical to its STATUS_DIR).
STATUS_DIR = "writer_status"
STATUS_MINUTES_KEPT = 7 * 24 * 60
STATUS_FILES_KEPT_S = 14 * 24 * 3600
# The log writer's PII scrubber, next to this file (see llmops.serving.repository.SCRUB_DIR).
SCRUB_DIR = "scrub"
RAW_PRUNE_EVERY_S = 60.0
# ``error_kind`` of a failed request's log line (identical to llmops.data.schema.CLIENT_ERROR / SERVER_ERROR).
CLIENT_ERROR, SERVER_ERROR = "client", "server"


def format_prompt(prompt: str, template: str = PROMPT_TEMPLATE) -> str:
    """Wrap a raw user prompt exactly as training did (``llmops.data.schema.format_prompt``)."""
    return template.replace(PROMPT_VARIABLE, prompt.strip())


def read_prompt(weights: Path) -> tuple[str, str]:
    """``(template, "<name>/<version>")`` from the weights' ``prompt.json``; the built-in template and
    ``"unversioned"`` when the folder has none.

    Raises:
        ValueError: the file is unreadable, or its template does not match its sha256 or lacks the variable.
    """
    path = Path(weights) / PROMPT_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return PROMPT_TEMPLATE, UNVERSIONED_PROMPT
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path} is unreadable: {exc}") from exc
    template = str(data.get("template", ""))
    if data.get("sha256") != hashlib.sha256(template.encode("utf-8")).hexdigest() or PROMPT_VARIABLE not in template:
        raise ValueError(f"{path} does not hold a prompt whose text matches its sha256")
    return template, f"{data.get('name', '')}/{data.get('version', '')}"


def utc_now_iso() -> str:
    """Current time as ISO-8601 UTC with an explicit offset."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def model_parameters(model_config: dict[str, Any]) -> dict[str, str]:
    """Flatten ``parameters { key: ..., value: { string_value: ... } }`` of a parsed model config."""
    params = model_config.get("parameters") or {}
    out = {}
    for key, value in params.items():
        if isinstance(value, dict):
            out[key] = str(value.get("string_value", ""))
        else:
            out[key] = str(value)
    return out


def _int_param(params: dict[str, str], key: str, default: int, minimum: int = 1) -> int:
    raw = params.get(key, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ValueError(f"model parameter {key}={raw!r} is not an integer") from exc
    if value < minimum:
        raise ValueError(f"model parameter {key}={value} must be >= {minimum}")
    return value


def _safe_host() -> str:
    """The host name as a file-name part (letters, digits, dot, hyphen)."""
    return "".join(c if c.isascii() and (c.isalnum() or c in ".-") else "_" for c in socket.gethostname()) or "host"


class LogScrubber:
    """Replaces the personal data in a log record's prompt and answer with typed placeholders.

    Runs the pattern recognizers of ``llmops.data.pii`` (every pattern type, plus names that are introduced or signed;
    no named-entity model in the serving environment) and flags ``pii_leak`` when the answer holds a value of a
    pattern type that neither the prompt nor ``public_contacts`` holds, compared as
    ``llmops.data.pii.value_key`` writes them (the rule of ``llmops.evaluation.scorers.pii_leak``).

    Args:
        public_contacts: the company's own e-mail addresses and phone numbers (answers may give them).
        scrub_dir: the folder holding the ``llmops`` copy; ``None`` when ``llmops`` is importable already.
    """

    def __init__(self, public_contacts: list[str], scrub_dir: Path | None = None) -> None:
        if scrub_dir is not None:
            if not (scrub_dir / "llmops" / "data" / "pii.py").is_file():
                raise FileNotFoundError(f"the log writer's PII scrubber is missing: no {scrub_dir}/llmops/data/pii.py")
            if str(scrub_dir) not in sys.path:
                sys.path.insert(0, str(scrub_dir))
        from llmops.data import pii

        self._pii = pii
        self.types: tuple[str, ...] = (*pii.PATTERN_TYPES, "PERSON")
        self._leak_types = frozenset(pii.PATTERN_TYPES)
        self.public = frozenset(key for contact in public_contacts for key in self._keys(contact))

    def _keys(self, text: str, matches: list[Any] | None = None) -> set[tuple[str, str]]:
        """The leak-type values of a text as ``(entity, value_key)``, from ``matches`` when already found."""
        found = self._pii.find_patterns(text, self.types) if matches is None else matches
        return {
            (m.entity, self._pii.value_key(m.entity, text[m.start : m.end]))
            for m in found
            if m.entity in self._leak_types
        }

    def __call__(self, record: dict[str, Any]) -> dict[str, Any]:
        """A copy of the record with ``prompt`` and ``response`` scrubbed, ``pii_leak`` and ``pii_found`` (values
        replaced) set."""
        out = dict(record)
        found = 0
        keys: dict[str, set[tuple[str, str]]] = {}
        for name in ("prompt", "response"):
            text = record.get(name)
            if not isinstance(text, str) or not text:
                keys[name] = set()
                continue
            matches = self._pii.find_patterns(text, self.types)
            keys[name] = self._keys(text, matches)
            if matches:
                out[name] = self._pii.PiiScrubber.replace(text, matches)[0]
                found += len(matches)
        out["pii_leak"] = bool(keys["response"] - keys["prompt"] - self.public)
        out["pii_found"] = found
        return out


class RawLogStream:
    """Raw production-log lines kept for ``retain_hours``: one file per hour and process, mode 0600 in a 0700
    folder; files of hours older than the retention are deleted (checked once a minute at most)."""

    def __init__(self, folder: Path, retain_hours: int) -> None:
        self.folder = Path(folder)
        self.retain_hours = retain_hours
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(self.folder, 0o700)
        self._suffix = f"-{_safe_host()}-{os.getpid()}.jsonl"
        self._pruned_at = 0.0

    def write(self, data: bytes) -> None:
        now = datetime.now(UTC)
        path = self.folder / f"requests-{now.strftime('%Y%m%dT%H')}{self._suffix}"
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)
        self.prune(now)

    def prune(self, now: datetime, force: bool = False) -> list[Path]:
        """Delete the files of hours that ended more than ``retain_hours`` ago; returns them."""
        if not force and time.monotonic() - self._pruned_at < RAW_PRUNE_EVERY_S:
            return []
        self._pruned_at = time.monotonic()
        cutoff = now.timestamp() - self.retain_hours * 3600
        removed = []
        for path in self.folder.glob("requests-*.jsonl"):
            try:
                hour = datetime.strptime(path.name[len("requests-") :][:11], "%Y%m%dT%H").replace(tzinfo=UTC)
            except ValueError:
                continue
            if hour.timestamp() + 3600 <= cutoff:
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
                    removed.append(path)
        return removed


class ProductionLogWriter:
    """Append JSON lines to ``<log_dir>/requests.jsonl`` from a background thread.

    ``submit`` never blocks: when the queue is full the record is dropped and counted. Lines are written with one
    ``os.write`` on an ``O_APPEND`` descriptor per batch, so several model instances (separate processes) can share
    the file. When the file would grow past ``rotate_bytes`` it is renamed to
    ``requests-<UTC timestamp>-<host>-<pid>-<n>.jsonl`` first. A failed write is retried once (from the first byte
    not yet written, so nothing is written twice); a batch that fails again is lost and counted.

    Losses are visible to monitoring: ``dropped`` (queue full), ``failed_writes`` and ``failed_records`` (batches
    and records lost to write errors) are written, with per-minute counts, to the JSON file ``status_path`` under
    ``<log_dir>/writer_status/`` (atomically, whenever they change) and to stderr (Triton's log).
    """

    def __init__(
        self,
        log_dir: Path,
        rotate_bytes: int,
        max_queue: int = LOG_QUEUE_SIZE,
        *,
        model_name: str = "",
        model_version: str = "",
        retry_delay_s: float = 0.05,
        scrubber: LogScrubber | None = None,
        raw: RawLogStream | None = None,
        prompt_version: str = "",
    ) -> None:
        self.scrubber, self.raw = scrubber, raw
        self.prompt_version = prompt_version
        self.log_dir = Path(log_dir)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.path = self.log_dir / LOG_FILE
        self.rotate_bytes = rotate_bytes
        self.model_name, self.model_version = model_name, model_version
        self.retry_delay_s = retry_delay_s
        self.dropped = 0
        self.failed_writes = 0
        self.failed_records = 0
        self.retried_writes = 0
        self.status_errors = 0
        self.last_error: str | None = None
        self.started_at = utc_now_iso()
        status_dir = self.log_dir / STATUS_DIR
        self._writer_tag = f"{_safe_host()}-{os.getpid()}"
        self.status_path = status_dir / f"{self._writer_tag}-{secrets.token_hex(4)}.json"
        self._losses: dict[str, dict[str, int]] = {}
        self._lock = threading.Lock()
        self._dirty = False
        _prune_status_files(status_dir)
        self._queue: queue.Queue[dict[str, Any] | None] = queue.Queue(maxsize=max_queue)
        self._thread = threading.Thread(target=self._run, name="prod-log-writer", daemon=True)
        self._thread.start()

    def submit(self, record: dict[str, Any]) -> None:
        """Queue one record (dropped, and counted, when the queue is full); it gets the prompt version served."""
        if self.prompt_version:
            record.setdefault("prompt_version", self.prompt_version)
        try:
            self._queue.put_nowait(record)
        except queue.Full:
            self._count_loss(dropped=1)

    def close(self, timeout: float = 10.0) -> None:
        """Write everything queued so far, then stop the thread (and write the loss counters if they changed)."""
        if self._thread.is_alive():
            with contextlib.suppress(queue.Full):
                self._queue.put(None, timeout=timeout)
            self._thread.join(timeout)
        self._flush_status()

    def counters(self) -> dict[str, int]:
        """``dropped``, ``failed_writes``, ``failed_records`` and ``retried_writes`` so far."""
        with self._lock:
            return {
                "dropped": self.dropped,
                "failed_writes": self.failed_writes,
                "failed_records": self.failed_records,
                "retried_writes": self.retried_writes,
            }

    def _count_loss(self, dropped: int = 0, failed_records: int = 0, failed_writes: int = 0) -> None:
        minute = datetime.now(UTC).strftime("%Y-%m-%dT%H:%MZ")
        with self._lock:
            self.dropped += dropped
            self.failed_records += failed_records
            self.failed_writes += failed_writes
            first_in_minute = minute not in self._losses
            bucket = self._losses.setdefault(minute, {"dropped": 0, "failed_records": 0, "failed_writes": 0})
            bucket["dropped"] += dropped
            bucket["failed_records"] += failed_records
            bucket["failed_writes"] += failed_writes
            if first_in_minute and len(self._losses) > STATUS_MINUTES_KEPT:
                for old in sorted(self._losses)[: len(self._losses) - STATUS_MINUTES_KEPT]:
                    del self._losses[old]
            self._dirty = True
        if first_in_minute:  # one line a minute at most: a full queue must not flood Triton's log
            print(
                f"[prod-log-writer] production-log records lost (dropped {self.dropped}, failed writes "
                f"{self.failed_writes}, last error {self.last_error}); counts in {self.status_path}",
                file=sys.stderr,
                flush=True,
            )

    def _flush_status(self) -> None:
        """Write the counters to ``status_path`` (temp file + rename) when they changed since the last write."""
        with self._lock:
            if not self._dirty:
                return
            self._dirty = False
            status = {
                "host": socket.gethostname(),
                "pid": os.getpid(),
                "model_name": self.model_name,
                "model_version": self.model_version,
                "log_file": str(self.path),
                "started_at": self.started_at,
                "updated_at": utc_now_iso(),
                "dropped": self.dropped,
                "failed_writes": self.failed_writes,
                "failed_records": self.failed_records,
                "retried_writes": self.retried_writes,
                "last_error": self.last_error,
                "losses_by_minute": {k: dict(v) for k, v in sorted(self._losses.items())},
            }
        tmp = self.status_path.with_name(f".{self.status_path.name}.tmp")
        try:
            self.status_path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(json.dumps(status, indent=1, sort_keys=True), encoding="utf-8")
            os.replace(tmp, self.status_path)
        except OSError as exc:  # the same broken disk: stderr (Triton's log) still says it
            with self._lock:
                self.status_errors += 1
                self._dirty = True
            print(f"[prod-log-writer] cannot write {self.status_path}: {exc!r}", file=sys.stderr, flush=True)

    def _run(self) -> None:
        stop = False
        while not stop:
            try:
                item = self._queue.get(timeout=5.0)
            except queue.Empty:
                self._flush_status()
                continue
            batch: list[dict[str, Any]] = []
            if item is None:
                stop = True
            else:
                batch.append(item)
            while not stop and len(batch) < LOG_BATCH_LINES:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                else:
                    batch.append(item)
            if batch and self.raw is not None:
                try:
                    self.raw.write(self._encode(batch))
                except Exception as exc:  # the raw copy is optional: the scrubbed line is still written
                    self.last_error = repr(exc)
                    print(f"[prod-log-writer] raw copy not written: {exc!r}", file=sys.stderr, flush=True)
            if batch and self.scrubber is not None:
                batch = self._scrub(batch)
            if batch:
                try:
                    if self._write(batch):
                        with self._lock:
                            self.retried_writes += 1
                except Exception as exc:  # never let a disk problem kill the writer
                    self.last_error = repr(exc)
                    self._count_loss(failed_records=len(batch), failed_writes=1)
            self._flush_status()

    def _scrub(self, batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The batch scrubbed; a record the scrubber fails on is lost (and counted), never written raw."""
        assert self.scrubber is not None
        out = []
        for record in batch:
            try:
                out.append(self.scrubber(record))
            except Exception as exc:
                self.last_error = f"scrubbing failed: {exc!r}"
                self._count_loss(failed_records=1)
        return out

    @staticmethod
    def _encode(batch: list[dict[str, Any]]) -> bytes:
        return "".join(json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in batch).encode("utf-8")

    def _write(self, batch: list[dict[str, Any]]) -> bool:
        """Append the batch; returns True when it took the one retry."""
        data = self._encode(batch)
        self._maybe_rotate(len(data))
        view = memoryview(data)
        retried = False
        while True:
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
                try:
                    while view:
                        view = view[self._write_fd(fd, view) :]
                finally:
                    os.close(fd)
                return retried
            except OSError as exc:
                if retried:
                    raise
                retried = True
                self.last_error = repr(exc)
                time.sleep(self.retry_delay_s)

    @staticmethod
    def _write_fd(fd: int, view: memoryview) -> int:
        return os.write(fd, view)

    def _maybe_rotate(self, incoming: int) -> None:
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            return
        if size == 0 or size + incoming <= self.rotate_bytes:
            return
        # Host and process in the name: two instances (or hosts sharing the folder) rotating in the same
        # microsecond never pick the same name, so one rotated segment can never replace another.
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        n = 0
        while (self.log_dir / f"requests-{stamp}-{self._writer_tag}-{n}.jsonl").exists():
            n += 1
        try:
            os.rename(self.path, self.log_dir / f"requests-{stamp}-{self._writer_tag}-{n}.jsonl")
        except FileNotFoundError:  # another instance rotated it first
            pass
        except OSError as exc:  # keep appending to the big file rather than lose records
            self.last_error = repr(exc)


def _prune_status_files(status_dir: Path) -> None:
    """Remove the status files of writers gone for two weeks (every restart starts a new one)."""
    if not status_dir.is_dir():
        return
    cutoff = time.time() - STATUS_FILES_KEPT_S
    for path in status_dir.glob("*.json"):
        with contextlib.suppress(OSError):
            if path.stat().st_mtime < cutoff:
                path.unlink()


_ROW_CONTROLS: tuple[Any, Any] | None = None


def _row_controls() -> tuple[Any, Any]:
    """``(RowLimits, RowTemperature)``: per-row generation controls, built on first use (transformers is imported
    lazily so that this file stays importable without it)."""
    global _ROW_CONTROLS
    if _ROW_CONTROLS is not None:
        return _ROW_CONTROLS
    import torch
    from transformers import LogitsProcessor, StoppingCriteria

    class RowLimits(StoppingCriteria):
        """Row ``i`` is done once it has generated ``limits[i]`` tokens."""

        def __init__(self, prompt_len: int, limits: list[int]) -> None:
            self.prompt_len = prompt_len
            self.limits = torch.tensor(limits, dtype=torch.long)

        def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
            generated = input_ids.shape[1] - self.prompt_len
            return self.limits.to(input_ids.device) <= generated

    class RowTemperature(LogitsProcessor):
        """Divide row ``i``'s logits by ``temperatures[i]``; a row at 0 keeps only its arg-max (greedy)."""

        def __init__(self, temperatures: list[float]) -> None:
            self.temperatures = torch.tensor([t if t > 0 else 1.0 for t in temperatures], dtype=torch.float32)
            self.greedy = torch.tensor([t <= 0 for t in temperatures], dtype=torch.bool)

        def __call__(self, input_ids: Any, scores: Any) -> Any:
            scaled = scores / self.temperatures.to(scores.device, scores.dtype).unsqueeze(1)
            if bool(self.greedy.any()):
                best = scores.argmax(dim=-1, keepdim=True)
                only_best = torch.full_like(scores, float("-inf")).scatter(1, best, 0.0)
                scaled = torch.where(self.greedy.to(scores.device).unsqueeze(1), only_best, scaled)
            return scaled

    _ROW_CONTROLS = (RowLimits, RowTemperature)
    return _ROW_CONTROLS


class RequestError(ValueError):
    """A request the client got wrong; its message (about the client's own input only) is returned to the client."""


def new_request_id() -> str:
    """A server-assigned request id: 32 hex digits, the nanosecond clock then 64 random bits, so ids sort by time
    and never collide across model instances or restarts."""
    return f"{time.time_ns():016x}{secrets.token_hex(8)}"


def _client_request_id(request: Any) -> str:
    """Triton's request id (the client's choice; ``""`` when it sent none), cut to a sane length for the log."""
    try:
        return str(request.request_id() or "")[:200]
    except Exception:
        return ""


def new_error_id() -> str:
    """A short random id that ties a generic client-facing error to the full exception in Triton's log."""
    return uuid.uuid4().hex[:12]


def placement(kind: str, device_id: str, cuda_available: bool, bf16_supported: bool) -> tuple[str, str]:
    """Where an instance runs and in which precision: ``("cuda:<device_id>", "bfloat16")`` for a ``KIND_GPU``
    instance on a device that supports bfloat16 (``float32`` on one that does not), ``("cpu", "float32")`` for any
    other kind.

    Raises:
        RuntimeError: Triton placed the instance on a GPU but this process sees no CUDA device (serving on the CPU
            instead would be silently slow).
    """
    if str(kind).upper().removeprefix("KIND_") != "GPU":
        return "cpu", "float32"
    if not cuda_available:
        raise RuntimeError(f"instance kind GPU (device {device_id}) but torch sees no CUDA device")
    return f"cuda:{int(device_id or 0)}", "bfloat16" if bf16_supported else "float32"


def completion_length(tokens: list[int], eos_token_id: int | None, pad_token_id: int | None) -> int:
    """Tokens a row generated: up to and including its first end-of-sequence token; the padding ``generate`` adds
    after a row that finished early (the pad token, or the end-of-sequence token when they are the same) is not
    generated text."""
    stop = {t for t in (eos_token_id, pad_token_id) if t is not None}
    for n, token in enumerate(tokens):
        if token in stop:
            return n + 1 if token == eos_token_id else n
    return len(tokens)


class _Row:
    """One prompt of one request."""

    __slots__ = (
        "completion_tokens",
        "error",
        "max_new_tokens",
        "prompt",
        "prompt_tokens",
        "request_index",
        "response",
        "row",
        "temperature",
    )

    def __init__(self, request_index: int, row: int, prompt: str, max_new_tokens: int, temperature: float) -> None:
        self.request_index = request_index
        self.row = row
        self.prompt = prompt
        self.max_new_tokens = max_new_tokens
        self.temperature = temperature
        self.response: str | None = None
        self.error: str | None = None
        self.prompt_tokens = 0  # the rendered prompt's tokens (the template included), padding left out
        self.completion_tokens = 0  # tokens generated for this row, up to and including an end-of-sequence token


class TritonPythonModel:
    """Causal-LM text generation with dynamic batching and production logging."""

    # initialize() reads the version's own (read_prompt); these serve a folder that has none
    prompt_template: str = PROMPT_TEMPLATE
    prompt_version: str = UNVERSIONED_PROMPT
    device: str = "cpu"  # initialize() places the model (placement)
    dtype: str = "float32"

    def initialize(self, args: dict[str, str]) -> None:
        """Load tokenizer and weights from ``<version>/model/`` and start the log writer."""
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.model_config = json.loads(args["model_config"])
        params = model_parameters(self.model_config)
        self.model_name = params.get("model_name") or args.get("model_name", "")
        self.model_version = str(args.get("model_version", ""))
        self.max_prompt_chars = _int_param(params, "max_prompt_chars", DEFAULT_MAX_PROMPT_CHARS)
        self.default_max_new_tokens = _int_param(params, "default_max_new_tokens", DEFAULT_MAX_NEW_TOKENS)
        self.max_new_tokens_limit = _int_param(params, "max_new_tokens_limit", DEFAULT_MAX_NEW_TOKENS_LIMIT)
        rotate_bytes = _int_param(params, "log_rotate_bytes", DEFAULT_LOG_ROTATE_BYTES, minimum=1024)

        instances = sum(int(g.get("count", 1)) for g in self.model_config.get("instance_group", [])) or 1
        # Small models decode faster on one thread than on two contended ones: one thread per two cores.
        default_threads = max(1, min(4, (os.cpu_count() or 1) // (2 * instances)))
        torch.set_num_threads(_int_param(params, "torch_num_threads", default_threads))
        with contextlib.suppress(RuntimeError):  # only allowed once per process, before any parallel work
            torch.set_num_interop_threads(1)

        weights = self._weights_dir(args)
        self.tokenizer: Any = AutoTokenizer.from_pretrained(weights, local_files_only=True, trust_remote_code=False)
        self.tokenizer.padding_side = "left"  # decoder-only: generated tokens must follow the prompt directly
        self.tokenizer.truncation_side = "left"  # keep the end of an over-long prompt (the "### Response:" cue)
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.model: Any = AutoModelForCausalLM.from_pretrained(
            weights, local_files_only=True, trust_remote_code=False, use_safetensors=True
        )
        cuda = bool(torch.cuda.is_available())
        bf16 = cuda and bool(torch.cuda.is_bf16_supported())
        kind, device_id = args.get("model_instance_kind", "CPU"), args.get("model_instance_device_id", "0")
        self.device, self.dtype = placement(kind, device_id, cuda, bf16)
        model: Any = self.model
        model.to(device=self.device, dtype=getattr(torch, self.dtype))
        self.model.eval()
        self.prompt_template, self.prompt_version = read_prompt(Path(weights))
        cfg = self.model.config
        self.context_length = int(
            getattr(cfg, "max_position_embeddings", None) or getattr(cfg, "n_positions", None) or 2048
        )

        log_dir = params.get("log_dir", "").strip()
        if not log_dir:
            raise ValueError("model parameter log_dir is required (set it in config.pbtxt)")
        scrubber = None
        if params.get("log_scrub", "true").strip().lower() != "false":
            contacts = json.loads(params.get("public_contacts") or "[]")
            if not isinstance(contacts, list) or not all(isinstance(c, str) for c in contacts):
                raise ValueError("model parameter public_contacts must be a JSON list of strings")
            scrubber = LogScrubber(contacts, Path(__file__).resolve().parent / SCRUB_DIR)
        raw = None
        retain_raw_hours = _int_param(params, "retain_raw_hours", 0, minimum=0)
        if retain_raw_hours:
            raw_dir = params.get("raw_log_dir", "").strip()
            if not raw_dir:
                raise ValueError("model parameter raw_log_dir is required when retain_raw_hours > 0")
            raw = RawLogStream(Path(raw_dir), retain_raw_hours)
        self.log_writer = ProductionLogWriter(
            Path(log_dir),
            rotate_bytes,
            model_name=self.model_name,
            model_version=self.model_version,
            scrubber=scrubber,
            raw=raw,
            prompt_version=self.prompt_version,
        )
        self._log(
            "info",
            f"loaded {self.model_name} version {self.model_version} from {weights} with prompt {self.prompt_version} "
            f"on {self.device} in {self.dtype} (context {self.context_length} tokens, logging to {log_dir}, "
            f"{'PII scrubbed' if scrubber else 'PII NOT scrubbed'}, raw text kept {retain_raw_hours} h)",
        )

    @staticmethod
    def _weights_dir(args: dict[str, str]) -> Path:
        repo, version = args.get("model_repository"), args.get("model_version")
        if repo and version:
            candidate = Path(repo) / str(version) / "model"
            if candidate.is_dir():
                return candidate
        candidate = Path(__file__).resolve().parent / "model"
        if not candidate.is_dir():
            raise FileNotFoundError(f"no model directory next to {__file__}")
        return candidate

    # Requests ------------------------------------------------------------------------------------------------

    def _parse_request(self, index: int, request: Any) -> list[_Row]:
        """Turn one request into rows; raises :class:`RequestError` with a client-facing message when it is
        invalid."""
        prompt_tensor = pb_utils.get_input_tensor_by_name(request, "prompt")
        if prompt_tensor is None:
            raise RequestError("input 'prompt' is required")
        prompts = prompt_tensor.as_numpy().reshape(-1)
        n = len(prompts)
        max_new = self._optional(request, "max_new_tokens", n)
        temps = self._optional(request, "temperature", n)
        rows = []
        for i, raw in enumerate(prompts):
            try:
                prompt = raw.decode("utf-8") if isinstance(raw, bytes) else str(raw)
            except UnicodeDecodeError:
                raise RequestError("prompt is not valid UTF-8") from None
            if not prompt.strip():
                raise RequestError("prompt is empty")
            if len(prompt) > self.max_prompt_chars:
                raise RequestError(f"prompt has {len(prompt)} characters; the limit is {self.max_prompt_chars}")
            tokens = self.default_max_new_tokens if max_new is None else int(max_new[i])
            if tokens < 1:
                raise RequestError(f"max_new_tokens must be >= 1, got {tokens}")
            limit = min(self.max_new_tokens_limit, self.context_length - 1)
            if tokens > limit:
                raise RequestError(f"max_new_tokens={tokens} exceeds the limit of {limit}")
            temperature = 0.0 if temps is None else float(temps[i])
            if not math.isfinite(temperature):
                raise RequestError(f"temperature must be a finite number, got {temperature}")
            rows.append(_Row(index, i, prompt, tokens, max(0.0, round(temperature, 4))))
        return rows

    @staticmethod
    def _optional(request: Any, name: str, n: int) -> np.ndarray | None:
        tensor = pb_utils.get_input_tensor_by_name(request, name)
        if tensor is None:
            return None
        values = tensor.as_numpy().reshape(-1)
        if len(values) != n:
            raise RequestError(f"input '{name}' has {len(values)} values for {n} prompts")
        return values

    def _generate(self, rows: list[_Row]) -> list[str]:
        """Generate for every row in ONE batched ``generate`` call; returns the stripped continuations and sets
        each row's ``prompt_tokens`` and ``completion_tokens``.

        Prompts are left-padded (a decoder-only model continues right after the last real token) and the
        attention mask hides the padding; ``generate`` derives position ids from the mask. Each row keeps its own
        ``max_new_tokens`` (a per-row stopping criterion, then a cut) and ``temperature`` (a per-row logits
        processor; greedy rows keep only their arg-max token, so they stay deterministic inside a sampled batch).
        """
        import torch

        limits = [r.max_new_tokens for r in rows]
        temperatures = [r.temperature for r in rows]
        longest = max(limits)
        encoded = self.tokenizer(
            [format_prompt(r.prompt, self.prompt_template) for r in rows],
            return_tensors="pt",
            padding=True,
            truncation=True,
            max_length=max(1, self.context_length - longest),
        )
        prompt_len = int(encoded["input_ids"].shape[1])
        kwargs: dict[str, Any] = {
            "input_ids": encoded["input_ids"].to(self.device),
            "attention_mask": encoded["attention_mask"].to(self.device),
            "max_new_tokens": longest,
            "pad_token_id": self.tokenizer.pad_token_id,
        }
        if self.tokenizer.eos_token_id is not None:
            kwargs["eos_token_id"] = self.tokenizer.eos_token_id
        row_limits, row_temperature = _row_controls()
        if len(set(limits)) > 1:
            kwargs["stopping_criteria"] = [row_limits(prompt_len, limits)]
        if any(t > 0 for t in temperatures):
            kwargs["do_sample"] = True
            kwargs["logits_processor"] = [row_temperature(temperatures)]
        else:
            kwargs["do_sample"] = False
        with torch.inference_mode():
            output = self.model.generate(**kwargs)
        continuation = output[:, prompt_len:]
        for i, (row, limit) in enumerate(zip(rows, limits, strict=True)):
            row.prompt_tokens = int(encoded["attention_mask"][i].sum())
            row.completion_tokens = completion_length(
                continuation[i, :limit].tolist(), self.tokenizer.eos_token_id, self.tokenizer.pad_token_id
            )
        return [
            self.tokenizer.decode(continuation[i, :limit], skip_special_tokens=True).strip()
            for i, limit in enumerate(limits)
        ]

    def execute(self, requests: list[Any]) -> list[Any]:
        """Answer a dynamic batch: validate, generate in one pass, respond, log."""
        started = time.perf_counter()
        try:
            return self._execute(requests, started)
        except Exception as exc:  # a bug must fail the requests, never the model instance
            message = self._internal_error("internal error", f"execute failed for {len(requests)} requests", exc)
            latency_ms = round((time.perf_counter() - started) * 1000.0, 3)
            for request in requests:
                with contextlib.suppress(Exception):
                    self._log_failure(request, None, SERVER_ERROR, message, latency_ms)
            return [self._error(message) for _ in requests]

    def _internal_error(self, what: str, context: str, exc: BaseException) -> str:
        """Log the full exception under a new error id; return the generic message the client gets."""
        error_id = new_error_id()
        detail = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        self._log("error", f"{context} [error id {error_id}]: {exc!r}\n{detail}")
        return f"{what} (error id {error_id})"

    def _execute(self, requests: list[Any], started: float) -> list[Any]:
        rows_by_request: list[list[_Row] | None] = []
        errors: dict[int, tuple[str, str]] = {}  # request index -> (message for the client, error kind)
        for index, request in enumerate(requests):
            try:
                rows_by_request.append(self._parse_request(index, request))
            except RequestError as exc:  # the client's own input: its message helps and reveals nothing
                rows_by_request.append(None)
                errors[index] = (str(exc), CLIENT_ERROR)
            except Exception as exc:  # anything else may name internals: only this request fails, generically
                rows_by_request.append(None)
                errors[index] = (self._internal_error("internal error", "parsing a request failed", exc), SERVER_ERROR)

        # Every valid prompt of every request in the dynamic batch goes through a single generate call.
        batch = [row for request_rows in rows_by_request for row in request_rows or []]
        compute_ms = 0.0
        if batch:
            generating = time.perf_counter()
            try:
                texts = self._generate(batch)
            except Exception as exc:
                message = self._internal_error("generation failed", f"generate failed for {len(batch)} prompts", exc)
                for r in batch:
                    r.error = message
            else:
                for r, text in zip(batch, texts, strict=True):
                    r.response = text
            compute_ms = round((time.perf_counter() - generating) * 1000.0, 3)
        latency_ms = round((time.perf_counter() - started) * 1000.0, 3)
        usage = {"batch_size": len(batch), "compute_ms": compute_ms}

        responses = []
        for index, (request, rows) in enumerate(zip(requests, rows_by_request, strict=True)):
            if rows is None:
                message, kind = errors[index]
                responses.append(self._error(message))
                self._log_failure(request, None, kind, message, latency_ms)
                continue
            failed = next((r.error for r in rows if r.error), None)
            if failed:
                responses.append(self._error(failed))
                self._log_failure(request, rows, SERVER_ERROR, failed, latency_ms)
                continue
            texts = [r.response or "" for r in rows]
            base_id = new_request_id()
            ids = [base_id if len(rows) == 1 else f"{base_id}:{r.row}" for r in rows]
            out = np.array([[t.encode("utf-8")] for t in texts], dtype=np.object_)
            out_ids = np.array([[i.encode("ascii")] for i in ids], dtype=np.object_)
            responses.append(
                pb_utils.InferenceResponse(
                    output_tensors=[pb_utils.Tensor("response", out), pb_utils.Tensor("request_id", out_ids)]
                )
            )
            self._log_rows(request, rows, ids, latency_ms, usage)
        return responses

    def _log_rows(
        self, request: Any, rows: list[_Row], ids: list[str], latency_ms: float, usage: dict[str, Any]
    ) -> None:
        client_id = _client_request_id(request)
        timestamp = utc_now_iso()
        for r, request_id in zip(rows, ids, strict=True):
            self.log_writer.submit(
                {
                    "request_id": request_id,
                    "client_request_id": client_id,
                    "timestamp": timestamp,
                    "model_name": self.model_name,
                    "model_version": self.model_version,
                    "prompt": r.prompt,
                    "response": r.response or "",
                    "latency_ms": latency_ms,
                    "prompt_tokens": r.prompt_tokens,
                    "completion_tokens": r.completion_tokens,
                    **usage,
                }
            )

    def _log_failure(self, request: Any, rows: list[_Row] | None, kind: str, message: str, latency_ms: float) -> None:
        """One log line for a failed request: empty response, ``error`` and ``error_kind`` set."""
        prompt = rows[0].prompt if rows else ""
        self.log_writer.submit(
            {
                "request_id": new_request_id(),
                "client_request_id": _client_request_id(request),
                "timestamp": utc_now_iso(),
                "model_name": self.model_name,
                "model_version": self.model_version,
                "prompt": prompt,
                "response": "",
                "latency_ms": latency_ms,
                "error": message[:500],
                "error_kind": kind,
            }
        )

    @staticmethod
    def _error(message: str) -> Any:
        return pb_utils.InferenceResponse(output_tensors=[], error=pb_utils.TritonError(message))

    def _log(self, level: str, message: str) -> None:
        logger = getattr(pb_utils, "Logger", None) if pb_utils is not None else None
        if logger is None:
            print(f"[{self.__class__.__name__}] {level}: {message}", flush=True)
            return
        {"info": logger.log_info, "warn": logger.log_warn, "error": logger.log_error}.get(level, logger.log_info)(
            message
        )

    def finalize(self) -> None:
        """Flush queued production-log lines before the instance goes away."""
        writer = getattr(self, "log_writer", None)
        if writer is not None:
            writer.close()
            counts = writer.counters()
            if counts["dropped"] or counts["failed_writes"]:
                self._log(
                    "warn",
                    f"production log: {counts['dropped']} records dropped, {counts['failed_records']} records in "
                    f"{counts['failed_writes']} failed writes (last error: {writer.last_error})",
                )
