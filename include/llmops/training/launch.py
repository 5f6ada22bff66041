"""Start the training process group from a task, stream its progress, map its exit to an outcome.

The training runs as its own process group (the ``deepspeed`` launcher or ``torch.distributed.run``), so a long
run never lives inside the scheduler's worker. A killed task is retried by starting the launcher again: the
training process resumes from its last complete checkpoint.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from llmops.config import LLMOpsConfig
from llmops.training.job import (
    EXIT_BAD_INPUT,
    EXIT_DIVERGED,
    EXIT_OOM,
    PROGRESS_PREFIX,
    TrainingJob,
    write_job,
)

log = logging.getLogger(__name__)


class TrainingError(RuntimeError):
    """Training failed; ``retryable`` says whether running it again can help."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


def build_job(cfg: LLMOpsConfig, train_path: str, output_dir: Path, mlflow_run_id: str | None) -> TrainingJob:
    """Assemble the job file contents from the config."""
    t = cfg.training
    ds_path = t.deepspeed_config
    if not ds_path.is_file():
        raise FileNotFoundError(f"DeepSpeed config not found: {ds_path}")
    return TrainingJob(
        base_model=cfg.base_model_path,
        train_path=train_path,
        output_dir=str(output_dir),
        deepspeed_config=json.loads(ds_path.read_text()),
        max_steps=t.max_steps,
        micro_batch_size=t.micro_batch_size,
        gradient_accumulation_steps=t.gradient_accumulation_steps,
        learning_rate=t.learning_rate,
        warmup_steps=t.warmup_steps,
        weight_decay=t.weight_decay,
        max_seq_len=t.max_seq_len,
        seed=t.seed,
        checkpoint_every=t.checkpoint_every,
        log_every=t.log_every,
        tracking_uri=cfg.tracking_uri,
        mlflow_run_id=mlflow_run_id,
    )


def _free_port(preferred: int) -> int:
    for port in (preferred, 0):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(s.getsockname()[1])
    raise RuntimeError("no free port for the training rendezvous")


def launch_command(cfg: LLMOpsConfig, job_path: Path) -> list[str]:
    """The command line that starts every rank of the training job."""
    t = cfg.training
    port = _free_port(t.master_port)
    bindir = Path(sys.executable).parent
    if t.launcher == "deepspeed":
        cmd = [str(bindir / "deepspeed")] if (bindir / "deepspeed").exists() else ["deepspeed"]
        if t.hostfile is not None:
            cmd += ["--hostfile", str(t.hostfile)]
        else:
            cmd += ["--num_nodes", "1", "--num_gpus", str(t.world_size)]
        cmd += ["--master_port", str(port), "--module", "llmops.training.train", "--job", str(job_path)]
        return cmd
    return [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nnodes",
        "1",
        "--nproc_per_node",
        str(t.world_size),
        "--master_port",
        str(port),
        "-m",
        "llmops.training.train",
        "--job",
        str(job_path),
    ]


def training_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for the training processes: offline hub, CPU accelerator where there is no GPU."""
    env = dict(os.environ if base is None else base)
    env.setdefault("HF_HUB_OFFLINE", "1")
    env.setdefault("TRANSFORMERS_OFFLINE", "1")
    env.setdefault("PYTHONUNBUFFERED", "1")
    if "DS_ACCELERATOR" not in env and not _has_cuda():
        env["DS_ACCELERATOR"] = "cpu"
    # The launcher's children must find the interpreter of this environment first.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def _has_cuda() -> bool:
    return shutil.which("nvidia-smi") is not None


def _stop_group(proc: subprocess.Popen[str], grace_s: float = 20.0) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=grace_s)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def run_training(
    cfg: LLMOpsConfig,
    job: TrainingJob,
    on_progress: Callable[[dict[str, Any]], None] | None = None,
    on_line: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Run the training job to completion, or resume it, and return its summary.

    If the job's summary already exists the previous result is returned without training again (idempotent
    retries). Output lines of every rank are passed to ``on_line``; progress events to ``on_progress``.

    Raises:
        TrainingError: with ``retryable=False`` for divergence and unusable input, ``True`` otherwise.
    """
    if job.summary_path.is_file() and (job.final_model_dir / "config.json").is_file():
        log.info("training output already complete in %s; not training again", job.output_dir)
        return dict(json.loads(job.summary_path.read_text()))
    job_path = write_job(job, job.out / "job.json")
    cmd = launch_command(cfg, job_path)
    log.info("starting training: %s", " ".join(cmd))
    tail: deque[str] = deque(maxlen=40)
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=training_env(),
        cwd=str(job.out),
        start_new_session=True,  # own process group: stopped as a whole on kill or timeout
    )
    deadline = time.monotonic() + cfg.training.timeout_s
    try:
        assert proc.stdout is not None
        for raw in proc.stdout:
            line = raw.rstrip("\n")
            tail.append(line)
            idx = line.find(PROGRESS_PREFIX)
            if idx >= 0:
                try:
                    event = json.loads(line[idx + len(PROGRESS_PREFIX) :])
                except json.JSONDecodeError:
                    event = None
                if event is not None and on_progress is not None:
                    on_progress(event)
            elif on_line is not None:
                on_line(line)
            if time.monotonic() > deadline:
                raise TrainingError(f"training exceeded its timeout of {cfg.training.timeout_s}s", retryable=True)
        code = proc.wait()
    finally:
        _stop_group(proc)
    if code == 0 and job.summary_path.is_file():
        return dict(json.loads(job.summary_path.read_text()))
    last = "\n".join(tail)
    if code == EXIT_DIVERGED or "training diverged" in last:
        raise TrainingError(f"training diverged (NaN/inf loss); nothing will be registered\n{last}", retryable=False)
    if code == EXIT_OOM or "out of memory" in last.lower():
        raise TrainingError(
            f"training ran out of memory; lower micro_batch_size or max_seq_len\n{last}", retryable=False
        )
    if code == EXIT_BAD_INPUT or "unusable input" in last:
        raise TrainingError(f"training rejected its input\n{last}", retryable=False)
    if code in (-signal.SIGKILL, 137):
        raise TrainingError(f"training process was killed (exit {code}); a retry resumes\n{last}", retryable=True)
    if code == 0:
        raise TrainingError(f"training exited 0 but wrote no summary in {job.output_dir}\n{last}", retryable=True)
    raise TrainingError(f"training failed with exit code {code}\n{last}", retryable=True)


def verify_model_dir(model_dir: Path) -> dict[str, Any]:
    """Check a final model before it is registered: safetensors only, non-empty, finite, loadable.

    Returns:
        ``{"parameters": int, "files": [...]}``.

    Raises:
        ValueError: naming what is wrong.
    """
    import torch
    from safetensors.torch import load_file
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if not (model_dir / "config.json").is_file():
        raise ValueError(f"{model_dir} has no config.json")
    pickled = sorted(p.name for p in model_dir.iterdir() if p.suffix in {".bin", ".pt", ".pth", ".pkl"})
    if pickled:
        raise ValueError(f"{model_dir} holds pickle weight files {pickled}; only safetensors are accepted")
    shards = sorted(model_dir.glob("*.safetensors"))
    if not shards:
        raise ValueError(f"{model_dir} has no .safetensors weights")
    n_params = 0
    for shard in shards:
        for name, tensor in load_file(str(shard)).items():
            if tensor.numel() == 0:
                raise ValueError(f"{shard.name}: tensor {name} is empty (a ZeRO-3 placeholder?)")
            if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
                raise ValueError(f"{shard.name}: tensor {name} has NaN or inf values")
            n_params += tensor.numel()
    AutoTokenizer.from_pretrained(model_dir, trust_remote_code=False)
    model = AutoModelForCausalLM.from_pretrained(model_dir, trust_remote_code=False, use_safetensors=True)
    loaded = sum(p.numel() for p in model.parameters())
    if loaded < 1000:
        raise ValueError(f"{model_dir}: loaded model has only {loaded} parameters")
    return {"parameters": int(loaded), "files": [p.name for p in shards]}
