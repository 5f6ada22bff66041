"""Automatic rollback: watch a freshly promoted champion against the version it replaced, on live figures.

For ``monitoring.rollback_watch_intervals`` monitored intervals after a promotion or a prompt release (intervals
that saw traffic, from the one holding the promotion on), the figures of the requests the new champion answered are
compared with those the previous version answered in the window before the promotion: error rate (share of its
requests that failed in the server or whose log records the production-log contract quarantined; records set aside for
a reused ``request_id`` are not the version's doing and do not count), empty-response rate, latency p95, feedback score
(share of thumbs up) and what the answers say (a rate of ``monitoring.rollback_safety``, e.g. the PII-leak or toxic
rate, above its bound in ``max_safety_rates``). Intervals skipped for too few answered rows still count (a version
that fails every request leaves no partition, only failed-request counts).
Without figures for the previous version, the new one is held to the absolute bounds of the ``monitoring:`` section.
A breach rolls back through :func:`llmops.serving.rollback.rollback` (the logic of ``llm_rollback``), with the
breached figures as the recorded reason.

No Airflow import here. Deciding (:func:`decide_rollback`) is pure; :func:`watch_champion` gathers the figures and
calls the rollback function it is given.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from llmops.config import LLMOpsConfig, MonitoringConfig
from llmops.monitoring.interval import (
    PARTITION_FILE,
    interval_dir,
    interval_key,
    interval_quarantine_path,
    partition_path,
    partitions_dir,
    read_interval_result,
)
from llmops.monitoring.interval import SUMMARY_FILE as INTERVAL_SUMMARY

log = logging.getLogger(__name__)


@dataclass
class VersionFigures:
    """Live figures of one model version over some intervals (``None``: not measured)."""

    requests: int = 0
    error_rate: float | None = None
    empty_response_rate: float | None = None
    latency_p95_ms: float | None = None
    feedback_score: float | None = None
    feedback_count: int = 0
    # scorer -> [flagged, scored] answers (the monitoring's safety flags)
    safety: dict[str, list[int]] = field(default_factory=dict)

    def safety_rate(self, scorer: str) -> float | None:
        flagged, scored = self.safety.get(scorer, [0, 0])
        return flagged / scored if scored else None


@dataclass
class RollbackDecision:
    """``rollback`` with its ``reason``; ``breaches`` names the figures that broke their bound."""

    rollback: bool
    reason: str
    breaches: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return asdict(self)


def decide_rollback(new: VersionFigures, previous: VersionFigures | None, cfg: MonitoringConfig) -> RollbackDecision:
    """Compare the new champion's figures with the previous version's (or the absolute bounds).

    Args:
        new: figures of the new champion since its promotion.
        previous: figures of the version it replaced before the promotion; ``None`` or empty: absolute bounds.
        cfg: tolerances (``rollback_*``), absolute bounds and the minimum number of requests to judge.

    Returns:
        The decision; no rollback while the new champion answered fewer than ``rollback_min_requests`` requests.
    """
    if new.requests < cfg.rollback_min_requests:
        return RollbackDecision(
            False, f"{new.requests} requests served by the new champion < {cfg.rollback_min_requests}"
        )
    base = previous if previous is not None and previous.requests >= cfg.rollback_min_requests else None
    breaches: list[str] = []

    def worse(name: str, value: float | None, ref: float | None, limit: float, text: str) -> None:
        if value is not None and ref is not None and value > limit:
            breaches.append(f"{name} {text.format(value=value, ref=ref, limit=limit)}")

    if base is not None:
        worse(
            "error_rate",
            new.error_rate,
            base.error_rate,
            (base.error_rate or 0.0) + cfg.rollback_max_error_rate_increase,
            "{value:.1%} > previous {ref:.1%} + tolerance (limit {limit:.1%})",
        )
        worse(
            "empty_response_rate",
            new.empty_response_rate,
            base.empty_response_rate,
            (base.empty_response_rate or 0.0) + cfg.rollback_max_empty_rate_increase,
            "{value:.1%} > previous {ref:.1%} + tolerance (limit {limit:.1%})",
        )
        worse(
            "latency_p95_ms",
            new.latency_p95_ms,
            base.latency_p95_ms,
            (base.latency_p95_ms or 0.0) * (1.0 + cfg.rollback_max_latency_increase),
            "{value:.0f} ms > previous {ref:.0f} ms x (1 + tolerance) (limit {limit:.0f} ms)",
        )
        if (
            new.feedback_score is not None
            and base.feedback_score is not None
            and min(new.feedback_count, base.feedback_count) >= cfg.rollback_min_feedback
            and new.feedback_score < base.feedback_score - cfg.rollback_max_feedback_drop
        ):
            breaches.append(
                f"feedback_score {new.feedback_score:.2f} < previous {base.feedback_score:.2f} - "
                f"{cfg.rollback_max_feedback_drop:.2f}"
            )
    else:
        worse("error_rate", new.error_rate, 0.0, cfg.max_error_rate, "{value:.1%} > bound {limit:.1%}")
        worse(
            "empty_response_rate",
            new.empty_response_rate,
            0.0,
            cfg.max_empty_response_rate,
            "{value:.1%} > bound {limit:.1%}",
        )
        worse(
            "latency_p95_ms", new.latency_p95_ms, 0.0, cfg.max_latency_p95_ms, "{value:.0f} ms > bound {limit:.0f} ms"
        )
    # What the answers say: a rate of rollback_safety above its bound rolls back, unless the previous version's was
    # above it too (rolling back would not help; the interval's alert says so).
    for scorer in cfg.rollback_safety:
        bound = cfg.max_safety_rates[scorer]
        rate = new.safety_rate(scorer)
        before = base.safety_rate(scorer) if base is not None else None
        if rate is None or rate <= bound or (before is not None and before > bound):
            continue
        flagged, scored = new.safety[scorer]
        was = f"previous {before:.1%}" if before is not None else "previous not measured"
        breaches.append(f"{scorer}_rate {rate:.1%} ({flagged} of {scored} answers) > bound {bound:.1%} ({was})")
    against = "the previous version" if base is not None else "the absolute bounds (no figures of the previous version)"
    if breaches:
        return RollbackDecision(True, f"new champion worse than {against}: " + "; ".join(breaches), breaches)
    return RollbackDecision(False, f"new champion within tolerance of {against}")


def _last_promotion(cfg: LLMOpsConfig, champion: str) -> dict[str, Any] | None:
    from llmops.registry import registry
    from llmops.serving.champion import promotion_log_path

    events = [e for e in registry.read_events(promotion_log_path(cfg)) if str(e.get("to_version")) == champion]
    return events[-1] if events and events[-1].get("kind") in registry.PROMOTING_KINDS else None


def _parse(at: str) -> datetime | None:
    try:
        value = datetime.fromisoformat(at)
    except (TypeError, ValueError):
        return None
    return value if value.tzinfo else None


def _quarantined_by_version(cfg: LLMOpsConfig, key: str) -> dict[str, int]:
    import pandas as pd

    path = interval_quarantine_path(cfg, key)
    counts: dict[str, int] = {}
    if not path.is_file():
        return counts
    for raw in pd.read_parquet(path, columns=["raw"])["raw"]:
        try:
            version = str(json.loads(raw).get("model_version"))
        except (TypeError, ValueError, AttributeError):
            continue
        counts[version] = counts.get(version, 0) + 1
    return counts


def _server_errors(cfg: LLMOpsConfig, key: str, version: str) -> int:
    result = read_interval_result(interval_dir(cfg, key) / INTERVAL_SUMMARY)
    return result.server_errors_by_version.get(version, 0) if result is not None else 0


def monitored_intervals(cfg: LLMOpsConfig) -> list[str]:
    """Keys of the monitored intervals that saw traffic, oldest first: those with a partition, and those skipped as
    too small that still hold requests (answered or failed). Intervals without any request do not count."""
    base = partitions_dir(cfg)
    if not base.is_dir():
        return []
    keys = []
    for folder in base.glob("interval=*"):
        if not (folder / PARTITION_FILE).is_file():
            result = read_interval_result(folder / INTERVAL_SUMMARY)
            if result is None or not (result.rows_read or result.failed_requests):
                continue
        keys.append(folder.name.split("=", 1)[1])
    return sorted(keys)


def version_figures(cfg: LLMOpsConfig, keys: list[str], version: str) -> VersionFigures:
    """Figures of ``version`` over the intervals ``keys`` (their partitions, summaries, quarantine and feedback).

    Requests = answered rows + rows the contract quarantined + failed requests (``error_kind`` other than
    ``client``); the error rate is the share of the last two.
    """
    import pandas as pd

    from llmops.monitoring.feedback import SUMMARY_FILE, candidates_dir
    from llmops.monitoring.monitor import live_figures

    frames = []
    quarantined = errors = up = down = 0
    safety: dict[str, list[int]] = {}
    for key in keys:
        curated = read_interval_result(interval_dir(cfg, key) / INTERVAL_SUMMARY)
        for scorer, (flagged, scored) in (curated.safety_by_version.get(version, {}) if curated else {}).items():
            total_flags = safety.setdefault(scorer, [0, 0])
            total_flags[0] += int(flagged)
            total_flags[1] += int(scored)
        part = partition_path(cfg, key)
        if part.is_file():
            frame = pd.read_parquet(part, columns=["model_version", "response", "latency_ms"])
            frames.append(frame[frame["model_version"].astype(str) == version])
        quarantined += _quarantined_by_version(cfg, key).get(version, 0)
        errors += _server_errors(cfg, key, version)
        summary = candidates_dir(cfg) / f"interval={key}" / SUMMARY_FILE
        if summary.is_file():
            votes = json.loads(summary.read_text(encoding="utf-8")).get("by_version", {}).get(version, [0, 0])
            up, down = up + int(votes[0]), down + int(votes[1])
    rows = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["response", "latency_ms"])
    figures = live_figures(rows)
    total = len(rows) + quarantined + errors
    return VersionFigures(
        requests=total,
        error_rate=(quarantined + errors) / total if total else None,
        empty_response_rate=figures.get("empty_response_rate"),
        latency_p95_ms=figures.get("latency_p95_ms"),
        feedback_score=up / (up + down) if up + down else None,
        feedback_count=up + down,
        safety=safety,
    )


def watch_champion(
    cfg: LLMOpsConfig,
    key: str,
    run_key: str,
    at: datetime,
    rollback_fn: Callable[..., Mapping[str, Any]],
) -> dict[str, Any]:
    """During the watch after a promotion, compare the champion with the previous version; roll back on a breach.

    Args:
        cfg: configuration.
        key: the interval being monitored (its partition and the earlier ones are read).
        run_key: the Airflow run (recorded with a rollback).
        at: the interval end (the rollback event's time).
        rollback_fn: ``rollback(cfg, target, run_key, at, reason, expected_champion=...)``, e.g.
            :func:`llmops.serving.rollback.rollback`.

    Returns:
        ``{"watching", "reason", "champion", "previous", "decision", "new", "old", "rollback"}`` (``rollback`` is
        the rollback function's result, or ``None``).
    """
    from llmops.registry import registry

    out: dict[str, Any] = {"watching": False, "rollback": None, "decision": None}
    champion = registry.alias_version(cfg, registry.CHAMPION)
    event = _last_promotion(cfg, champion) if champion else None
    promoted_at = _parse(str(event.get("at"))) if event else None
    if champion is None or event is None or promoted_at is None or not event.get("from_version"):
        out["reason"] = "no promotion of the current champion to watch (or it replaced nothing)"
        return out
    previous = str(event["from_version"])
    out.update(champion=champion, previous=previous)
    promoted_key = interval_key(promoted_at)
    keys = monitored_intervals(cfg)
    # The interval holding the promotion (the last one starting at or before it) is the first watched one: the
    # figures are per version, so the old version's requests in it do not count against the new one.
    holding = max((k for k in keys if k <= promoted_key), default=promoted_key)
    after = [k for k in keys if holding <= k <= key]
    if len(after) > cfg.monitoring.rollback_watch_intervals or key not in after:
        out["reason"] = f"champion {champion} is past its watch of {cfg.monitoring.rollback_watch_intervals} intervals"
        return out
    # The previous version answered the requests of the holding interval before the promotion: they count for it.
    before = [k for k in keys if k <= holding][-cfg.monitoring.window_intervals :]
    new, old = version_figures(cfg, after, champion), version_figures(cfg, before, previous)
    decision = decide_rollback(new, old, cfg.monitoring)
    out.update(watching=True, reason=decision.reason, decision=decision.to_dict(), new=asdict(new), old=asdict(old))
    log.info(
        "rollback watch of champion %s (interval %d of %d): %s",
        champion,
        len(after),
        cfg.monitoring.rollback_watch_intervals,
        decision.reason,
    )
    if decision.rollback:
        reason = f"automatic rollback from monitoring interval {key}: {decision.reason}"
        out["rollback"] = dict(rollback_fn(cfg, previous, run_key, at.isoformat(), reason, expected_champion=champion))
    return out
