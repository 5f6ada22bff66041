"""Scale benchmark: does a monitoring run's cost stay flat as the log history grows?

Writes ``bench/results/scale.json`` and prints a table. For each history size (1, 100 and 1,000 rotated log files by
default, each holding one earlier hour of ``--lines-per-file`` demo requests), in a fresh process and a private
state folder:

- the history is written and the log index brought up to date, as the hourly runs before would have done
  (``cold_index_update_s``: what the very first run pays once, scanning every file);
- the interval's own traffic (``--interval-rows`` demo requests in the live ``requests.jsonl``) is appended;
- the previous hour is curated first (as the run before did; it also loads what every run loads), so that the
  figures are what the history adds, not the process's start-up;
- ``indexed_read_s``: the hour's lines read through the index (scan of the bytes appended, strict read of the
  hour's ranges);
- ``curate_s``: one ``curate_interval`` of that hour (index update, strict read, contract, scrubbing, partition),
  the monitoring run's data cost;
- ``full_read_s``: the same hour read the way monitoring read before the index: every line of every file
  (``read_interval_lines``), for comparison;
- ``peak_rss_mb``: the process's peak resident memory.

``monitoring_ratio_1000_vs_1`` = ``curate_s`` with the most history files / with one (target ≤ 1.2).
The data-stage part of the scale benchmark (100k to 4M rows per stage) is not measured here yet.
Run: ``make bench-scale`` (or ``python bench/bench_scale.py --history-files 1 100 1000``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
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

RESULTS = ROOT / "bench" / "results" / "scale.json"
START = datetime(2026, 6, 1, 12, tzinfo=UTC)
HOUR = timedelta(hours=1)
TARGET_RATIO = 1.2


def _shifted(template: list[dict[str, Any]], hour_start: datetime, tag: str) -> str:
    """The template's requests moved into the hour starting at ``hour_start`` (fresh request ids)."""
    span = max(len(template), 1)
    lines = []
    for i, record in enumerate(template):
        at = hour_start + timedelta(seconds=3599 * i / span)
        lines.append(json.dumps({**record, "request_id": f"{tag}-{i}", "timestamp": at.isoformat()}))
    return "\n".join(lines) + "\n"


def run_one(history_files: int, lines_per_file: int, interval_rows: int, home: Path) -> dict[str, Any]:
    """One history size, in this process (see the module description)."""
    os.environ["LLMOPS_HOME"] = str(home)
    from llmops.config import load_config
    from llmops.demo import generate_prod_logs
    from llmops.monitoring.interval import curate_interval, indexed_interval_lines, log_index, read_interval_lines

    cfg = load_config()
    cfg.data.max_quarantine_ratio = 1.0
    logs = cfg.paths.prod_log_dir
    logs.mkdir(parents=True, exist_ok=True)
    sample = generate_prod_logs(max(lines_per_file, interval_rows), 0.3, 3, home / "sample.jsonl", start=START)
    template = [json.loads(line) for line in sample.read_text().splitlines() if line.strip()]
    sample.unlink()
    for k in range(history_files):
        hour = START - (k + 1) * HOUR
        name = f"requests-{hour.strftime('%Y%m%dT%H%M%S')}-host-1-{k}.jsonl"
        (logs / name).write_text(_shifted(template[:lines_per_file], hour, f"h{k}"))
    history_bytes = sum(p.stat().st_size for p in logs.glob("*.jsonl"))
    started = time.perf_counter()
    log_index(cfg).update(final_before=START)  # the hourly runs before this one kept the index up to date
    cold_s = time.perf_counter() - started
    # The previous hour's run (it also loads what every run loads: the contract suite, the PII and safety models),
    # so that the figures below are what the history adds, not the process's start-up.
    curate_interval(cfg, START - HOUR, START)
    with (logs / "requests.jsonl").open("a") as handle:
        handle.write(_shifted(template[:interval_rows], START, "live"))
    started = time.perf_counter()
    indexed = indexed_interval_lines(cfg, logs, START, START + HOUR)
    read_s = time.perf_counter() - started
    started = time.perf_counter()
    result = curate_interval(cfg, START, START + HOUR)
    curate_s = time.perf_counter() - started
    started = time.perf_counter()
    full = read_interval_lines(logs, START, START + HOUR, cfg.data.max_line_bytes)
    full_s = time.perf_counter() - started
    assert full.lines_read == result.lines_read == indexed.lines_read, (full.lines_read, result.lines_read)
    return {
        "history_files": history_files,
        "history_lines": history_files * lines_per_file,
        "history_mb": round(history_bytes / 1e6, 1),
        "interval_rows": interval_rows,
        "rows_curated": result.rows,
        "cold_index_update_s": round(cold_s, 3),
        "indexed_read_s": round(read_s, 3),
        "curate_s": round(curate_s, 3),
        "full_read_s": round(full_s, 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--history-files", type=int, nargs="+", default=[1, 100, 1000])
    parser.add_argument("--lines-per-file", type=int, default=500)
    parser.add_argument("--interval-rows", type=int, default=2000)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # internal: run one size in this process
    args = parser.parse_args(argv)
    if args.one is not None:
        with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
            print(json.dumps(run_one(args.one, args.lines_per_file, args.interval_rows, Path(tmp))))
        return 0
    rows = []
    for n in args.history_files:
        cmd = [sys.executable, __file__, "--one", str(n), "--lines-per-file", str(args.lines_per_file),
               "--interval-rows", str(args.interval_rows)]  # fmt: skip
        out = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if out.returncode:
            print(out.stderr[-4000:], file=sys.stderr)
            return out.returncode
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
        r = rows[-1]
        print(
            f"{r['history_files']:>5} history files ({r['history_mb']:>7.1f} MB)  curate {r['curate_s']:7.2f} s  "
            f"indexed read {r['indexed_read_s']:6.3f} s  full read {r['full_read_s']:7.2f} s  "
            f"cold index {r['cold_index_update_s']:7.2f} s  "
            f"peak RSS {r['peak_rss_mb']:7.1f} MB"
        )
    ratio = round(rows[-1]["curate_s"] / rows[0]["curate_s"], 3)
    print(f"monitoring: curate with {rows[-1]['history_files']} history files / with {rows[0]['history_files']}: "
          f"{ratio} (target <= {TARGET_RATIO})")  # fmt: skip
    result = {
        "benchmark": "scale",
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
        "target": {"monitoring_ratio_max": TARGET_RATIO},
        "monitoring": rows,
        "monitoring_ratio_1000_vs_1": ratio,
        "indexed_read_ratio_1000_vs_1": round(rows[-1]["indexed_read_s"] / max(rows[0]["indexed_read_s"], 1e-6), 3),
        "full_read_ratio_1000_vs_1": round(rows[-1]["full_read_s"] / max(rows[0]["full_read_s"], 1e-6), 3),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
