"""Start the training process group from a task, stream its progress, map its exit to an outcome.

The training runs as its own process group (the ``deepspeed`` launcher or ``torch.distributed.run``), so a long
run never lives inside the scheduler's worker. A killed task is retried by starting the launcher again: leftovers
of the killed attempt are stopped first, and the training process resumes from its last complete checkpoint.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from llmops.config import LLMOpsConfig
from llmops.faults import KILL_AT_ENV, KILL_ONCE_FILE_ENV, PAUSE_AT_ENV, PHASE_FILE_ENV
from llmops.ports import free_ports
from llmops.prompts import Prompt
from llmops.training.job import (
    EXIT_BAD_INPUT,
    EXIT_DIVERGED,
    EXIT_OOM,
    FAULT_INJECTION_ENV,
    PROGRESS_PREFIX,
    TrainingJob,
    check_deepspeed_config,
    write_job,
)

log = logging.getLogger(__name__)

# torch.distributed.run reports a rank that died of a signal in its error summary and itself exits 1.
_TORCHRUN_SIGNAL = re.compile(r"Signal (\d+) \(SIG\w+\) received by PID")
PICKLE_SUFFIXES = frozenset({".bin", ".pt", ".pth", ".pkl", ".pickle", ".ckpt"})
MIN_MODEL_PARAMETERS = 1000


class TrainingError(RuntimeError):
    """Training failed; ``retryable`` says whether running it again can help."""

    def __init__(self, message: str, *, retryable: bool, kind: str = "failed") -> None:
        super().__init__(message)
        self.retryable = retryable
        self.kind = kind  # diverged | oom | bad_input | killed | timeout | failed


def build_job(
    cfg: LLMOpsConfig, train_path: str, output_dir: Path, mlflow_run_id: str | None, prompt: Prompt | None = None
) -> TrainingJob:
    """Assemble the job file contents from the (recipe-resolved) config and the run's prompt version.

    Raises:
        UnsafeDeepSpeedConfig: the DeepSpeed config holds a key outside the allow-list (fails without retries).
    """
    t = cfg.training
    ds_path = t.deepspeed_config
    if not ds_path.is_file():
        raise FileNotFoundError(f"DeepSpeed config not found: {ds_path}")
    try:
        ds_config = json.loads(ds_path.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"DeepSpeed config {ds_path} is not valid JSON: {exc}") from exc
    check_deepspeed_config(ds_config, ds_path.name)
    return TrainingJob(
        base_model=cfg.base_model_path,
        train_path=train_path,
        output_dir=str(output_dir),
        deepspeed_config=ds_config,
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
        lora=t.lora.model_dump(exclude={"enabled"}) if t.lora.enabled else None,
        recipe=str(t.recipe) if t.recipe else None,
        tracking_uri=cfg.tracking_uri,
        mlflow_run_id=mlflow_run_id,
        prompt=prompt.to_file() if prompt is not None else None,
    )


def launch_command(cfg: LLMOpsConfig, job_path: Path) -> list[str]:
    """The command line that starts every rank of the training job."""
    t = cfg.training
    port = free_ports(1, preferred=t.master_port)[0]
    bindir = Path(sys.executable).parent
    if t.launcher == "deepspeed":
        cmd = [str(bindir / "deepspeed")] if (bindir / "deepspeed").exists() else ["deepspeed"]
        if t.hostfile is not None:
            cmd += ["--hostfile", str(t.hostfile)]
            if not t.ssh:
                cmd += ["--no_ssh", "--node_rank", str(t.node_rank)]
            if t.master_addr:
                cmd += ["--master_addr", t.master_addr]
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


# The training processes get an allow-listed environment, never the worker's whole one: Airflow's database URL and
# Fernet key, the Triton control key and other secrets of the worker are not theirs to read.
TRAINING_ENV_NAMES: frozenset[str] = frozenset(
    {
        # process basics
        "PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE", "TZ", "TERM", "TMPDIR", "TMP", "TEMP",
        "XDG_CACHE_HOME", "VIRTUAL_ENV", "CONDA_PREFIX", "LD_LIBRARY_PATH",
        # Python
        "PYTHONPATH", "PYTHONHASHSEED", "PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE", "PYTHONWARNINGS",
        "PYTHONFAULTHANDLER",
        # DeepSpeed's JIT op builds
        "CC", "CXX", "CPATH", "LIBRARY_PATH",
        # the launcher's rendezvous
        "MASTER_ADDR", "MASTER_PORT", "WORLD_SIZE", "RANK", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "NODE_RANK",
        "TOKENIZERS_PARALLELISM",
        # the trainer logs its metrics to MLflow itself
        "MLFLOW_TRACKING_URI", "MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD", "MLFLOW_TRACKING_TOKEN",
        "MLFLOW_TRACKING_INSECURE_TLS", "MLFLOW_TRACKING_SERVER_CERT_PATH", "MLFLOW_TRACKING_CLIENT_CERT_PATH",
        "MLFLOW_LOGGING_LEVEL",
        # reaching MLflow through a proxy or a private CA
        "SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE",
        "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy",
        # configuration, and the fault-injection hooks of the chaos harness and the tests
        "LLMOPS_HOME", "LLMOPS_CONFIG", KILL_AT_ENV, PHASE_FILE_ENV, PAUSE_AT_ENV, KILL_ONCE_FILE_ENV,
        FAULT_INJECTION_ENV,
    }
)  # fmt: skip
TRAINING_ENV_PREFIXES: tuple[str, ...] = (
    "LC_", "CUDA_", "NCCL_", "NVIDIA_", "TORCH_", "PYTORCH_", "OMP_", "MKL_", "KMP_", "OPENBLAS_", "GLOO_", "DS_",
    "PDSH_", "HF_", "TRANSFORMERS_", "MLFLOW_HTTP_REQUEST_", "LLMOPS__",
)  # fmt: skip
# A variable matched by a prefix above that still looks like a credential (HF_TOKEN...) stays out: the training
# runs offline. Credentials it needs are named one by one in TRAINING_ENV_NAMES.
_SECRET_LIKE = ("TOKEN", "SECRET", "PASSWORD", "PASSWD", "_KEY", "CREDENTIAL")


def allowed_training_var(name: str) -> bool:
    """Whether a variable of the worker's environment reaches the training processes."""
    if name in TRAINING_ENV_NAMES:
        return True
    if not name.startswith(TRAINING_ENV_PREFIXES):
        return False
    return not any(word in name.upper() for word in _SECRET_LIKE)


def training_env(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment for the training processes: the allow-listed part of ``base`` (default: this process's
    environment, see :data:`TRAINING_ENV_NAMES`), offline hub, CPU accelerator where there is no GPU."""
    source = os.environ if base is None else base
    env = {k: v for k, v in source.items() if allowed_training_var(k)}
    env.setdefault("HF_HUB_OFFLINE", "1")
    env.setdefault("TRANSFORMERS_OFFLINE", "1")
    env.setdefault("PYTHONUNBUFFERED", "1")
    if "DS_ACCELERATOR" not in env and not _has_cuda():
        env["DS_ACCELERATOR"] = "cpu"
    # DeepSpeed JIT-builds small ops on first use; one build folder per environment, so two environments on
    # one machine do not keep invalidating each other's builds.
    env.setdefault("TORCH_EXTENSIONS_DIR", str(Path(sys.prefix) / "torch_extensions"))
    # The launcher's children must find the interpreter of this environment first.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def _has_cuda() -> bool:
    return shutil.which("nvidia-smi") is not None


def _stop_group(proc: subprocess.Popen[str], grace_s: float = 20.0) -> None:
    if proc.poll() is not None:
        with contextlib.suppress(ProcessLookupError):  # ranks may outlive a launcher that died
            os.killpg(proc.pid, signal.SIGKILL)
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=grace_s)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)


def leftover_process_groups(job_path: Path, proc_root: Path = Path("/proc")) -> set[int]:
    """Process groups of processes still running this job file: an attempt whose task was killed hard.

    A task killed with SIGKILL cannot stop the training group it started (the group is its own session). The
    retry finds it by the job path on the command line of the launcher and of every rank (Linux ``/proc``).
    """
    groups: set[int] = set()
    if not proc_root.is_dir():
        return groups
    needle = str(job_path).encode()
    own = {os.getpid(), os.getpgrp()}
    for entry in proc_root.iterdir():
        if not entry.name.isdigit() or int(entry.name) in own:
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            if needle not in argv or not any(b"llmops.training.train" in a for a in argv):
                continue
            pgid = os.getpgid(int(entry.name))
        except (OSError, ProcessLookupError):
            continue
        if pgid not in own:
            groups.add(pgid)
    return groups


def stop_leftovers(job_path: Path, grace_s: float = 20.0) -> list[int]:
    """Stop the process groups of an earlier attempt of this job (SIGTERM, then SIGKILL); returns their ids."""
    groups = sorted(leftover_process_groups(job_path))
    for pgid in groups:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while groups and time.monotonic() < deadline and leftover_process_groups(job_path):
        time.sleep(0.2)
    for pgid in groups:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGKILL)
    return groups


def exit_signal(code: int) -> int | None:
    """The signal that ended a rank, from the launcher's exit status (-N, 128+N, or 256-N via ``sys.exit(-N)``)."""
    if code < 0:
        return -code
    if 128 < code < 160:
        return code - 128
    if 224 < code < 256:  # the deepspeed launcher exits with sys.exit(-N) when a rank died of signal N
        return 256 - code
    return None


def parse_output_line(line: str) -> tuple[list[dict[str, Any]], str]:
    """The progress events in one output line of the ranks, and the rest of its text.

    A line normally holds one event or none, but ranks write to the same pipe: text of another rank (a progress
    bar without newline, a library's message written in pieces) can precede an event, and an older emitter could
    leave two events on one line. Text that is not an event is returned, never dropped.
    """
    decoder = json.JSONDecoder()
    events: list[dict[str, Any]] = []
    rest: list[str] = []
    pos = 0
    while (idx := line.find(PROGRESS_PREFIX, pos)) >= 0:
        rest.append(line[pos:idx])
        start = idx + len(PROGRESS_PREFIX)
        try:
            event, end = decoder.raw_decode(line, start)
        except json.JSONDecodeError:
            rest.append(line[idx:start])
            pos = start
            continue
        if isinstance(event, dict):
            events.append(event)
        else:
            rest.append(line[idx:end])
        pos = end
    if not events:
        return events, line  # an ordinary line, kept as it is (indentation of tracebacks included)
    rest.append(line[pos:])
    return events, "".join(rest).strip()


def _pump(stream: Any, lines: queue.Queue[str | None]) -> None:
    try:
        for raw in stream:
            lines.put(raw)
    finally:
        lines.put(None)


def run_training(
    cfg: LLMOpsConfig,
    job: TrainingJob,
    on_progress: Callable[[dict[str, Any]], None] | None = None,
    on_line: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Run the training job to completion, or resume it, and return its summary.

    If the job's summary already exists (for the same job fingerprint) the previous result is returned without
    training again (idempotent retries). Output lines of every rank are passed to ``on_line``; progress events to
    ``on_progress``.

    Raises:
        TrainingError: with ``retryable=False`` for divergence, out of memory and unusable input, ``True``
            otherwise (killed, timed out, crashed); ``kind`` names which.
    """
    if job.summary_path.is_file() and (job.final_model_dir / "config.json").is_file():
        done = json.loads(job.summary_path.read_text())
        if done.get("fingerprint") == job.fingerprint():
            log.info("training output already complete in %s; not training again", job.output_dir)
            return dict(done)
        log.warning("output in %s belongs to a different job configuration; training again", job.output_dir)
        job.summary_path.unlink()
    job_path = job.out / "job.json"
    stopped = stop_leftovers(job_path)
    if stopped:
        log.warning("stopped process groups %s left running by an earlier attempt of this job", stopped)
    write_job(job, job_path)
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
    lines: queue.Queue[str | None] = queue.Queue()
    reader = threading.Thread(target=_pump, args=(proc.stdout, lines), name="training-output", daemon=True)
    reader.start()
    deadline = time.monotonic() + cfg.training.timeout_s
    try:
        while True:
            try:
                raw = lines.get(timeout=1.0)
            except queue.Empty:
                raw = ""
            if raw is None:
                break
            if time.monotonic() > deadline:
                raise TrainingError(
                    f"training exceeded its timeout of {cfg.training.timeout_s}s; a retry resumes",
                    retryable=True,
                    kind="timeout",
                )
            if not raw:
                continue
            line = raw.rstrip("\n")
            tail.append(line)
            events, text = parse_output_line(line)
            if on_progress is not None:
                for event in events:
                    on_progress(event)
            if text and on_line is not None:
                on_line(text)
        code = proc.wait()
    finally:
        _stop_group(proc)
    if code == 0 and job.summary_path.is_file():
        return dict(json.loads(job.summary_path.read_text()))
    raise classify_exit(code, "\n".join(tail), job.output_dir)


def classify_exit(code: int, last: str, where: str) -> TrainingError:
    """Map the launcher's exit status (and the last lines of output) to a task outcome."""
    if code == EXIT_DIVERGED or "training diverged" in last:
        return TrainingError(
            f"training diverged (NaN/inf loss or gradient norm); nothing will be registered\n{last}",
            retryable=False,
            kind="diverged",
        )
    if code == EXIT_OOM or "ERROR out of memory" in last:
        return TrainingError(
            "training ran out of memory; lower micro_batch_size or max_seq_len, or use a ZeRO-3/offload "
            f"DeepSpeed config\n{last}",
            retryable=False,
            kind="oom",
        )
    if code == EXIT_BAD_INPUT or "ERROR unusable input" in last:
        return TrainingError(f"training rejected its input\n{last}", retryable=False, kind="bad_input")
    sig = exit_signal(code)
    match = _TORCHRUN_SIGNAL.search(last)
    if sig is None and match is not None:
        sig = int(match.group(1))
    if sig is not None:
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = f"signal {sig}"
        return TrainingError(
            f"training process was killed by {name} (exit {code}); a retry resumes from the last complete "
            f"checkpoint\n{last}",
            retryable=True,
            kind="killed",
        )
    if code == 0:
        return TrainingError(f"training exited 0 but wrote no summary in {where}\n{last}", retryable=True)
    return TrainingError(f"training failed with exit code {code}\n{last}", retryable=True)


def _check_tensors(path: Path, expected: dict[str, tuple[int, ...]] | None) -> tuple[int, dict[str, int]]:
    """Numel of every tensor in a safetensors file, after checking it is non-empty, finite and of the right shape."""
    import torch
    from safetensors import safe_open

    total = 0
    sizes: dict[str, int] = {}
    with safe_open(str(path), framework="pt") as f:
        for name in f.keys():  # noqa: SIM118 - safe_open is not a mapping
            tensor = f.get_tensor(name)
            if tensor.numel() == 0:
                raise ValueError(f"{path.name}: tensor {name} is empty (a ZeRO-3 placeholder?)")
            if expected is not None:
                if name not in expected:
                    raise ValueError(f"{path.name}: tensor {name} is not part of the model's architecture")
                if tuple(tensor.shape) != expected[name]:
                    raise ValueError(
                        f"{path.name}: tensor {name} has shape {tuple(tensor.shape)}, the model needs "
                        f"{expected[name]} (placeholder-sized: a ZeRO-3 shard saved without gathering?)"
                    )
            if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
                raise ValueError(f"{path.name}: tensor {name} has NaN or inf values")
            sizes[name] = tensor.numel()
            total += tensor.numel()
    return total, sizes


def _safetensors_shards(folder: Path, config_name: str, what: str) -> list[Path]:
    """The ``*.safetensors`` files of a model or adapter folder that has ``config_name`` and no pickle weights.

    Raises:
        ValueError: naming what is missing or not accepted.
    """
    if not (folder / config_name).is_file():
        raise ValueError(f"{folder} has no {config_name}")
    pickled = sorted(p.name for p in folder.iterdir() if p.suffix in PICKLE_SUFFIXES)
    if pickled:
        raise ValueError(f"{folder} holds pickle weight files {pickled}; only safetensors are accepted")
    shards = sorted(folder.glob("*.safetensors"))
    if not shards:
        raise ValueError(f"{folder} has no .safetensors {what}")
    return shards


def verify_model_dir(model_dir: Path) -> dict[str, Any]:
    """Check a final model before it is registered: safetensors only, complete, non-empty, finite, loadable.

    Every tensor must be present with the shape the model's config implies (a ZeRO-3 model saved without
    gathering has empty or placeholder-sized tensors), finite, and the directory must load with
    ``from_pretrained`` (``trust_remote_code`` off) without missing or mismatched weights.

    Returns:
        ``{"parameters": int, "files": [...], "bytes": int}``.

    Raises:
        ValueError: naming what is wrong.
    """
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    shards = _safetensors_shards(model_dir, "config.json", "weights")
    config = AutoConfig.from_pretrained(model_dir, trust_remote_code=False)
    with torch.device("meta"):  # shapes only, no memory
        reference = AutoModelForCausalLM.from_config(config, trust_remote_code=False)
    expected = {k: tuple(v.shape) for k, v in reference.state_dict().items()}
    needed = sum(p.numel() for p in reference.parameters())  # tied weights counted once
    stored = 0
    for shard in shards:
        n, _ = _check_tensors(shard, expected)
        stored += n
    if stored < needed:
        raise ValueError(
            f"{model_dir}: the weights hold {stored} values, the architecture needs {needed}: tensors are missing"
        )
    if needed < MIN_MODEL_PARAMETERS:
        raise ValueError(f"{model_dir}: a model of {needed} parameters is a placeholder, not a model")
    AutoTokenizer.from_pretrained(model_dir, trust_remote_code=False)
    loaded_model: Any
    info: dict[str, Any]
    loaded_model, info = AutoModelForCausalLM.from_pretrained(  # type: ignore[misc]
        model_dir, trust_remote_code=False, use_safetensors=True, output_loading_info=True
    )
    problems = {k: sorted(v) for k, v in info.items() if k in {"missing_keys", "mismatched_keys"} and v}
    if problems:
        raise ValueError(f"{model_dir} does not load cleanly: {problems}")
    loaded = sum(p.numel() for p in loaded_model.parameters())
    return {
        "parameters": int(loaded),
        "files": [p.name for p in shards],
        "bytes": int(sum(p.stat().st_size for p in shards)),
    }


def verify_adapter_dir(adapter_dir: Path) -> dict[str, Any]:
    """Check a LoRA adapter artifact: ``adapter_config.json`` plus non-empty, finite safetensors weights.

    Returns:
        ``{"parameters": int, "files": [...]}``.

    Raises:
        ValueError: naming what is wrong.
    """
    shards = _safetensors_shards(adapter_dir, "adapter_config.json", "adapter weights")
    total = 0
    for shard in shards:
        n, sizes = _check_tensors(shard, None)
        if not any("lora_" in name for name in sizes):
            raise ValueError(f"{shard.name} holds no LoRA weights")
        total += n
    return {"parameters": int(total), "files": [p.name for p in shards]}
