"""Monitoring benchmark: one `llm_production_monitoring` interval run vs a bare Evidently report on the same data.

Writes ``bench/results/monitor.json`` and prints a table. For each size (10,000 and 100,000 log rows by default),
seeded demo production logs (drift knob 0.5) are written to a private state folder, then:

- ``ours``: one monitoring run of the interval holding all rows: :func:`curate_interval` (read, production-log
  contract with quarantine, PII scrubbing, dedup, Parquet partition) plus :func:`check_interval_drift` (live figures,
  descriptors, Evidently drift report saved as HTML and JSON) against a 2,000-row reference; MLflow logging off (the
  champion lookup is replaced by the reference path, so no registry is needed); one-time imports (GX, Evidently)
  are done before timing;
- ``bare``: an Evidently ``Report`` with the same preset (``DataDriftPreset`` on prompt and response, the same text
  method and drift share) on the same reference and the same interval rows (read straight from the JSONL, no
  contract, no sampling), saved as HTML and JSON.

``ratio`` = ours / bare wall seconds. ``ingest_rows_per_s`` = rows / seconds of ``curate_interval``.
Run: ``make bench-monitor`` (or ``python bench/bench_monitor.py --sizes 10000 100000``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "include"))
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

RESULTS = ROOT / "bench" / "results" / "monitor.json"
START = datetime(2026, 1, 1, tzinfo=UTC)


def _bare(reference: Any, current: Any, out: Path, cfg: Any) -> float:
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    started = time.perf_counter()
    columns = ["prompt", "response"]
    definition = DataDefinition(text_columns=columns)
    report = Report(
        [
            DataDriftPreset(
                columns=columns, drift_share=cfg.drift.drift_share_threshold, text_method=cfg.monitoring.text_method
            )
        ],
        include_tests=True,
    )
    snapshot = report.run(
        Dataset.from_pandas(current[columns], data_definition=definition),
        Dataset.from_pandas(reference[columns], data_definition=definition),
    )
    out.mkdir(parents=True, exist_ok=True)
    snapshot.save_html(str(out / "bare.html"))
    (out / "bare.json").write_text(snapshot.json())
    return time.perf_counter() - started


def run_size(n: int, home: Path) -> dict[str, Any]:
    import pandas as pd

    os.environ["LLMOPS_HOME"] = str(home)
    from llmops.config import load_config
    from llmops.demo import generate_prod_logs
    from llmops.monitoring import monitor
    from llmops.monitoring.interval import curate_interval

    cfg = load_config()
    cfg.data.max_quarantine_ratio = 1.0
    ref_logs = generate_prod_logs(2000, 0.0, 1, home / "reference.jsonl", start=START - timedelta(days=30))
    reference = pd.read_json(ref_logs, lines=True)[["prompt", "response"]]
    snapshot = home / "snapshot" / "train.parquet"
    snapshot.parent.mkdir(parents=True, exist_ok=True)
    reference.to_parquet(snapshot)
    logs = generate_prod_logs(n, 0.5, 2, cfg.paths.prod_log_dir / "requests.jsonl", start=START)
    raw = pd.read_json(logs, lines=True)
    end = pd.to_datetime(raw["timestamp"], utc=True).max().to_pydatetime() + timedelta(seconds=1)
    monitor.champion_reference = lambda _cfg: ("1", snapshot, "")  # type: ignore[assignment]
    # One-time import costs (Great Expectations for the contract's suite, Evidently) are paid before timing: they
    # belong to the worker process, not to a monitoring run, and the bare report would not pay them either.
    import evidently.presets  # noqa: F401

    import great_expectations  # noqa: F401

    started = time.perf_counter()
    curated = curate_interval(cfg, START, end)
    ingest_s = time.perf_counter() - started
    summary = monitor.check_interval_drift(cfg, curated.key, curated.partition_path, end, log_mlflow=False)
    ours_s = time.perf_counter() - started
    bare_s = _bare(reference, raw, home / "bare", cfg)
    return {
        "rows": n,
        "rows_curated": curated.rows,
        "ours_s": round(ours_s, 3),
        "ours_ingest_s": round(ingest_s, 3),
        "ours_drift_s": round(ours_s - ingest_s, 3),
        "bare_evidently_s": round(bare_s, 3),
        "ratio": round(ours_s / bare_s, 3),
        "ingest_rows_per_s": round(n / ingest_s, 1),
        "drift_share": summary["metrics"].get("drift_share"),
        "alerts": [a["name"] for a in summary["alerts"]],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    results = []
    for n in args.sizes:
        with tempfile.TemporaryDirectory(prefix="bench-monitor-") as tmp:
            results.append(run_size(n, Path(tmp)))
        r = results[-1]
        print(
            f"{r['rows']:>8} rows  ours {r['ours_s']:8.2f} s (ingest {r['ours_ingest_s']:.2f} s, "
            f"drift {r['ours_drift_s']:.2f} s)  bare Evidently {r['bare_evidently_s']:8.2f} s  "
            f"ratio {r['ratio']:.2f}  ingest {r['ingest_rows_per_s']:.0f} rows/s"
        )
    out = {
        "benchmark": "monitor",
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
        "target": {"ratio_at_100000_rows_max": 1.3},
        "results": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
