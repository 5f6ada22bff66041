from __future__ import annotations

import json
from pathlib import Path

import pytest

from llmops.training.job import COMPLETE_MARKER
from llmops.training.train import BatchPlan, latest_complete_checkpoint, lr_lambda, resolve_deepspeed_config


def test_batch_plan_is_a_pure_function_of_step() -> None:
    a = BatchPlan(n=50, seed=3, micro=4, world=2, grad_accum=2)
    b = BatchPlan(n=50, seed=3, micro=4, world=2, grad_accum=2)
    late = [b.indices(s, m, r) for s in (7, 8) for m in (0, 1) for r in (0, 1)]
    early = [a.indices(s, m, r) for s in range(9) for m in (0, 1) for r in (0, 1)][-8:]
    assert late == early  # a resumed run sees the batches the interrupted one would have seen
    # ranks never share samples within one step, and an epoch covers every example exactly once
    epoch = [i for s in range(50 // 16 + 1) for m in (0, 1) for r in (0, 1) for i in a.indices(s, m, r)][:50]
    assert sorted(epoch) == list(range(50))


def test_resolve_deepspeed_config_fills_auto() -> None:
    raw = {
        "train_micro_batch_size_per_gpu": "auto",
        "gradient_accumulation_steps": "auto",
        "bf16": {"enabled": "auto"},
        "zero_optimization": {"stage": 2},
        "train_batch_size": 99,
    }
    out = resolve_deepspeed_config(raw, 8, 2, use_bf16=False)
    assert out["train_micro_batch_size_per_gpu"] == 8 and out["gradient_accumulation_steps"] == 2
    assert out["bf16"]["enabled"] is False and "train_batch_size" not in out
    assert raw["bf16"]["enabled"] == "auto"  # the input is not modified


def test_repo_deepspeed_configs_are_valid_json() -> None:
    root = Path(__file__).resolve().parents[2] / "include" / "configs" / "deepspeed"
    files = sorted(root.glob("*.json"))
    assert files
    for f in files:
        cfg = json.loads(f.read_text())
        assert "zero_optimization" in cfg, f.name


def test_lr_schedule_warms_up_then_decays() -> None:
    fn = lr_lambda(warmup=10, total=100)
    assert fn(0) == pytest.approx(0.1)
    assert fn(9) == pytest.approx(1.0)
    assert fn(10) == pytest.approx(1.0)
    assert fn(100) == pytest.approx(0.1)
    assert fn(55) < fn(20)


def test_latest_complete_checkpoint_skips_half_written(tmp_path: Path) -> None:
    assert latest_complete_checkpoint(tmp_path / "none") is None
    for step, complete in ((10, True), (20, True), (30, False)):
        d = tmp_path / f"step-{step:08d}"
        d.mkdir()
        if complete:
            (d / COMPLETE_MARKER).write_text(json.dumps({"step": step}))
    (tmp_path / "step-00000040").mkdir()
    (tmp_path / "step-00000040" / COMPLETE_MARKER).write_text("{not json")
    assert latest_complete_checkpoint(tmp_path) == ("step-00000020", 20)
