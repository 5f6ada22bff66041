"""What the platform's state is, gathered for the LLMOps page of the Airflow UI (``llmops_airflow.ui``).

Read-only, from the places that hold it: the MLflow registry (champion, challenger, every version with its verdicts
and their reasons, the prompt it serves), the audit log (promotions, rollbacks, prompt releases, erasures, with
whether the hash chain holds), the monitoring summaries of every interval (drift share, safety rates, latency, tokens,
cost) and the feedback summaries (thumbs-up share), and the report files the pipeline wrote. Nothing here writes.
No Airflow import.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from llmops.config import LLMOpsConfig

log = logging.getLogger(__name__)

# Changes of the champion shown as marks on the plots.
CHAMPION_CHANGES = ("promotion", "rollback", "prompt_release")


@dataclass(frozen=True)
class VersionInfo:
    """One registered model version: what it is, what decided it, and why."""

    version: str
    aliases: tuple[str, ...]
    created: str  # ISO 8601, UTC
    run_id: str
    run_key: str
    kind: str  # "training" or "prompt_release"
    prompt: str  # <name>/<version> of the prompt it was trained or released with
    passed: bool | None  # the registration gate's verdict (None: not recorded)
    reason: str  # the registration gate's reason
    verdicts: dict[str, dict[str, Any]]  # gate -> {"passed", "reason"} of every verdict tagged on the version
    metrics: dict[str, float]  # the evaluation metrics tagged on the version
    description: str


@dataclass(frozen=True)
class IntervalPoint:
    """The figures of one monitored interval (``metrics`` as the monitoring summary logged them)."""

    key: str
    start: str  # ISO 8601, UTC
    champion_version: str | None
    metrics: dict[str, float]
    alerts: tuple[str, ...]
    drift_reason: str
    reports: dict[str, str]  # name -> path of the interval's report files
    mlflow_run_id: str | None


@dataclass
class Overview:
    """Everything the LLMOps page shows; ``problems`` lists what could not be read (shown, never hidden)."""

    model: str
    champion: str | None = None
    challenger: str | None = None
    serving_prompt: str = ""
    versions: list[VersionInfo] = field(default_factory=list)
    timeline: list[dict[str, Any]] = field(default_factory=list)
    chain_holds: bool = True
    chain_reason: str = ""
    intervals: list[IntervalPoint] = field(default_factory=list)
    thresholds: dict[str, float] = field(default_factory=dict)
    reports_dir: str = ""
    reports: dict[str, list[str]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def version(self, version: str | None) -> VersionInfo | None:
        """The :class:`VersionInfo` of ``version``, if registered."""
        return next((v for v in self.versions if v.version == version), None)


def _iso_ms(ms: int | None) -> str:
    return datetime.fromtimestamp((ms or 0) / 1000, tz=UTC).isoformat(timespec="seconds")


def version_info(
    tags: Mapping[str, str], version: str, aliases: tuple[str, ...], created_ms: int, run_id: str, description: str
) -> VersionInfo:
    """A :class:`VersionInfo` from a model version's tags (verdicts ``llmops.verdict.<gate>[.reason]``, metrics
    ``llmops.metric.<name>``, gate ``llmops.gate.passed``/``.reason``)."""
    from llmops.audit import _version_verdicts
    from llmops.registry.tracking import PROMPT_TAG, RUN_KEY_TAG

    metrics: dict[str, float] = {}
    for name, value in tags.items():
        if name.startswith("llmops.metric."):
            try:
                metrics[name.removeprefix("llmops.metric.")] = float(value)
            except ValueError:
                continue
    passed = tags.get("llmops.gate.passed")
    return VersionInfo(
        version=str(version),
        aliases=tuple(sorted(aliases)),
        created=_iso_ms(created_ms),
        run_id=run_id or "",
        run_key=tags.get(RUN_KEY_TAG, ""),
        kind=tags.get("llmops.release_kind", "training"),
        prompt=tags.get(PROMPT_TAG, ""),
        passed=None if passed is None else passed == "True",
        reason=tags.get("llmops.gate.reason", ""),
        verdicts=_version_verdicts(tags),
        metrics=dict(sorted(metrics.items())),
        description=description or "",
    )


def _registry(cfg: LLMOpsConfig, out: Overview) -> None:
    from llmops.registry.registry import client

    c = client(cfg)
    name = cfg.mlflow.model_name
    try:
        aliases = dict(c.get_registered_model(name).aliases or {})
    except Exception as exc:
        out.problems.append(f"registered model {name!r} not readable: {exc}")
        return
    by_version: dict[str, list[str]] = {}
    for alias, version in aliases.items():
        by_version.setdefault(str(version), []).append(alias)
    out.champion = aliases.get("champion")
    out.challenger = aliases.get("challenger")
    out.champion = str(out.champion) if out.champion is not None else None
    out.challenger = str(out.challenger) if out.challenger is not None else None
    found = c.search_model_versions(f"name='{name}'")
    rows = [
        version_info(
            dict(mv.tags or {}),
            str(mv.version),
            tuple(by_version.get(str(mv.version), [])),
            int(mv.creation_timestamp or 0),
            str(mv.run_id or ""),
            str(mv.description or ""),
        )
        for mv in found
    ]
    out.versions = sorted(rows, key=lambda v: int(v.version) if v.version.isdigit() else 0, reverse=True)


def _audit(cfg: LLMOpsConfig, out: Overview) -> None:
    from llmops.audit import audit_log_path, check_chain, read_records

    path = audit_log_path(cfg)
    out.timeline = list(reversed(read_records(path)))
    check = check_chain(path)
    out.chain_holds = check.first_bad_line is None
    out.chain_reason = check.problem or f"{check.records} record(s) checked"
    champion = next((r for r in out.timeline if r.get("change") in CHAMPION_CHANGES), None)
    if champion is not None:
        out.serving_prompt = str(champion.get("prompt_version", ""))


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _intervals(cfg: LLMOpsConfig, out: Overview) -> None:
    from llmops.monitoring.feedback import SUMMARY_FILE as FEEDBACK_SUMMARY
    from llmops.monitoring.feedback import candidates_dir
    from llmops.monitoring.interval import interval_start
    from llmops.monitoring.monitor import SUMMARY_FILE

    for path in sorted((cfg.paths.reports_dir / "monitoring").glob(f"*/{SUMMARY_FILE}")):
        key = path.parent.name
        summary = _read_json(path)
        try:
            start = interval_start(key)
        except ValueError:
            continue
        if summary is None:
            out.problems.append(f"monitoring summary not readable: {path}")
            continue
        metrics = {k: float(v) for k, v in (summary.get("metrics") or {}).items() if isinstance(v, int | float)}
        feedback = _read_json(candidates_dir(cfg) / f"interval={key}" / FEEDBACK_SUMMARY) or {}
        up, down = int(feedback.get("thumbs_up") or 0), int(feedback.get("thumbs_down") or 0)
        if up + down:
            metrics["thumbs_up_share"] = up / (up + down)
        out.intervals.append(
            IntervalPoint(
                key=key,
                start=start.isoformat(timespec="seconds"),
                champion_version=summary.get("champion_version"),
                metrics=metrics,
                alerts=tuple(str(a.get("name")) for a in summary.get("alerts") or [] if isinstance(a, dict)),
                drift_reason=str(summary.get("drift_reason") or ""),
                reports={k: str(v) for k, v in (summary.get("reports") or {}).items() if v},
                mlflow_run_id=summary.get("mlflow_run_id"),
            )
        )


def _reports(cfg: LLMOpsConfig, out: Overview, limit: int = 20) -> None:
    from llmops.data.validate import DOCS_SUMMARY

    base = cfg.paths.reports_dir
    out.reports_dir = str(base)
    for kind, pattern in (("data_docs", "data_docs/*/index.html"), ("drift", "drift/**/*.html")):
        found = sorted(base.glob(pattern), key=lambda p: p.stat().st_mtime, reverse=True)[:limit]
        # Data Docs: the self-contained summary beside them when there is one (it links GX's own pages).
        found = [p.with_name(DOCS_SUMMARY) if (p.with_name(DOCS_SUMMARY)).is_file() else p for p in found]
        out.reports[kind] = [str(p.relative_to(base)) for p in found]


def task_report(cfg: LLMOpsConfig, run_id: str, task_id: str) -> str | None:
    """The report a task of an Airflow run wrote, relative to the reports folder: ``validate_raw_data``'s Data Docs
    (their self-contained summary when there is one), ``check_drift``'s Evidently report; ``None`` for other tasks
    and for a report that is not there (reports are kept for ``retention.reports_days``)."""
    from llmops.config.runtime import run_key
    from llmops.data.validate import DOCS_SUMMARY

    key = run_key(run_id)
    candidates = {
        "validate_raw_data": (f"data_docs/{key}/{DOCS_SUMMARY}", f"data_docs/{key}/index.html"),
        "check_drift": (f"drift/{key}/drift_report.html",),
    }.get(task_id, ())
    return next((c for c in candidates if (cfg.paths.reports_dir / c).is_file()), None)


def thresholds(cfg: LLMOpsConfig) -> dict[str, float]:
    """The alert bounds drawn on the plots, by the figure they bound."""
    m = cfg.monitoring
    bounds = {
        "drift_share": m.drift_score_threshold,
        "latency_p95_ms": m.max_latency_p95_ms,
        "server_error_rate": m.max_error_rate,
        "empty_response_rate": m.max_empty_response_rate,
    }
    bounds.update({f"safety_{scorer}_rate": float(bound) for scorer, bound in m.max_safety_rates.items()})
    return bounds


def gather(cfg: LLMOpsConfig) -> Overview:
    """The :class:`Overview` of the platform now; a part that cannot be read is named in ``problems``."""
    out = Overview(model=cfg.mlflow.model_name, thresholds=thresholds(cfg))
    for part in (_registry, _audit, _intervals, _reports):
        try:
            part(cfg, out)
        except Exception as exc:  # one unreadable store must not hide the others
            log.warning("overview: %s failed: %s", part.__name__, exc)
            out.problems.append(f"{part.__name__.strip('_')}: {type(exc).__name__}: {exc}")
    return out
