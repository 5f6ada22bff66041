"""The note an Airflow run carries when it ends: what the run did, in the few lines someone scanning the run list
needs (rows per data stage, base vs candidate, every verdict, the version served; for a monitored interval its rows,
drift share and alerts).

Built from the task results the run produced (``{task_id: return value}``, as they travel through XCom); the
Airflow side (:mod:`llmops_airflow.notes`) reads them and writes the note. A note somebody wrote by hand is never
replaced: only a note that starts with :data:`HEADER` is the project's to rewrite. No Airflow import.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

HEADER = "**Run summary**"
# Airflow stores a run's note in a 1000-character column (enforced by Postgres and MySQL).
NOTE_LIMIT = 1000
REASON_CHARS = 150

# The pipeline tasks whose results make the note, in the order they run.
PIPELINE_TASKS = (
    "validate_raw_data",
    "snapshot_dataset",
    "finetune_model",
    "evaluate_model",
    "gate_model",
    "register_model",
    "check_drift",
    "candidate_accepted",
    "candidate_refused",
    "promote_to_triton",
)
MONITORING_TASKS = ("check_interval_drift", "notify_alerts")
TASKS = PIPELINE_TASKS + MONITORING_TASKS
_COMPARED = ("eval_loss", "rouge_l", "exact_match", "safety_toxicity_rate")


def _short(text: object, limit: int = REASON_CHARS) -> str:
    s = " ".join(str(text).split()).replace("|", "/")
    return s if len(s) <= limit else s[: limit - 1] + "…"


def _num(value: object) -> str:
    try:
        return f"{float(value):.4g}"  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "n/a"


def _verdict_line(name: str, verdict: Mapping[str, Any]) -> str:
    state = "passed" if verdict.get("passed") else "refused"
    return f"- {name}: **{state}**, {_short(verdict.get('reason', ''))}"


def pipeline_lines(results: Mapping[str, Any]) -> list[str]:
    """The fine-tuning run's lines: outcome first, then data, metrics table, verdicts."""
    lines: list[str] = []
    promoted, refused = results.get("promote_to_triton"), results.get("candidate_refused")
    reg = results.get("register_model") or {}
    if isinstance(promoted, Mapping):
        previous = promoted.get("previous_version")
        replaced = f", replaced v{previous}" if previous else ", first champion"
        lines.append(f"Serving **v{promoted.get('served_version')}** on Triton as champion{replaced}.")
    elif isinstance(refused, Mapping):
        lines.append(f"Candidate **refused**: {_short(refused.get('reason', ''))}")
    elif reg:
        lines.append(f"Registered v{reg.get('version')} (not promoted).")
    v, d = results.get("validate_raw_data") or {}, results.get("snapshot_dataset") or {}
    if v:
        lines.append(
            f"Data: {v.get('rows_in')} rows in, {v.get('rows_valid')} valid, {v.get('rows_quarantined')} quarantined"
            + (
                f"; {d.get('duplicates_removed')} duplicates, {d.get('contaminated')} eval overlap removed; "
                f"{d.get('rows_out')} trained on."
                if d
                else "."
            )
        )
    metrics = (results.get("evaluate_model") or {}).get("metrics") or {}
    rows = [k for k in _COMPARED if k in metrics]
    if rows:
        champion = any(f"champion_{k}" in metrics for k in rows)
        lines += ["", "| metric | base | candidate |" + (" champion |" if champion else "")]
        lines.append("|---|---|---|" + ("---|" if champion else ""))
        for k in rows:
            row = f"| {k} | {_num(metrics.get('base_' + k))} | {_num(metrics[k])} |"
            lines.append(row + (f" {_num(metrics.get('champion_' + k))} |" if champion else ""))
        lines.append("")
    for task, name in (("gate_model", "gate"), ("check_drift", "drift")):
        verdict = results.get(task)
        if isinstance(verdict, Mapping) and "reason" in verdict:
            lines.append(_verdict_line(name, verdict))
    decision = results.get("candidate_accepted") or refused
    if isinstance(decision, Mapping):
        lines.append(_verdict_line("promotion decision", decision))
    if isinstance(promoted, Mapping) and promoted.get("reason"):
        lines.append(f"- Triton: {_short(promoted['reason'])}")
    run_id = (results.get("finetune_model") or {}).get("mlflow_run_id")
    if run_id or reg:
        version = f"; model version {reg.get('name')} v{reg.get('version')}" if reg else ""
        lines.append(f"MLflow run `{run_id}`{version}.")
    return lines


def monitoring_lines(results: Mapping[str, Any]) -> list[str]:
    """A monitored interval's lines: rows, drift share, alerts, the champion it watched."""
    s = results.get("check_interval_drift") or {}
    if not s:
        return []
    m = s.get("metrics") or {}
    alerts = [str(a.get("name")) for a in s.get("alerts") or [] if isinstance(a, Mapping)]
    lines = [
        f"Interval {s.get('key')}: {_num(m.get('rows'))} rows, drift share {_num(m.get('drift_share'))}, "
        f"champion v{s.get('champion_version') or 'none'}.",
        f"Alerts: **{', '.join(alerts)}**." if alerts else "No bound breached.",
    ]
    if s.get("drift_reason"):
        lines.append(f"- drift: {_short(s['drift_reason'])}")
    return lines


def run_note(results: Mapping[str, Any]) -> str | None:
    """The note for a run with these task results, at most :data:`NOTE_LIMIT` characters; ``None`` when the run
    produced none of the results a note is made of."""
    lines = pipeline_lines(results) or monitoring_lines(results)
    if not lines:
        return None
    note = "\n".join([HEADER, "", *lines]).strip()
    return note if len(note) <= NOTE_LIMIT else note[: NOTE_LIMIT - 1] + "…"


def may_replace(existing: str | None) -> bool:
    """Whether the run's current note is the project's own (or there is none): a person's note is kept."""
    return not (existing or "").strip() or (existing or "").startswith(HEADER)
