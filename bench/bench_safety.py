"""Safety-scorer benchmark: precision and recall of each safety scorer on labelled answers, and scoring throughput.

Writes ``bench/results/safety.json`` and prints a table. Everything is generated here, seeded
(``bench/safety_corpus.py`` describes how the sets are built and why they are independent of the scorers):

- ``scorers``: for ``pii_leak``, ``toxicity``, ``refusal``, ``degenerate`` and ``unsupported_facts``, ``--n``
  answers the scorer should flag and ``--n`` it should not, from the held-out ``test`` split by default (``--split
  dev`` for the split scorer changes may be studied on; ``--split fresh`` builds only the toxicity set, from a
  vocabulary dev and test never use, and writes ``bench/results/safety_fresh.json``; ``--split fresh2`` likewise,
  from a second such vocabulary with its own clean answers, and writes ``bench/results/safety_fresh2.json``;
  ``--split fresh3`` likewise, from a third such vocabulary with its own clean answers, the final untouched
  measurement, and writes ``bench/results/safety_fresh3.json``). Each answer goes through
  ``score_response`` with the configured thresholds (``scorers:`` in ``include/configs/llmops.yaml``). Precision,
  recall, F1 and the confusion counts per scorer; per class (PII type, locale, card brand, obfuscation, look-alike
  kind, ...) the recall of a positive class or the false-positive rate of a negative one. Informational classes
  (person names and street addresses for ``pii_leak``, mild informal language for ``toxicity``) show their flag
  rate and are not counted. Targets: recall >= 0.95 and precision >= 0.9 for every scorer. ``--toxicity-classifier
  on|off`` overrides whether the toxicity scorer runs its sentence classifier after the word list.
- ``throughput``: ``score_response`` with the configured safety-critical scorers over ``--rows`` generated answers
  (80% the demo assistant's own answers, 20% drawn from labelled sets built with another seed), after one warm-up
  call of each scorer; then each scorer alone over the same rows (default 0 rows with ``--split fresh``, ``fresh2``
  or ``fresh3``).

Run: ``make bench-safety`` (or ``python bench/bench_safety.py --split dev --rows 20000 --show-errors 20``).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import random
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "include"))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from safety_corpus import SCORERS, SPLIT_SEEDS, Example, build_corpus  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "safety.json"
RESULTS_FRESH = {
    "fresh": ROOT / "bench" / "results" / "safety_fresh.json",
    "fresh2": ROOT / "bench" / "results" / "safety_fresh2.json",
    "fresh3": ROOT / "bench" / "results" / "safety_fresh3.json",
}
FRESH_SCORERS = ("toxicity",)  # the only set with a fresh vocabulary
CONFIG = ROOT / "include" / "configs" / "llmops.yaml"
MIN_RECALL = 0.95
MIN_PRECISION = 0.9
Row = tuple[str, str, str | None]


def _scorers_config(path: Path = CONFIG) -> Any:
    from llmops.config import load_config

    return load_config(path).scorers


def _ratio(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


# ---------------------------------------------------------------------------------------------------------------
# Quality
# ---------------------------------------------------------------------------------------------------------------
def evaluate(examples: Sequence[Example], name: str, config: Any) -> tuple[dict[str, Any], list[tuple[Example, Any]]]:
    """Precision, recall, F1, counts and per-class rates of one scorer on its labelled examples.

    Args:
        examples: the scorer's examples.
        name: the scorer.
        config: the ``scorers`` config section.

    Returns:
        ``(figures, mistakes)``: the figures as written to the JSON, and the misjudged examples with their result.
    """
    from llmops.evaluation.scorers import score_response

    counts: Counter[str] = Counter()
    per_class: dict[str, Counter[str]] = defaultdict(Counter)
    kinds: dict[str, str] = {}
    mistakes: list[tuple[Example, Any]] = []
    for example in examples:
        result = score_response(example.prompt, example.response, example.reference, config, names=[name])[name]
        flagged = bool(result.flagged)
        kind = "informational" if example.informational else "positive" if example.label else "negative"
        for cls in example.classes:
            kinds.setdefault(cls, kind)
            per_class[cls]["n"] += 1
            per_class[cls]["flagged"] += flagged
        if example.informational:
            continue
        counts[("t" if flagged == example.label else "f") + ("p" if flagged else "n")] += 1
        if flagged != example.label:
            mistakes.append((example, result))
    tp, fp, fn, tn = (counts[k] for k in ("tp", "fp", "fn", "tn"))
    precision = _ratio(tp, tp + fp)
    recall = _ratio(tp, tp + fn)
    f1 = round(2 * precision * recall / (precision + recall), 4) if precision and recall else 0.0
    by_class = {
        cls: {
            "kind": kinds[cls],
            "n": c["n"],
            "flagged": c["flagged"],
            "recall": _ratio(c["flagged"], c["n"]) if kinds[cls] == "positive" else None,
            "false_positive_rate": _ratio(c["flagged"], c["n"]) if kinds[cls] == "negative" else None,
            "flag_rate": _ratio(c["flagged"], c["n"]) if kinds[cls] == "informational" else None,
        }
        for cls, c in sorted(per_class.items(), key=lambda item: (kinds[item[0]], item[0]))
    }
    figures = {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "tn": tn,
        "passed": bool(precision is not None and recall is not None)
        and precision >= MIN_PRECISION
        and recall >= MIN_RECALL,
        "by_class": by_class,
    }
    return figures, mistakes


# ---------------------------------------------------------------------------------------------------------------
# Throughput
# ---------------------------------------------------------------------------------------------------------------
def generate_rows(n: int, seed: int) -> list[Row]:
    """``n`` (prompt, response, reference) rows: 80% demo answers, 20% from labelled sets of another seed."""
    from llmops.demo.intents import render_example

    rng = random.Random(seed)
    n_labelled = n // 5
    per_set = max(1, -(-n_labelled // (2 * len(SCORERS))))
    pool = [e for examples in build_corpus("test", per_set, seed=seed).values() for e in examples]
    rng.shuffle(pool)
    rows: list[Row] = [(e.prompt, e.response, e.reference) for e in pool[:n_labelled]]
    while len(rows) < n:
        example = render_example(rng)[1]
        rows.append((example["prompt"], example["response"], None))
    rng.shuffle(rows)
    return rows


def _time_rows(rows: Sequence[Row], config: Any, names: Sequence[str]) -> tuple[float, Counter[str]]:
    from llmops.evaluation.scorers import prefetch_toxicity, score_response

    flags: Counter[str] = Counter()
    gc.collect()
    started = time.perf_counter()
    if "toxicity" in names:  # as monitoring does: the classifier (when on) runs once over the answers, batched
        prefetch_toxicity((response for _, response, _ in rows), config)
    for prompt, response, reference in rows:
        for name, result in score_response(prompt, response, reference, config, names=names).items():
            flags[name] += bool(result.flagged)
    return time.perf_counter() - started, flags


def throughput(rows: Sequence[Row], config: Any) -> dict[str, Any]:
    """Rows/s of ``score_response`` with the safety-critical scorers, together and one at a time.

    Args:
        rows: the rows to score.
        config: the ``scorers`` config section (its ``safety_critical`` list is what runs).

    Returns:
        ``{rows, scorers, seconds, rows_per_s, flag_rates, by_scorer: {name: {seconds, rows_per_s}}}``.
    """
    from llmops.evaluation.scorers import score_response

    names = list(config.safety_critical)
    for prompt, response, reference in rows[:20]:  # warm-up: lexicon, knowledge, the profanity index
        score_response(prompt, response, reference, config, names=names)
    seconds, flags = _time_rows(rows, config, names)
    by_scorer = {}
    for name in names:
        alone, _ = _time_rows(rows, config, [name])
        by_scorer[name] = {"seconds": round(alone, 2), "rows_per_s": round(len(rows) / alone, 1)}
    return {
        "rows": len(rows),
        "scorers": names,
        "seconds": round(seconds, 2),
        "rows_per_s": round(len(rows) / seconds, 1),
        "flag_rates": {name: round(flags[name] / len(rows), 4) for name in names},
        "by_scorer": by_scorer,
    }


def _monitoring_run(home: Path, rows: int, score: bool, classifier: bool) -> dict[str, float]:
    """One monitoring run (curate_interval + check_interval_drift, MLflow off) of ``rows`` demo production-log
    records, in its own state folder; seconds of each part."""
    from datetime import UTC, datetime, timedelta

    import pandas as pd

    os.environ["LLMOPS_HOME"] = str(home)
    from llmops.config import load_config
    from llmops.demo import generate_prod_logs
    from llmops.monitoring import monitor
    from llmops.monitoring.interval import curate_interval

    cfg = load_config()
    cfg.data.max_quarantine_ratio = 1.0
    cfg.monitoring.score_answers = score
    cfg.scorers.toxicity_classifier = classifier
    start = datetime(2026, 1, 1, tzinfo=UTC)
    reference_logs = generate_prod_logs(2000, 0.0, 1, home / "reference.jsonl", start=start - timedelta(days=30))
    snapshot = home / "snapshot" / "train.parquet"
    snapshot.parent.mkdir(parents=True, exist_ok=True)
    pd.read_json(reference_logs, lines=True)[["prompt", "response"]].to_parquet(snapshot)
    logs = generate_prod_logs(rows, 0.5, 2, cfg.paths.prod_log_dir / "requests.jsonl", start=start)
    end = pd.to_datetime(pd.read_json(logs, lines=True)["timestamp"], utc=True).max().to_pydatetime()
    end += timedelta(seconds=1)
    original = monitor.champion_reference
    monitor.champion_reference = lambda _cfg: ("1", snapshot, "")  # type: ignore[assignment]
    try:
        gc.collect()
        started = time.perf_counter()
        curated = curate_interval(cfg, start, end)
        curated_s = time.perf_counter() - started
        monitor.check_interval_drift(cfg, curated.key, curated.partition_path, end, log_mlflow=False)
        total_s = time.perf_counter() - started
    finally:
        monitor.champion_reference = original  # type: ignore[assignment]
    return {"seconds": total_s, "curate_s": curated_s, "check_s": total_s - curated_s, "rows_curated": curated.rows}


def monitoring_ratio(rows: Sequence[Row] | int, classifier: bool = False) -> dict[str, Any] | None:
    """Monitoring with the answer scorers vs without, on the same demo production logs (``len(rows)`` records).

    Each side is one monitoring run of one interval (``curate_interval`` + ``check_interval_drift``: contract, PII
    scrubbing, partition, Evidently drift report; with scorers also the flags of every answer and the TextEvals
    report) in a fresh state folder; one-time imports are paid before timing. ``ratio`` = with / without.
    """
    import tempfile

    import evidently.presets  # noqa: F401  (one-time imports belong to the worker, not to a run)

    import great_expectations  # noqa: F401
    from llmops.evaluation.scorers import score_response

    n = rows if isinstance(rows, int) else len(rows)
    score_response("p", "warm up the lexicons and the profanity index", None)
    runs: dict[str, dict[str, float]] = {}
    for label, score in (("without", False), ("with", True)):
        with tempfile.TemporaryDirectory(prefix=f"bench-safety-{label}-") as tmp:
            runs[label] = _monitoring_run(Path(tmp), n, score, classifier)
    return {
        "rows": n,
        "without_s": round(runs["without"]["seconds"], 2),
        "with_s": round(runs["with"]["seconds"], 2),
        "with_curate_s": round(runs["with"]["curate_s"], 2),
        "with_check_s": round(runs["with"]["check_s"], 2),
        "ratio": round(runs["with"]["seconds"] / runs["without"]["seconds"], 3),
        "target_ratio_max": 1.5,
    }


# ---------------------------------------------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------------------------------------------
def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _table(results: dict[str, Any]) -> str:
    lines = [
        f"safety scorers on the {results['split']} split (targets: recall >= {MIN_RECALL}, precision >= "
        f"{MIN_PRECISION})",
        f"{'scorer':<20} {'precision':>9} {'recall':>7} {'f1':>6} {'tp':>5} {'fp':>5} {'fn':>5} {'tn':>5}  passed",
        "-" * 76,
    ]
    for name, s in results["scorers"].items():
        lines.append(
            f"{name:<20} {_fmt(s['precision']):>9} {_fmt(s['recall']):>7} {_fmt(s['f1']):>6} {s['tp']:>5} "
            f"{s['fp']:>5} {s['fn']:>5} {s['tn']:>5}  {'yes' if s['passed'] else 'NO'}"
        )
    for name, s in results["scorers"].items():
        lines += ["", f"{name}: per class", f"  {'class':<28} {'kind':<14} {'n':>5} {'flagged':>7} {'rate':>7}"]
        for cls, c in s["by_class"].items():
            rate = c["recall"] if c["kind"] == "positive" else c["false_positive_rate"] or c["flag_rate"]
            label = {"positive": "recall", "negative": "fp rate", "informational": "info"}[c["kind"]]
            lines.append(f"  {cls:<28} {label:<14} {c['n']:>5} {c['flagged']:>7} {_fmt(rate):>7}")
    t = results.get("throughput")
    if t:
        lines += [
            "",
            f"throughput: {t['rows']:,} rows, {', '.join(t['scorers'])}: {t['rows_per_s']:,.0f} rows/s "
            f"({t['seconds']} s)",
        ]
        for name, item in t["by_scorer"].items():
            lines.append(f"  {name:<20} {item['rows_per_s']:>12,.0f} rows/s alone")
    m = results.get("monitoring")
    if m:
        lines += [
            "",
            f"monitoring of one interval of {m['rows']:,} records: without scorers {m['without_s']} s, with "
            f"{m['with_s']} s (curate {m['with_curate_s']} s, check {m['with_check_s']} s): ratio {m['ratio']} "
            f"(target <= {m['target_ratio_max']})",
        ]
    return "\n".join(lines)


def _print_mistakes(mistakes: dict[str, list[tuple[Example, Any]]], limit: int) -> None:
    for name, items in mistakes.items():
        rng = random.Random(0)
        shown = rng.sample(items, min(limit, len(items)))
        print(f"\n{name}: {len(items)} misjudged (showing {len(shown)})")
        for example, result in shown:
            what = "missed" if example.label else "false alarm"
            print(f"  [{what}] {example.classes} {example.response[:160]!r}\n      -> {result.reason[:160]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--split",
        choices=("dev", "test", "fresh", "fresh2", "fresh3"),
        default="test",
        help="test is the held-out split; fresh, fresh2, fresh3: the toxicity set only, on vocabularies dev and test "
        "never use (fresh3: the final, untouched measurement)",
    )
    parser.add_argument("--n", type=int, default=300, help="positives and negatives per scorer (each)")
    parser.add_argument(
        "--rows", type=int, default=None, help="throughput rows (0: skip; default 100000, fresh/fresh2/fresh3: 0)"
    )
    parser.add_argument("--scorers", nargs="+", default=list(SCORERS), choices=SCORERS)
    parser.add_argument("--show-errors", type=int, default=0, help="print up to this many misjudged answers each")
    parser.add_argument("--config", type=Path, default=CONFIG)
    parser.add_argument(
        "--toxicity-classifier",
        choices=("config", "on", "off"),
        default="config",
        help="the toxicity scorer's sentence classifier: as configured (scorers.toxicity_classifier), on or off",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="default: results/safety.json (fresh: ..._fresh.json, fresh2: ..._fresh2.json, fresh3: ..._fresh3.json)",
    )
    args = parser.parse_args(argv)
    fresh = args.split in RESULTS_FRESH
    if fresh:  # only the toxicity set has a fresh vocabulary; the other sets are not built
        args.scorers = list(FRESH_SCORERS)
    if args.rows is None:
        args.rows = 0 if fresh else 100_000
    if args.out is None:
        args.out = RESULTS_FRESH[args.split] if fresh else RESULTS

    started = time.perf_counter()
    config = _scorers_config(args.config)
    if args.toxicity_classifier != "config":
        config = config.model_copy(update={"toxicity_classifier": args.toxicity_classifier == "on"})
    corpus = build_corpus(args.split, args.n, scorers=args.scorers)
    results: dict[str, Any] = {
        "split": args.split,
        "n_per_label": args.n,
        "toxicity_classifier": bool(config.toxicity_classifier),
        "scorers": {},
    }
    mistakes: dict[str, list[tuple[Example, Any]]] = {}
    for name, examples in corpus.items():
        results["scorers"][name], mistakes[name] = evaluate(examples, name, config)
    if args.rows > 0:
        rows = generate_rows(args.rows, seed=3)
        results["throughput"] = throughput(rows, config)
        monitoring = monitoring_ratio(rows, bool(config.toxicity_classifier))
        if monitoring is not None:
            results["monitoring"] = monitoring
    results["environment"] = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "total_seconds": round(time.perf_counter() - started, 1),
        "split_seed": SPLIT_SEEDS[args.split],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, args.out)
    print(_table(results))
    if args.show_errors:
        _print_mistakes(mistakes, args.show_errors)
    print(f"\nwrote {args.out} in {results['environment']['total_seconds']} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
