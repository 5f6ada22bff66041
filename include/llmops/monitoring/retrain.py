"""Retraining from the loop: decide whether to retrain, and merge feedback candidates into a new training snapshot.

*Pending* candidates are the rows of every ``<curated_dir>/feedback/interval=*/candidates.parquet`` whose content
is not yet in the champion's training snapshot: once a retrained model that learned them is promoted, they stop
being pending. The merged set (champion snapshot + pending candidates) is written under a hash of its content, so
the same inputs give the same path and nothing is written twice.

No Airflow import here.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llmops.config import LLMOpsConfig
from llmops.data.schema import TRAIN_COLUMNS
from llmops.monitoring.feedback import CANDIDATES_FILE, candidates_dir
from llmops.monitoring.monitor import SUMMARY_FILE, champion_reference

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)

MERGED_FILE = "train.parquet"


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


def latest_drift_share(cfg: LLMOpsConfig) -> tuple[str | None, float | None]:
    """``(interval key, drift share)`` of the most recent monitored interval whose drift was assessed."""
    base = cfg.paths.reports_dir / "monitoring"
    for summary in sorted(base.glob(f"*/{SUMMARY_FILE}"), reverse=True) if base.is_dir() else []:
        data = json.loads(summary.read_text(encoding="utf-8"))
        share = data.get("metrics", {}).get("drift_share")
        if share is not None:
            return str(data.get("key")), float(share)
    return None, None


def retrain_decision(cfg: LLMOpsConfig, asset_triggered: bool) -> dict[str, Any]:
    """Whether to retrain now.

    A nightly (scheduled) run retrains when any candidate is pending or the latest drift share reaches
    ``monitoring.retrain_drift_share``. An asset-triggered run needs ``monitoring.retrain_min_feedback_rows``
    pending candidates or that drift.

    Returns:
        ``{"retrain", "reason", "pending_rows", "drift_share", "drift_interval", "champion_version", "reference"}``.
    """
    mcfg = cfg.monitoring
    version, reference, why = champion_reference(cfg)
    pending = len(pending_candidates(cfg, reference))
    interval, drift = latest_drift_share(cfg)
    out: dict[str, Any] = {
        "pending_rows": pending,
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
            because.append(f"{pending} pending feedback candidates >= {needed}")
        if drifted:
            because.append(f"drift share {drift:.2f} in {interval} >= {mcfg.retrain_drift_share:.2f}")
        out.update(retrain=True, reason=f"{trigger}: " + " and ".join(because))
    else:
        drift_text = "not assessed" if drift is None else f"{drift:.2f} < {mcfg.retrain_drift_share:.2f}"
        out.update(
            retrain=False, reason=f"{trigger}: {pending} pending feedback candidates < {needed}, drift {drift_text}"
        )
    log.info("retrain decision: %s", out["reason"])
    return out


def merge_feedback(cfg: LLMOpsConfig, reference: Path) -> dict[str, Any]:
    """Write the champion's snapshot plus the pending candidates as a new raw training file.

    Returns:
        ``{"path", "rows", "base_rows", "added_rows", "hash"}``; ``path`` is
        ``<curated_dir>/retrain/<hash>/train.parquet`` (an existing file with that hash is reused).
    """
    import pandas as pd

    base = pd.read_parquet(reference)
    for column in TRAIN_COLUMNS:
        if column not in base.columns:
            base[column] = None
    added = pending_candidates(cfg, reference)
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
    log.info("merged %d feedback rows into %d training rows: %s", len(added), len(base), path)
    return {"path": str(path), "rows": len(merged), "base_rows": len(base), "added_rows": len(added), "hash": digest}
