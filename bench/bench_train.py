"""Training benchmark: the project's DeepSpeed path against a bare PyTorch loop (CPU); GPT-2-small MFU (GPU).

Writes ``bench/results/train.json`` and prints a table.

- ``cpu``: the project's tiny model (the default ``TinyModelSpec``), trained in one process on one core set by
  (a) the project's DeepSpeed path, i.e. ``llmops.training.train.build_engine`` + ``train_step`` with the DeepSpeed
  config of the default recipe (``tiny-gpt2/sft``: ZeRO-2), and (b) a bare PyTorch loop: forward, backward,
  ``clip_grad_norm_``, ``AdamW.step``, ``LambdaLR.step``. Both start from the same weights and see the same batches
  in the same order (the project's ``BatchPlan``), the same dropout masks (the project's per-step seed), the same
  optimizer, learning-rate schedule and clipping, for the same number of steps. Steps alternate between the two
  (a, b, b, a, ...) so background load hits both alike. Per-step times are wall-clock around one whole optimizer
  step; the first ``--warmup`` steps are left out; the table reports medians (means are in the JSON).
- ``gpu`` (only when CUDA is available; otherwise the key is absent): a GPT-2-small-sized model (12 layers, width
  768, 12 heads, vocabulary 50,257: ~124M parameters), random init, synthetic tokens, sequence length 1024, bf16,
  ZeRO stages 1, 2 and 3, each in its own process, through the same ``build_engine`` + ``train_step``.
  ``mfu = flops_per_token * tokens_per_s / peak_flops`` with ``flops_per_token = 6 * N + 12 * L * d * T`` (PaLM,
  appendix B: the 6N of the weight matmuls forward and backward, plus attention scores and values), N = parameters
  without the position embeddings (the tied token embedding counts: it is the output projection's matmul),
  L = layers, d = width, T = sequence length. ``mfu_6n`` leaves the attention term out. Peak: dense bf16 tensor-core
  FLOP/s of the device from its data sheet (H100 SXM and H200: 989e12; H100 PCIe: 756e12; A100: 312e12).
  Dropout is 0 and the GELU is the tanh approximation in one kernel (``gelu_pytorch_tanh``).

Run: ``make bench-train`` (or ``python bench/bench_train.py --steps 40 --warmup 8``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "include"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

RESULTS = ROOT / "bench" / "results" / "train.json"
CPU_RECIPE = "tiny-gpt2/sft"
GPU_RECIPE = "gpt2-small/sft"
# Dense bf16 tensor-core peak FLOP/s from the vendors' data sheets (no sparsity), matched on the device name.
PEAK_BF16 = [("H200", 989e12), ("H100 PCIe", 756e12), ("H100", 989e12), ("A100", 312e12), ("L40S", 362e12)]

TOPICS = {
    "share": ("share folder {x} with {y}", "Open {x}, choose Share, add {y} and pick Can edit or Can view."),
    "sync": ("my file {x} is not syncing on {y}", "Check that {y} is online, then pause and resume sync of {x}."),
    "reset": ("reset my password on {y}", "On {y} choose Forgot password; the link is valid for {x} minutes."),
    "billing": ("why was I charged twice for {x}", "The second charge for {x} is a hold; it drops within {y} days."),
    "storage": ("how much storage does {x} include", "{x} includes {y} GB; see Settings, Storage for your usage."),
    "restore": ("restore deleted file {x}", "Open Trash, select {x} and choose Restore; Trash keeps files {y} days."),
}
OPENERS = ["", "Hi, ", "Hello! ", "Quick question: ", "Please help: "]
NAMES = ["budget.xlsx", "photos", "Team Drive", "notes.txt", "Plus plan", "Pro plan", "my phone", "the web app"]


def synthetic_support_corpus(n: int, seed: int) -> tuple[list[str], list[str]]:
    """Seeded prompt/response pairs in the style of the demo's support data."""
    rng = random.Random(seed)
    prompts, responses = [], []
    for _ in range(n):
        prompt, response = TOPICS[rng.choice(sorted(TOPICS))]
        x, y = rng.choice(NAMES), rng.choice([*NAMES, "3", "7", "30", "100", "alex@example.com"])
        prompts.append(rng.choice(OPENERS) + prompt.format(x=x, y=y) + "?")
        responses.append(response.format(x=x, y=y))
    return prompts, responses


def _single_rank(backend: str, port: int) -> None:
    import deepspeed

    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK="0", WORLD_SIZE="1", LOCAL_RANK="0")
    deepspeed.init_distributed(dist_backend=backend)


# ---------------------------------------------------------------------------------------------------------------
# cpu: the project's DeepSpeed path vs a bare PyTorch loop
# ---------------------------------------------------------------------------------------------------------------
def bench_cpu(steps: int, warmup: int, seed: int, rows: int, threads: int, also: list[str]) -> dict[str, Any]:
    import logging

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from llmops.config import DEEPSPEED_CONFIG_DIR, RECIPES_DIR, TinyModelSpec, load_config, read_recipe
    from llmops.ports import free_ports
    from llmops.training.base_model import build_tiny_base_model
    from llmops.training.train import (
        BatchPlan,
        build_engine,
        collate,
        lr_lambda,
        resolve_deepspeed_config,
        step_seed,
        tokenize_rows,
        train_step,
        zero_stage,
    )

    logging.getLogger("DeepSpeed").setLevel(logging.WARNING)
    recipe = load_config(overrides={"training": {"recipe": CPU_RECIPE}}).training
    raw_ds = json.loads(recipe.deepspeed_config.read_text())
    ds_config = resolve_deepspeed_config(raw_ds, recipe.micro_batch_size, 1, use_bf16=False, use_cuda=False)
    clip = float(ds_config.get("gradient_clipping", 0.0))

    prompts, responses = synthetic_support_corpus(rows, seed)
    work = Path(tempfile.mkdtemp(prefix="bench-train-"))
    base = build_tiny_base_model(TinyModelSpec(), prompts + responses, work / "base")
    tokenizer = AutoTokenizer.from_pretrained(base)
    examples = tokenize_rows(prompts, responses, tokenizer, recipe.max_seq_len)
    plan = BatchPlan(len(examples), seed, recipe.micro_batch_size, 1, 1)
    pad = int(tokenizer.pad_token_id)
    batches = [collate([examples[i] for i in plan.indices(s, 0, 0)], pad) for s in range(steps)]

    torch.set_num_threads(threads or os.cpu_count() or 1)
    _single_rank("gloo", free_ports(1)[0])
    model_pt = AutoModelForCausalLM.from_pretrained(base, use_safetensors=True)
    configs = {"deepspeed": ds_config}
    for name in also:  # other DeepSpeed configs, measured in the same rotation for reference
        raw = json.loads((DEEPSPEED_CONFIG_DIR / f"{name}.json").read_text())
        configs[name] = resolve_deepspeed_config(raw, recipe.micro_batch_size, 1, use_bf16=False, use_cuda=False)
    engines = {}
    for name, config in configs.items():
        engines[name] = build_engine(
            AutoModelForCausalLM.from_pretrained(base, use_safetensors=True),
            config,
            learning_rate=recipe.learning_rate,
            weight_decay=recipe.weight_decay,
            warmup_steps=recipe.warmup_steps,
            max_steps=steps,
            use_cuda=False,
        )
        engines[name].train()
    model_pt.train()
    params = [p for p in model_pt.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=recipe.learning_rate, weight_decay=recipe.weight_decay)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda(recipe.warmup_steps, steps))

    def deepspeed_step(name: str) -> Any:
        def run(step: int) -> float:
            loss, _ = train_step(engines[name], [batches[step]], seed=seed, step=step)
            return loss

        return run

    def torch_step(step: int) -> float:
        torch.manual_seed(step_seed(seed, step, 0))
        loss = model_pt(**batches[step]).loss
        value = float(loss.detach().item())
        if value != value:
            raise RuntimeError(f"torch loop: loss is NaN at step {step + 1}")
        loss.backward()
        if clip > 0:
            torch.nn.utils.clip_grad_norm_(params, clip)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        return value

    runners = {"torch": torch_step, **{name: deepspeed_step(name) for name in engines}}
    names = list(runners)
    times: dict[str, list[float]] = {name: [] for name in names}
    losses: dict[str, list[float]] = {name: [] for name in names}
    for step in range(steps):
        k = step % len(names)
        for name in names[k:] + names[:k]:  # rotate who goes first: background load hits every path alike
            t0 = time.perf_counter()
            losses[name].append(runners[name](step))
            times[name].append(time.perf_counter() - t0)

    def summary(name: str) -> dict[str, float]:
        xs = times[name][warmup:]
        return {"median": statistics.median(xs), "mean": statistics.fmean(xs), "min": min(xs), "max": max(xs)}

    shutil.rmtree(work, ignore_errors=True)
    ds, pt = summary("deepspeed"), summary("torch")
    final_ds, final_pt = losses["deepspeed"][-1], losses["torch"][-1]
    tokens = [int(b["attention_mask"].sum()) for b in batches]
    return {
        "deepspeed_step_s": round(ds["median"], 5),
        "torch_step_s": round(pt["median"], 5),
        "ratio": round(ds["median"] / pt["median"], 4),
        "ratio_of_means": round(ds["mean"] / pt["mean"], 4),
        "final_loss_deepspeed": round(final_ds, 5),
        "final_loss_torch": round(final_pt, 5),
        "final_loss_rel_diff": round(abs(final_ds - final_pt) / abs(final_pt), 6),
        "max_loss_rel_diff": round(
            max(abs(a - b) / abs(b) for a, b in zip(losses["deepspeed"], losses["torch"], strict=True)), 6
        ),
        "deepspeed_step_s_stats": {k: round(v, 5) for k, v in ds.items()},
        "torch_step_s_stats": {k: round(v, 5) for k, v in pt.items()},
        "steps": steps,
        "warmup_steps_excluded": warmup,
        "micro_batch_size": recipe.micro_batch_size,
        "max_seq_len": recipe.max_seq_len,
        "mean_tokens_per_step": round(statistics.fmean(tokens), 1),
        "parameters": sum(p.numel() for p in model_pt.parameters()),
        "recipe": CPU_RECIPE,
        "recipe_file": str((RECIPES_DIR / f"{CPU_RECIPE}.yaml").relative_to(ROOT)),
        "recipe_model": read_recipe(RECIPES_DIR / f"{CPU_RECIPE}.yaml").get("model"),
        "deepspeed_config": recipe.deepspeed_config.name,
        "zero_stage": zero_stage(ds_config),
        "gradient_clipping": clip,
        "torch_threads": torch.get_num_threads(),
        "loss_curve_deepspeed": [round(x, 4) for x in losses["deepspeed"]],
        "loss_curve_torch": [round(x, 4) for x in losses["torch"]],
        "other_deepspeed_configs": {
            name: {
                "zero_stage": zero_stage(configs[name]),
                "deepspeed_step_s": round(summary(name)["median"], 5),
                "ratio": round(summary(name)["median"] / pt["median"], 4),
                "final_loss": round(losses[name][-1], 5),
            }
            for name in also
        },
    }


# ---------------------------------------------------------------------------------------------------------------
# gpu: GPT-2 small, seq 1024, bf16, ZeRO 1/2/3
# ---------------------------------------------------------------------------------------------------------------
def peak_bf16_flops(device_name: str) -> float | None:
    """Dense bf16 peak FLOP/s of a device, by name (None when unknown)."""
    for key, flops in PEAK_BF16:
        if key in device_name:
            return flops
    return None


def bench_gpu_stage(stage: int, micro: int, seq: int, steps: int, warmup: int, compile_model: bool) -> dict[str, Any]:
    import logging

    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    from llmops.config import DEEPSPEED_CONFIG_DIR
    from llmops.ports import free_ports
    from llmops.training.train import build_engine, resolve_deepspeed_config, train_step

    logging.getLogger("DeepSpeed").setLevel(logging.WARNING)
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    _single_rank("nccl", free_ports(1)[0])
    torch.cuda.set_device(0)
    torch.manual_seed(0)
    config = GPT2Config(
        vocab_size=50257,
        n_positions=seq,
        n_embd=768,
        n_layer=12,
        n_head=12,
        resid_pdrop=0.0,
        embd_pdrop=0.0,
        attn_pdrop=0.0,
        activation_function="gelu_pytorch_tanh",
    )
    config._attn_implementation = "sdpa"
    model = GPT2LMHeadModel(config)
    n_params = sum(p.numel() for p in model.parameters())
    n_flops_params = n_params - model.transformer.wpe.weight.numel()
    raw = json.loads((DEEPSPEED_CONFIG_DIR / f"zero{stage}.json").read_text())
    ds_config = resolve_deepspeed_config(raw, micro, 1, use_bf16=torch.cuda.is_bf16_supported(), use_cuda=True)
    engine = build_engine(
        model, ds_config, learning_rate=1e-4, weight_decay=0.01, warmup_steps=10, max_steps=10_000, use_cuda=True
    )
    compiled = False
    if compile_model:
        try:
            engine.compile()
            compiled = True
        except Exception as exc:  # report, and measure the eager engine instead
            print(f"engine.compile() failed, measuring eager: {exc}", file=sys.stderr)
    engine.train()
    gen = torch.Generator(device="cuda").manual_seed(0)
    batches = []
    for _ in range(8):
        ids = torch.randint(0, config.vocab_size, (micro, seq), device="cuda", generator=gen)
        batches.append({"input_ids": ids, "attention_mask": torch.ones_like(ids), "labels": ids})
    torch.cuda.reset_peak_memory_stats()
    for step in range(warmup):
        train_step(engine, [batches[step % len(batches)]], seed=0, step=step)
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    loss = float("nan")
    for step in range(warmup, warmup + steps):
        loss, _ = train_step(engine, [batches[step % len(batches)]], seed=0, step=step)
    torch.cuda.synchronize()
    elapsed = time.perf_counter() - t0
    tokens_per_s = steps * micro * seq / elapsed
    flops_per_token = 6 * n_flops_params + 12 * config.n_layer * config.n_embd * seq
    name = torch.cuda.get_device_name(0)
    peak = peak_bf16_flops(name)
    return {
        "zero_stage": stage,
        "tokens_per_s": round(tokens_per_s, 1),
        "step_s": round(elapsed / steps, 5),
        "mfu": round(flops_per_token * tokens_per_s / peak, 4) if peak else None,
        "mfu_6n": round(6 * n_flops_params * tokens_per_s / peak, 4) if peak else None,
        "final_loss": round(loss, 4),
        "max_memory_gib": round(torch.cuda.max_memory_allocated() / 2**30, 2),
        "device": name,
        "peak_flops": peak,
        "parameters": n_params,
        "flops_parameters": n_flops_params,
        "flops_per_token": flops_per_token,
        "micro_batch_size": micro,
        "seq_len": seq,
        "steps": steps,
        "warmup_steps_excluded": warmup,
        "bf16": bool(ds_config["bf16"]["enabled"]),
        "compiled": compiled,
    }


def bench_gpu(args: argparse.Namespace) -> dict[str, Any]:
    """Each ZeRO stage in its own process: a fresh CUDA context and DeepSpeed state per measurement."""
    out: dict[str, Any] = {
        "formula": "mfu = (6*N + 12*L*d*T) * tokens_per_s / peak_flops; mfu_6n = 6*N * tokens_per_s / peak_flops",
        "stages": {},
    }
    for stage in args.gpu_stages:
        with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as tmp:
            result_path = Path(tmp.name)
        cmd = [
            sys.executable,
            __file__,
            "--gpu-stage",
            str(stage),
            "--gpu-micro-batch",
            str(args.gpu_micro_batch),
            "--gpu-steps",
            str(args.gpu_steps),
            "--gpu-warmup",
            str(args.gpu_warmup),
            "--result-file",
            str(result_path),
        ] + (["--compile"] if args.compile else [])
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            out["stages"][f"zero{stage}"] = {"error": proc.stderr[-3000:]}
        else:
            out["stages"][f"zero{stage}"] = json.loads(result_path.read_text())
        result_path.unlink(missing_ok=True)
    ok = [v for v in out["stages"].values() if "device" in v]
    if ok:
        out["device"] = ok[0]["device"]
        out["peak_flops"] = ok[0]["peak_flops"]
        out["parameters"] = ok[0]["parameters"]
    return out


# ---------------------------------------------------------------------------------------------------------------
def _table(results: dict[str, Any]) -> str:
    c = results["cpu"]
    lines = [
        f"cpu: {c['parameters'] / 1e6:.2f}M-parameter tiny GPT-2, batch {c['micro_batch_size']} x <= "
        f"{c['max_seq_len']} tokens, {c['steps']} steps ({c['warmup_steps_excluded']} warm-up excluded), "
        f"{c['deepspeed_config']} (ZeRO-{c['zero_stage']}), {c['torch_threads']} threads",
        "",
        "| path | step (median) | step (mean) | final loss |",
        "|---|---|---|---|",
        f"| project DeepSpeed | {c['deepspeed_step_s'] * 1e3:.1f} ms | "
        f"{c['deepspeed_step_s_stats']['mean'] * 1e3:.1f} ms | {c['final_loss_deepspeed']:.4f} |",
        f"| bare PyTorch | {c['torch_step_s'] * 1e3:.1f} ms | {c['torch_step_s_stats']['mean'] * 1e3:.1f} ms | "
        f"{c['final_loss_torch']:.4f} |",
        "",
        f"ratio (DeepSpeed / PyTorch, medians): {c['ratio']:.3f}  (target <= 1.15)   "
        f"final-loss difference: {c['final_loss_rel_diff']:.2%}  (target <= 2%)",
    ]
    for name, o in c.get("other_deepspeed_configs", {}).items():
        lines.append(
            f"  for reference, {name} (ZeRO-{o['zero_stage']}): {o['deepspeed_step_s'] * 1e3:.1f} ms, "
            f"ratio {o['ratio']:.3f}, final loss {o['final_loss']:.4f}"
        )
    g = results.get("gpu")
    if g:
        lines += [
            "",
            f"gpu: {g.get('device', '?')}, GPT-2 small ({(g.get('parameters') or 0) / 1e6:.0f}M), seq 1024, bf16; "
            f"peak {g.get('peak_flops')}",
            "",
            "| ZeRO | tokens/s | MFU | MFU (6N only) | step | memory |",
            "|---|---|---|---|---|---|",
        ]
        for name, s in g["stages"].items():
            if "error" in s:
                lines.append(f"| {name} | failed: {s['error'].strip().splitlines()[-1][:80]} | | | | |")
                continue
            mfu = f"{s['mfu']:.3f}" if s["mfu"] is not None else "n/a"
            mfu6 = f"{s['mfu_6n']:.3f}" if s["mfu_6n"] is not None else "n/a"
            lines.append(
                f"| {s['zero_stage']} | {s['tokens_per_s']:,.0f} | {mfu} | {mfu6} | {s['step_s'] * 1e3:.1f} ms | "
                f"{s['max_memory_gib']} GiB |"
            )
        lines.append(f"\n{g['formula']}")
    else:
        lines += ["", "gpu: no CUDA device here; section skipped (key absent)"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=40, help="CPU: optimizer steps per path")
    parser.add_argument("--warmup", type=int, default=8, help="CPU: first steps left out of the timing")
    parser.add_argument("--rows", type=int, default=2000, help="CPU: synthetic training examples")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--cpu-also",
        nargs="*",
        default=[],
        metavar="CONFIG",
        help="CPU: also time these DeepSpeed configs (e.g. zero0 zero3) in the same rotation, for reference",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="CPU: torch threads for both paths (0: all cores). One thread keeps timings stable on a shared "
        "machine, where OpenMP threads wait for each other whenever another process takes a core.",
    )
    parser.add_argument("--gpu-stages", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--gpu-micro-batch", type=int, default=16)
    parser.add_argument("--gpu-steps", type=int, default=30)
    parser.add_argument("--gpu-warmup", type=int, default=8)
    parser.add_argument("--compile", action="store_true", help="GPU: torch.compile the engine (engine.compile())")
    parser.add_argument("--no-gpu", action="store_true", help="skip the GPU section even where CUDA is available")
    parser.add_argument("--out", type=Path, default=RESULTS)
    # internal: one section in this process
    parser.add_argument("--section", choices=["cpu"], help=argparse.SUPPRESS)
    parser.add_argument("--gpu-stage", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--result-file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.section == "cpu":
        result = bench_cpu(args.steps, args.warmup, args.seed, args.rows, args.threads, args.cpu_also)
        args.result_file.write_text(json.dumps(result))
        return 0
    if args.gpu_stage is not None:
        result = bench_gpu_stage(
            args.gpu_stage, args.gpu_micro_batch, 1024, args.gpu_steps, args.gpu_warmup, args.compile
        )
        args.result_file.write_text(json.dumps(result))
        return 0

    started = time.perf_counter()
    results: dict[str, Any] = {}
    # The CPU comparison runs on the CPU even on a GPU machine, in its own process (gloo, one rank).
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as tmp:
        cpu_path = Path(tmp.name)
    env = {**os.environ, "DS_ACCELERATOR": "cpu", "CUDA_VISIBLE_DEVICES": ""}
    cmd = [sys.executable, __file__, "--section", "cpu", "--result-file", str(cpu_path)]
    cmd += [
        "--steps",
        str(args.steps),
        "--warmup",
        str(args.warmup),
        "--rows",
        str(args.rows),
        "--seed",
        str(args.seed),
        "--threads",
        str(args.threads),
        "--cpu-also",
        *args.cpu_also,
    ]
    subprocess.run(cmd, check=True, env=env)
    results["cpu"] = json.loads(cpu_path.read_text())
    cpu_path.unlink(missing_ok=True)

    import torch

    if torch.cuda.is_available() and not args.no_gpu:
        results["gpu"] = bench_gpu(args)
    import deepspeed
    import transformers

    results["environment"] = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "deepspeed": deepspeed.__version__,
        "transformers": transformers.__version__,
        "cpu": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "total_seconds": round(time.perf_counter() - started, 1),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    print(_table(results))
    print(f"\nwrote {args.out} in {results['environment']['total_seconds']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
