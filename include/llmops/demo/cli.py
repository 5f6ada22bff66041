"""Command line of the demo generator: ``python -m llmops.demo --out DIR [--prod-logs N --drift X]``."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from llmops.demo.generate import generate_demo_dataset
from llmops.demo.prodlogs import generate_prod_logs
from llmops.demo.slots import PRODUCT


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m llmops.demo --out DIR [--prod-logs N --drift X]``.

    Args:
        argv: the arguments; defaults to ``sys.argv[1:]``.

    Returns:
        The exit status.
    """
    import argparse

    from llmops.config import load_config

    parser = argparse.ArgumentParser(
        prog="python -m llmops.demo",
        description=f"Generate the {PRODUCT} demo dataset (and optional request logs).",
    )
    parser.add_argument(
        "--config", type=Path, default=None, help="YAML config (default: $LLMOPS_CONFIG or llmops.yaml)"
    )
    parser.add_argument("--out", type=Path, default=None, help="output directory (default: <home>/data/raw)")
    parser.add_argument("--seed", type=int, default=None, help="override demo.seed")
    parser.add_argument("--prod-logs", type=int, default=None, metavar="N", help="also write N production log lines")
    parser.add_argument(
        "--drift", type=float, default=None, help="share of drifted requests (default: demo.prod_drift)"
    )
    parser.add_argument(
        "--prod-log-path",
        type=Path,
        default=None,
        help="production log file (default: <home>/prod_logs/demo/requests-demo.jsonl)",
    )
    args = parser.parse_args(argv)

    cfg = load_config(args.config)
    demo_cfg = cfg.demo if args.seed is None else cfg.demo.model_copy(update={"seed": args.seed})
    out_dir = args.out or cfg.paths.raw_dir
    written = {name: str(path) for name, path in generate_demo_dataset(demo_cfg, out_dir).items()}
    if args.prod_logs is not None:
        drift = cfg.demo.prod_drift if args.drift is None else args.drift
        log_path = args.prod_log_path or cfg.paths.prod_log_dir / "demo" / "requests-demo.jsonl"
        written["prod_logs"] = str(
            generate_prod_logs(args.prod_logs, drift, demo_cfg.seed, log_path, model_name=cfg.triton.model_name)
        )
    print(json.dumps(written, indent=2))
    return 0
