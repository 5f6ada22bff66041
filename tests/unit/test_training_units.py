from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from llmops.config import (
    DEEPSPEED_CONFIG_DIR,
    RECIPES_DIR,
    ConfigError,
    TinyModelSpec,
    load_config,
    read_recipe,
)
from llmops.config.runtime import params_to_overrides
from llmops.training.job import COMPLETE_MARKER, EXIT_BAD_INPUT, EXIT_DIVERGED, EXIT_OOM, TrainingJob
from llmops.training.train import (
    BadInput,
    BatchPlan,
    latest_complete_checkpoint,
    lr_lambda,
    resolve_deepspeed_config,
    step_seed,
)

RECIPES = sorted(str(p.relative_to(RECIPES_DIR).with_suffix("")) for p in RECIPES_DIR.rglob("*.yaml"))


def test_batch_plan_is_a_pure_function_of_step() -> None:
    a = BatchPlan(n=50, seed=3, micro=4, world=2, grad_accum=2)
    b = BatchPlan(n=50, seed=3, micro=4, world=2, grad_accum=2)
    late = [b.indices(s, m, r) for s in (7, 8) for m in (0, 1) for r in (0, 1)]
    early = [a.indices(s, m, r) for s in range(9) for m in (0, 1) for r in (0, 1)][-8:]
    assert late == early  # a resumed run sees the batches the interrupted one would have seen
    # ranks never share samples within one step, and an epoch covers every example exactly once
    epoch = [i for s in range(50 // 16 + 1) for m in (0, 1) for r in (0, 1) for i in a.indices(s, m, r)][:50]
    assert sorted(epoch) == list(range(50))
    assert step_seed(42, 7, 0) == step_seed(42, 7, 0) != step_seed(42, 7, 1) != step_seed(42, 8, 0)


def test_resolve_deepspeed_config_fills_auto_per_device() -> None:
    raw = json.loads((DEEPSPEED_CONFIG_DIR / "zero3_offload.json").read_text())
    raw["train_batch_size"] = 99
    cpu = resolve_deepspeed_config(raw, 8, 2, use_bf16=False, use_cuda=False)
    assert cpu["train_micro_batch_size_per_gpu"] == 8 and cpu["gradient_accumulation_steps"] == 2
    assert cpu["bf16"]["enabled"] is False and "train_batch_size" not in cpu
    zero = cpu["zero_optimization"]
    assert zero["overlap_comm"] is False and zero["offload_optimizer"]["pin_memory"] is False
    gpu = resolve_deepspeed_config(raw, 8, 2, use_bf16=True, use_cuda=True)
    assert gpu["bf16"]["enabled"] is True and gpu["zero_optimization"]["overlap_comm"] is True
    assert gpu["zero_optimization"]["offload_param"]["pin_memory"] is True
    zero2 = json.loads((DEEPSPEED_CONFIG_DIR / "zero2.json").read_text())
    assert resolve_deepspeed_config(zero2, 8, 1, False)["zero_optimization"]["contiguous_gradients"] is False
    assert resolve_deepspeed_config(zero2, 8, 1, True, True)["zero_optimization"]["contiguous_gradients"] is True
    assert raw["bf16"]["enabled"] == "auto"  # the input is not modified
    with pytest.raises(BadInput, match=r"zero_optimization\.reduce_bucket_size"):
        resolve_deepspeed_config({"zero_optimization": {"stage": 2, "reduce_bucket_size": "auto"}}, 1, 1, False)


def test_repo_deepspeed_configs_cover_every_zero_stage_and_offload() -> None:
    stages: dict[str, int] = {}
    for f in sorted(DEEPSPEED_CONFIG_DIR.glob("*.json")):
        cfg = json.loads(f.read_text())
        resolve_deepspeed_config(cfg, 4, 1, use_bf16=False)  # every "auto" is one this project fills
        stages[f.stem] = cfg["zero_optimization"]["stage"]
    assert {stages[f"zero{s}"] for s in range(4)} == {0, 1, 2, 3}
    offload = json.loads((DEEPSPEED_CONFIG_DIR / "zero3_offload.json").read_text())["zero_optimization"]
    assert offload["offload_optimizer"]["device"] == offload["offload_param"]["device"] == "cpu"
    assert json.loads((DEEPSPEED_CONFIG_DIR / "zero3.json").read_text())["zero_optimization"][
        "stage3_gather_16bit_weights_on_model_save"
    ]


@pytest.mark.parametrize("name", RECIPES)
def test_every_recipe_loads_and_names_a_deepspeed_config(name: str) -> None:
    recipe = read_recipe(RECIPES_DIR / f"{name}.yaml")
    assert recipe["model"] and recipe["stage"] and "deepspeed_config" in recipe["training"]
    cfg = load_config(overrides={"training": {"recipe": name}})
    assert cfg.training.recipe == (RECIPES_DIR / f"{name}.yaml").resolve()
    assert cfg.training.deepspeed_config.is_file() and cfg.training.deepspeed_config.parent == DEEPSPEED_CONFIG_DIR
    for key, value in recipe["training"].items():
        if key not in {"deepspeed_config", "lora"}:
            assert getattr(cfg.training, key) == value, key
    assert cfg.training.lora.enabled == bool(recipe["training"].get("lora", {}).get("enabled"))


def test_recipe_precedence_and_params() -> None:
    cfg = load_config(overrides=params_to_overrides({"recipe": "tiny-gpt2/sft-lora", "max_steps": 7, "lora": None}))
    assert cfg.training.max_steps == 7 and cfg.training.learning_rate == 0.003 and cfg.training.lora.enabled
    off = load_config(overrides=params_to_overrides({"recipe": "tiny-gpt2/sft-lora", "lora": "off"}))
    assert not off.training.lora.enabled and off.training.lora.r == 16  # the recipe's settings, switched off
    on = load_config(overrides=params_to_overrides({"lora": "on", "deepspeed_config": "zero3"}))
    assert on.training.lora.enabled and on.training.deepspeed_config == DEEPSPEED_CONFIG_DIR / "zero3.json"
    env = load_config(environ={"LLMOPS__TRAINING__LEARNING_RATE": "0.5"})
    assert env.training.learning_rate == 0.5 and env.training.max_steps == 300  # the rest from the default recipe
    # the same recipe runs anywhere: world size and host file come from the deployment config
    wide = load_config(overrides={"training": {"recipe": "gpt2-small/sft", "world_size": 8}})
    assert wide.training.world_size == 8 and wide.training.max_seq_len == 1024


def test_recipe_rejects_deployment_keys_and_unknown_recipes(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("model: x\nstage: sft\ntraining:\n  world_size: 4\n  max_steps: 3\n")
    with pytest.raises(ConfigError, match=r"training\.world_size"):
        load_config(overrides={"training": {"recipe": str(bad)}})
    with pytest.raises(ConfigError, match=r"tiny-gpt2/sft"):
        load_config(overrides={"training": {"recipe": "no-such/recipe"}})


def test_lr_schedule_warms_up_then_decays() -> None:
    fn = lr_lambda(warmup=10, total=100)
    assert fn(0) == pytest.approx(0.1)
    assert fn(9) == pytest.approx(1.0)
    assert fn(10) == pytest.approx(1.0)
    assert fn(100) == pytest.approx(0.1)
    assert fn(55) < fn(20)


def _job(**kw: object) -> TrainingJob:
    base = {
        "base_model": "m",
        "train_path": "t",
        "output_dir": "/o",
        "deepspeed_config": {"zero_optimization": {"stage": 2}},
        "max_steps": 10,
        "micro_batch_size": 2,
        "gradient_accumulation_steps": 1,
        "learning_rate": 1e-3,
        "warmup_steps": 1,
        "weight_decay": 0.0,
        "max_seq_len": 32,
        "seed": 1,
        "checkpoint_every": 5,
        "log_every": 1,
    }
    return TrainingJob.model_validate({**base, **kw})


def test_job_fingerprint_tracks_what_shapes_training() -> None:
    job = _job()
    assert job.fingerprint() == _job(log_every=7, checkpoint_every=3, output_dir="/elsewhere").fingerprint()
    assert job.fingerprint() != _job(learning_rate=2e-3).fingerprint()
    assert job.fingerprint() != _job(lora={"r": 8, "alpha": 16, "dropout": 0.0, "target_modules": None}).fingerprint()


def test_latest_complete_checkpoint_skips_half_written_and_foreign(tmp_path: Path) -> None:
    assert latest_complete_checkpoint(tmp_path / "none") is None
    for step, fingerprint in ((10, "a"), (20, "a"), (30, None), (40, "b")):
        d = tmp_path / f"step-{step:08d}"
        d.mkdir()
        if fingerprint:
            (d / COMPLETE_MARKER).write_text(json.dumps({"step": step, "fingerprint": fingerprint}))
    (tmp_path / "step-00000050").mkdir()
    (tmp_path / "step-00000050" / COMPLETE_MARKER).write_text("{not json")
    assert latest_complete_checkpoint(tmp_path, "a") == ("step-00000020", 20)
    assert latest_complete_checkpoint(tmp_path, "b") == ("step-00000040", 40)
    assert latest_complete_checkpoint(tmp_path, "c") is None


@pytest.mark.parametrize(
    ("code", "tail", "kind", "retryable"),
    [
        (EXIT_DIVERGED, "", "diverged", False),
        (EXIT_OOM, "", "oom", False),
        (1, "ERROR out of memory on local rank 0", "oom", False),
        (EXIT_BAD_INPUT, "", "bad_input", False),
        (247, "", "killed", True),  # deepspeed launcher: sys.exit(-9) after a rank died of SIGKILL
        (-9, "", "killed", True),
        (137, "", "killed", True),
        (1, "  traceback : Signal 9 (SIGKILL) received by PID 4242", "killed", True),  # torchrun
        (1, "Traceback ... KeyError", "failed", True),
    ],
)
def test_exit_status_maps_to_a_task_outcome(code: int, tail: str, kind: str, retryable: bool) -> None:
    from llmops.training.launch import classify_exit

    err = classify_exit(code, tail, "/run")
    assert err.kind == kind and err.retryable is retryable


def test_leftover_training_group_of_a_killed_task_is_stopped(tmp_path: Path) -> None:
    from llmops.training.launch import leftover_process_groups, stop_leftovers

    job_path = tmp_path / "job.json"
    # stands in for a training launcher orphaned by a task killed with SIGKILL: its own session, our job path
    orphan = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)", "-m", "llmops.training.train", "--job", str(job_path)],
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 10
        while orphan.pid not in leftover_process_groups(job_path) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert leftover_process_groups(tmp_path / "other.json") == set()
        assert stop_leftovers(job_path, grace_s=5) == [orphan.pid]
        assert orphan.wait(timeout=10) == -signal.SIGTERM
    finally:
        if orphan.poll() is None:
            os.killpg(orphan.pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from llmops.training.base_model import build_tiny_base_model

    corpus = [f"open settings and share folder {i} with {n}" for i in range(40) for n in ("ann", "bo", "cy")]
    spec = TinyModelSpec(vocab_size=300, n_positions=64, n_embd=32, n_layer=1, n_head=2)
    return build_tiny_base_model(spec, corpus, tmp_path_factory.mktemp("tiny") / "base")


def _copy_model(src: Path, dst: Path) -> Path:
    dst.mkdir()
    for f in src.iterdir():
        (dst / f.name).write_bytes(f.read_bytes())
    return dst


def test_verify_model_dir_accepts_a_complete_model(tiny_model: Path) -> None:
    from llmops.training.launch import verify_model_dir

    check = verify_model_dir(tiny_model)
    assert check["parameters"] > 10_000 and check["files"] == ["model.safetensors"]


@pytest.mark.parametrize("defect", ["empty_tensors", "no_tensors", "placeholder_shape", "nan", "pickle", "extra"])
def test_verify_model_dir_rejects_broken_models(tiny_model: Path, tmp_path: Path, defect: str) -> None:
    import torch
    from safetensors.torch import load_file, save_file

    from llmops.training.launch import verify_model_dir

    bad = _copy_model(tiny_model, tmp_path / defect)
    weights = load_file(str(bad / "model.safetensors"))
    first = next(iter(weights))
    if defect == "empty_tensors":  # what ZeRO-3 ranks hold before gathering: zero-size placeholders
        weights = {k: torch.empty(0) for k in weights}
    elif defect == "no_tensors":
        weights = {}
    elif defect == "placeholder_shape":
        weights[first] = weights[first].flatten()[:1].clone()
    elif defect == "nan":
        weights[first] = torch.full_like(weights[first], float("nan"))
    elif defect == "pickle":
        torch.save({}, bad / "pytorch_model.bin")
    elif defect == "extra":
        weights["lora_A.weight"] = torch.ones(2, 2)
    save_file(weights, str(bad / "model.safetensors"), metadata={"format": "pt"})
    expected = {
        "empty_tensors": "is empty",
        "no_tensors": "tensors are missing",
        "placeholder_shape": "placeholder-sized",
        "nan": "NaN",
        "pickle": "pickle",
        "extra": "not part of the model",
    }[defect]
    with pytest.raises(ValueError, match=expected):
        verify_model_dir(bad)


def test_deepspeed_checkpoint_types_load_with_weights_only(tmp_path: Path) -> None:
    import pickle

    import torch
    from deepspeed.runtime.fp16.loss_scaler import LossScaler
    from deepspeed.runtime.zero.config import ZeroStageEnum
    from deepspeed.utils.tensor_fragment import fragment_address

    from llmops.training.train import deepspeed_checkpoint_safe_globals

    path = tmp_path / "optim_states.pt"
    payload = {"stage": ZeroStageEnum.gradients, "scaler": LossScaler(1.0), "addr": fragment_address(4, 0), "t": 1}
    torch.save(payload, path)
    with pytest.raises(pickle.UnpicklingError):
        torch.load(path, weights_only=True)  # what torch 2.13 does by default
    with torch.serialization.safe_globals(deepspeed_checkpoint_safe_globals()):
        loaded = torch.load(path, weights_only=True)
    assert loaded["stage"] == ZeroStageEnum.gradients and loaded["addr"].numel == 4
    # the allow-list is scoped to the load: nothing was added process-wide
    with pytest.raises(pickle.UnpicklingError):
        torch.load(path, weights_only=True)


def test_format_progress_lines() -> None:
    from llmops.training.finetune import format_progress

    line = format_progress(
        {"event": "step", "step": 5, "max_steps": 10, "loss": 1.5, "lr": 1e-3, "tokens_per_s": 900.0, "eta_s": 3.0}
    )
    assert line.startswith("step 5/10") and "loss 1.5000" in line and "900 tokens/s" in line and "ETA 3s" in line
    start = {
        "event": "start",
        "resumed_from_step": 8,
        "max_steps": 24,
        "zero_stage": 2,
        "device": "cpu",
        "world_size": 1,
        "bf16": False,
        "lora": False,
        "trainable_parameters": 10,
        "examples": 3,
    }
    assert "resuming from step 8" in format_progress(start)


def test_parse_output_line_keeps_every_event_and_all_other_text() -> None:
    from llmops.training.job import PROGRESS_PREFIX
    from llmops.training.launch import parse_output_line

    step = PROGRESS_PREFIX + json.dumps({"event": "step", "step": 6})
    done = PROGRESS_PREFIX + json.dumps({"event": "rank_done", "rank": 1})
    assert parse_output_line(step) == ([{"event": "step", "step": 6}], "")
    assert parse_output_line('  File "train.py", line 3') == ([], '  File "train.py", line 3')
    # two ranks' events on one line, after another rank's progress bar that ended without a newline
    events, text = parse_output_line("Writing shards: 100%|##| 1/1" + step + done)
    assert [e["event"] for e in events] == ["step", "rank_done"] and text == "Writing shards: 100%|##| 1/1"
    # a broken event is not an event, and its text is kept
    events, text = parse_output_line(PROGRESS_PREFIX + '{"event": "st' + done)
    assert events == [{"event": "rank_done", "rank": 1}] and text == PROGRESS_PREFIX + '{"event": "st'
    assert parse_output_line(PROGRESS_PREFIX + "[1, 2]") == ([], PROGRESS_PREFIX + "[1, 2]")


def test_progress_lines_of_concurrent_unbuffered_ranks_never_interleave() -> None:
    """Ranks share the launcher's stdout pipe and run with ``python -u``, as under the deepspeed launcher."""
    from llmops.training.launch import parse_output_line

    n = 3000
    code = (
        "import sys\nfrom llmops.training.train import _emit\n"
        f"for i in range({n}):\n    _emit('step', rank=int(sys.argv[1]), i=i, pad='x' * 200)\n"
    )
    read_fd, write_fd = os.pipe()
    ranks = [
        subprocess.Popen([sys.executable, "-u", "-c", code, str(rank)], stdout=write_fd, env=dict(os.environ))
        for rank in (0, 1)
    ]
    os.close(write_fd)
    with os.fdopen(read_fd) as stream:
        lines = stream.read().splitlines()
    assert [p.wait(timeout=60) for p in ranks] == [0, 0]
    seen: dict[int, list[int]] = {0: [], 1: []}
    for line in lines:
        events, text = parse_output_line(line)
        assert len(events) == 1 and text == "", line[:300]
        seen[events[0]["rank"]].append(events[0]["i"])
    assert seen == {0: list(range(n)), 1: list(range(n))}


def test_emit_falls_back_to_a_stdout_without_descriptor(capsys: pytest.CaptureFixture[str]) -> None:
    from llmops.training.launch import parse_output_line
    from llmops.training.train import _emit

    _emit("step", step=1)
    assert parse_output_line(capsys.readouterr().out.rstrip("\n")) == ([{"event": "step", "step": 1}], "")


def test_training_input_is_a_memory_mapped_dataset_tokenized_once(tiny_model: Path, tmp_path: Path) -> None:
    """The snapshot is read through `datasets` (Arrow, memory-mapped), tokenized by a batched map into a cache that
    a retry of the same job loads instead of tokenizing again; the examples are those of `tokenize_rows`."""
    import pandas as pd
    from transformers import AutoTokenizer

    from llmops.training.train import TOKENIZED_DIR, load_examples, tokenize_rows

    rows = pd.DataFrame(
        {
            "prompt": [f"how do I share folder {i}?" for i in range(30)] + ["x " * 600],  # the last fills the length
            "response": [f"open settings and share folder {i} with ann." for i in range(30)] + ["never seen"],
            "id": list(range(31)),
        }
    )
    snapshot = tmp_path / "snapshot" / "train.parquet"
    snapshot.parent.mkdir()
    rows.to_parquet(snapshot)
    job = _job(base_model=str(tiny_model), train_path=str(snapshot), output_dir=str(tmp_path / "out"), max_seq_len=400)
    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    first = load_examples(job, tokenizer)
    expected = tokenize_rows(list(rows["prompt"]), list(rows["response"]), tokenizer, job.max_seq_len)
    assert len(first) == len(expected) == 30 and not first.cached
    assert [first[i] for i in range(len(first))] == expected
    assert all(f["filename"].endswith(".arrow") for f in first.dataset.cache_files)  # on disk, memory-mapped
    cache = list((tmp_path / "out" / TOKENIZED_DIR).glob("tokens-*.arrow"))
    assert len(cache) == 1
    # A retry (a new process, the same job): loaded from the cache, nothing tokenized.
    again = load_examples(job, tokenizer)
    assert again.cached and [again[i] for i in range(len(again))] == expected
    # Other input or another sequence length: another cache.
    shorter = load_examples(_job(base_model=str(tiny_model), train_path=str(snapshot), output_dir=str(tmp_path / "out"),
                                 max_seq_len=300), tokenizer)  # fmt: skip
    assert not shorter.cached and len(list((tmp_path / "out" / TOKENIZED_DIR).glob("tokens-*.arrow"))) == 2


def test_unusable_training_input_is_refused_on_every_rank_before_tokenizing(tmp_path: Path) -> None:
    import pandas as pd

    from llmops.training.train import _check_input

    bad = tmp_path / "bad.parquet"
    pd.DataFrame({"question": ["q"], "answer": ["a"]}).to_parquet(bad)
    with pytest.raises(BadInput, match="lacks a prompt or response column"):
        _check_input(_job(train_path=str(bad)))
    with pytest.raises(BadInput, match=r"cannot read the training data .*No such file"):
        _check_input(_job(train_path=str(tmp_path / "empty-dir")))
    (tmp_path / "empty-dir").mkdir()
    with pytest.raises(BadInput, match="no Parquet file"):
        _check_input(_job(train_path=str(tmp_path / "empty-dir")))
    (tmp_path / "junk.parquet").write_bytes(b"not parquet")
    with pytest.raises(BadInput, match="cannot read the training data"):
        _check_input(_job(train_path=str(tmp_path / "junk.parquet")))
