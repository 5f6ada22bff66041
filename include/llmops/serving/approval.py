"""Human approval of a promotion: when to ask, what the approver sees, and what the answer means.

The pipeline asks only when approval is required (the run's ``require_approval`` param,
``promotion.require_approval`` in the config, or, with ``monitoring.approve_corrections``, raw data that is a
retrain merge adding responses users typed: :func:`corrections_approval`), promotion is on, and the gate passed:
a candidate the gate refused is never put in front of a human. The answer comes back from Airflow's
human-in-the-loop task as ``{"chosen_options", "params_input", "responded_at", "responded_by_user"}``. An approval
counts only from someone other than the user who triggered the run, and from one of ``promotion.approvers`` when
that list is set. No Airflow import here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from llmops.config import LLMOpsConfig

APPROVE = "Approve"
REJECT = "Reject"
OPTIONS = [APPROVE, REJECT]
MAX_SAMPLE_CHARS = 400


def corrections_approval(cfg: LLMOpsConfig) -> str | None:
    """Why the run's raw training data needs a human's approval for the corrections it adds, or ``None``.

    With ``monitoring.approve_corrections``, raw data under ``<curated_dir>/retrain/`` is a merge of
    ``llm_nightly_retrain``: its ``merge.json`` sidecar says how many corrected responses (text users typed) it
    adds. Approval is required when that number is above 0, and also, failing closed, when the file is not a
    merge's ``train.parquet``, the sidecar is missing or unreadable, or the file's SHA-256 is not the one the
    sidecar recorded.

    Args:
        cfg: the run's configuration (``data.raw_path`` with the run's ``raw_path`` param applied).

    Returns:
        The reason, for the log, the approval verdict and the approver; ``None`` when none is needed for this.
    """
    from llmops.fsutil import file_sha256
    from llmops.monitoring.retrain import MERGE_SIDECAR, MERGED_FILE

    if not cfg.monitoring.approve_corrections:
        return None
    root = (cfg.paths.curated_dir / "retrain").resolve()
    raw = cfg.raw_train_path.resolve()
    if not raw.is_relative_to(root):
        return None
    data_name = f"the raw training data retrain/{raw.relative_to(root)}"
    unknown = "so the corrections it adds are unknown (monitoring.approve_corrections, failing closed)"
    if raw.name != MERGED_FILE or raw.parent.parent != root:
        return f"{data_name} is not a retrain merge's {MERGED_FILE}, {unknown}"
    try:
        data = json.loads((raw.parent / MERGE_SIDECAR).read_text(encoding="utf-8"))
        recorded, added = data["sha256"], data["added_corrected"]
        matches = raw.is_file() and file_sha256(raw) == recorded
    except (OSError, ValueError, TypeError, KeyError):
        return f"{data_name} has no readable {MERGE_SIDECAR} beside it, {unknown}"
    if not matches:
        return f"{data_name} is not the file its {MERGE_SIDECAR} describes (SHA-256 differs), {unknown}"
    if not isinstance(added, int) or isinstance(added, bool) or added < 0:
        return f"{data_name}: {MERGE_SIDECAR} gives no count of added corrections, {unknown}"
    if added:
        return f"{data_name} adds {added} corrected responses typed by users (monitoring.approve_corrections)"
    return None


def approval_reasons(cfg: LLMOpsConfig, requested: object) -> list[str]:
    """Why this run must wait for a human (empty: it need not): the run asked for it, the configuration requires it
    always, or the raw data adds corrected responses (:func:`corrections_approval`)."""
    reasons = []
    if requested:
        reasons.append("the run's require_approval param is set")
    if cfg.promotion.require_approval:
        reasons.append("promotion.require_approval is set")
    corrections = corrections_approval(cfg)
    if corrections:
        reasons.append(corrections)
    return reasons


def approval_required(cfg: LLMOpsConfig, requested: object) -> bool:
    """Whether this run must wait for a human (see :func:`approval_reasons`)."""
    return bool(approval_reasons(cfg, requested))


def _md(text: object, limit: int = MAX_SAMPLE_CHARS) -> str:
    """One line of plain text that Markdown shows as typed (no links, images, HTML or table breaks)."""
    value = " ".join(str(text).split())
    if len(value) > limit:
        value = value[: limit - 1] + "…"
    for ch in "\\`*_{}[]()<>#+!|~":
        value = value.replace(ch, "\\" + ch)
    return value


def _fmt(value: object) -> str:
    return f"{value:.4g}" if isinstance(value, float) else _md(value, 60)


def load_samples(samples_path: str | None, limit: int) -> list[dict[str, Any]]:
    """The first ``limit`` sample generations saved by the evaluation step (empty when none can be read)."""
    if not samples_path or limit <= 0:
        return []
    try:
        data = json.loads(Path(samples_path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    samples = data.get("samples", []) if isinstance(data, dict) else []
    return [s for s in samples if isinstance(s, dict)][:limit]


def corrections_sample(cfg: LLMOpsConfig, limit: int) -> list[dict[str, str]]:
    """The first ``limit`` corrected responses the run's merged raw data adds (``{"prompt", "response"}``; empty
    when the raw data is no retrain merge or they cannot be read)."""
    import pandas as pd

    from llmops.monitoring.retrain import MERGE_SIDECAR

    if limit <= 0:
        return []
    raw = cfg.raw_train_path
    try:
        ids = json.loads((raw.parent / MERGE_SIDECAR).read_text(encoding="utf-8"))["corrected_ids"][:limit]
        frame = pd.read_parquet(raw, columns=["id", "prompt", "response"])
    except (OSError, ValueError, TypeError, KeyError):
        return []
    chosen = frame[frame["id"].isin([str(i) for i in ids])].head(limit)
    return [{"prompt": str(p), "response": str(r)} for p, r in zip(chosen["prompt"], chosen["response"], strict=True)]


def approval_body(
    cfg: LLMOpsConfig,
    registration: Mapping[str, Any],
    evaluation: Mapping[str, Any],
    gate: Mapping[str, Any],
    drift: Mapping[str, Any],
    reasons: Sequence[str] = (),
    card: str = "",
) -> str:
    """The Markdown shown to the approver: why they are asked, gate decision and metrics, drift, sample
    generations, the corrected responses users typed when the raw data adds any, and the version's model card."""
    metrics = evaluation.get("metrics", {})
    lines = [
        f"**Candidate**: `{cfg.mlflow.model_name}` version {_md(registration.get('version'))} "
        f"(current champion: {_md(evaluation.get('champion_version') or 'none')}).",
        "",
    ]
    if reasons:
        lines += [f"**Approval required**: {_md('; '.join(reasons), 1000)}.", ""]
    lines += [
        f"**Gate**: {'passed' if gate.get('passed') else 'FAILED'}: {_md(gate.get('reason', ''))}",
        "",
        "| metric | value |",
        "|---|---|",
        *(f"| {_md(k, 60)} | {_fmt(v)} |" for k, v in sorted({**metrics, **gate.get("metrics", {})}.items())),
        "",
    ]
    if drift:
        lines += [
            f"**Drift**: {'within bounds' if drift.get('passed') else 'DRIFTED'} "
            f"(share {_fmt(drift.get('drift_share', 'n/a'))}): {_md(drift.get('reason', ''))}",
            "",
        ]
    samples = load_samples(evaluation.get("samples_path"), cfg.promotion.approval_samples)
    if samples:
        lines.append(f"**Sample generations** ({len(samples)} of the held-out set):")
        lines.append("")
        for i, sample in enumerate(samples, 1):
            lines += [
                f"{i}. **Prompt**: {_md(sample.get('prompt', ''))}",
                f"   - **Candidate**: {_md(sample.get('prediction', ''))}",
                f"   - **Reference**: {_md(sample.get('reference', ''))}",
            ]
            if sample.get("champion_prediction") is not None:
                lines.append(f"   - **Champion**: {_md(sample.get('champion_prediction', ''))}")
            for key, label in (("flags", "candidate"), ("champion_flags", "champion")):
                found = sample.get(key) or {}
                if isinstance(found, dict) and found:
                    flagged = "; ".join(f"{name}: {reason}" for name, reason in sorted(found.items()))
                    lines.append(f"   - _{label} flagged_: {_md(flagged, 500)}")
    else:
        lines.append("_No sample generations were saved._")
    corrections = corrections_sample(cfg, cfg.promotion.approval_samples) if corrections_approval(cfg) else []
    if corrections:
        lines += ["", f"**Corrected responses users typed** (first {len(corrections)} the training data adds):", ""]
        for i, item in enumerate(corrections, 1):
            lines += [f"{i}. **Prompt**: {_md(item['prompt'])}", f"   - **Correction**: {_md(item['response'])}"]
    if card:
        lines += ["", "---", "", card.strip(), "", "---"]
    lines += ["", "Choose **Approve** to promote it to Triton, **Reject** to keep the current champion."]
    return "\n".join(lines)


def needs_approval(cfg: LLMOpsConfig, gate: Mapping[str, Any], requested: object, promote: object = True) -> bool:
    """Whether a human must answer before this run promotes: approval is required (:func:`approval_reasons`),
    promotion is on for the run, and the gate passed (a candidate the gate refused is never put in front of a
    human)."""
    return approval_required(cfg, requested) and bool(promote) and bool(gate.get("passed"))


def approval_request(
    cfg: LLMOpsConfig,
    registration: Mapping[str, Any],
    evaluation: Mapping[str, Any],
    gate: Mapping[str, Any],
    drift: Mapping[str, Any],
    requested: object,
    promote: object = True,
    card: str = "",
) -> dict[str, str] | None:
    """What to ask the approver, or ``None`` when nobody needs to be asked (see :func:`needs_approval`).

    Returns:
        ``{"subject", "body"}`` or ``None``.
    """
    if not needs_approval(cfg, gate, requested, promote):
        return None
    return {
        "subject": f"Promote {cfg.mlflow.model_name} version {registration.get('version')} to Triton?",
        "body": approval_body(cfg, registration, evaluation, gate, drift, approval_reasons(cfg, requested), card),
    }


def _responder(response: Mapping[str, Any]) -> tuple[str | None, str | None, set[str]]:
    """Who answered: a display name and the user id (``None``: nobody, the default answer on timeout), and every
    identity of them (id and name)."""
    who = response.get("responded_by_user")
    if isinstance(who, Mapping):
        uid = str(who["id"]) if who.get("id") not in (None, "") else None
        name = str(who["name"]) if who.get("name") not in (None, "") else uid
        return name, uid, {v for v in (uid, name) if v is not None}
    if who in (None, ""):
        return None, None, set()
    return str(who), None, {str(who)}


def approval_decision(
    required: bool,
    response: Mapping[str, Any] | None,
    *,
    triggered_by: str | None = None,
    approvers: Sequence[str] = (),
) -> tuple[bool, str]:
    """Interpret the approval task's result.

    An approval counts only when it names its user, comes from someone other than the user who triggered the run
    (matched by user id or name), and, when ``approvers`` is set, from one of those user ids (the approval task is
    assigned to them; this checks the answer again). Otherwise it counts as Reject, and the reason says why.

    Args:
        required: whether this run needed approval.
        response: the human-in-the-loop task's return value (``None`` when it did not run).
        triggered_by: the user who triggered the run (``None``: a scheduled or asset-triggered run).
        approvers: the user ids allowed to approve (``promotion.approvers``; empty: anyone).

    Returns:
        ``(proceed, reason)``.
    """
    if not required:
        return True, "approval not required"
    if not response:
        return False, "approval was required but no answer was recorded"
    chosen = list(response.get("chosen_options") or [])
    name, uid, identities = _responder(response)
    by = f"by {name}" if name else "by timeout (default answer)"
    comment = str((response.get("params_input") or {}).get("comment") or "").strip()
    suffix = f": {comment}" if comment else ""
    when = response.get("responded_at")
    at = f" at {when.isoformat() if hasattr(when, 'isoformat') else when}" if when else ""
    if chosen != [APPROVE]:
        return False, f"rejected {by}{at}{suffix}"
    if not identities:
        return False, f"rejected: an approval{at} names no user, so it cannot be checked{suffix}"
    if triggered_by and triggered_by in identities:
        who = f"approved by {name}{at}, who triggered the run"
        return False, f"rejected: {who}; the approval must come from someone else{suffix}"
    if approvers and uid not in approvers:  # user ids, as the approval task's assigned_users
        return False, (
            f"rejected: approved by {name}{at}, who is not among promotion.approvers ({', '.join(approvers)}){suffix}"
        )
    return True, f"approved {by}{at}{suffix}"
