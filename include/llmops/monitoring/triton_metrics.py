"""Triton's own serving counters, read from its metrics endpoint (Prometheus text) each monitored interval.

What the log lines cannot tell: how long requests waited in Triton's queue, how long the model computed, how many
requests failed inside the server, and how large the batches Triton formed were. Triton's counters are cumulative
since the server started, so an interval's figures are the differences from the scrape stored with the previous
monitored interval (a counter that went down means the server restarted: its value since the restart counts).

The scrape is stored beside the interval's monitoring summary (``triton_metrics.json``) before it is used, so a
re-run of the interval uses the same scrape instead of reading the counters again. A scrape happens when the interval
is monitored: intervals monitored together (a backfill) share the counters of that moment, the first of them taking
the differences. An unreachable endpoint is recorded with its reason and gives no figures; it never fails the
interval. No Airflow import.
"""

from __future__ import annotations

import json
import logging
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

SCRAPE_FILE = "triton_metrics.json"
# Triton's per-model counters (labels model, version) and the short names they are stored under.
COUNTERS = {
    "nv_inference_request_success": "success",
    "nv_inference_request_failure": "failure",
    "nv_inference_count": "inferences",
    "nv_inference_exec_count": "executions",
    "nv_inference_request_duration_us": "request_us",
    "nv_inference_queue_duration_us": "queue_us",
    "nv_inference_compute_infer_duration_us": "compute_infer_us",
}


def parse_counters(text: str, model: str) -> dict[str, dict[str, float]]:
    """``{version: {short name: value}}`` of ``model``'s counters in a Prometheus text exposition."""
    from prometheus_client.parser import text_string_to_metric_families

    out: dict[str, dict[str, float]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            name = COUNTERS.get(sample.name.removesuffix("_total"))
            if name is None or sample.labels.get("model") != model:
                continue
            version = str(sample.labels.get("version", ""))
            out.setdefault(version, {})[name] = out.get(version, {}).get(name, 0.0) + float(sample.value)
    return out


def scrape(url: str, model: str, timeout_s: float = 5.0) -> dict[str, dict[str, float]]:
    """Read ``model``'s counters from Triton's metrics endpoint.

    Raises:
        OSError: the endpoint is unreachable or answers an error.
    """
    with urllib.request.urlopen(url, timeout=timeout_s) as answer:
        text = answer.read().decode("utf-8", errors="replace")
    return parse_counters(text, model)


def _delta(now: Mapping[str, float], before: Mapping[str, float] | None) -> dict[str, float]:
    if before is None:
        return dict(now)
    restarted = any(now.get(k, 0.0) < before.get(k, 0.0) for k in now)
    return dict(now) if restarted else {k: v - before.get(k, 0.0) for k, v in now.items()}


def _figures(d: Mapping[str, float]) -> dict[str, float]:
    success, failure = d.get("success", 0.0), d.get("failure", 0.0)
    figures = {"requests": success + failure, "failures": failure}
    if success + failure > 0:
        figures["failure_rate"] = failure / (success + failure)
    if success > 0:
        for key, name in (("queue_us", "queue_ms"), ("compute_infer_us", "compute_ms"), ("request_us", "request_ms")):
            if key in d:
                figures[f"{name}_per_request"] = d[key] / success / 1000.0
    if d.get("executions", 0.0) > 0:
        figures["batch_size_mean"] = d.get("inferences", 0.0) / d["executions"]
    return figures


def interval_figures(
    now: Mapping[str, Mapping[str, float]], before: Mapping[str, Mapping[str, float]] | None
) -> dict[str, float]:
    """The interval's figures from two scrapes: ``triton.<figure>`` over every version and ``triton.<figure>.v<N>``
    per version that took requests in the interval. Figures: ``requests``, ``failures``, ``failure_rate``,
    ``queue_ms_per_request``, ``compute_ms_per_request``, ``request_ms_per_request`` (Triton's own end-to-end time) and
    ``batch_size_mean`` (requests per model execution)."""
    total: dict[str, float] = {}
    out: dict[str, float] = {}
    for version, counters in sorted(now.items()):
        delta = _delta(counters, (before or {}).get(version))
        for k, v in delta.items():
            total[k] = total.get(k, 0.0) + v
        figures = _figures(delta)
        if figures["requests"] > 0:  # a version that took no request this interval (e.g. long unloaded) adds none
            out.update({f"triton.{k}.v{version}": v for k, v in figures.items()})
    if now:
        out.update({f"triton.{k}": v for k, v in _figures(total).items()})
    return out


def _read(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def previous_scrape(monitoring_dir: Path, key: str) -> dict[str, dict[str, float]] | None:
    """The counters stored with the latest interval before ``key`` that has a successful scrape."""
    for path in sorted(monitoring_dir.glob(f"*/{SCRAPE_FILE}"), reverse=True):
        if path.parent.name >= key:
            continue
        data = _read(path)
        if data and isinstance(data.get("counters"), dict):
            return data["counters"]
    return None


def triton_figures(url: str, model: str, monitoring_dir: Path, key: str) -> tuple[dict[str, float], str]:
    """The interval's Triton figures and a note on where they come from (scraped, reused, or why there are none).

    The scrape is written to ``<monitoring_dir>/<key>/triton_metrics.json`` first (a re-run reuses it).
    """
    from llmops.fsutil import atomic_write_text

    path = monitoring_dir / key / SCRAPE_FILE
    stored = _read(path)
    if stored is None:
        try:
            stored = {"url": url, "counters": scrape(url, model)}
        except (OSError, ValueError) as exc:
            stored = {"url": url, "error": f"{type(exc).__name__}: {exc}"}
            log.warning("Triton metrics not read from %s: %s", url, exc)
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, json.dumps(stored, indent=2, sort_keys=True), fsync=False)
    if "counters" not in stored:
        return {}, f"Triton metrics not read from {url}: {stored.get('error', 'unknown error')}"
    before = previous_scrape(monitoring_dir, key)
    note = "since the previous monitored interval" if before is not None else "since the server started"
    return interval_figures(stored["counters"], before), f"Triton metrics from {url}, {note}"
