"""The ``check_drift`` step: Evidently report of the curated training data vs the latest production logs."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from llmops.config import LLMOpsConfig
from llmops.registry import tracking

log = logging.getLogger(__name__)


def check_drift(cfg: LLMOpsConfig, run_key: str, train_path: str, mlflow_run_id: str | None) -> dict[str, Any]:
    """Compare the training snapshot with production traffic; save the report and log it to MLflow.

    Returns:
        The drift result (``passed``, ``drift_share``, ``reason``, ``html_path``, ...) plus ``block_promotion``.
    """
    import pandas as pd

    from llmops.monitoring.drift import load_prod_logs, run_drift_check

    reference = pd.read_parquet(train_path, columns=["prompt", "response"])
    source = cfg.prod_log_source
    if source.exists():
        current = load_prod_logs(source, cfg.drift.max_current_rows)
    else:
        log.info("no production logs at %s yet", source)
        current = pd.DataFrame(columns=["prompt", "response"])
    out_dir = cfg.paths.reports_dir / "drift" / run_key
    result = run_drift_check(reference, current, out_dir, cfg.drift)
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
