"""Serving benchmark: the fine-tuned demo model on a real Triton server, dynamic batching on vs off, and the same
model called in-process with transformers' ``generate``.

What runs:

- a tritonserver from the serving venv, started here on free ports with its own temporary model repository (a
  running ``make up`` stack is not touched), serving two copies of the model: ``bench_batching`` (the project's
  ``triton`` config: ``dynamic_batching`` with its preferred sizes and queue delay) and ``bench_nobatching`` (the
  same without ``dynamic_batching``: every request executes alone);
- closed-loop load at concurrency 1, 8 and 16: one thread and one HTTP client per concurrent user, each sending its
  next request when the previous one is answered; greedy decoding, ``--max-new-tokens`` tokens at most, prompts of
  the held-out demo set in a fixed order;
- the same model, the same prompts and the same number of torch threads in this process (``generate``, one prompt
  at a time).

Every measurement warms up first (``--warmup`` seconds, not recorded), then records a fixed window. The setups that
are compared (in-process vs Triton at concurrency 1; batching vs no batching at 8 and at 16) run in alternating
rounds (``--rounds``, splitting ``--window`` seconds per setup), so load from other work on shared cores hits both
sides alike. Latency percentiles cover every request that started inside a window (it is waited for); requests/s =
requests finished inside the windows / their total length; tokens/s = the tokens those requests generated / the same
length (Triton: the ``completion_tokens`` the served model logged for each request id it returned; in-process:
counted from ``generate``'s output). Triton's statistics give the mean executed batch size.

The model: ``--model-dir``, else the MLflow ``champion`` of the local state folder, else the newest
``<state>/runs/*/final_model``; without one the benchmark stops and says to run ``make demo``.

Writes ``bench/results/serve.json`` (keys ``triton.batching.c1`` ... ``inprocess.c1``, ``batching_speedup_c8``,
``triton_overhead_c1``) and prints a table. Run: ``make bench-serve``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "include"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

RESULTS = ROOT / "bench" / "results" / "serve.json"
CONCURRENCY = (1, 8, 16)
MODES = {"batching": "bench_batching", "nobatching": "bench_nobatching"}
TARGETS = {"batching_speedup_c8": (">=", 3.0), "triton_overhead_c1": ("<=", 1.3)}
FALLBACK_PROMPTS = [
    "How do I reset my password?",
    "How do I share a folder with my team?",
    "Why are my files not syncing on my laptop?",
    "Can I get a refund for last month?",
    "How do I turn on two-factor authentication?",
    "Where do deleted files go?",
    "How do I cap upload speed?",
    "How do I remove someone from a shared folder?",
]


class BenchError(RuntimeError):
    """The benchmark cannot run (no model, no serving venv); the message says what to do."""


# Model ------------------------------------------------------------------------------------------------------------


def find_model(cfg: Any, explicit: str | None, scratch: Path) -> tuple[Path, str]:
    """The fine-tuned model directory to serve and where it came from."""
    if explicit:
        path = Path(explicit).expanduser().resolve()
        if not (path / "config.json").is_file():
            raise BenchError(f"--model-dir {path} is not a Hugging Face model directory (no config.json)")
        return path, "--model-dir"
    if (cfg.paths.mlflow_dir / "mlflow.db").is_file() or cfg.mlflow.tracking_uri:
        try:
            from llmops.registry import registry

            version = registry.alias_version(cfg, registry.CHAMPION)
            if version is not None:
                path = registry.model_dir_of_version(cfg, version, scratch / "champion")
                return path, f"MLflow {cfg.mlflow.model_name}@champion (version {version})"
        except Exception as exc:  # fall back to the newest run's model
            print(f"(MLflow champion not usable: {exc})", file=sys.stderr)
    runs = sorted(cfg.paths.runs_dir.glob("*/final_model/config.json"), key=lambda p: p.stat().st_mtime)
    if runs:
        return runs[-1].parent, f"newest fine-tuned run ({runs[-1].parent.parent.name})"
    raise BenchError(
        f"no fine-tuned model found (no MLflow champion, nothing under {cfg.paths.runs_dir}/*/final_model): "
        "run `make demo` first, or pass --model-dir"
    )


def load_prompts(cfg: Any, n: int = 64) -> list[str]:
    """Prompts of the held-out demo set (fixed order), or a built-in list."""
    path = cfg.raw_eval_path
    prompts: list[str] = []
    if path.is_file():
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                prompt = json.loads(line).get("prompt")
            except (ValueError, AttributeError):
                continue
            if isinstance(prompt, str) and prompt.strip() and len(prompt) <= cfg.triton.max_prompt_chars:
                prompts.append(prompt)
            if len(prompts) >= n:
                break
    return prompts or FALLBACK_PROMPTS


def torch_threads(cfg: Any) -> int:
    """The intra-op threads the served model uses (model.py's rule), so in-process gets the same."""
    return cfg.triton.torch_num_threads or max(1, min(4, (os.cpu_count() or 1) // (2 * cfg.triton.instance_count)))


# Load generation ---------------------------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    """Linear-interpolated percentile (``q`` in 0..100)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


class Segment:
    """Raw outcome of one measurement window: (start, end, ticket) of every recorded request, and the failures.

    A ticket says how many tokens the request generated: the count itself (in-process), or the server's request id
    (Triton), resolved from the served model's log lines once the server has stopped (:func:`log_tokens`)."""

    def __init__(self, records: list[tuple[float, float, Any]], errors: int, start: float, window: float) -> None:
        self.records, self.errors, self.start, self.window = records, errors, start, window


def served_placement(server_log: Path) -> dict[str, str]:
    """The device and precision the served model says it loaded on (its load line in Triton's log)."""
    import re

    try:
        text = server_log.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return {}
    match = re.search(r"with prompt \S+ on (\S+) in (\w+) \(context", text)
    return {"device": match.group(1), "dtype": match.group(2)} if match else {}


def log_tokens(log_dir: Path) -> dict[str, int]:
    """``request_id`` -> ``completion_tokens`` of the answered lines in a production-log folder."""
    tokens: dict[str, int] = {}
    for path in sorted(Path(log_dir).glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict) and isinstance(record.get("completion_tokens"), int):
                tokens[str(record.get("request_id"))] = record["completion_tokens"]
    return tokens


def summarize(segments: list[Segment], tokens: dict[str, int] | None = None) -> dict[str, Any]:
    """Pool the windows of one setup.

    Latency: every request that started inside a window (it is waited for, so slow requests are not cut off).
    Requests/s: requests that finished inside a window / total window time. Tokens/s: the tokens those requests
    generated / total window time (``tokens`` resolves Triton's tickets).
    """
    latencies: list[float] = []
    finished = 0
    generated: list[int] = []
    for seg in segments:
        end = seg.start + seg.window
        latencies += [(t1 - t0) * 1000.0 for t0, t1, _ in seg.records if seg.start <= t0 <= end]
        done = [ticket for _, t1, ticket in seg.records if seg.start <= t1 <= end]
        finished += len(done)
        counts = [t if isinstance(t, int) else (tokens or {}).get(str(t)) for t in done]
        generated += [n for n in counts if n is not None]
    window = sum(seg.window for seg in segments)
    return {
        "p50_ms": round(percentile(latencies, 50), 2),
        "p95_ms": round(percentile(latencies, 95), 2),
        "p99_ms": round(percentile(latencies, 99), 2),
        "rps": round(finished / window, 3),
        # over the requests whose count is known (Triton: those whose log line was written)
        "tokens_per_s": round(sum(generated) / window * finished / max(1, len(generated)), 2),
        "tokens_per_request": round(sum(generated) / max(1, len(generated)), 2),
        "requests": len(latencies),
        "errors": sum(seg.errors for seg in segments),
        "window_s": window,
    }


def closed_loop(
    send_factory: Any, concurrency: int, prompts: list[str], warmup: float, window: float, max_requests: int
) -> Segment:
    """Run ``concurrency`` users, each with its own sender from ``send_factory()``: ``warmup`` seconds unrecorded,
    then a ``window``; a request started before the window's end is completed and recorded."""
    records: list[tuple[float, float, Any]] = []
    errors = [0]
    lock = threading.Lock()
    ready = threading.Barrier(concurrency + 1)
    timing: dict[str, float] = {}

    def user(index: int) -> None:
        send = send_factory()
        ready.wait()
        stop_at = timing["stop"]
        i = index * 7
        done = 0
        while time.perf_counter() < stop_at and done < max_requests:
            prompt = prompts[i % len(prompts)]
            i += 1
            t0 = time.perf_counter()
            ticket = send(prompt)
            t1 = time.perf_counter()
            done += 1
            with lock:
                if ticket is not None:
                    records.append((t0, t1, ticket))
                elif t0 >= timing["start"]:
                    errors[0] += 1
        closer = getattr(send, "close", None)
        if closer is not None:
            closer()

    threads = [threading.Thread(target=user, args=(i,), daemon=True) for i in range(concurrency)]
    for t in threads:
        t.start()
    now = time.perf_counter()
    timing["start"] = now + warmup
    timing["stop"] = now + warmup + window
    ready.wait()
    for t in threads:
        t.join()
    return Segment(records, errors[0], timing["start"], window)


def triton_sender(url: str, model: str, max_new_tokens: int) -> Any:
    """A closure sending one prompt per call over its own HTTP connection; returns the server's request id (None
    on failure)."""
    import numpy as np
    import tritonclient.http as httpclient

    client = httpclient.InferenceServerClient(url, concurrency=1, network_timeout=600.0, connection_timeout=60.0)
    tokens = httpclient.InferInput("max_new_tokens", [1, 1], "INT32")
    tokens.set_data_from_numpy(np.array([[max_new_tokens]], dtype=np.int32))
    outputs = [
        httpclient.InferRequestedOutput("response", binary_data=True),
        httpclient.InferRequestedOutput("request_id", binary_data=True),
    ]

    def send(prompt: str) -> str | None:
        text = httpclient.InferInput("prompt", [1, 1], "BYTES")
        text.set_data_from_numpy(np.array([[prompt.encode("utf-8")]], dtype=np.object_))
        try:
            result = client.infer(model, [text, tokens], outputs=outputs)
        except Exception as exc:
            print(f"  request failed: {exc}", file=sys.stderr)
            return None
        ids = result.as_numpy("request_id")
        if result.as_numpy("response") is None or ids is None:
            return None
        value = ids.reshape(-1)[0]
        return value.decode() if isinstance(value, bytes) else str(value)

    send.close = client.close  # type: ignore[attr-defined]
    return send


class InProcess:
    """The same model in this process: transformers ``generate``, greedy, one prompt per call."""

    def __init__(self, model_dir: Path, threads: int, max_new_tokens: int) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        from llmops.data.schema import format_prompt

        torch.set_num_threads(threads)
        self.torch = torch
        self.format_prompt = format_prompt
        self.tokenizer = AutoTokenizer.from_pretrained(model_dir, local_files_only=True)
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.model = AutoModelForCausalLM.from_pretrained(model_dir, local_files_only=True, use_safetensors=True)
        self.model.eval()
        self.max_new_tokens = max_new_tokens
        self.lock = threading.Lock()

    def send(self, prompt: str) -> int | None:
        """Answer one prompt; returns the tokens generated (up to and including an end-of-sequence token)."""
        with self.lock, self.torch.inference_mode():
            enc = self.tokenizer([self.format_prompt(prompt)], return_tensors="pt")
            out = self.model.generate(
                **enc,
                max_new_tokens=self.max_new_tokens,
                do_sample=False,
                pad_token_id=self.tokenizer.pad_token_id,
                eos_token_id=self.tokenizer.eos_token_id,
            )
            new = out[0, enc["input_ids"].shape[1] :].tolist()
            text = self.tokenizer.decode(new, skip_special_tokens=True)
        if not isinstance(text, str):
            return None
        eos = self.tokenizer.eos_token_id
        return new.index(eos) + 1 if eos in new else len(new)


# Orchestration -----------------------------------------------------------------------------------------------------


def batch_stats(client: Any, model: str, before: dict[str, int]) -> dict[str, int]:
    stats = client.model_statistics(model, "1")
    return {k: int(stats[k]) - before.get(k, 0) for k in ("inference_count", "execution_count")}


def run(args: argparse.Namespace) -> dict[str, Any]:
    from llmops.config import load_config
    from llmops.serving.client import TritonClient
    from llmops.serving.repository import write_config, write_model_version
    from llmops.serving.server import ServingEnvError, TritonPorts, TritonServer

    cfg = load_config()
    cfg.paths.home.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="bench-serve-", dir=cfg.paths.home))  # same filesystem as the state
    try:
        model_dir, source = find_model(cfg, args.model_dir, work)
        prompts = load_prompts(cfg)
        threads = torch_threads(cfg)
        print(f"model: {model_dir} ({source})")
        print(f"prompts: {len(prompts)}, max_new_tokens: {args.max_new_tokens}, torch threads: {threads}")

        repo, logs = work / "model_repository", work / "prod_logs"
        tcfg = cfg.triton.model_copy(update={"torch_num_threads": threads})
        for mode, name in MODES.items():
            mcfg = tcfg.model_copy(update={"model_name": name, "dynamic_batching": mode == "batching"})
            write_model_version(repo, name, 1, model_dir, mcfg, logs)
            write_config(repo, name, mcfg, logs, served_version=1)
        try:
            server = TritonServer(cfg.paths.serving_venv, work / "triton", exit_timeout_s=5)
        except ServingEnvError as exc:
            raise BenchError(str(exc)) from exc
        ports = TritonPorts.free()
        url = f"127.0.0.1:{ports.http}"
        proc = server.start(repo, ports, work / "tritonserver.log", load_models=list(MODES.values()))
        results: dict[str, Any] = {"triton": {mode: {} for mode in MODES}, "inprocess": {}}
        stats: dict[str, dict[str, Any]] = {mode: {} for mode in MODES}
        try:
            server.wait_ready(url, 300, proc)
            control = TritonClient(url, timeout=120)
            local = InProcess(model_dir, threads, args.max_new_tokens)

            segments: dict[tuple[str, int], list[Segment]] = {}
            counts: dict[tuple[str, int], dict[str, int]] = {}

            def measure(setup: str, c: int, window: float) -> None:
                if setup == "inprocess":
                    seg = closed_loop(lambda: local.send, c, prompts, args.warmup, window, args.max_requests)
                else:
                    name = MODES[setup]
                    before = control.model_statistics(name, "1")
                    seg = closed_loop(
                        lambda: triton_sender(url, name, args.max_new_tokens),
                        c,
                        prompts,
                        args.warmup,
                        window,
                        args.max_requests,
                    )
                    delta = batch_stats(control, name, before)
                    total = counts.setdefault((setup, c), {"inference_count": 0, "execution_count": 0})
                    for key, value in delta.items():
                        total[key] += value
                segments.setdefault((setup, c), []).append(seg)

            # Setups that are compared run in alternating rounds (A B A B ...), so a change in the machine's load
            # during the run (other work on shared cores) affects both sides alike.
            plan = [(("inprocess", "batching", "nobatching"), 1), (("batching", "nobatching"), 8)]
            plan.append((("batching", "nobatching"), 16))
            for setups, c in plan:
                for r in range(args.rounds):
                    for setup in setups:
                        measure(setup, c, args.window / args.rounds)
                    print(f"  c{c}: round {r + 1}/{args.rounds} done", flush=True)
            control.close()
            # The same ratios per round (adjacent windows): how much of the result is the machine's noise.
            results["per_round"] = {
                "batching_speedup_c8": [
                    round(summarize([b])["rps"] / max(summarize([n])["rps"], 1e-9), 3)
                    for b, n in zip(segments[("batching", 8)], segments[("nobatching", 8)], strict=True)
                ],
                "triton_overhead_c1": [
                    round(summarize([t])["p50_ms"] / max(summarize([i])["p50_ms"], 1e-9), 3)
                    for t, i in zip(segments[("batching", 1)], segments[("inprocess", 1)], strict=True)
                ],
            }
        finally:
            server.stop(proc)  # the served model flushes its log lines as it stops
        tokens = log_tokens(logs)
        placed = served_placement(work / "tritonserver.log")
        for (setup, c), segs in segments.items():
            out = summarize(segs, tokens)
            if setup == "inprocess":
                results["inprocess"][f"c{c}"] = out
                continue
            delta = counts[(setup, c)]
            out["mean_batch"] = round(delta["inference_count"] / max(1, delta["execution_count"]), 2)
            results["triton"][setup][f"c{c}"] = out
            stats[setup][f"c{c}"] = delta

        batching, nobatching = results["triton"]["batching"], results["triton"]["nobatching"]
        results["batching_speedup_c8"] = round(batching["c8"]["rps"] / max(nobatching["c8"]["rps"], 1e-9), 3)
        results["triton_overhead_c1"] = round(
            batching["c1"]["p50_ms"] / max(results["inprocess"]["c1"]["p50_ms"], 1e-9), 3
        )
        results["targets"] = {
            key: {"target": f"{op} {bound}", "met": results[key] >= bound if op == ">=" else results[key] <= bound}
            for key, (op, bound) in TARGETS.items()
        }
        results["setup"] = {
            "model_dir": str(model_dir),
            "model_source": source,
            "prompts": len(prompts),
            "max_new_tokens": args.max_new_tokens,
            "decoding": "greedy",
            "warmup_s": args.warmup,
            "window_s": args.window,
            "rounds": args.rounds,
            "torch_threads": threads,
            "cpu_count": os.cpu_count(),
            "platform": platform.platform(),
            "max_batch_size": tcfg.max_batch_size,
            "preferred_batch_sizes": tcfg.preferred_batch_sizes,
            "max_queue_delay_us": tcfg.max_queue_delay_us,
            "instance": f"{tcfg.instance_kind} x{tcfg.instance_count}",
            "device": placed.get("device", "unknown"),
            "dtype": placed.get("dtype", "unknown"),
            "triton_counts": stats,
        }
        return results
    finally:
        shutil.rmtree(work, ignore_errors=True)


def table(results: dict[str, Any]) -> str:
    rows = [("in-process", "c1", results["inprocess"]["c1"])]
    for mode in MODES:
        for c in CONCURRENCY:
            rows.append((f"triton {mode}", f"c{c}", results["triton"][mode][f"c{c}"]))
    lines = [
        f"{'setup':<20} {'conc':>4} {'p50 ms':>9} {'p95 ms':>9} {'p99 ms':>9} {'req/s':>8} {'tok/s':>8} {'batch':>6} "
        f"{'n':>5}",
        "-" * 85,
    ]
    for label, c, r in rows:
        lines.append(
            f"{label:<20} {c:>4} {r['p50_ms']:>9.1f} {r['p95_ms']:>9.1f} {r['p99_ms']:>9.1f} {r['rps']:>8.2f} "
            f"{r['tokens_per_s']:>8.1f} {r.get('mean_batch', 1.0):>6.2f} {r['requests']:>5}"
        )
    lines.append("-" * 85)
    for key, target in results["targets"].items():
        rounds = ", ".join(f"{v:.2f}" for v in results["per_round"][key])
        lines.append(f"{key:<22} per round: {rounds}")
        lines.append(
            f"{key:<22} {results[key]:>7.2f}   target {target['target']:<7} {'met' if target['met'] else 'MISSED'}"
        )
    setup = results.get("setup", {})
    lines.append(f"served on {setup.get('device', 'unknown')} in {setup.get('dtype', 'unknown')}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model-dir", help="Hugging Face model directory (default: champion, else newest run)")
    parser.add_argument("--max-new-tokens", type=int, default=48)
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up per measurement")
    parser.add_argument("--window", type=float, default=20.0, help="seconds recorded per setup and concurrency")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds the window is split into")
    parser.add_argument("--max-requests", type=int, default=2000, help="cap per user and measurement")
    args = parser.parse_args(argv)
    try:
        results = run(args)
    except BenchError as exc:
        print(f"bench-serve: {exc}", file=sys.stderr)
        return 2
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    print()
    print(table(results))
    print(f"\nwritten: {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
