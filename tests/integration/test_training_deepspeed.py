"""Real DeepSpeed runs (CPU/gloo, world size 1) launched as their own process group: resume, ZeRO-3, LoRA, guards."""

from __future__ import annotations

import json
import os
import random
import signal
from pathlib import Path
from typing import Any

import pytest

from llmops.config import LLMOpsConfig, TinyModelSpec, load_config
from llmops.training.base_model import build_tiny_base_model
from llmops.training.job import FAULT_INJECTION_ENV
from llmops.training.launch import TrainingError, build_job, run_training, verify_adapter_dir, verify_model_dir
from llmops.training.train import latest_complete_checkpoint

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
            "training": {"micro_batch_size": 8, "max_seq_len": 64, "warmup_steps": 2, "log_every": 1, **training},
        }
    )


def _killer(after_step: int, events: list[dict[str, Any]]) -> Any:
    """A progress callback that SIGKILLs the training process (rank 0) once it reports ``after_step``."""
    pid: list[int] = []

    def on_progress(event: dict[str, Any]) -> None:
        events.append(event)
        if event["event"] == "start":
            pid.append(int(event["pid"]))
        elif event["event"] == "step" and event["step"] >= after_step and pid:
            os.kill(pid.pop(), signal.SIGKILL)

    return on_progress


def test_killed_training_process_resumes_from_last_complete_checkpoint(
    tiny_setup: tuple[Path, Path], tmp_path: Path
) -> None:
    data, model = tiny_setup
    cfg = _cfg(model, max_steps=24, checkpoint_every=8)  # the deepspeed launcher, ZeRO-2 (default recipe)
    job = build_job(cfg, str(data), tmp_path / "run", None)

    first: list[dict[str, Any]] = []
    with pytest.raises(TrainingError) as err:
        run_training(cfg, job, on_progress=_killer(10, first))
    assert err.value.retryable and err.value.kind == "killed", err.value
    assert "SIGKILL" in str(err.value)
    assert not job.summary_path.exists() and not job.final_model_dir.exists()
    complete = latest_complete_checkpoint(job.checkpoint_dir, job.fingerprint())
    assert complete is not None and complete[1] in (8, 16), complete
    # a half-written checkpoint newer than the complete ones (no completion marker) must be ignored on resume
    partial = job.checkpoint_dir / "step-00000020"
    partial.mkdir(parents=True, exist_ok=True)
    (partial / "mp_rank_00_model_states.pt").write_bytes(b"truncated")

    events: list[dict[str, Any]] = []
    summary = run_training(cfg, job, on_progress=events.append)
    start = next(e for e in events if e["event"] == "start")
    assert start["resumed_from_step"] == complete[1] == summary["resumed_from_step"]
    steps = [e["step"] for e in events if e["event"] == "step"]
    assert steps[0] == complete[1] + 1 and steps[-1] == 24
    first_step = next(e for e in events if e["event"] == "step")
    assert {"loss", "lr", "tokens_per_s", "eta_s", "grad_norm"} <= set(first_step)
    # the resumed process loaded the tokenized input the killed one wrote (nothing tokenized again)
    assert next(e for e in events if e["event"] == "input")["cached"] is True
    assert verify_model_dir(job.final_model_dir)["parameters"] > 10_000
    # a retry after completion trains nothing and returns the same summary
    assert run_training(cfg, job, on_progress=events.append) == summary

    # the resumed run is the run that was never interrupted: same batches, dropout masks, optimizer and LR state
    import torch
    from safetensors.torch import load_file

    ref_cfg = _cfg(model, max_steps=24, checkpoint_every=8, launcher="torchrun")
    ref = build_job(ref_cfg, str(data), tmp_path / "uninterrupted", None)
    assert run_training(ref_cfg, ref)["final_train_loss"] == summary["final_train_loss"]
    resumed_w = load_file(str(job.final_model_dir / "model.safetensors"))
    ref_w = load_file(str(ref.final_model_dir / "model.safetensors"))
    assert all(torch.equal(resumed_w[k], ref_w[k]) for k in ref_w)


def test_zero3_lora_finetune_is_killed_resumed_tracked_and_merged(tiny_setup: tuple[Path, Path]) -> None:
    import torch
    from mlflow.tracking import MlflowClient
    from safetensors.torch import load_file

    from llmops.evaluation.gate import gate_from_metrics
    from llmops.evaluation.metrics import evaluate_causal_lm
    from llmops.registry import tracking
    from llmops.training import finetune

    data, model = tiny_setup
    cfg = _cfg(
        model,
        recipe="tiny-gpt2/sft-lora",
        deepspeed_config="zero3",
        launcher="torchrun",
        max_steps=16,
        checkpoint_every=4,
        learning_rate=0.01,
    )
    key = "lora_zero3"
    first: list[dict[str, Any]] = []
    with pytest.raises(TrainingError) as err:
        finetune.run_finetune(cfg, key, str(data), {"snapshot_hash": "abc"}, on_progress=_killer(6, first))
    assert err.value.retryable and err.value.kind == "killed"
    client = MlflowClient(cfg.tracking_uri)
    run_id = tracking.find_run(cfg, key)
    assert run_id is not None
    assert client.get_run(run_id).data.tags["llmops.training.status"] == "killed"

    events: list[dict[str, Any]] = []
    out = finetune.run_finetune(cfg, key, str(data), {"snapshot_hash": "abc"}, on_progress=events.append)
    start = next(e for e in events if e["event"] == "start")
    assert start["resumed_from_step"] in (4, 8, 12) and start["zero_stage"] == 3 and start["lora"] is True
    assert 0 < start["trainable_parameters"] < 100_000

    # adapter artifact (safetensors) and the merged, consolidated model: full, finite, different from the base
    adapter = verify_adapter_dir(Path(out["adapter_dir"]))
    assert adapter["parameters"] > 0
    final = Path(out["model_dir"])
    assert verify_model_dir(final)["parameters"] > 10_000
    merged, base = load_file(str(final / "model.safetensors")), load_file(str(model / "model.safetensors"))
    assert set(merged) == set(base) and not any("lora" in k for k in merged)
    changed = [k for k in base if not torch.equal(merged[k], base[k])]
    assert any("c_attn" in k for k in changed)
    assert all(torch.equal(merged[k], base[k]) for k in base if "wte" in k or "ln_" in k)  # frozen stays frozen

    # MLflow: resolved recipe, DeepSpeed config, environment, per-step metrics, dataset input, final model manifest
    assert out["mlflow_run_id"] == run_id
    run = client.get_run(run_id)
    assert run.data.params["recipe_model"] == "tiny-gpt2" and run.data.params["lora.r"] == "16"
    assert run.data.params["ds.zero_optimization.stage"] == "3" and run.data.params["max_steps"] == "16"
    assert run.data.tags["llmops.training.status"] == "completed" and run.data.tags["env.deepspeed"]
    history = client.get_metric_history(run.info.run_id, "train/train_loss")
    assert sorted({m.step for m in history}) == list(range(1, 17))
    assert {"train/learning_rate", "train/tokens_per_s", "train/grad_norm"} <= set(run.data.metrics)
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "config")}
    assert {"config/recipe_resolved.json", "config/deepspeed_resolved.json", "config/deepspeed.json"} <= artifacts
    resolved = json.loads(
        Path(client.download_artifacts(run.info.run_id, "config/deepspeed_resolved.json")).read_text()
    )
    assert resolved["zero_optimization"]["overlap_comm"] is False and resolved["bf16"]["enabled"] is False
    assert {a.path for a in client.list_artifacts(run.info.run_id, "adapter")} >= {"adapter/adapter_model.safetensors"}
    assert client.list_artifacts(run.info.run_id, "final_model")
    assert run.inputs.dataset_inputs

    # the fine-tuned model beats the base on held-out loss, so the gate passes against the base
    prompts = [f"How do I share folder alice {i}?" for i in range(7)]
    refs = [f"Open the folder, choose Share and add alice {i}." for i in range(7)]
    kw = {"max_seq_len": 64, "batch_size": 8, "generation_rows": 2, "max_new_tokens": 4}
    cand = evaluate_causal_lm(final, prompts, refs, **kw)  # type: ignore[arg-type]
    base_eval = evaluate_causal_lm(model, prompts, refs, **kw)  # type: ignore[arg-type]
    metrics = {**cand.metrics(), **base_eval.metrics("base_")}
    assert gate_from_metrics(metrics, cfg.gate).passed, metrics


def test_zero3_full_model_is_gathered_into_complete_safetensors(tiny_setup: tuple[Path, Path], tmp_path: Path) -> None:
    import torch
    from safetensors.torch import load_file

    data, model = tiny_setup
    cfg = _cfg(model, deepspeed_config="zero3", launcher="torchrun", max_steps=4, checkpoint_every=100)
    job = build_job(cfg, str(data), tmp_path / "run", None)
    summary = run_training(cfg, job)
    assert summary["zero_stage"] == 3
    check = verify_model_dir(job.final_model_dir)
    base = load_file(str(model / "model.safetensors"))
    final = load_file(str(job.final_model_dir / "model.safetensors"))
    assert set(final) == set(base) and all(final[k].shape == base[k].shape for k in base)
    assert all(not torch.equal(final[k], base[k]) for k in base if k.endswith("c_attn.weight"))
    assert check["parameters"] == sum(t.numel() for t in base.values())


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
    assert err.value.retryable is False and err.value.kind == "diverged"
    assert "loss is not finite at step 1" in str(err.value)
    assert not job.final_model_dir.exists() and not job.summary_path.exists()
    with pytest.raises(ValueError, match="NaN"):
        verify_model_dir(broken)


def test_out_of_memory_is_reported_as_such(
    tiny_setup: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data, model = tiny_setup
    monkeypatch.setenv(FAULT_INJECTION_ENV, "oom@2")  # test-only hook: raises torch.OutOfMemoryError at step 2
    cfg = _cfg(model, max_steps=5, checkpoint_every=100, launcher="torchrun")
    job = build_job(cfg, str(data), tmp_path / "run", None)
    with pytest.raises(TrainingError, match="ran out of memory") as err:
        run_training(cfg, job)
    assert err.value.retryable is False and err.value.kind == "oom"
    assert "OutOfMemoryError" in str(err.value)
    assert not job.final_model_dir.exists()


@pytest.mark.slow
def test_cpu_offload_config_trains_and_resumes(tiny_setup: tuple[Path, Path], tmp_path: Path) -> None:
    """ZeRO-3 with optimizer and parameter offload (DeepSpeedCPUAdam; its op is JIT-built on first use)."""
    data, model = tiny_setup
    cfg = _cfg(model, deepspeed_config="zero3_offload", max_steps=6, checkpoint_every=3)
    job = build_job(cfg, str(data), tmp_path / "run", None)
    first: list[dict[str, Any]] = []
    with pytest.raises(TrainingError):
        run_training(cfg, job, on_progress=_killer(4, first))
    events: list[dict[str, Any]] = []
    summary = run_training(cfg, job, on_progress=events.append)
    assert summary["resumed_from_step"] == 3 and summary["zero_stage"] == 3
    assert verify_model_dir(job.final_model_dir)["parameters"] > 10_000
