"""DeepSpeed fine-tuning process: ``python -m llmops.training.train --job <job.json>``.

Started by the ``deepspeed`` launcher (or ``torch.distributed.run``), never inside the Airflow worker. Each rank
reads the same job file. Rank 0 alone logs to MLflow, prints progress and writes artifacts.

- Progress lines on stdout start with ``LLMOPS_PROGRESS `` followed by JSON; the launching task parses them.
- Resume: a checkpoint every ``checkpoint_every`` steps, flushed to disk, then a completion marker written last. A
  restart resumes from the newest checkpoint that has its marker (and the same job fingerprint); a half-written one
  is ignored. Batches and dropout are pure functions of (seed, step, rank), so a resumed run continues exactly.
- Checkpoints are read back with ``torch.load(weights_only=True)``: DeepSpeed's own loader passes
  ``weights_only=False``, so :func:`use_weights_only_checkpoint_loading` replaces it, allowing only the few plain
  DeepSpeed types its ZeRO checkpoints hold (:func:`deepspeed_checkpoint_safe_globals`), for that load only.
- The final model is gathered into one full state dict (ZeRO-3 included: every rank takes part), loaded strictly
  into a fresh copy of the base model and written as safetensors with the tokenizer. With LoRA the adapter is
  written to ``adapter/`` and the merged model to ``final_model/``.
- Guard rails: a NaN/inf loss or gradient norm stops every rank (exit 3); out of memory exits 5; unusable input 4.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import math
import os
import shutil
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from llmops.data.schema import format_prompt
from llmops.fsutil import atomic_write_json, fsync_dir
from llmops.prompts import PROMPT_FILE
from llmops.training.job import (
    COMPLETE_MARKER,
    EXIT_BAD_INPUT,
    EXIT_DIVERGED,
    EXIT_OOM,
    FAULT_INJECTION_ENV,
    PROGRESS_PREFIX,
    TrainingJob,
    read_job,
)

IGNORE_INDEX = -100
CHECKPOINT_PREFIX = "step-"
KEEP_CHECKPOINTS = 2


class Diverged(RuntimeError):
    """The loss (or the gradient norm) became NaN or infinite."""


class BadInput(ValueError):
    """The data, the base model or the DeepSpeed config cannot be used."""


def _emit(event: str, **fields: Any) -> None:
    """One progress line on stdout, written by a single ``write()`` so that other ranks cannot split it.

    The ranks share the launcher's stdout pipe and run unbuffered (``python -u``), where ``print`` writes the text
    and its newline as two calls: another rank's line could then land between them. A write of at most
    ``PIPE_BUF`` (4096) bytes to a pipe is atomic.
    """
    line = PROGRESS_PREFIX + json.dumps({"event": event, **fields}, sort_keys=True, default=str) + "\n"
    sys.stdout.flush()  # what this rank printed before comes first
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # stdout replaced by an object without a descriptor
        sys.stdout.write(line)
        sys.stdout.flush()
        return
    data = line.encode()
    while data:
        data = data[os.write(fd, data) :]


# --- DeepSpeed config ---------------------------------------------------------------------------------------------
def resolve_deepspeed_config(
    raw: dict[str, Any], micro_batch_size: int, grad_accum: int, use_bf16: bool, use_cuda: bool = False
) -> dict[str, Any]:
    """Fill the ``"auto"`` values of a DeepSpeed config from the recipe and the device.

    The same JSON file then serves CPU (gloo) and GPU (nccl) runs: bf16 only where the device supports it;
    communication overlap, contiguous gradient buffers and pinned offload memory only with CUDA.

    Args:
        raw: the DeepSpeed JSON config as loaded.
        micro_batch_size: per-rank micro batch.
        grad_accum: gradient accumulation steps.
        use_bf16: whether the device supports bf16.
        use_cuda: whether training runs on CUDA devices.

    Returns:
        A new dict without ``"auto"`` values.

    Raises:
        BadInput: an ``"auto"`` is left where this project cannot fill it (the message names the key).
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
    zero = cfg.setdefault("zero_optimization", {"stage": 0})
    if zero.get("overlap_comm") == "auto":
        zero["overlap_comm"] = use_cuda
    # Contiguous gradient buffers fight memory fragmentation on GPUs; on the CPU they are only extra copies (ZeRO-2,
    # tiny model, one rank: tensor copies fell from 8.5 to 2.3 ms per step under cProfile).
    if zero.get("contiguous_gradients") == "auto":
        zero["contiguous_gradients"] = use_cuda
    for offload in ("offload_optimizer", "offload_param"):
        section = zero.get(offload)
        if isinstance(section, dict) and section.get("pin_memory") == "auto":
            section["pin_memory"] = use_cuda
    # The optimizer is a torch AdamW handed to DeepSpeed (DeepSpeed's fused Adam needs CUDA); with optimizer
    # offload it is DeepSpeedCPUAdam, which DeepSpeed knows.
    cfg.setdefault("zero_allow_untested_optimizer", True)
    left = _auto_keys(cfg)
    if left:
        raise BadInput(f"DeepSpeed config keeps 'auto' values this project does not fill: {left}")
    return dict(cfg)


def _auto_keys(node: Any, prefix: str = "") -> list[str]:
    if isinstance(node, dict):
        return [k for key, v in node.items() for k in _auto_keys(v, f"{prefix}{key}.")]
    return [prefix.rstrip(".")] if node == "auto" else []


def zero_stage(ds_config: dict[str, Any]) -> int:
    """The ZeRO stage a DeepSpeed config asks for (0 when it has none)."""
    return int(ds_config.get("zero_optimization", {}).get("stage", 0))


def offloads_optimizer(ds_config: dict[str, Any]) -> bool:
    """Whether the config offloads the optimizer state to the CPU (ZeRO-Offload)."""
    section = ds_config.get("zero_optimization", {}).get("offload_optimizer") or {}
    return str(section.get("device", "none")) in {"cpu", "nvme"}


# --- data ---------------------------------------------------------------------------------------------------------
def tokenize_rows(
    prompts: list[str], responses: list[str], tokenizer: Any, max_seq_len: int, template: str | None = None
) -> list[tuple[list[int], list[int]]]:
    """Tokenize examples into (input_ids, labels) with the prompt part masked out of the loss.

    The prompt is rendered with ``template`` (the run's prompt version; the prompt file's text when ``None``).
    Examples whose prompt alone fills ``max_seq_len`` carry no response token and are left out.
    """
    eos = tokenizer.eos_token or ""
    out: list[tuple[list[int], list[int]]] = []
    for prompt, response in zip(prompts, responses, strict=True):
        p_ids = tokenizer(format_prompt(prompt, template), add_special_tokens=False)["input_ids"]
        r_ids = tokenizer(response.strip() + eos, add_special_tokens=False)["input_ids"]
        ids = (p_ids + r_ids)[:max_seq_len]
        labels = ([IGNORE_INDEX] * len(p_ids) + r_ids)[:max_seq_len]
        if all(label == IGNORE_INDEX for label in labels):
            continue
        out.append((ids, labels))
    return out


TOKENIZED_DIR = "tokenized"  # under the job's output folder: the Arrow caches of the training input
TOKENIZE_VERSION = "1"  # bump when tokenize_rows changes what it produces


def tokenize_batch(
    batch: dict[str, list[Any]], tokenizer: Any, max_seq_len: int, template: str | None = None
) -> dict[str, list[list[int]]]:
    """:func:`tokenize_rows` of one batch of a ``datasets`` map (rows without a response token are dropped)."""
    pairs = tokenize_rows([str(p) for p in batch["prompt"]], [str(r) for r in batch["response"]], tokenizer,
                          max_seq_len, template)  # fmt: skip
    return {"input_ids": [ids for ids, _ in pairs], "labels": [labels for _, labels in pairs]}


class TokenizedExamples:
    """The tokenized training examples, memory-mapped from an Arrow file: ``examples[i]`` is ``(input_ids, labels)``
    read when asked for, so a snapshot larger than memory trains."""

    def __init__(self, dataset: Any, cached: bool) -> None:
        self.dataset = dataset
        self.cached = cached  # True: read from the cache of an earlier attempt (nothing was tokenized)

    def __len__(self) -> int:
        return int(self.dataset.num_rows)

    def __getitem__(self, i: int) -> tuple[list[int], list[int]]:
        row = self.dataset[int(i)]
        return row["input_ids"], row["labels"]


def _parquet_files(train_path: Path) -> list[str]:
    if train_path.is_dir():
        return [str(p) for p in sorted(train_path.rglob("*.parquet"))]
    return [str(train_path)]


def tokenization_fingerprint(job: TrainingJob, tokenizer: Any, files: list[str]) -> str:
    """What the tokenized input depends on: the input files (path, size, modification time), the tokenizer, the
    sequence length and :data:`TOKENIZE_VERSION`. A retry or a resume of the same job finds its cache by it."""
    stats = [(f, os.stat(f).st_size, os.stat(f).st_mtime_ns) for f in files]
    key = [TOKENIZE_VERSION, stats, job.base_model, len(tokenizer), tokenizer.eos_token, job.max_seq_len,
           job.prompt_template]  # fmt: skip
    return hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()[:16]


def load_examples(job: TrainingJob, tokenizer: Any) -> TokenizedExamples:
    """The job's training input through Hugging Face ``datasets``: the snapshot's Parquet file(s) as a memory-mapped
    Arrow dataset, tokenized by a batched ``Dataset.map`` into ``<output>/tokenized/tokens-<fingerprint>.arrow``
    (:func:`tokenization_fingerprint`), which a retry or a resume loads instead of tokenizing again.

    Offline: nothing is fetched (``HF_DATASETS_OFFLINE``); progress bars are off (the task log gets events).
    """
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    import datasets

    datasets.disable_progress_bars()
    files = _parquet_files(Path(job.train_path))
    if not files:
        raise BadInput(f"no Parquet file in {job.train_path}")
    cache = job.out / TOKENIZED_DIR
    fingerprint = tokenization_fingerprint(job, tokenizer, files)
    target = cache / f"tokens-{fingerprint}.arrow"
    cached = target.is_file()
    try:
        source = datasets.Dataset.from_parquet(files, columns=["prompt", "response"], cache_dir=str(cache / "source"))
    except (OSError, ValueError, KeyError) as exc:
        raise BadInput(f"cannot read the training data {job.train_path}: {type(exc).__name__}: {exc}") from exc
    tokenized = source.map(
        tokenize_batch,
        batched=True,
        batch_size=1000,
        fn_kwargs={"tokenizer": tokenizer, "max_seq_len": job.max_seq_len, "template": job.prompt_template},
        remove_columns=source.column_names,
        cache_file_name=str(target),
        new_fingerprint=fingerprint,
        load_from_cache_file=True,
    )
    return TokenizedExamples(tokenized, cached)


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


def lr_lambda(warmup: int, total: int) -> Callable[[int], float]:
    """Linear warm-up, then cosine decay to 10% of the peak rate."""

    def fn(step: int) -> float:
        if warmup and step < warmup:
            return (step + 1) / warmup
        progress = (step - warmup) / max(1, total - warmup)
        return 0.1 + 0.9 * 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))

    return fn


def step_seed(seed: int, step: int, rank: int) -> int:
    """Seed of the random state (dropout) of one step on one rank: a resumed step draws the same masks."""
    return ((seed * 1_000_003 + step) * 8191 + rank) % (2**63)


# --- checkpoints ----------------------------------------------------------------------------------------------------
def latest_complete_checkpoint(checkpoint_dir: Path, fingerprint: str | None = None) -> tuple[str, int] | None:
    """Newest checkpoint tag that carries its completion marker (of this job, when ``fingerprint`` is given)."""
    if not checkpoint_dir.is_dir():
        return None
    found: list[tuple[int, str]] = []
    for child in checkpoint_dir.iterdir():
        marker = child / COMPLETE_MARKER
        if child.is_dir() and child.name.startswith(CHECKPOINT_PREFIX) and marker.is_file():
            try:
                info = json.loads(marker.read_text())
                step = int(info["step"])
            except (ValueError, KeyError, TypeError, json.JSONDecodeError):
                continue
            if fingerprint is not None and info.get("fingerprint") != fingerprint:
                continue
            found.append((step, child.name))
    if not found:
        return None
    step, tag = max(found)
    return tag, step


def _prune_checkpoints(checkpoint_dir: Path, keep: int, fingerprint: str) -> None:
    tags = sorted(
        (c for c in checkpoint_dir.iterdir() if c.is_dir() and c.name.startswith(CHECKPOINT_PREFIX)),
        key=lambda c: c.name,
    )
    ours = latest_complete_checkpoint(checkpoint_dir, fingerprint)
    newest = ours[0] if ours else ""
    complete = [c for c in tags if (c / COMPLETE_MARKER).is_file()]
    for old in complete[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    for partial in tags:  # half-written leftovers older than the newest complete checkpoint
        if not (partial / COMPLETE_MARKER).is_file() and partial.name < newest:
            shutil.rmtree(partial, ignore_errors=True)


def _drop_foreign_checkpoints(checkpoint_dir: Path, fingerprint: str) -> list[str]:
    """Remove complete checkpoints written for a different job (changed recipe, data or model) in this run dir."""
    dropped: list[str] = []
    if not checkpoint_dir.is_dir():
        return dropped
    for child in sorted(checkpoint_dir.iterdir()):
        marker = child / COMPLETE_MARKER
        if not (child.is_dir() and marker.is_file()):
            continue
        try:
            same = json.loads(marker.read_text()).get("fingerprint") == fingerprint
        except (ValueError, json.JSONDecodeError):
            same = False
        if not same:
            shutil.rmtree(child, ignore_errors=True)
            dropped.append(child.name)
    return dropped


def _fsync_tree(path: Path) -> None:
    """Flush every file under ``path`` and the directories themselves: the marker must not outrun the data."""
    for root, _, files in os.walk(path):
        for name in files:
            fd = os.open(os.path.join(root, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        fsync_dir(Path(root))


def deepspeed_checkpoint_safe_globals() -> list[Any]:
    """The non-tensor types DeepSpeed 0.19 pickles into ZeRO checkpoints; all are plain data holders.

    Found with ``torch.serialization.get_unsafe_globals_in_checkpoint`` on checkpoints of ZeRO stages 0 to 3, with
    and without CPU offload: the loss scaler object, the ZeRO stage enum and the fragment address dataclass.
    """
    from deepspeed.runtime.fp16.loss_scaler import DynamicLossScaler, LossScaler
    from deepspeed.runtime.zero.config import ZeroStageEnum
    from deepspeed.utils.tensor_fragment import fragment_address

    return [LossScaler, DynamicLossScaler, ZeroStageEnum, fragment_address]


def use_weights_only_checkpoint_loading(engine: Any) -> None:
    """Make ``engine`` read its checkpoints with ``torch.load(weights_only=True)``.

    DeepSpeed's ``TorchCheckpointEngine.load`` calls ``torch.load(..., weights_only=False)``, which would unpickle
    arbitrary objects. This swaps in a subclass whose ``load`` allows only :func:`deepspeed_checkpoint_safe_globals`,
    inside a ``torch.serialization.safe_globals`` context (never a process-wide allow-list).
    """
    import torch
    from deepspeed.runtime.checkpoint_engine.torch_checkpoint_engine import TorchCheckpointEngine

    current = engine.checkpoint_engine
    if type(current) is not TorchCheckpointEngine:
        raise BadInput(
            f"checkpoint engine {type(current).__name__} is not supported: only DeepSpeed's torch engine can be "
            "restricted to weights-only loading"
        )
    allowed = deepspeed_checkpoint_safe_globals()

    class WeightsOnlyCheckpointEngine(TorchCheckpointEngine):
        def load(self, path: str, map_location: Any = None) -> Any:
            with torch.serialization.safe_globals(allowed):
                return torch.load(path, map_location=map_location, weights_only=True)

    engine.checkpoint_engine = WeightsOnlyCheckpointEngine(engine._config)


# --- model, optimizer, engine -----------------------------------------------------------------------------------------
def apply_lora(model: Any, lora: dict[str, Any]) -> Any:
    """Wrap ``model`` with LoRA adapters (PEFT); only the adapter weights stay trainable."""
    from peft import LoraConfig, get_peft_model

    config = LoraConfig(
        r=int(lora["r"]),
        lora_alpha=int(lora["alpha"]),
        lora_dropout=float(lora["dropout"]),
        target_modules=lora.get("target_modules"),
        bias="none",
        task_type="CAUSAL_LM",
    )
    return get_peft_model(model, config)


def make_optimizer(
    params: list[Any], *, learning_rate: float, weight_decay: float, ds_config: dict[str, Any], use_cuda: bool
) -> Any:
    """AdamW over ``params``: torch's (fused on CUDA), or DeepSpeedCPUAdam when the optimizer is offloaded."""
    import torch

    if offloads_optimizer(ds_config):
        from deepspeed.ops.adam import DeepSpeedCPUAdam

        return DeepSpeedCPUAdam(params, lr=learning_rate, weight_decay=weight_decay, adamw_mode=True)
    return torch.optim.AdamW(params, lr=learning_rate, weight_decay=weight_decay, fused=use_cuda or None)


def build_engine(
    model: Any,
    ds_config: dict[str, Any],
    *,
    learning_rate: float,
    weight_decay: float,
    warmup_steps: int,
    max_steps: int,
    use_cuda: bool,
) -> Any:
    """Hand ``model`` to DeepSpeed with AdamW, the warm-up/cosine schedule and weights-only checkpoint loading."""
    import deepspeed
    import torch

    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise BadInput("the model has no trainable parameters")
    optimizer = make_optimizer(
        params, learning_rate=learning_rate, weight_decay=weight_decay, ds_config=ds_config, use_cuda=use_cuda
    )
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda(warmup_steps, max_steps))
    try:
        engine, _, _, _ = deepspeed.initialize(
            model=model, optimizer=optimizer, lr_scheduler=scheduler, config=ds_config
        )
    except ValueError as exc:  # DeepSpeed validates its config with pydantic: a bad key or value
        raise BadInput(f"DeepSpeed rejected its config: {exc}") from exc
    use_weights_only_checkpoint_loading(engine)
    return engine


def train_step(engine: Any, micro_batches: list[dict[str, Any]], *, seed: int, step: int) -> tuple[float, int]:
    """One optimizer step over ``micro_batches`` (gradient accumulation); stops every rank on a non-finite loss.

    Args:
        engine: the DeepSpeed engine.
        micro_batches: batches already on the engine's device, one per accumulation step.
        seed: the job's seed; the step's random state is derived from it, the step and the rank.
        step: 0-based optimizer step.

    Returns:
        (mean loss of this rank's micro-batches, tokens this rank processed).

    Raises:
        Diverged: on every rank, when any rank's loss or the global gradient norm is NaN or infinite.
    """
    import torch
    import torch.distributed as dist

    world = dist.get_world_size()
    torch.manual_seed(step_seed(seed, step, dist.get_rank()))
    loss_sum, tokens = 0.0, 0
    for micro, batch in enumerate(micro_batches):
        loss = engine(**batch).loss
        value = float(loss.detach().float().item())
        finite = math.isfinite(value)
        if world > 1:  # every rank must stop together, or the healthy ones hang in the next collective
            flag = torch.tensor([1.0 if finite else 0.0], device=loss.device)
            dist.all_reduce(flag, op=dist.ReduceOp.MIN)
            finite = bool(flag.item() >= 1.0)
        if not finite:
            raise Diverged(f"loss is not finite at step {step + 1} (micro-batch {micro}): {value}")
        engine.backward(loss)
        engine.step()
        loss_sum += value
        tokens += int(batch["attention_mask"].sum().item())
    norm = engine.get_global_grad_norm()
    if norm is not None and not math.isfinite(float(norm)):
        raise Diverged(f"gradient norm is not finite at step {step + 1}: {float(norm)}")
    return loss_sum / len(micro_batches), tokens


# --- tracking ---------------------------------------------------------------------------------------------------------
# Per-step curves go to MLflow under one group (``train/train_loss``, ``train/learning_rate``, ``train/grad_norm``,
# ``train/tokens_per_s``): the MLflow UI shows them in their own section, beside ``system/``, instead of sorted among
# the run's evaluation and verdict metrics.
STEP_METRIC_GROUP = "train/"


class _MlflowLogger:
    """Per-step metrics to MLflow from rank 0, sent in batches; a no-op without a run id."""

    def __init__(self, job: TrainingJob) -> None:
        self.client: Any = None
        self.run_id = job.mlflow_run_id
        self.pending: list[Any] = []
        if self.run_id and job.tracking_uri:
            from mlflow.tracking import MlflowClient

            self.client = MlflowClient(tracking_uri=job.tracking_uri)

    def log(self, step: int, metrics: dict[str, float]) -> None:
        if self.client is None:
            return
        from mlflow.entities import Metric

        ts = int(time.time() * 1000)
        self.pending += [Metric(k, float(v), ts, step) for k, v in metrics.items() if math.isfinite(v)]

    def flush(self) -> None:
        if self.client is None or self.run_id is None or not self.pending:
            return
        for i in range(0, len(self.pending), 1000):  # MLflow's log_batch limit
            self.client.log_batch(self.run_id, metrics=self.pending[i : i + 1000])
        self.pending = []

    def log_dict(self, obj: dict[str, Any], name: str) -> None:
        if self.client is not None and self.run_id is not None:
            self.client.log_dict(self.run_id, obj, name)


def _fault_at_step() -> int | None:
    """Step of the test-only injected out-of-memory fault (``LLMOPS_TEST_INJECT_FAULT=oom@K``), if set."""
    spec = os.environ.get(FAULT_INJECTION_ENV, "")
    kind, _, at = spec.partition("@")
    if kind != "oom" or not at.isdigit():
        return None
    return int(at)


# --- the run ----------------------------------------------------------------------------------------------------------
def _load_inputs(job: TrainingJob, rank: int = 0) -> tuple[Any, TokenizedExamples]:
    """The tokenizer and the tokenized examples (:func:`load_examples`). Rank 0 tokenizes while the other ranks
    wait at a barrier, then they load its cache."""
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(job.base_model, trust_remote_code=False)
    except (OSError, ValueError, KeyError) as exc:
        raise BadInput(f"cannot read the tokenizer: {type(exc).__name__}: {exc}") from exc
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    _check_input(job)  # on every rank, before the barrier: bad input fails all ranks alike, none waits for rank 0
    examples = load_examples(job, tokenizer) if rank == 0 else None
    if _distributed():
        import torch.distributed as dist

        dist.barrier()
    if examples is None:
        examples = load_examples(job, tokenizer)
    if not len(examples):
        raise BadInput(f"no usable training examples in {job.train_path}")
    return tokenizer, examples


def _check_input(job: TrainingJob) -> None:
    """Raise :class:`BadInput` unless the training input is Parquet with ``prompt`` and ``response`` columns."""
    import pyarrow.parquet as pq

    files = _parquet_files(Path(job.train_path))
    if not files:
        raise BadInput(f"no Parquet file in {job.train_path}")
    for f in files:
        try:
            names = set(pq.read_schema(f).names)
        except (OSError, ValueError) as exc:
            raise BadInput(f"cannot read the training data {f}: {type(exc).__name__}: {exc}") from exc
        if not {"prompt", "response"} <= names:
            raise BadInput(f"training data {f} lacks a prompt or response column (has {sorted(names)})")


def _distributed() -> bool:
    import torch.distributed as dist

    return bool(dist.is_available() and dist.is_initialized())


def _load_model(job: TrainingJob) -> Any:
    from transformers import AutoModelForCausalLM

    try:
        model = AutoModelForCausalLM.from_pretrained(job.base_model, trust_remote_code=False, use_safetensors=True)
    except (OSError, ValueError) as exc:
        raise BadInput(f"cannot load base model {job.base_model} (safetensors only): {exc}") from exc
    return apply_lora(model, job.lora) if job.lora else model


def train(job: TrainingJob) -> dict[str, Any]:
    """Run (or resume) the fine-tuning described by ``job``. Returns the summary written by rank 0."""
    import deepspeed
    import torch
    import torch.distributed as dist

    logging.getLogger("DeepSpeed").setLevel(logging.WARNING)
    # DeepSpeed calls collectives torch has renamed; the warning would repeat on every step of the task log.
    warnings.filterwarnings("ignore", category=FutureWarning, module=r"torch\.distributed")
    use_cuda = torch.cuda.is_available()
    deepspeed.init_distributed(dist_backend="nccl" if use_cuda else "gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if use_cuda:
        torch.cuda.set_device(local_rank)
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    else:
        local_world = int(os.environ.get("LOCAL_WORLD_SIZE", str(world)))
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // max(1, local_world)))
    torch.manual_seed(job.seed)

    started = time.perf_counter()
    tokenizer, examples = _load_inputs(job, rank)
    if rank == 0:
        _emit("input", examples=len(examples), cached=examples.cached, seconds=round(time.perf_counter() - started, 3))
    model = _load_model(job)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)  # before ZeRO-3 partitions them
    use_bf16 = bool(use_cuda and torch.cuda.is_bf16_supported())
    ds_config = resolve_deepspeed_config(
        job.deepspeed_config, job.micro_batch_size, job.gradient_accumulation_steps, use_bf16, use_cuda
    )
    engine = build_engine(
        model,
        ds_config,
        learning_rate=job.learning_rate,
        weight_decay=job.weight_decay,
        warmup_steps=job.warmup_steps,
        max_steps=job.max_steps,
        use_cuda=use_cuda,
    )
    device = engine.device
    fingerprint = job.fingerprint()
    stage = zero_stage(ds_config)

    if rank == 0:
        dropped = _drop_foreign_checkpoints(job.checkpoint_dir, fingerprint)
        if dropped:
            _emit("warning", message=f"removed checkpoints of a different job configuration: {dropped}")
    dist.barrier()
    start_step = 0
    resumed = latest_complete_checkpoint(job.checkpoint_dir, fingerprint)
    if resumed is not None:
        tag, step = resumed
        load_path, client_state = engine.load_checkpoint(
            str(job.checkpoint_dir), tag=tag, load_module_strict=not job.lora
        )
        if load_path is None:
            raise RuntimeError(f"checkpoint {tag} in {job.checkpoint_dir} could not be loaded")
        start_step = int((client_state or {}).get("step", step))
    if rank == 0:
        _emit(
            "start",
            pid=os.getpid(),
            resumed_from_step=start_step,
            max_steps=job.max_steps,
            world_size=world,
            examples=len(examples),
            zero_stage=stage,
            device=str(device),
            bf16=use_bf16,
            lora=bool(job.lora),
            trainable_parameters=trainable,
        )

    tracker = _MlflowLogger(job) if rank == 0 else None
    if tracker is not None:
        tracker.log_dict(ds_config, "config/deepspeed_resolved.json")
    plan = BatchPlan(len(examples), job.seed, job.micro_batch_size, world, job.gradient_accumulation_steps)
    pad_id = int(tokenizer.pad_token_id)
    fault_step = _fault_at_step()
    engine.train()
    t_start = time.perf_counter()
    tokens_total = 0
    loss_value = float("nan")
    seen = hashlib.sha256()  # which examples this rank trained on (ranks must see different data)
    rank_samples = 0
    try:
        for step in range(start_step, job.max_steps):
            done = step + 1
            if fault_step == done:
                raise torch.OutOfMemoryError(f"injected out-of-memory fault at step {done} ({FAULT_INJECTION_ENV})")
            t0 = time.perf_counter()
            batches = []
            for micro in range(job.gradient_accumulation_steps):
                indices = plan.indices(step, micro, rank)
                seen.update(repr(indices).encode())
                rank_samples += len(indices)
                batch = collate([examples[i] for i in indices], pad_id)
                batches.append({k: v.to(device) for k, v in batch.items()})
            loss_value, tokens = train_step(engine, batches, seed=job.seed, step=step)
            if world > 1:
                totals = torch.tensor([loss_value, float(tokens)], device=device)
                dist.all_reduce(totals, op=dist.ReduceOp.SUM)
                loss_value, tokens = float(totals[0].item()) / world, int(totals[1].item())
            tokens_total += tokens
            dt = time.perf_counter() - t0
            if tracker is not None:
                lr = float(engine.get_lr()[0])
                norm = engine.get_global_grad_norm()
                metrics = {"train_loss": loss_value, "learning_rate": lr, "tokens_per_s": tokens / max(dt, 1e-9)}
                if norm is not None:
                    metrics["grad_norm"] = float(norm)
                tracker.log(done, {f"{STEP_METRIC_GROUP}{k}": v for k, v in metrics.items()})
                if done == 1 or done % job.log_every == 0 or done == job.max_steps:
                    tracker.flush()
                    elapsed = time.perf_counter() - t_start
                    rate = (done - start_step) / max(elapsed, 1e-9)
                    _emit(
                        "step",
                        step=done,
                        max_steps=job.max_steps,
                        loss=round(loss_value, 5),
                        lr=lr,
                        grad_norm=round(metrics.get("grad_norm", float("nan")), 5),
                        tokens_per_s=round(metrics["tokens_per_s"], 1),
                        eta_s=round((job.max_steps - done) / max(rate, 1e-9), 1),
                    )
            if done % job.checkpoint_every == 0 and done < job.max_steps:
                _save_checkpoint(engine, job, done, rank, fingerprint)
    finally:
        if tracker is not None:
            tracker.flush()

    elapsed = time.perf_counter() - t_start
    summary = {
        "steps": job.max_steps,
        "resumed_from_step": start_step,
        "final_train_loss": loss_value,
        "tokens": tokens_total,
        "train_seconds": round(elapsed, 3),
        "world_size": world,
        "zero_stage": stage,
        "bf16": use_bf16,
        "lora": bool(job.lora),
        "trainable_parameters": trainable,
        "fingerprint": fingerprint,
    }
    summary["written_by_pid"] = os.getpid() if rank == 0 else None
    _save_final_model(engine, tokenizer, job, stage, rank, summary)
    # Every rank reports what it trained on; only rank 0 writes the model and the summary.
    _emit("rank_done", rank=rank, pid=os.getpid(), samples=rank_samples, indices_sha256=seen.hexdigest()[:16])
    dist.barrier()
    if rank == 0:  # the tokenized input served retries and resumes; the model is written, it is not needed again
        shutil.rmtree(job.out / TOKENIZED_DIR, ignore_errors=True)
    return summary


def _save_checkpoint(engine: Any, job: TrainingJob, step: int, rank: int, fingerprint: str) -> None:
    import torch.distributed as dist

    tag = f"{CHECKPOINT_PREFIX}{step:08d}"
    checkpoint_dir = job.checkpoint_dir
    engine.save_checkpoint(
        str(checkpoint_dir),
        tag=tag,
        client_state={"step": step},
        save_latest=False,  # the completion marker, not DeepSpeed's `latest` file, says what can be resumed
        exclude_frozen_parameters=bool(job.lora),  # LoRA: the frozen base is re-read from the base model
    )
    _fsync_tree(checkpoint_dir / tag)  # each rank flushes what it wrote
    dist.barrier()
    if rank == 0:
        # written last: the checkpoint is complete only once this exists
        atomic_write_json(checkpoint_dir / tag / COMPLETE_MARKER, {"step": step, "fingerprint": fingerprint})
        _prune_checkpoints(checkpoint_dir, KEEP_CHECKPOINTS, fingerprint)
        _emit("checkpoint", step=step, tag=tag)
    dist.barrier()


def consolidated_state_dict(engine: Any, stage: int) -> dict[str, Any] | None:
    """The full state dict of the trained module on rank 0 (CPU copies), ``None`` on other ranks.

    Under ZeRO-3 each rank holds a shard and the module's parameters are empty placeholders; the parameters are
    gathered one module at a time (every rank must call this) and copied, so the result never aliases memory that
    DeepSpeed frees or re-partitions afterwards. Tied parameters stay tied.
    """
    import deepspeed
    import torch.distributed as dist

    is_zero = dist.get_rank() == 0
    if stage < 3:
        if not is_zero:
            return None
        return {k: v.detach().to("cpu", copy=True) for k, v in engine.module.state_dict().items()}

    out: dict[str, Any] | None = {} if is_zero else None
    seen: dict[int, str] = {}

    def visit(module: Any, prefix: str) -> None:
        params = list(module.parameters(recurse=False))
        with deepspeed.zero.GatheredParameters(params, modifier_rank=None):
            if out is not None:
                for name, param in module.named_parameters(recurse=False):
                    key = prefix + name
                    ident = int(getattr(param, "ds_id", id(param)))
                    if ident in seen:
                        out[key] = out[seen[ident]]
                    else:
                        out[key] = param.detach().to("cpu", copy=True)
                        seen[ident] = key
                for name, buf in module.named_buffers(recurse=False):
                    if buf is not None and name not in module._non_persistent_buffers_set:
                        out[prefix + name] = buf.detach().to("cpu", copy=True)
        for name, child in module.named_children():
            visit(child, prefix + name + ".")

    visit(engine.module, "")
    return out


def _save_final_model(
    engine: Any, tokenizer: Any, job: TrainingJob, stage: int, rank: int, summary: dict[str, Any]
) -> None:
    """Write consolidated safetensors + tokenizer (and the LoRA adapter) on rank 0, staged then renamed."""
    state_dict = consolidated_state_dict(engine, stage)  # collective under ZeRO-3
    if rank != 0 or state_dict is None:
        return
    from transformers import AutoModelForCausalLM

    # A fresh copy of the base (plus adapters) receives the weights strictly: a missing, extra or wrongly shaped
    # tensor fails here, before anything is written.
    fresh: Any = AutoModelForCausalLM.from_pretrained(job.base_model, trust_remote_code=False, use_safetensors=True)
    if job.lora:
        fresh = apply_lora(fresh, job.lora)
    try:
        fresh.load_state_dict(state_dict, strict=True)
    except RuntimeError as exc:
        raise RuntimeError(f"the gathered weights do not fit the model: {exc}") from exc
    del state_dict

    staged: list[tuple[Path, Path]] = []
    if job.lora:
        adapter_staging = _fresh_staging(job.adapter_dir)
        fresh.save_pretrained(adapter_staging, safe_serialization=True)
        tokenizer.save_pretrained(adapter_staging)
        staged.append((adapter_staging, job.adapter_dir))
        fresh = fresh.merge_and_unload()
    final_staging = _fresh_staging(job.final_model_dir)
    fresh.save_pretrained(final_staging, safe_serialization=True)
    tokenizer.save_pretrained(final_staging)
    if job.prompt is not None:  # the prompt travels with the weights (registered artifact, pyfunc, Triton)
        atomic_write_json(final_staging / PROMPT_FILE, job.prompt)
    staged.append((final_staging, job.final_model_dir))
    for staging, target in staged:
        _fsync_tree(staging)
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging, target)
    fsync_dir(job.out)
    atomic_write_json(job.summary_path, summary)  # the summary marks the run as finished
    _emit("done", **summary)


def _fresh_staging(target: Path) -> Path:
    staging = target.with_name(target.name + ".staging")
    if staging.exists():
        shutil.rmtree(staging)
    return staging


def _is_oom(exc: BaseException) -> bool:
    import torch

    if isinstance(exc, torch.OutOfMemoryError | MemoryError):
        return True
    return isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower()


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
    except BadInput as exc:
        print(f"ERROR unusable input: {exc}", file=sys.stderr, flush=True)
        return EXIT_BAD_INPUT
    except (MemoryError, RuntimeError) as exc:
        if not _is_oom(exc):
            raise
        where = os.environ.get("LOCAL_RANK", "0")
        print(
            f"ERROR out of memory on local rank {where}: {type(exc).__name__}: {exc}. Lower micro_batch_size or "
            "max_seq_len (raise gradient_accumulation_steps to keep the batch), or choose a ZeRO-3 / offload "
            "DeepSpeed config.",
            file=sys.stderr,
            flush=True,
        )
        return EXIT_OOM
    return 0


if __name__ == "__main__":
    sys.exit(main())
