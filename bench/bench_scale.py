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

The data stage (``--data-rows``, 100k, 1M and 4M by default): a raw training file of support documents of about 100
words (:mod:`bench.dedup_corpus`, generated in chunks of 100,000 with their own seeds: 15% of each chunk in clusters of
a source and word-edited or reordered copies, 20% in groups sharing boilerplate, Faker names, companies and cities)
and an eval file of 2,000 documents, then each task of the stage in its own process, in DAG order: validate,
plan_shards, scrub and sign (every shard, one after the other, as mapped tasks on one worker would), dedup (the
merge, out of core under ``data.dedup.merge_memory_mb``) and snapshot. Per stage and size: ``wall_s``,
``us_per_row`` and the process's ``peak_rss_mb``. ``data_ratio_vs_smallest`` = per-row time at the largest size /
at the smallest, per stage (target ≤ 1.3); ``merge_peak_rss_mb`` against ``merge_budget_mb``. Personal-data
detection is off unless ``--pii-max-rows N`` turns it on for the sizes up to ``N`` (it costs milliseconds a row,
the same at any size). ``training_input``: the training process's data loading at sizes up to
``--training-input-max-rows`` (1M).
Run: ``make bench-scale`` (or ``python bench/bench_scale.py --history-files 1 100 1000 --data-rows 100000 1000000``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "include"))
sys.path.insert(0, str(ROOT))
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

RESULTS = ROOT / "bench" / "results" / "scale.json"
START = datetime(2026, 6, 1, 12, tzinfo=UTC)
HOUR = timedelta(hours=1)
TARGET_RATIO = 1.2
DATA_TARGET_RATIO = 1.3
DATA_STAGES = ("validate", "plan_shards", "scrub", "sign", "dedup", "snapshot")
TRAINING_INPUT = "training_input"
TOKENIZER_CORPUS_ROWS = 20_000
CHUNK_DOCS = 100_000


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


# ---------------------------------------------------------------------------------------------------------------
# data stage
# ---------------------------------------------------------------------------------------------------------------
def write_data_input(path: Path, rows: int, seed: int) -> None:
    """``rows`` support documents as a raw training file (JSON lines), generated chunk by chunk."""
    from bench.dedup_corpus import build_dedup_corpus

    tmp = path.with_name(f".{path.name}.tmp")
    written = 0
    with tmp.open("w") as out:
        for chunk, lo in enumerate(range(0, rows, CHUNK_DOCS)):
            corpus = build_dedup_corpus(min(CHUNK_DOCS, rows - lo), seed=seed * 1000 + chunk, cluster_share=0.15)
            for p, r in zip(corpus.prompts, corpus.responses, strict=True):
                out.write(json.dumps({"id": f"s{written}", "prompt": p, "response": r}) + "\n")
                written += 1
    tmp.replace(path)


def head_file(source: Path, target: Path, rows: int) -> None:
    """The first ``rows`` lines of ``source``."""
    with source.open("rb") as src, target.open("wb") as out:
        for i, line in enumerate(src):
            if i >= rows:
                break
            out.write(line)


def _data_config(home: Path, raw: Path, eval_path: Path, pii: bool) -> Any:
    os.environ["LLMOPS_HOME"] = str(home)
    from llmops.config import load_config

    data = {"raw_path": str(raw), "eval_path": str(eval_path), "max_duplicate_ratio": 1.0, "pii": {"enabled": pii}}
    return load_config(overrides={"data": data})


def run_data_stage(stage: str, home: Path, raw: Path, eval_path: Path, pii: bool) -> dict[str, Any]:
    """One task of the data stage in this process; its inputs and outputs are in ``home/payloads.json``."""
    from llmops.data import dedup, shards, snapshot, validation

    cfg = _data_config(home, raw, eval_path, pii)
    state_file = home / "payloads.json"
    state = json.loads(state_file.read_text()) if state_file.is_file() else {}
    key = "scale"
    started = time.perf_counter()
    if stage == "validate":
        state["validated"] = validation.validate_raw_file(cfg, key)
    elif stage == "plan_shards":
        state["shards"] = shards.write_shards(cfg, key, state["validated"]["validated_path"])
    elif stage == "scrub":
        state["scrubbed"] = [shards.scrub(cfg, path) for path in state["shards"]]
    elif stage == "sign":
        state["signed"] = [shards.sign(cfg, scrubbed) for scrubbed in state["scrubbed"]]
    elif stage == "dedup":
        state["deduped"] = dedup.dedup_shards(cfg, key, state["signed"])
    elif stage == "snapshot":
        state["curated"] = snapshot.write_snapshot(cfg, key, state["validated"], state["deduped"])
    elif stage == TRAINING_INPUT:
        started, extra = _training_input(cfg, state["curated"], home)
    wall = time.perf_counter() - started
    state_file.write_text(json.dumps(state, default=str))
    out: dict[str, Any] = {"stage": stage, "wall_s": round(wall, 3), "pii": pii}
    if stage == TRAINING_INPUT:
        out.update(extra)
    if stage == "dedup":
        d = state["deduped"]
        out.update({k: d[k] for k in ("rows_in", "rows_out", "exact_duplicates", "near_duplicates", "contaminated")})
        out["merge_budget_mb"] = cfg.data.dedup.merge_memory_mb
    if stage == "plan_shards":
        out["shards"] = len(state["shards"])
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return out


def _training_input(cfg: Any, curated: dict[str, Any], home: Path) -> tuple[float, dict[str, Any]]:
    """The training process's data loading (``llmops.training.train.load_examples``: the snapshot as a memory-mapped
    ``datasets.Dataset``, tokenized by a batched ``map`` into its cache), then one pass reading every example. The
    tokenizer is the project's tiny one, trained beforehand (not timed) on the snapshot's first rows. Returns the
    start time of the timed part and the figures."""
    import pyarrow.parquet as pq
    from transformers import AutoTokenizer

    from llmops.training.base_model import build_tiny_base_model
    from llmops.training.job import TrainingJob
    from llmops.training.train import load_examples

    train_path = curated["train_path"]
    head = pq.ParquetFile(train_path).read_row_group(0, columns=["prompt", "response"]).slice(0, TOKENIZER_CORPUS_ROWS)
    corpus = [str(x) for x in head["prompt"].to_pylist() + head["response"].to_pylist()]
    base = build_tiny_base_model(cfg.base_model.tiny, corpus, home / "base-model")
    tokenizer = AutoTokenizer.from_pretrained(str(base))
    job = TrainingJob(
        base_model=str(base), train_path=str(train_path), output_dir=str(home / "train-out"), deepspeed_config={},
        max_steps=1, micro_batch_size=1, gradient_accumulation_steps=1, learning_rate=1e-4, warmup_steps=0,
        weight_decay=0.0, max_seq_len=cfg.base_model.tiny.n_positions, seed=0, checkpoint_every=1, log_every=1,
    )  # fmt: skip
    started = time.perf_counter()
    examples = load_examples(job, tokenizer)
    tokenize_s = time.perf_counter() - started
    tokens = 0
    for batch in examples.dataset.with_format("numpy").iter(batch_size=10_000):
        tokens += sum(len(ids) for ids in batch["input_ids"])
    return started, {
        "tokenize_s": round(tokenize_s, 3),
        "examples": len(examples.dataset),
        "tokens": int(tokens),
    }


def bench_data(
    sizes: list[int], seed: int, work: Path, pii_max_rows: int, training_input_max_rows: int
) -> list[dict[str, Any]]:
    """Every stage at every size, each in a fresh process; rows of ``{"rows", "stage", "wall_s", ...}``.

    Above ``pii_max_rows`` the stage runs with ``data.pii.enabled: false`` (scrub copies the shard; the eval set is
    signed unscrubbed): personal-data detection costs the same per row at any size (each row is read alone) and
    takes hours at millions of rows on two cores."""
    source, eval_path = work / "train-source.jsonl", work / "eval.jsonl"
    started = time.perf_counter()
    write_data_input(source, max(sizes), seed)
    write_data_input(eval_path, 2000, seed + 7919)
    print(f"data: wrote {max(sizes):,} rows in {time.perf_counter() - started:.0f} s")
    rows: list[dict[str, Any]] = []
    for n in sizes:
        home = work / f"home-{n}"
        home.mkdir()
        raw = home / "train.jsonl"
        head_file(source, raw, n)
        stages = [*DATA_STAGES, *([TRAINING_INPUT] if n <= training_input_max_rows else [])]
        for stage in stages:
            pii = n <= pii_max_rows and stage != TRAINING_INPUT
            cmd = [sys.executable, __file__, "--data-stage", stage, "--home", str(home), "--raw", str(raw),
                   "--eval", str(eval_path), "--pii", "1" if pii else "0"]  # fmt: skip
            out = subprocess.run(cmd, capture_output=True, text=True, check=False)
            if out.returncode:
                print(out.stderr[-4000:], file=sys.stderr)
                raise SystemExit(out.returncode)
            r = {"rows": n, **json.loads(out.stdout.strip().splitlines()[-1])}
            r["us_per_row"] = round(r["wall_s"] / n * 1e6, 2)
            rows.append(r)
            _print_stage(r)
        shutil.rmtree(home, ignore_errors=True)
    return rows


def _print_stage(r: dict[str, Any]) -> None:
    print(
        f"{r['rows']:>9,} rows  {r['stage']:<14} {r['wall_s']:9.2f} s  {r['us_per_row']:8.2f} us/row  "
        f"peak RSS {r['peak_rss_mb']:8.1f} MB{'' if r['pii'] else '  (PII detection off)'}",
        flush=True,
    )


def data_summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Per-row time at the largest size / at the smallest, per stage (scrub and dedup among the sizes run with the
    same PII setting as the largest), and the merge's peak memory."""
    at = {(r["rows"], r["stage"]): r for r in rows}
    ratios = {}
    for stage in DATA_STAGES:
        runs = sorted((r for r in rows if r["stage"] == stage), key=lambda r: r["rows"])
        if stage in ("scrub", "dedup"):
            runs = [r for r in runs if r["pii"] == runs[-1]["pii"]] or runs
        ratios[stage] = round(runs[-1]["us_per_row"] / max(runs[0]["us_per_row"], 1e-9), 3)
    sizes = sorted({r["rows"] for r in rows})
    with_pii = sorted(r["rows"] for r in rows if r["stage"] == "scrub" and r["pii"])
    if len(with_pii) > 1:
        first, last = at[(with_pii[0], "scrub")], at[(with_pii[-1], "scrub")]
        ratios["scrub_with_pii"] = round(last["us_per_row"] / max(first["us_per_row"], 1e-9), 3)
    merges = [r for r in rows if r["stage"] == "dedup"]
    inputs = sorted((r for r in rows if r["stage"] == TRAINING_INPUT), key=lambda r: r["rows"])
    return {
        "training_input": inputs[-1] if inputs else None,
        "data_sizes": sizes,
        "data_ratio_vs_smallest": ratios,
        "merge_peak_rss_mb": max(r["peak_rss_mb"] for r in merges),
        "merge_budget_mb": merges[0]["merge_budget_mb"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--history-files", type=int, nargs="*", default=[1, 100, 1000])
    parser.add_argument("--lines-per-file", type=int, default=500)
    parser.add_argument("--interval-rows", type=int, default=2000)
    parser.add_argument("--data-rows", type=int, nargs="*", default=[100_000, 1_000_000, 4_000_000])
    parser.add_argument("--pii-max-rows", type=int, default=0, help="sizes above run without PII detection")
    parser.add_argument(
        "--training-input-max-rows", type=int, default=1_000_000, help="sizes the training input runs at"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # internal: run one size in this process
    parser.add_argument(
        "--data-stage", choices=[*DATA_STAGES, TRAINING_INPUT], help=argparse.SUPPRESS
    )  # internal: one stage
    parser.add_argument("--home", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--raw", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--eval", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--pii", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.data_stage:
        print(json.dumps(run_data_stage(args.data_stage, args.home, args.raw, args.eval, bool(args.pii))))
        return 0
    if args.one is not None:
        with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
            print(json.dumps(run_one(args.one, args.lines_per_file, args.interval_rows, Path(tmp))))
        return 0
    data_rows: list[dict[str, Any]] = []
    if args.data_rows:
        with tempfile.TemporaryDirectory(prefix="bench-scale-data-") as tmp:
            data_rows = bench_data(
                sorted(args.data_rows), args.seed, Path(tmp), args.pii_max_rows, args.training_input_max_rows
            )
        summary = data_summary(data_rows)
        print(f"data stage: per-row time at {summary['data_sizes'][-1]:,} / at {summary['data_sizes'][0]:,} rows: "
              f"{summary['data_ratio_vs_smallest']} (target <= {DATA_TARGET_RATIO}); merge peak RSS "
              f"{summary['merge_peak_rss_mb']} MB (budget {summary['merge_budget_mb']} MB)")  # fmt: skip
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
    result: dict[str, Any] = {
        "benchmark": "scale",
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
        "target": {"monitoring_ratio_max": TARGET_RATIO, "data_ratio_max": DATA_TARGET_RATIO},
        "data_stage": data_rows,
        **(data_summary(data_rows) if data_rows else {}),
        "monitoring": rows,
    }
    if rows:
        ratio = round(rows[-1]["curate_s"] / rows[0]["curate_s"], 3)
        print(f"monitoring: curate with {rows[-1]['history_files']} history files / with {rows[0]['history_files']}: "
              f"{ratio} (target <= {TARGET_RATIO})")  # fmt: skip
        result["monitoring_ratio_1000_vs_1"] = ratio
        result["indexed_read_ratio_1000_vs_1"] = round(
            rows[-1]["indexed_read_s"] / max(rows[0]["indexed_read_s"], 1e-6), 3
        )
        result["full_read_ratio_1000_vs_1"] = round(rows[-1]["full_read_s"] / max(rows[0]["full_read_s"], 1e-6), 3)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
