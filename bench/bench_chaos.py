"""Kill promotion and rollback at every step boundary and check that the platform converges (``make bench-chaos``).

For each (operation, point) of :data:`chaos.POINTS`, ``--kills`` trials (default 20): a worker running the task's
callable SIGKILLs itself at the point; one next step follows (nothing but the hourly reconcile, the task's retry,
``rollback previous``, the next promotion, a Triton restart, a rollback waiting on the lock); the invariants are
checked. Then ``--random`` kills at a random moment of a promotion, bucketed by the last point passed.

Writes ``bench/results/chaos.json``: ``points``, ``kills``, ``inconsistent``, ``max_converge_s``, per point, and the
point × candidate × next-step matrix.

    python bench/bench_chaos.py [--kills 20] [--random 40] [--seed 0] [--points promote:load:after,...]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import chaos

RESULTS = Path(__file__).resolve().parent / "results" / "chaos.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=20, help="kills per point")
    parser.add_argument("--random", type=int, default=40, help="kills at random moments of a promotion")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--points", default="", help="comma-separated op:point filter (default: all)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    wanted = {p for p in args.points.split(",") if p}
    started = time.monotonic()
    trials: list[chaos.Trial] = []
    with tempfile.TemporaryDirectory(prefix="llmops-chaos-") as tmp:
        env = chaos.Chaos(Path(tmp))
        try:
            setup_s = time.monotonic() - started
            for op, point, candidate, next_step in chaos.plan(args.kills, args.seed):
                if wanted and f"{op}:{point}" not in wanted:
                    continue
                t = env.trial(op, point, candidate, next_step)
                trials.append(t)
                mark = "ok " if t.consistent and t.killed else "BAD"
                print(
                    f"{mark} {op:8s} {point:22s} {candidate:11s} {next_step:17s} {t.converge_s:6.2f}s "
                    f"[{t.next_result[:60]}] " + "; ".join(t.problems)[:200],
                    flush=True,
                )
            # A full promotion's duration bounds the random kill times.
            t0 = time.monotonic()
            env.run_op(env.promote_task(env.new_version("good")), None)
            full_s = time.monotonic() - t0
            rng = random.Random(args.seed + 1)
            for i in range(args.random):
                candidate = chaos.CANDIDATES[i % len(chaos.CANDIDATES)]
                next_step = chaos.NEXT_STEPS[(i // len(chaos.CANDIDATES)) % len(chaos.NEXT_STEPS)]
                t = env.trial("promote", None, candidate, next_step, random_kill_s=rng.uniform(0.0, full_s))
                trials.append(t)
                print(
                    f"{'ok ' if t.consistent else 'BAD'} random   {t.bucket:22s} {candidate:11s} {next_step:17s} "
                    f"{t.converge_s:6.2f}s " + "; ".join(t.problems)[:200],
                    flush=True,
                )
        finally:
            env.close()

    summary = chaos.summarize(trials)
    summary.update(
        {
            "kills_per_point": args.kills,
            "random_kills": sum(1 for t in trials if t.point == "random" and t.killed),
            "setup_s": round(setup_s, 1),
            "wall_s": round(time.monotonic() - started, 1),
            "min_kills_per_point": min(
                (v["kills"] for k, v in summary["per_point"].items() if not k.endswith(":random")), default=0
            ),
        }
    )
    print()
    print(f"{'point':34s} {'trials':>6s} {'kills':>6s} {'inconsistent':>12s}")
    for key, v in summary["per_point"].items():
        print(f"{key:34s} {v['trials']:6d} {v['kills']:6d} {v['inconsistent']:12d}")
    print(
        f"\npoints {summary['points']}  kills {summary['kills']}  inconsistent {summary['inconsistent']}  "
        f"max time to converge {summary['max_converge_s']:.1f} s  wall {summary['wall_s']:.0f} s"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
    print(f"wrote {args.out}")
    return 0 if summary["inconsistent"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
