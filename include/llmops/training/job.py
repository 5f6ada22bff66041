"""The contract between the launching task and the training process: one JSON job file.

The task writes ``<runs_dir>/<run_key>/job.json``; every rank of the training process reads it. Keeping the
contract in a file (not in command-line flags) makes the launch reproducible and easy to inspect.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

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
