"""DeepSpeed fine-tuning process: ``python -m llmops.training.train --job <job.json>``.

Started by the ``deepspeed`` launcher (or ``torch.distributed.run``), never inside the Airflow worker. Each rank
reads the same job file. Rank 0 alone logs to MLflow, prints progress and writes artifacts.

Progress lines on stdout start with ``LLMOPS_PROGRESS `` followed by JSON; the launching task parses them.
Resume: checkpoints are written every ``checkpoint_every`` steps with a completion marker written last; a restart
resumes from the newest checkpoint that has its marker and ignores any half-written one.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from llmops.data.schema import format_prompt
from llmops.fsutil import atomic_write_json
from llmops.training.job import (
    COMPLETE_MARKER,
    EXIT_BAD_INPUT,
    EXIT_DIVERGED,
    EXIT_OOM,
    PROGRESS_PREFIX,
    TrainingJob,
    read_job,
)

IGNORE_INDEX = -100
CHECKPOINT_PREFIX = "step-"
KEEP_CHECKPOINTS = 2


class Diverged(RuntimeError):
    """The loss became NaN or infinite."""


def _emit(event: str, **fields: Any) -> None:
    print(PROGRESS_PREFIX + json.dumps({"event": event, **fields}, sort_keys=True), flush=True)


def resolve_deepspeed_config(
    raw: dict[str, Any], micro_batch_size: int, grad_accum: int, use_bf16: bool
) -> dict[str, Any]:
    """Fill the ``"auto"`` values of a DeepSpeed config from the recipe and the device.

    Args:
        raw: the DeepSpeed JSON config as loaded.
        micro_batch_size: per-rank micro batch.
        grad_accum: gradient accumulation steps.
        use_bf16: whether the device supports bf16.

    Returns:
        A new dict with no ``"auto"`` values left in the keys this project fills.
    """
    cfg = json.loads(json.dumps(raw))
    if cfg.get("train_micro_batch_size_per_gpu", "auto") == "auto":
        cfg["train_micro_batch_size_per_gpu"] = micro_batch_size
    if cfg.get("gradient_accumulation_steps", "auto") == "auto":
        cfg["gradient_accumulation_steps"] = grad_accum
    cfg.pop("train_batch_size", None)  # derived by DeepSpeed from micro batch x accumulation x world size
    bf16 = cfg.setdefault("bf16", {"enabled": "auto"})
    if bf16.get("enabled") == "auto":
        bf16["enabled"] = use_bf16
    fp16 = cfg.get("fp16")
    if isinstance(fp16, dict) and fp16.get("enabled") == "auto":
        fp16["enabled"] = False
    # The optimizer is a plain torch AdamW handed to DeepSpeed (DeepSpeed's fused Adam needs CUDA).
    cfg.setdefault("zero_allow_untested_optimizer", True)
    return dict(cfg)


def tokenize_rows(
    prompts: list[str], responses: list[str], tokenizer: Any, max_seq_len: int
) -> list[tuple[list[int], list[int]]]:
    """Tokenize examples into (input_ids, labels) with the prompt part masked out of the loss.

    Examples whose prompt alone fills ``max_seq_len`` carry no response token and are left out.
    """
    eos = tokenizer.eos_token or ""
    out: list[tuple[list[int], list[int]]] = []
    for prompt, response in zip(prompts, responses, strict=True):
        p_ids = tokenizer(format_prompt(prompt), add_special_tokens=False)["input_ids"]
        r_ids = tokenizer(response.strip() + eos, add_special_tokens=False)["input_ids"]
        ids = (p_ids + r_ids)[:max_seq_len]
        labels = ([IGNORE_INDEX] * len(p_ids) + r_ids)[:max_seq_len]
        if all(label == IGNORE_INDEX for label in labels):
            continue
        out.append((ids, labels))
    return out


def collate(examples: list[tuple[list[int], list[int]]], pad_id: int) -> dict[str, Any]:
    """Right-pad a list of examples into tensors."""
    import torch

    width = max(len(ids) for ids, _ in examples)
    input_ids = torch.full((len(examples), width), pad_id, dtype=torch.long)
    labels = torch.full((len(examples), width), IGNORE_INDEX, dtype=torch.long)
    mask = torch.zeros((len(examples), width), dtype=torch.long)
    for i, (ids, labs) in enumerate(examples):
        input_ids[i, : len(ids)] = torch.tensor(ids)
        labels[i, : len(labs)] = torch.tensor(labs)
        mask[i, : len(ids)] = 1
    return {"input_ids": input_ids, "attention_mask": mask, "labels": labels}


class BatchPlan:
    """Deterministic sample order: batch k of rank r is a pure function of (seed, k, r).

    A resumed run therefore sees exactly the batches the interrupted run would have seen.
    """

    def __init__(self, n: int, seed: int, micro: int, world: int, grad_accum: int) -> None:
        self.n, self.seed, self.micro, self.world, self.grad_accum = n, seed, micro, world, grad_accum
        self._perms: dict[int, list[int]] = {}

    def _perm(self, epoch: int) -> list[int]:
        if epoch not in self._perms:
            import numpy as np

            self._perms = {epoch: np.random.default_rng(self.seed + epoch).permutation(self.n).tolist()}
        return self._perms[epoch]

    def indices(self, step: int, micro_step: int, rank: int) -> list[int]:
        per_step = self.micro * self.world * self.grad_accum
        start = step * per_step + micro_step * self.micro * self.world + rank * self.micro
        out = []
        for g in range(start, start + self.micro):
            out.append(self._perm(g // self.n)[g % self.n])
        return out


def lr_lambda(warmup: int, total: int) -> Any:
    """Linear warm-up, then cosine decay to 10% of the peak rate."""

    def fn(step: int) -> float:
        if warmup and step < warmup:
            return (step + 1) / warmup
        progress = (step - warmup) / max(1, total - warmup)
        return 0.1 + 0.9 * 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))

    return fn


def latest_complete_checkpoint(checkpoint_dir: Path) -> tuple[str, int] | None:
    """Newest checkpoint tag that carries its completion marker, with its step."""
    if not checkpoint_dir.is_dir():
        return None
    found: list[tuple[int, str]] = []
    for child in checkpoint_dir.iterdir():
        marker = child / COMPLETE_MARKER
        if child.is_dir() and child.name.startswith(CHECKPOINT_PREFIX) and marker.is_file():
            try:
                found.append((int(json.loads(marker.read_text())["step"]), child.name))
            except (ValueError, KeyError, json.JSONDecodeError):
                continue
    if not found:
        return None
    step, tag = max(found)
    return tag, step


def _prune_checkpoints(checkpoint_dir: Path, keep: int) -> None:
    tags = sorted(
        (c for c in checkpoint_dir.iterdir() if c.is_dir() and c.name.startswith(CHECKPOINT_PREFIX)),
        key=lambda c: c.name,
    )
    complete = [c for c in tags if (c / COMPLETE_MARKER).is_file()]
    for old in complete[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    newest_complete = complete[-1].name if complete else ""
    for partial in tags:  # half-written leftovers older than the newest complete checkpoint
        if not (partial / COMPLETE_MARKER).is_file() and partial.name < newest_complete:
            shutil.rmtree(partial, ignore_errors=True)


class _MlflowLogger:
    """Per-step metrics to MLflow from rank 0; a no-op without a run id."""

    def __init__(self, job: TrainingJob) -> None:
        self.client: Any = None
        self.run_id = job.mlflow_run_id
        if self.run_id and job.tracking_uri:
            from mlflow.tracking import MlflowClient

            self.client = MlflowClient(tracking_uri=job.tracking_uri)

    def log(self, step: int, metrics: dict[str, float]) -> None:
        if self.client is None or self.run_id is None:
            return
        from mlflow.entities import Metric

        ts = int(time.time() * 1000)
        batch = [Metric(k, float(v), ts, step) for k, v in metrics.items() if math.isfinite(v)]
        self.client.log_batch(self.run_id, metrics=batch)

    def log_dict(self, obj: dict[str, Any], name: str) -> None:
        if self.client is not None and self.run_id is not None:
            self.client.log_dict(self.run_id, obj, name)


def train(job: TrainingJob) -> dict[str, Any]:
    """Run (or resume) the fine-tuning described by ``job``. Returns the summary written by rank 0."""
    import deepspeed
    import pyarrow.parquet as pq
    import torch
    import torch.distributed as dist
    from transformers import AutoModelForCausalLM, AutoTokenizer

    use_cuda = torch.cuda.is_available()
    deepspeed.init_distributed(dist_backend="nccl" if use_cuda else "gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if use_cuda:
        torch.cuda.set_device(local_rank)
    else:
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // world))
    torch.manual_seed(job.seed + rank)

    table = pq.read_table(job.train_path, columns=["prompt", "response"])
    prompts = [str(p) for p in table.column("prompt").to_pylist()]
    responses = [str(r) for r in table.column("response").to_pylist()]
    tokenizer = AutoTokenizer.from_pretrained(job.base_model, trust_remote_code=False)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    examples = tokenize_rows(prompts, responses, tokenizer, job.max_seq_len)
    if not examples:
        raise ValueError(f"no usable training examples in {job.train_path}")
    model = AutoModelForCausalLM.from_pretrained(job.base_model, trust_remote_code=False, use_safetensors=True)

    use_bf16 = bool(use_cuda and torch.cuda.is_bf16_supported())
    ds_config = resolve_deepspeed_config(
        job.deepspeed_config, job.micro_batch_size, job.gradient_accumulation_steps, use_bf16
    )
    optimizer = torch.optim.AdamW(model.parameters(), lr=job.learning_rate, weight_decay=job.weight_decay)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda(job.warmup_steps, job.max_steps))
    engine, _, _, _ = deepspeed.initialize(model=model, optimizer=optimizer, lr_scheduler=scheduler, config=ds_config)
    device = engine.device

    start_step = 0
    resumed = latest_complete_checkpoint(job.checkpoint_dir)
    if resumed is not None:
        tag, step = resumed
        load_path, client_state = engine.load_checkpoint(str(job.checkpoint_dir), tag=tag)
        if load_path is None:
            raise RuntimeError(f"checkpoint {tag} in {job.checkpoint_dir} could not be loaded")
        start_step = int((client_state or {}).get("step", step))
    if rank == 0:
        _emit(
            "start",
            resumed_from_step=start_step,
            world_size=world,
            examples=len(examples),
            zero_stage=ds_config.get("zero_optimization", {}).get("stage", 0),
            device=str(device),
            bf16=use_bf16,
        )

    tracker = _MlflowLogger(job) if rank == 0 else None
    if tracker is not None:
        tracker.log_dict(ds_config, "config/deepspeed_resolved.json")
    plan = BatchPlan(len(examples), job.seed, job.micro_batch_size, world, job.gradient_accumulation_steps)
    pad_id = int(tokenizer.pad_token_id)
    engine.train()
    t_start = time.perf_counter()
    tokens_total = 0
    loss_value = float("nan")
    for step in range(start_step, job.max_steps):
        t0 = time.perf_counter()
        step_loss, step_tokens = 0.0, 0
        for micro in range(job.gradient_accumulation_steps):
            batch = collate([examples[i] for i in plan.indices(step, micro, rank)], pad_id)
            batch = {k: v.to(device) for k, v in batch.items()}
            loss = engine(**batch).loss
            finite = torch.tensor([1.0 if torch.isfinite(loss).item() else 0.0], device=device)
            dist.all_reduce(finite, op=dist.ReduceOp.MIN)
            if finite.item() < 1.0:
                raise Diverged(f"loss is not finite at step {step + 1} (micro-batch {micro}): {loss.item()}")
            engine.backward(loss)
            engine.step()
            step_loss += float(loss.detach().item()) / job.gradient_accumulation_steps
            step_tokens += int(batch["attention_mask"].sum().item())
        loss_t = torch.tensor([step_loss, float(step_tokens)], device=device)
        dist.all_reduce(loss_t, op=dist.ReduceOp.SUM)
        loss_value = float(loss_t[0].item()) / world
        tokens = int(loss_t[1].item())
        tokens_total += tokens
        dt = time.perf_counter() - t0
        done = step + 1
        if rank == 0 and tracker is not None:
            lr = float(engine.get_lr()[0])
            grad_norm = engine.get_global_grad_norm()
            metrics = {"train_loss": loss_value, "learning_rate": lr, "tokens_per_s": tokens / max(dt, 1e-9)}
            if grad_norm is not None and math.isfinite(float(grad_norm)):
                metrics["grad_norm"] = float(grad_norm)
            tracker.log(done, metrics)
            if done == 1 or done % job.log_every == 0 or done == job.max_steps:
                elapsed = time.perf_counter() - t_start
                rate = (done - start_step) / max(elapsed, 1e-9)
                _emit(
                    "step",
                    step=done,
                    max_steps=job.max_steps,
                    loss=round(loss_value, 5),
                    lr=lr,
                    tokens_per_s=round(metrics["tokens_per_s"], 1),
                    eta_s=round((job.max_steps - done) / max(rate, 1e-9), 1),
                )
        if done % job.checkpoint_every == 0 and done < job.max_steps:
            _save_checkpoint(engine, job.checkpoint_dir, done, rank)

    elapsed = time.perf_counter() - t_start
    summary = {
        "steps": job.max_steps,
        "resumed_from_step": start_step,
        "final_train_loss": loss_value,
        "tokens": tokens_total,
        "train_seconds": round(elapsed, 3),
        "world_size": world,
        "zero_stage": ds_config.get("zero_optimization", {}).get("stage", 0),
        "bf16": use_bf16,
    }
    _save_final_model(engine, tokenizer, job, ds_config, rank, summary)
    dist.barrier()
    return summary


def _save_checkpoint(engine: Any, checkpoint_dir: Path, step: int, rank: int) -> None:
    import torch.distributed as dist

    tag = f"{CHECKPOINT_PREFIX}{step:08d}"
    engine.save_checkpoint(str(checkpoint_dir), tag=tag, client_state={"step": step})
    dist.barrier()
    if rank == 0:
        # written last: the checkpoint is complete only once this exists
        atomic_write_json(checkpoint_dir / tag / COMPLETE_MARKER, {"step": step})
        _prune_checkpoints(checkpoint_dir, KEEP_CHECKPOINTS)
        _emit("checkpoint", step=step, tag=tag)
    dist.barrier()


def _save_final_model(
    engine: Any, tokenizer: Any, job: TrainingJob, ds_config: dict[str, Any], rank: int, summary: dict[str, Any]
) -> None:
    """Write consolidated safetensors + tokenizer (rank 0 only), staged then renamed into place."""
    zero_stage = int(ds_config.get("zero_optimization", {}).get("stage", 0))
    # Under ZeRO-3 each rank holds a shard: gather a full state dict (every rank must take part).
    state_dict = engine._zero3_consolidated_16bit_state_dict() if zero_stage == 3 else None
    if rank != 0:
        return
    final = job.final_model_dir
    staging = final.with_name(final.name + ".staging")
    if staging.exists():
        shutil.rmtree(staging)
    module = engine.module
    if state_dict is not None:
        module.save_pretrained(staging, state_dict=state_dict, safe_serialization=True)
    else:
        module.save_pretrained(staging, safe_serialization=True)
    tokenizer.save_pretrained(staging)
    if final.exists():
        shutil.rmtree(final)
    os.replace(staging, final)
    atomic_write_json(job.summary_path, summary)  # the summary marks the run as finished
    _emit("done", **summary)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--job", required=True, type=Path, help="job.json written by the launching task")
    parser.add_argument("--local_rank", type=int, default=None, help="set by the deepspeed launcher")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    job = read_job(args.job)
    try:
        train(job)
    except Diverged as exc:
        print(f"ERROR training diverged: {exc}", file=sys.stderr, flush=True)
        return EXIT_DIVERGED
    except MemoryError as exc:
        print(f"ERROR out of memory: {exc}", file=sys.stderr, flush=True)
        return EXIT_OOM
    except (FileNotFoundError, ValueError, OSError) as exc:
        if "out of memory" in str(exc).lower():
            print(f"ERROR out of memory: {exc}", file=sys.stderr, flush=True)
            return EXIT_OOM
        print(f"ERROR unusable input: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
        return EXIT_BAD_INPUT
    except RuntimeError as exc:
        if "out of memory" in str(exc).lower():
            print(f"ERROR out of memory: {exc}", file=sys.stderr, flush=True)
            return EXIT_OOM
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main())
