"""World size 2 on this machine (CPU, gloo) through the same hostfile + `deepspeed` launcher a multi-node run uses."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from llmops.config import TinyModelSpec, load_config
from llmops.training.base_model import build_tiny_base_model
from llmops.training.launch import build_job, run_training, verify_model_dir

pytestmark = pytest.mark.integration


def test_two_ranks_train_and_rank0_alone_writes(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = random.Random(1)
    names = ["alice", "bob", "carol", "dave", "erin", "frank"]
    prompts = [f"How do I share folder {rng.choice(names)} {i % 7}?" for i in range(96)]
    responses = [f"Open the folder, choose Share and add {p.split()[-2]}." for p in prompts]
    data = tmp_path / "train.parquet"
    pq.write_table(pa.table({"prompt": prompts, "response": responses}), data)
    model = build_tiny_base_model(
        TinyModelSpec(vocab_size=400, n_positions=128, n_embd=64, n_layer=2, n_head=2),
        prompts + responses,
        tmp_path / "base",
    )
    hostfile = tmp_path / "hostfile"
    hostfile.write_text("localhost slots=2\n")  # a multi-node hostfile lists one line per node
    steps, micro = 6, 4
    cfg = load_config(
        overrides={
            "base_model": {"name_or_path": str(model)},
            "training": {
                "hostfile": str(hostfile),
                "ssh": False,  # each node starts its own launcher (node_rank 0 here); no ssh fan-out
                "node_rank": 0,
                "master_addr": "127.0.0.1",
                "world_size": 2,
                "max_steps": steps,
                "micro_batch_size": micro,
                "gradient_accumulation_steps": 1,
                "checkpoint_every": 3,
                "max_seq_len": 64,
                "warmup_steps": 1,
                "log_every": 1,
            },
        }
    )
    job = build_job(cfg, str(data), tmp_path / "run", None)
    events: list[dict[str, Any]] = []
    summary = run_training(cfg, job, on_progress=events.append)

    done = {e["rank"]: e for e in events if e["event"] == "rank_done"}
    assert set(done) == {0, 1}, events
    for rank in (0, 1):  # both ranks trained every step on their own share of each global batch
        assert done[rank]["samples"] == steps * micro
    assert done[0]["indices_sha256"] != done[1]["indices_sha256"], "both ranks saw the same examples"
    assert done[0]["pid"] != done[1]["pid"]
    assert summary["world_size"] == 2
    assert summary["written_by_pid"] == done[0]["pid"], "the model and summary must come from rank 0"
    assert next(e for e in events if e["event"] == "start")["world_size"] == 2
    assert verify_model_dir(job.final_model_dir)["parameters"] > 10_000
    # one checkpoint of the run, written once (a second writer would have left a second marker or tag)
    tags = sorted(p.name for p in job.checkpoint_dir.iterdir() if p.is_dir())
    assert tags and all(t.startswith("step-") for t in tags)
