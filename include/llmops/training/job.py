"""The contract between the launching task and the training process: one JSON job file.

The task writes ``<runs_dir>/<run_key>/job.json``; every rank of the training process reads it. Keeping the
contract in a file (not in command-line flags) makes the launch reproducible and easy to inspect.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from llmops.errors import Permanent
from llmops.fsutil import atomic_write_json

# Exit codes of the training process, mapped to task outcomes by the launcher.
EXIT_OK = 0
EXIT_DIVERGED = 3  # NaN/inf loss: do not retry, do not register
EXIT_BAD_INPUT = 4  # unusable data or model: do not retry
EXIT_OOM = 5  # out of memory: report as such, do not retry with the same settings

# Test-only fault injection: ``oom@K`` makes every rank raise torch.OutOfMemoryError at step K. Never set in
# production; tests use it because a real out-of-memory condition is not safe to provoke on a shared machine.
FAULT_INJECTION_ENV = "LLMOPS_TEST_INJECT_FAULT"

PROGRESS_PREFIX = "LLMOPS_PROGRESS "
FINAL_MODEL_DIR = "final_model"
ADAPTER_DIR = "adapter"
CHECKPOINT_DIR = "checkpoints"
SUMMARY_FILE = "training_summary.json"
COMPLETE_MARKER = "llmops_complete.json"


def _leaves(*names: str) -> dict[str, Any]:
    return dict.fromkeys(names)


# What a DeepSpeed config may hold: the keys of the shipped configs plus harmless tuning keys. A ``None`` value is a
# scalar setting, a mapping a section with its own allowed keys. Everything else is refused, in particular what
# writes files or reaches other systems (tensorboard, wandb, csv_monitor, comet, flops_profiler, aio, checkpoint,
# nvme_path, autotuning...) and optimizer/scheduler sections (the trainer builds its own).
DEEPSPEED_ALLOWED_KEYS: dict[str, Any] = {
    **_leaves(
        "train_micro_batch_size_per_gpu", "gradient_accumulation_steps", "train_batch_size", "gradient_clipping",
        "steps_per_print", "wall_clock_breakdown", "memory_breakdown", "prescale_gradients",
        "gradient_predivide_factor", "communication_data_type", "zero_allow_untested_optimizer",
        "zero_force_ds_cpu_optimizer",
    ),
    "bf16": _leaves("enabled", "immediate_grad_update"),
    "fp16": _leaves(
        "enabled", "auto_cast", "loss_scale", "initial_scale_power", "loss_scale_window", "hysteresis",
        "consecutive_hysteresis", "min_loss_scale",
    ),
    "data_types": _leaves("grad_accum_dtype"),
    "zero_optimization": {
        **_leaves(
            "stage", "overlap_comm", "contiguous_gradients", "reduce_scatter", "reduce_bucket_size",
            "allgather_bucket_size", "allgather_partitions", "round_robin_gradients", "sub_group_size",
            "load_from_fp32_weights", "ignore_unused_parameters", "stage3_prefetch_bucket_size",
            "stage3_param_persistence_threshold", "stage3_max_live_parameters", "stage3_max_reuse_distance",
            "stage3_gather_16bit_weights_on_model_save", "zero_hpz_partition_size", "zero_quantized_weights",
            "zero_quantized_gradients",
        ),
        "offload_optimizer": _leaves("device", "pin_memory", "ratio", "buffer_count", "fast_init"),
        "offload_param": _leaves("device", "pin_memory", "buffer_count", "buffer_size", "max_in_cpu"),
    },
}  # fmt: skip
OFFLOAD_DEVICES = frozenset({"cpu", "none"})  # "nvme" would write the optimizer state to a path


class UnsafeDeepSpeedConfig(Permanent, ValueError):
    """A DeepSpeed config holds a key outside :data:`DEEPSPEED_ALLOWED_KEYS`: training does not start."""


def check_deepspeed_config(config: Mapping[str, Any], source: str) -> None:
    """Refuse DeepSpeed config keys outside :data:`DEEPSPEED_ALLOWED_KEYS` (and offload to NVMe).

    Raises:
        UnsafeDeepSpeedConfig: naming the first offending key (dotted) and the file.
    """

    def walk(node: Mapping[str, Any], allowed: Mapping[str, Any], prefix: str) -> None:
        for key, value in node.items():
            where = f"{prefix}{key}"
            if key not in allowed:
                raise UnsafeDeepSpeedConfig(
                    f"DeepSpeed config {source}: key {where!r} is not allowed (only tuning keys are: nothing that "
                    f"writes files, logs elsewhere or replaces the optimizer); allowed here: {sorted(allowed)}"
                )
            spec = allowed[key]
            if isinstance(spec, Mapping):
                if not isinstance(value, Mapping):
                    raise UnsafeDeepSpeedConfig(f"DeepSpeed config {source}: {where!r} must be a mapping")
                walk(value, spec, f"{where}.")
            elif isinstance(value, Mapping | list):
                raise UnsafeDeepSpeedConfig(f"DeepSpeed config {source}: {where!r} must be a single value")
            elif key == "device" and str(value) not in OFFLOAD_DEVICES:
                devices = sorted(OFFLOAD_DEVICES)
                raise UnsafeDeepSpeedConfig(
                    f"DeepSpeed config {source}: {where!r} is {value!r}; offload to one of {devices}"
                )

    if not isinstance(config, Mapping):
        raise UnsafeDeepSpeedConfig(f"DeepSpeed config {source} must be a JSON object")
    walk(config, DEEPSPEED_ALLOWED_KEYS, "")


class TrainingJob(BaseModel):
    """Everything one training process needs to know."""

    model_config = ConfigDict(extra="forbid")

    base_model: str
    train_path: str
    output_dir: str
    deepspeed_config: dict[str, Any]
    max_steps: int
    micro_batch_size: int
    gradient_accumulation_steps: int
    learning_rate: float
    warmup_steps: int
    weight_decay: float
    max_seq_len: int
    seed: int
    checkpoint_every: int
    log_every: int
    lora: dict[str, Any] | None = None  # LoRA settings when adapter-only training is on
    recipe: str | None = None
    tracking_uri: str | None = None
    mlflow_run_id: str | None = None
    # The run's prompt version (llmops.prompts.Prompt.to_file: name, version, template, sha256): examples are rendered
    # with its template and it is written beside the final weights. None: the prompt file's text, nothing written.
    prompt: dict[str, str] | None = None

    @property
    def prompt_template(self) -> str | None:
        """The template examples are rendered with (``None``: the prompt file's)."""
        return self.prompt["template"] if self.prompt else None

    def fingerprint(self) -> str:
        """Hash of everything that shapes the training trajectory; checkpoints of another fingerprint are not resumed.

        Paths of outputs and tracking, the step budget's bookkeeping (``log_every``, ``checkpoint_every``) and the
        recipe's name are left out: changing them does not make an old checkpoint wrong.
        """
        keep = self.model_dump(
            exclude={"output_dir", "tracking_uri", "mlflow_run_id", "log_every", "checkpoint_every", "recipe"}
        )
        return hashlib.sha256(json.dumps(keep, sort_keys=True, default=str).encode()).hexdigest()[:16]

    @property
    def out(self) -> Path:
        return Path(self.output_dir)

    @property
    def final_model_dir(self) -> Path:
        return self.out / FINAL_MODEL_DIR

    @property
    def checkpoint_dir(self) -> Path:
        return self.out / CHECKPOINT_DIR

    @property
    def adapter_dir(self) -> Path:
        return self.out / ADAPTER_DIR

    @property
    def summary_path(self) -> Path:
        return self.out / SUMMARY_FILE


def write_job(job: TrainingJob, path: Path) -> Path:
    """Write the job file atomically."""
    return atomic_write_json(path, job.model_dump())


def read_job(path: Path) -> TrainingJob:
    """Read and validate a job file."""
    return TrainingJob.model_validate_json(path.read_text())
