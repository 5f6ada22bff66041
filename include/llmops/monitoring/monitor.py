"""The ``check_interval_drift`` step of ``llm_production_monitoring``: live figures, Evidently drift, MLflow, alerts.

Reference: the training snapshot of the current ``champion`` (its model version's ``llmops.data_snapshot`` tag),
read only after :func:`llmops.data.snapshot.trusted_snapshot` checked that it lies under the curated-data folder and
matches the ``llmops.data_snapshot_hash`` tag.
Current: the interval's partition, and the rolling window of the last ``monitoring.window_intervals`` partitions.
Everything is keyed by the interval: reports under ``<reports_dir>/monitoring/<key>/{interval,window}/``, one
MLflow run per interval in the ``monitoring.experiment`` experiment (found again by its key on a re-run, metrics
logged at the interval end so a re-run adds nothing), and tags on the champion's model version.

No Airflow import here.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llmops.config import LLMOpsConfig
from llmops.data.snapshot import SNAPSHOT_HASH_TAG, SNAPSHOT_TAG, trusted_snapshot
from llmops.monitoring.alerts import decide_alerts
from llmops.monitoring.interval import SUMMARY_FILE as INTERVAL_SUMMARY
from llmops.monitoring.interval import interval_start, read_interval_result, window_partitions
from llmops.monitoring.safety import (
    metric_label,
    monitored_scorers,
    safety_counts_by_version,
    safety_rates,
    text_evals_report,
)

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)

SUMMARY_FILE = "monitoring_summary.json"


def live_figures(df: pd.DataFrame) -> dict[str, float]:
    """Serving figures of a set of production rows.

    Returns:
        ``rows``, ``empty_response_rate`` (blank responses), ``latency_p50_ms``, ``latency_p95_ms``,
        ``latency_p99_ms`` and ``latency_mean_ms`` (latency figures left out when no row has a latency).
    """
    import pandas as pd

    n = len(df)
    figures: dict[str, float] = {"rows": float(n)}
    if n == 0:
        return figures
    responses = df["response"].fillna("").astype(str)
    figures["empty_response_rate"] = float((responses.str.strip() == "").mean())
    latency = pd.to_numeric(df["latency_ms"], errors="coerce").dropna()
    if len(latency):
        figures["latency_p50_ms"] = float(latency.quantile(0.5))
        figures["latency_p95_ms"] = float(latency.quantile(0.95))
        figures["latency_p99_ms"] = float(latency.quantile(0.99))
        figures["latency_mean_ms"] = float(latency.mean())
    return figures


def usage_figures(df: pd.DataFrame, seconds: float, price_per_hour: float) -> dict[str, float]:
    """What a set of answered rows cost, from the usage the served model logs with each answer.

    Args:
        df: rows with ``prompt_tokens``, ``completion_tokens``, ``batch_size`` and ``compute_ms`` (rows of writers
            that do not record them are left out; no figure when none has them).
        seconds: the wall-clock time the rows were served in (the interval's length).
        price_per_hour: what the serving hardware costs per hour (0: no cost figures).

    Returns:
        ``prompt_tokens``, ``completion_tokens``, ``tokens_per_request`` (prompt and completion),
        ``completion_tokens_per_request``, ``busy_s`` (generation time: each batch's ``compute_ms`` once, shared
        among its rows), ``busy_share`` (of ``seconds``), ``tokens_per_s`` (completion tokens per busy second) and,
        with a price, ``cost`` (the hardware for ``seconds``) and ``cost_per_1k_tokens`` (over prompt and completion
        tokens).
    """
    import pandas as pd

    columns = ("prompt_tokens", "completion_tokens", "batch_size", "compute_ms")
    if df.empty or not set(columns) <= set(df.columns):
        return {}
    usage = df[list(columns)].apply(pd.to_numeric, errors="coerce").dropna()
    usage = usage[usage["batch_size"] > 0]
    if usage.empty:
        return {}
    prompt, completion = float(usage["prompt_tokens"].sum()), float(usage["completion_tokens"].sum())
    busy_s = float((usage["compute_ms"] / usage["batch_size"]).sum()) / 1000.0
    figures = {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "tokens_per_request": (prompt + completion) / len(usage),
        "completion_tokens_per_request": completion / len(usage),
        "busy_s": busy_s,
    }
    if seconds > 0:
        figures["busy_share"] = busy_s / seconds
    if busy_s > 0:
        figures["tokens_per_s"] = completion / busy_s
    if price_per_hour > 0 and seconds > 0:
        figures["cost"] = price_per_hour * seconds / 3600.0
        if prompt + completion > 0:
            figures["cost_per_1k_tokens"] = figures["cost"] / (prompt + completion) * 1000.0
    return figures


def version_figures(
    df: pd.DataFrame, server_errors: dict[str, int], seconds: float, price_per_hour: float
) -> dict[str, float]:
    """Serving figures per model version, named ``<figure>.v<version>``: latency percentiles, error rate (server
    errors over the version's answered and failed requests), tokens per request, tokens/s and, with a price, the
    cost per 1k tokens (the interval's hardware cost shared among the versions by their generation time)."""
    from llmops.monitoring.safety import metric_label

    figures: dict[str, float] = {}
    versions = df["model_version"].astype(str) if "model_version" in df.columns else None
    names = sorted(set(versions) | set(server_errors)) if versions is not None else sorted(server_errors)
    total_busy = usage_figures(df, seconds, 0.0).get("busy_s", 0.0)
    for name in names:
        rows = df[versions == name] if versions is not None else df.iloc[0:0]
        label = f"v{metric_label(name)}"
        own = {k: v for k, v in live_figures(rows).items() if k.startswith("latency_")}
        errors = server_errors.get(name, 0)
        if len(rows) + errors:
            own["error_rate"] = errors / (len(rows) + errors)
        usage = usage_figures(rows, seconds, 0.0)
        own.update({k: usage[k] for k in ("tokens_per_request", "tokens_per_s") if k in usage})
        tokens = usage.get("prompt_tokens", 0.0) + usage.get("completion_tokens", 0.0)
        if price_per_hour > 0 and seconds > 0 and total_busy > 0 and tokens > 0:
            share = usage.get("busy_s", 0.0) / total_busy
            own["cost_per_1k_tokens"] = price_per_hour * seconds / 3600.0 * share / tokens * 1000.0
        figures.update({f"{k}.{label}": v for k, v in own.items()})
    return figures


def champion_reference(cfg: LLMOpsConfig) -> tuple[str | None, Path | None, str]:
    """The champion's version and its training snapshot path, checked before anyone reads it.

    Returns:
        ``(version, snapshot_path, reason)``; ``version``/``snapshot_path`` are ``None`` (and ``reason`` says why)
        when there is no champion, or its version names no snapshot or one that is not on this host.

    Raises:
        UntrustedSnapshot: the tag names a file outside the curated-data folder, or one whose content does not
            match the recorded hash (see :func:`llmops.data.snapshot.trusted_snapshot`); nothing was read.
    """
    from llmops.registry import registry

    version = registry.alias_version(cfg, registry.CHAMPION)
    if version is None:
        return None, None, f"{cfg.mlflow.model_name} has no champion yet"
    mv = registry.get_version(cfg, version)
    tags = (mv.tags or {}) if mv is not None else {}
    tag = str(tags.get(SNAPSHOT_TAG, ""))
    if not tag:
        return version, None, f"training snapshot of champion version {version} not found (no tag)"
    try:
        path = trusted_snapshot(cfg, tag, str(tags.get(SNAPSHOT_HASH_TAG, "")))
    except FileNotFoundError:
        return version, None, f"training snapshot of champion version {version} not found ({tag})"
    return version, path, ""


def _log_to_mlflow(cfg: LLMOpsConfig, key: str, end: datetime, summary: dict[str, Any], report_dirs: list[Path]) -> str:
    from llmops.registry import tracking

    run_id = tracking.get_or_create_run(
        cfg, f"monitor-{key}", f"monitor-{key}", tags={"llmops.interval": key}, experiment=cfg.monitoring.experiment
    )
    c = tracking.client(cfg)
    at_ms = int(end.timestamp() * 1000)
    from mlflow.entities import Metric

    metrics = [Metric(k, float(v), at_ms, 0) for k, v in summary["metrics"].items()]
    if metrics:
        c.log_batch(run_id, metrics=metrics)
    c.set_tag(run_id, "llmops.alerts", ",".join(a["name"] for a in summary["alerts"]) or "none")
    c.set_tag(run_id, "llmops.champion_version", str(summary["champion_version"] or ""))
    c.set_tag(run_id, "llmops.drift.reason", str(summary["drift_reason"])[:5000])
    for folder in report_dirs:
        for path in sorted(folder.glob("*")):
            if path.is_file() and not path.name.startswith("."):
                c.log_artifact(run_id, str(path), f"monitoring/{folder.name}")
    return run_id


def _tag_champion(cfg: LLMOpsConfig, version: str, key: str, summary: dict[str, Any]) -> None:
    from llmops.registry import tracking

    c = tracking.client(cfg)
    tags = {
        "llmops.monitoring.last_interval": key,
        "llmops.monitoring.drift_share": f"{summary['metrics'].get('drift_share', float('nan')):.4f}",
        "llmops.monitoring.drift_passed": str(summary["drift_passed"]),
        "llmops.monitoring.alerts": ",".join(a["name"] for a in summary["alerts"]) or "none",
        "llmops.monitoring.mlflow_run": str(summary.get("mlflow_run_id", "")),
    }
    for name, value in tags.items():
        c.set_model_version_tag(cfg.mlflow.model_name, version, name, value)


def check_interval_drift(
    cfg: LLMOpsConfig, key: str, partition: str, end: datetime, *, log_mlflow: bool = True
) -> dict[str, Any]:
    """Compare the interval (and its rolling window) with the champion's training data; record and judge it.

    Args:
        cfg: configuration (``drift`` for sampling caps and the drift share; ``monitoring`` for bounds).
        key: the interval key.
        partition: the interval's Parquet partition.
        end: the interval end (the report timestamp and the MLflow metric timestamp).
        log_mlflow: log the run and tag the champion (off in benchmarks).

    Returns:
        ``{"key", "champion_version", "metrics", "drift_passed", "drift_reason", "triton_metrics", "alerts",
        "reports", "mlflow_run_id"}``; ``triton_metrics`` says where the ``triton.*`` figures come from (or why
        there are none); ``alerts`` is a list of :class:`~llmops.monitoring.alerts.Alert` dicts.
    """
    import pandas as pd

    from llmops.fsutil import atomic_write_text
    from llmops.monitoring.drift import run_drift_check

    current = pd.read_parquet(partition)
    metrics = live_figures(current)
    curated = read_interval_result(Path(partition).parent / INTERVAL_SUMMARY)
    if curated is not None:
        metrics.update(curated.error_figures())
    # Tokens, throughput and cost, of the interval and per model version.
    seconds = max(0.0, (end - interval_start(key)).total_seconds())
    price = cfg.monitoring.serving_price_per_hour
    metrics.update(usage_figures(current, seconds, price))
    metrics.update(version_figures(current, curated.server_errors_by_version if curated else {}, seconds, price))
    triton_note = "Triton metrics not read (monitoring.scrape_triton_metrics is off)"
    if cfg.monitoring.scrape_triton_metrics:
        from llmops.monitoring.triton_metrics import triton_figures

        url = f"http://{cfg.triton.host}:{cfg.triton.metrics_port}/metrics"
        triton, triton_note = triton_figures(url, cfg.triton.model_name, cfg.paths.reports_dir / "monitoring", key)
        metrics.update(triton)
    # What the answers say: flag rates of the interval, per model version (``safety_<scorer>_rate.v<N>``) and per
    # prompt version (``safety_<scorer>_rate.prompt.<name>_<version>``: a prompt release changes the answers of the
    # same weights).
    metrics.update(safety_rates(current))
    for column, suffix in (("model_version", "v"), ("prompt_version", "prompt.")):
        for value, counts in safety_counts_by_version(current, column).items():
            for scorer, (flagged, scored) in counts.items():
                if scored:
                    metrics[f"safety_{scorer}_rate.{suffix}{metric_label(value)}"] = flagged / scored
    version, snapshot, why_not = champion_reference(cfg)
    out_base = cfg.paths.reports_dir / "monitoring" / key
    reports: dict[str, str] = {}
    report_dirs: list[Path] = []
    if monitored_scorers(cfg):
        evals = text_evals_report(
            cfg,
            current,
            out_base / "text_evals",
            f"Interval {key}: what the served answers say",
            cfg.drift.max_current_rows,
        )
        report_dirs.append(out_base / "text_evals")
        reports["text_evals_html"], reports["text_evals_json"] = evals["html"], evals["json"]
    drift_share: float | None = None
    drift_passed = True
    drift_reason = why_not
    if snapshot is not None:
        reference = pd.read_parquet(snapshot, columns=["prompt", "response"])
        result = run_drift_check(
            reference,
            current,
            out_base / "interval",
            cfg.drift,
            title=(
                f"Reference: champion v{version}'s training snapshot {snapshot.parent.name} ({len(reference)} rows). "
                f"Current: the production interval from {interval_start(key):%Y-%m-%d %H:%M} UTC to {end:%H:%M} "
                f"({len(current)} rows)"
            ),
            timestamp=end,
            text_method=cfg.monitoring.text_method,
        )
        report_dirs.append(out_base / "interval")
        reports["interval_html"], reports["interval_json"] = result.html_path, result.json_path
        drift_passed, drift_reason = result.passed, result.reason
        if result.metrics.get("assessed"):
            drift_share = result.drift_share
        metrics.update({f"drift.{k}": v for k, v in result.metrics.items()})
        metrics["drift_share"] = float(result.drift_share)
        window = window_partitions(cfg, key, cfg.monitoring.window_intervals)
        if len(window) > 1:
            frame = pd.concat([pd.read_parquet(p, columns=["prompt", "response", "latency_ms"]) for p in window])
            wres = run_drift_check(
                reference,
                frame,
                out_base / "window",
                cfg.drift,
                title=(
                    f"Reference: champion v{version}'s training snapshot {snapshot.parent.name}. "
                    f"Current: the {len(window)} intervals up to {key} ({len(frame)} rows)"
                ),
                timestamp=end,
                text_method=cfg.monitoring.text_method,
            )
            report_dirs.append(out_base / "window")
            reports["window_html"], reports["window_json"] = wres.html_path, wres.json_path
            metrics["window_drift_share"] = float(wres.drift_share)
            metrics["window_intervals"] = float(len(window))
    else:
        log.info("drift not assessed for interval %s: %s", key, why_not)

    alerts = [a.to_dict() for a in decide_alerts(metrics, drift_share, cfg.monitoring)]
    summary: dict[str, Any] = {
        "key": key,
        "champion_version": version,
        "metrics": metrics,
        "drift_passed": drift_passed,
        "drift_reason": drift_reason,
        "triton_metrics": triton_note,
        "alerts": alerts,
        "reports": reports,
        "mlflow_run_id": None,
    }
    if log_mlflow:
        summary["mlflow_run_id"] = _log_to_mlflow(cfg, key, end, summary, report_dirs)
        if version is not None:
            _tag_champion(cfg, version, key, summary)
    out_base.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out_base / SUMMARY_FILE, json.dumps(summary, indent=2, sort_keys=True), fsync=False)
    log.info("interval %s: %d alert(s); %s", key, len(alerts), drift_reason)
    return summary
