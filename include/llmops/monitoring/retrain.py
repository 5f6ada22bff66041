"""Retraining from the loop: decide whether to retrain, and merge feedback candidates into a new training snapshot.

*Pending* candidates are the rows of every ``<curated_dir>/feedback/interval=*/candidates.parquet`` whose content
is not yet in the champion's training snapshot: once a retrained model that learned them is promoted, they stop
being pending. The merged set (champion snapshot + pending candidates) is written under a hash of its content, so
the same inputs give the same path and nothing is written twice.

Provenance caps (:func:`cap_candidates`) bound what feedback can do to one retrain: at most
``monitoring.feedback_max_per_source`` candidates per feedback giver (``feedback_by``; feedback without one counts
as the one giver ``anonymous``), and added candidates at most ``monitoring.feedback_max_share`` of the merged set
(so at most ``share / (1 - share)`` times the snapshot's rows). Oldest intervals go first; what is capped away stays
pending for a later retrain. ``merge.json`` beside the merged ``train.parquet`` records the counts, among them
``added_corrected`` (responses users typed), which the pipeline's approval decision reads
(:func:`llmops.serving.approval.corrections_approval`).

No Airflow import here.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llmops.config import LLMOpsConfig
from llmops.data.retention import is_erased, load_erased_hashes
from llmops.data.schema import TRAIN_COLUMNS
from llmops.monitoring.feedback import CANDIDATES_FILE, CORRECTED, candidates_dir
from llmops.monitoring.monitor import SUMMARY_FILE, champion_reference

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)

MERGED_FILE = "train.parquet"
MERGE_SIDECAR = "merge.json"
ANONYMOUS = "anonymous"


def _keys(frame: pd.DataFrame) -> list[int]:
    import pyarrow as pa

    from llmops.data.dedup import content_keys

    return list(
        content_keys(
            pa.array(frame["prompt"].astype(str), pa.string()), pa.array(frame["response"].astype(str), pa.string())
        ).tolist()
    )


def pending_candidates(cfg: LLMOpsConfig, reference: Path | None) -> pd.DataFrame:
    """Feedback candidates of all intervals that the reference snapshot does not hold (first occurrence kept)."""
    import pandas as pd

    base = candidates_dir(cfg)
    parts = sorted(base.glob(f"interval=*/{CANDIDATES_FILE}")) if base.is_dir() else []
    if not parts:
        return pd.DataFrame(columns=list(TRAIN_COLUMNS))
    frame = pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)
    erased = load_erased_hashes(cfg)
    if erased:  # records erased on request never enter a training set again
        gone = frame["id"].map(lambda v: is_erased(v, erased))
        if "feedback_by" in frame.columns:
            gone |= frame["feedback_by"].map(lambda v: is_erased(v, erased))
        frame = frame[~gone].reset_index(drop=True)
    known: set[int] = set()
    if reference is not None:
        known = set(_keys(pd.read_parquet(reference, columns=["prompt", "response"])))
    keys = _keys(frame)
    keep, seen = [], set(known)
    for index, key in enumerate(keys):
        if key not in seen:
            seen.add(key)
            keep.append(index)
    return frame.iloc[keep].reset_index(drop=True)


@dataclass
class CappedCandidates:
    """Pending candidates after the provenance caps.

    Attributes:
        frame: the candidates a merge adds (oldest intervals first).
        pending: pending candidates before the caps.
        capped_by_source: over ``monitoring.feedback_max_per_source`` for their giver.
        capped_by_share: within their giver's cap, but over ``monitoring.feedback_max_share`` of the merged set.
        share_limit: the most candidates the share cap lets in (``None``: no limit, share 1.0).
        sources_capped: giver -> candidates capped away by the per-source cap.
    """

    frame: pd.DataFrame
    pending: int
    capped_by_source: int = 0
    capped_by_share: int = 0
    share_limit: int | None = None
    sources_capped: dict[str, int] = field(default_factory=dict)

    def summary(self, cfg: LLMOpsConfig) -> str:
        """``"40 of 130 pending candidates added; 60 over ... ; 30 over ..."``, for the log and the decision."""
        mcfg = cfg.monitoring
        text = f"{len(self.frame)} of {self.pending} pending feedback candidates taken"
        if self.capped_by_source:
            givers = ", ".join(f"{k} {v}" for k, v in sorted(self.sources_capped.items(), key=lambda kv: -kv[1])[:5])
            text += (
                f"; {self.capped_by_source} over monitoring.feedback_max_per_source {mcfg.feedback_max_per_source}"
                f" ({givers})"
            )
        if self.capped_by_share:
            text += (
                f"; {self.capped_by_share} over monitoring.feedback_max_share {mcfg.feedback_max_share:g}"
                f" (at most {self.share_limit} added)"
            )
        return text


def share_limit(max_share: float, base_rows: int) -> int | None:
    """The most rows that may be added to ``base_rows`` so that they are at most ``max_share`` of the merged set
    (``None`` when ``max_share`` is 1: no limit)."""
    if max_share >= 1.0:
        return None
    return math.floor(max_share * base_rows / (1.0 - max_share) + 1e-9)


def cap_candidates(cfg: LLMOpsConfig, pending: pd.DataFrame, base_rows: int) -> CappedCandidates:
    """Apply the provenance caps to pending candidates, in their order (oldest intervals first).

    Args:
        cfg: configuration (``monitoring.feedback_max_per_source`` and ``feedback_max_share``).
        pending: :func:`pending_candidates`.
        base_rows: rows of the snapshot the candidates are added to.

    Returns:
        The :class:`CappedCandidates`; nothing is removed from the candidate files.
    """
    mcfg = cfg.monitoring
    if "feedback_by" in pending.columns:  # candidate files written before provenance have no giver
        givers = [str(g) if isinstance(g, str) and g else ANONYMOUS for g in pending["feedback_by"]]
    else:
        givers = [ANONYMOUS] * len(pending)
    taken: Counter[str] = Counter()
    over: Counter[str] = Counter()
    keep: list[int] = []
    for index, giver in enumerate(givers):
        if taken[giver] < mcfg.feedback_max_per_source:
            taken[giver] += 1
            keep.append(index)
        else:
            over[giver] += 1
    limit = share_limit(mcfg.feedback_max_share, base_rows)
    within = keep if limit is None else keep[:limit]
    return CappedCandidates(
        frame=pending.iloc[within].reset_index(drop=True),
        pending=len(pending),
        capped_by_source=sum(over.values()),
        capped_by_share=len(keep) - len(within),
        share_limit=limit,
        sources_capped=dict(sorted(over.items())),
    )


def _row_count(path: Path) -> int:
    import pyarrow.parquet as pq

    return int(pq.ParquetFile(path).metadata.num_rows)


def latest_drift_share(cfg: LLMOpsConfig) -> tuple[str | None, float | None]:
    """``(interval key, drift share)`` of the most recent monitored interval whose drift was assessed."""
    base = cfg.paths.reports_dir / "monitoring"
    for summary in sorted(base.glob(f"*/{SUMMARY_FILE}"), reverse=True) if base.is_dir() else []:
        data = json.loads(summary.read_text(encoding="utf-8"))
        share = data.get("metrics", {}).get("drift_share")
        if share is not None:
            return str(data.get("key")), float(share)
    return None, None


def _capped_note(capped: CappedCandidates) -> str:
    n = capped.capped_by_source + capped.capped_by_share
    return f" (after the provenance caps; {n} more wait)" if n else ""


def retrain_decision(cfg: LLMOpsConfig, asset_triggered: bool) -> dict[str, Any]:
    """Whether to retrain now.

    A nightly (scheduled) run retrains when any candidate is pending or the latest drift share reaches
    ``monitoring.retrain_drift_share``. An asset-triggered run needs ``monitoring.retrain_min_feedback_rows``
    pending candidates or that drift. Candidates count after the provenance caps (:func:`cap_candidates`): what a
    merge would add.

    Returns:
        ``{"retrain", "reason", "pending_rows", "eligible_rows", "drift_share", "drift_interval",
        "champion_version", "reference"}``; ``pending_rows`` before the caps, ``eligible_rows`` after.
    """
    mcfg = cfg.monitoring
    version, reference, why = champion_reference(cfg)
    candidates = pending_candidates(cfg, reference)
    capped = cap_candidates(cfg, candidates, _row_count(reference) if reference is not None else 0)
    pending = len(capped.frame)
    if capped.capped_by_source or capped.capped_by_share:
        log.info("retrain decision: %s", capped.summary(cfg))
    interval, drift = latest_drift_share(cfg)
    out: dict[str, Any] = {
        "pending_rows": len(candidates),
        "eligible_rows": pending,
        "drift_share": drift,
        "drift_interval": interval,
        "champion_version": version,
        "reference": str(reference) if reference else None,
    }
    drifted = drift is not None and drift >= mcfg.retrain_drift_share
    needed = mcfg.retrain_min_feedback_rows if asset_triggered else 1
    trigger = "asset update" if asset_triggered else "nightly schedule"
    if reference is None:
        out.update(retrain=False, reason=f"{trigger}: no training snapshot to extend ({why})")
    elif pending >= needed or drifted:
        because = []
        if pending >= needed:
            because.append(f"{pending} pending feedback candidates >= {needed}{_capped_note(capped)}")
        if drifted:
            because.append(f"drift share {drift:.2f} in {interval} >= {mcfg.retrain_drift_share:.2f}")
        out.update(retrain=True, reason=f"{trigger}: " + " and ".join(because))
    else:
        drift_text = "not assessed" if drift is None else f"{drift:.2f} < {mcfg.retrain_drift_share:.2f}"
        out.update(
            retrain=False,
            reason=f"{trigger}: {pending} pending feedback candidates < {needed}{_capped_note(capped)}, "
            f"drift {drift_text}",
        )
    log.info("retrain decision: %s", out["reason"])
    return out


def merge_feedback(cfg: LLMOpsConfig, reference: Path) -> dict[str, Any]:
    """Write the champion's snapshot plus the pending candidates (after the provenance caps) as a new raw training
    file, and its ``merge.json`` sidecar.

    Returns:
        ``{"path", "rows", "base_rows", "added_rows", "added_corrected", "pending_rows", "capped_by_source",
        "capped_by_share", "hash", "sha256"}``; ``path`` is ``<curated_dir>/retrain/<hash>/train.parquet`` (an
        existing file with that hash is reused). ``merge.json`` beside it holds the same figures, the caps applied,
        the reference and the ids of the added corrections.
    """
    import pandas as pd

    from llmops.fsutil import atomic_write_json, file_sha256

    mcfg = cfg.monitoring
    base = pd.read_parquet(reference)
    for column in TRAIN_COLUMNS:
        if column not in base.columns:
            base[column] = None
    capped = cap_candidates(cfg, pending_candidates(cfg, reference), len(base))
    added = capped.frame
    merged = pd.concat([base[list(TRAIN_COLUMNS)], added[list(TRAIN_COLUMNS)]], ignore_index=True)
    payload = merged.to_json(orient="records", lines=True, force_ascii=False)
    digest = hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]
    folder = cfg.paths.curated_dir / "retrain" / digest
    path = folder / MERGED_FILE
    if not path.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{MERGED_FILE}.tmp"
        merged.to_parquet(tmp, index=False)
        os.replace(tmp, path)
    corrected = added[added["source"] == CORRECTED]
    out: dict[str, Any] = {
        "path": str(path),
        "rows": len(merged),
        "base_rows": len(base),
        "added_rows": len(added),
        "added_corrected": len(corrected),
        "pending_rows": capped.pending,
        "capped_by_source": capped.capped_by_source,
        "capped_by_share": capped.capped_by_share,
        "hash": digest,
        "sha256": file_sha256(path),
    }
    # Written after the data, every time: a merged file without its sidecar needs approval (fail closed).
    sidecar = {
        **out,
        "reference": str(reference),
        "feedback_max_per_source": mcfg.feedback_max_per_source,
        "feedback_max_share": mcfg.feedback_max_share,
        "share_limit": capped.share_limit,
        "sources_capped": capped.sources_capped,
        "corrected_ids": [str(i) for i in corrected["id"]],
    }
    atomic_write_json(folder / MERGE_SIDECAR, sidecar)
    log.info(
        "merged %d feedback rows (%d corrected) into %d training rows: %s; %s",
        len(added),
        len(corrected),
        len(base),
        path,
        capped.summary(cfg),
    )
    return out
