"""The ``check_drift`` step: Evidently report of the curated training data vs the latest curated production traffic."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llmops.config import LLMOpsConfig
from llmops.registry import tracking

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)


def check_drift(cfg: LLMOpsConfig, run_key: str, train_path: str, mlflow_run_id: str | None) -> dict[str, Any]:
    """Compare the training snapshot with production traffic; save the report and log it to MLflow.

    Production traffic is read from the curated monitoring partitions (scrubbed, deduplicated, contract-checked), the
    most recent ``drift.max_current_rows`` rows. Before monitoring has curated any interval, the raw logs are read and
    scrubbed in memory, so the report never holds raw text either way.

    Returns:
        The drift result (``passed``, ``drift_share``, ``reason``, ``html_path``, ...) plus ``block_promotion``.
    """
    import pandas as pd

    from llmops.monitoring.drift import run_drift_check

    reference = pd.read_parquet(train_path, columns=["prompt", "response"])
    current, origin = production_sample(cfg)
    log.info("production traffic for the drift check: %d rows from %s", len(current), origin)
    out_dir = cfg.paths.reports_dir / "drift" / run_key
    window = ""
    if "timestamp" in current.columns and len(current):
        stamps = current["timestamp"].astype(str)
        window = f", {stamps.min()} to {stamps.max()}"
    title = (
        f"Reference: training snapshot {Path(train_path).parent.name} ({len(reference)} rows). "
        f"Current: production logs from {origin}{window} ({len(current)} rows)"
    )
    result = run_drift_check(reference, current, out_dir, cfg.drift, title=title)
    log.info("drift: %s", result.reason)
    if mlflow_run_id:
        c = tracking.client(cfg)
        for path in (result.html_path, result.json_path):
            if path and Path(path).is_file():
                c.log_artifact(mlflow_run_id, path, "drift")
        metrics = {**{f"drift.{k}": v for k, v in result.metrics.items()}, "drift.share": result.drift_share}
        tracking.log_metrics(cfg, mlflow_run_id, metrics)  # at the run's logical date: a re-run adds no point
        c.set_tag(mlflow_run_id, "llmops.drift.passed", str(result.passed))
        c.set_tag(mlflow_run_id, "llmops.drift.reason", result.reason[:5000])
    out = result.to_dict()
    out["current_rows"] = len(current)
    out["block_promotion"] = bool(cfg.drift.block_promotion and not result.passed)
    return out


def production_sample(cfg: LLMOpsConfig) -> tuple[pd.DataFrame, str]:
    """The latest production rows, scrubbed: from the curated monitoring partitions, else the raw logs scrubbed here.

    Returns:
        ``(frame with prompt and response at least, where it came from)``.
    """
    import pandas as pd

    from llmops.monitoring.drift import load_prod_logs
    from llmops.monitoring.interval import PARTITION_FILE, partitions_dir

    limit = cfg.drift.max_current_rows
    base = partitions_dir(cfg)
    parts = sorted(base.glob(f"interval=*/{PARTITION_FILE}")) if base.is_dir() else []
    if parts:
        frames: list[pd.DataFrame] = []
        rows = 0
        for path in reversed(parts):  # newest interval first, until enough rows
            frame = pd.read_parquet(path)
            frames.append(frame)
            rows += len(frame)
            if rows >= limit:
                break
        current = pd.concat(frames[::-1], ignore_index=True).tail(limit).reset_index(drop=True)
        return current, f"{len(frames)} curated interval(s) under {base}"
    source = cfg.prod_log_source
    if not source.exists():
        return pd.DataFrame(columns=["prompt", "response"]), f"nothing (no curated intervals, no logs at {source})"
    from llmops.data.pii import PiiScrubber

    current = load_prod_logs(source, limit, cfg.data.max_line_bytes)
    fields = [c for c in ("prompt", "response") if c in current.columns]
    scrubbed, _, _ = PiiScrubber.from_config(cfg).scrub_records(current[fields].to_dict("records"), fields)
    for column in fields:
        current[column] = [row[column] for row in scrubbed]
    return current, f"raw logs at {source}, scrubbed (no curated intervals yet)"
