"""Real DeepSpeed (ZeRO-2, CPU/gloo) runs launched as their own process group: resume and guard rails."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from llmops.config import LLMOpsConfig, TinyModelSpec, load_config
from llmops.training.base_model import build_tiny_base_model
from llmops.training.launch import TrainingError, build_job, run_training, verify_model_dir

pytestmark = pytest.mark.integration


class _Abort(Exception):
    pass


@pytest.fixture(scope="module")
def tiny_setup(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    root = tmp_path_factory.mktemp("ds")
    rng = random.Random(0)
    names = ["alice", "bob", "carol", "dave", "erin", "frank"]
    prompts = [f"How do I share folder {rng.choice(names)} {i % 7}?" for i in range(120)]
    responses = [f"Open the folder, choose Share and add {p.split()[-2]}." for p in prompts]
    data = root / "train.parquet"
    pq.write_table(pa.table({"prompt": prompts, "response": responses}), data)
    model = build_tiny_base_model(
        TinyModelSpec(vocab_size=400, n_positions=128, n_embd=64, n_layer=2, n_head=2),
        prompts + responses,
        root / "base",
    )
    return data, model


def _cfg(model: Path, **training: object) -> LLMOpsConfig:
    return load_config(
        overrides={
            "base_model": {"name_or_path": str(model)},
            "training": {"micro_batch_size": 8, "max_seq_len": 64, "warmup_steps": 2, "log_every": 5, **training},
        }
    )


def test_killed_run_resumes_from_last_complete_checkpoint(tiny_setup: tuple[Path, Path], tmp_path: Path) -> None:
    data, model = tiny_setup
    cfg = _cfg(model, max_steps=24, checkpoint_every=8)
    job = build_job(cfg, str(data), tmp_path / "run", None)

    def kill_after_first_checkpoint(event: dict) -> None:
        if event.get("event") == "checkpoint":
            raise _Abort  # the task dies; the launcher's cleanup kills the training process group

    with pytest.raises(_Abort):
        run_training(cfg, job, on_progress=kill_after_first_checkpoint)
    assert not job.summary_path.exists()
    # a half-written checkpoint newer than the complete ones must be ignored on resume
    (job.checkpoint_dir / "step-00000099").mkdir(parents=True)

    events: list[dict] = []
    summary = run_training(cfg, job, on_progress=events.append)
    start = next(e for e in events if e["event"] == "start")
    assert start["resumed_from_step"] in (8, 16), start
    assert summary["resumed_from_step"] == start["resumed_from_step"]
    steps = [e["step"] for e in events if e["event"] == "step"]
    assert steps and min(steps) > start["resumed_from_step"] and steps[-1] == 24
    assert verify_model_dir(job.final_model_dir)["parameters"] > 10_000
    # a retry after completion trains nothing and returns the same summary
    assert run_training(cfg, job, on_progress=events.append) == summary


def test_nan_loss_stops_without_retry(tiny_setup: tuple[Path, Path], tmp_path: Path) -> None:
    import torch
    from safetensors.torch import load_file, save_file

    data, model = tiny_setup
    broken = tmp_path / "nan-model"
    broken.mkdir()
    for f in model.iterdir():
        (broken / f.name).write_bytes(f.read_bytes())
    weights = load_file(str(broken / "model.safetensors"))
    key = next(k for k in weights if k.endswith("ln_f.weight"))
    weights[key] = torch.full_like(weights[key], float("nan"))
    save_file(weights, str(broken / "model.safetensors"), metadata={"format": "pt"})

    cfg = _cfg(broken, max_steps=5, checkpoint_every=100)
    job = build_job(cfg, str(data), tmp_path / "run", None)
    with pytest.raises(TrainingError, match="diverged") as err:
        run_training(cfg, job)
    assert err.value.retryable is False
    assert not job.final_model_dir.exists()
    with pytest.raises(ValueError, match="NaN"):
        verify_model_dir(broken)
