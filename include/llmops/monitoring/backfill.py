"""Intervals the monitoring missed (scheduler down, DAG paused) are curated by the next run: the watermark.

``llm_production_monitoring`` runs without catchup, so an hour without a run would never be curated. The watermark
``<curated_dir>/monitoring/watermark.json`` names the last interval curated (its key, start and end). The run for
``[start, end)`` first curates, oldest first, every interval of the same length between the watermark's end and
``start`` (:func:`missed_intervals`), exactly as :func:`llmops.monitoring.interval.curate_interval` would, then its own,
then moves the watermark to its own interval (written to a temporary file and renamed; never moved back, so re-running
an old interval curates nothing else).

* At most ``monitoring.max_backfill_intervals`` missed intervals are curated (0: none); when more were missed, the
  oldest are left out and named in the log (a warning).
* An earlier interval that already has its summary is not curated again: a re-run curates only its own interval.
* A missed interval whose logs break the production-log contract is logged and listed (``failed``); the others go on,
  and the run's own interval is judged as always.
* Without a watermark (the first run) nothing earlier is curated.

Lines that arrive after their interval was curated (a log shipped late from another host, a clock behind) are found
by the production-log index (:mod:`llmops.monitoring.logindex`): an earlier interval within the same bound whose
placed lines outnumber what its curation read is curated again (:func:`late_intervals`), with all its lines.

Feedback of the missed intervals is curated by :func:`catch_up_feedback` (its candidates are keyed by the interval
the feedback was given in). Drift reports and alerts stay per run: only the run's own interval is judged for drift.

No Airflow import here.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llmops.config import LLMOpsConfig
from llmops.monitoring.interval import SUMMARY_FILE, IntervalResult, curate_interval, interval_dir, interval_key

if TYPE_CHECKING:
    from llmops.monitoring.feedback import FeedbackResult

log = logging.getLogger(__name__)

WATERMARK_FILE = "watermark.json"


@dataclass
class CatchUp:
    """What a run curated before its own interval.

    Attributes:
        curated: keys of the missed intervals curated now (skipped-as-too-small ones included), oldest first.
        late: keys of earlier intervals curated again because lines of theirs arrived after their curation.
        already: keys of earlier intervals found curated (not redone).
        failed: key -> why the interval could not be curated (its contract broke).
        left_out: keys of missed intervals beyond ``monitoring.max_backfill_intervals`` (not curated).
    """

    curated: list[str] = field(default_factory=list)
    late: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    left_out: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return asdict(self)


def watermark_path(cfg: LLMOpsConfig) -> Path:
    """The watermark file (under the monitoring curated folder)."""
    return cfg.paths.curated_dir / "monitoring" / WATERMARK_FILE


def read_watermark(cfg: LLMOpsConfig) -> datetime | None:
    """The end of the last curated interval, or ``None`` without a (readable) watermark."""
    try:
        data = json.loads(watermark_path(cfg).read_text(encoding="utf-8"))
        return datetime.fromisoformat(str(data["end"]))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning(
            "monitoring watermark %s is unreadable (%s): no missed interval is curated", watermark_path(cfg), exc
        )
        return None


def advance_watermark(cfg: LLMOpsConfig, start: datetime, end: datetime) -> bool:
    """Move the watermark to ``[start, end)`` unless it is already there or later; True when it moved."""
    current = read_watermark(cfg)
    if current is not None and current >= end:
        return False
    path = watermark_path(cfg)
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {"interval": interval_key(start), "start": start.isoformat(), "end": end.isoformat()}
    tmp = path.with_name(f".{WATERMARK_FILE}.tmp")
    tmp.write_text(json.dumps(body, indent=2, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)
    return True


def missed_intervals(
    cfg: LLMOpsConfig, start: datetime, end: datetime
) -> tuple[list[tuple[datetime, datetime]], list[str]]:
    """The intervals of length ``end - start`` between the watermark's end and ``start``, oldest first.

    Returns:
        ``(to curate, left out)``: at most ``monitoring.max_backfill_intervals`` newest ones to curate, and the keys
        of the older ones left out.
    """
    mark = read_watermark(cfg)
    step = end - start
    if mark is None or step <= timedelta(0):
        return [], []
    missed: list[tuple[datetime, datetime]] = []
    at = mark
    while at + step <= start:
        missed.append((at, at + step))
        at += step
    limit = cfg.monitoring.max_backfill_intervals
    kept = missed[len(missed) - limit :] if limit else []
    return kept, [interval_key(s) for s, _ in missed[: len(missed) - len(kept)]]


def catch_up(
    cfg: LLMOpsConfig,
    start: datetime,
    end: datetime,
    curate: Callable[[LLMOpsConfig, datetime, datetime], IntervalResult] = curate_interval,
) -> CatchUp:
    """Curate the intervals missed before ``[start, end)`` (see the module's description); not the run's own."""
    from llmops.data.gates import DataContractError

    todo, left_out = missed_intervals(cfg, start, end)
    out = CatchUp(left_out=left_out)
    if left_out:
        log.warning(
            "%d missed intervals are older than monitoring.max_backfill_intervals=%d allows and are not curated: %s",
            len(left_out),
            cfg.monitoring.max_backfill_intervals,
            ", ".join(left_out),
        )

    def run_one(s: datetime, e: datetime, done: list[str], what: str) -> None:
        key = interval_key(s)
        try:
            result = curate(cfg, s, e)
        except DataContractError as exc:
            log.warning("%s %s not curated: %s", what, key, exc)
            out.failed[key] = str(exc)
            return
        log.info("%s %s curated: %s", what, key, result.reason)
        done.append(key)

    for s, e in late_intervals(cfg, start, end):
        run_one(s, e, out.late, "interval with late lines")
    for s, e in todo:
        if (interval_dir(cfg, interval_key(s)) / SUMMARY_FILE).is_file():
            out.already.append(interval_key(s))
            continue
        run_one(s, e, out.curated, "missed interval")
    return out


def late_intervals(cfg: LLMOpsConfig, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """The earlier intervals (up to ``monitoring.max_backfill_intervals`` before ``start``) that were curated and
    that lines arrived for since: the log index places more lines in them than their curation read (a log shipped
    late from another host, a clock behind, a line finished after its interval ran). Oldest first.

    Curating one again rebuilds its partition, quarantine and request index from all its lines (no line twice) and
    updates its summary; its drift report and alerts are not redone.
    """
    from llmops.monitoring.interval import log_index, read_interval_result

    step = end - start
    index = log_index(cfg)
    index.update(final_before=start)
    out: list[tuple[datetime, datetime]] = []
    for back in range(cfg.monitoring.max_backfill_intervals, 0, -1):
        s = start - back * step
        summary = read_interval_result(interval_dir(cfg, interval_key(s)) / SUMMARY_FILE)
        placed = index.placed(s, s + step)
        if summary is not None and placed is not None and placed > summary.lines_read:
            out.append((s, s + step))
    return out


def feedback_backlog(cfg: LLMOpsConfig, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """The earlier intervals (up to ``monitoring.max_backfill_intervals`` before ``start``) whose logs are curated but
    whose feedback is not, oldest first."""
    from llmops.monitoring.feedback import SUMMARY_FILE as FEEDBACK_SUMMARY
    from llmops.monitoring.feedback import candidates_dir

    step = end - start
    out: list[tuple[datetime, datetime]] = []
    for back in range(cfg.monitoring.max_backfill_intervals, 0, -1):
        s = start - back * step
        key = interval_key(s)
        curated = (interval_dir(cfg, key) / SUMMARY_FILE).is_file()
        if curated and not (candidates_dir(cfg) / f"interval={key}" / FEEDBACK_SUMMARY).is_file():
            out.append((s, s + step))
    return out


def catch_up_feedback(
    cfg: LLMOpsConfig,
    start: datetime,
    end: datetime,
    reference: Path | None,
    curate: Callable[..., FeedbackResult] | None = None,
) -> list[FeedbackResult]:
    """Curate the feedback of the intervals of :func:`feedback_backlog` (each as its own run would); their results,
    oldest first."""
    from llmops.monitoring.feedback import curate_feedback

    run_one = curate or curate_feedback
    results = []
    for s, e in feedback_backlog(cfg, start, end):
        result = run_one(cfg, s, e, reference)
        log.info("feedback of missed interval %s: %d candidates", result.key, result.candidates)
        results.append(result)
    return results
