"""What the training processes may see and load: an allow-listed environment, an allow-listed DeepSpeed config."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from llmops.config import DEEPSPEED_CONFIG_DIR, load_config
from llmops.errors import Permanent
from llmops.training.job import UnsafeDeepSpeedConfig, check_deepspeed_config
from llmops.training.launch import build_job, training_env

WORKER_ENV = {
    # secrets of the worker: none of them reaches training
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": "postgresql://airflow:pw@db/airflow",
    "AIRFLOW__CORE__FERNET_KEY": "fernet",
    "AIRFLOW__API_AUTH__JWT_SECRET": "jwt",
    "LLMOPS_TRITON_CONTROL_KEY": "control",
    "AWS_SECRET_ACCESS_KEY": "aws",
    "MLFLOW_DB_PASSWORD": "db",
    "HF_TOKEN": "hf",
    "HUGGING_FACE_HUB_TOKEN": "hf",
    "AIRFLOW_CONN_LLMOPS_ALERTS_WEBHOOK": "http://hooks.example/T0/secret",
    "GITHUB_TOKEN": "gh",
    # what training needs
    "PATH": "/usr/bin",
    "HOME": "/home/w",
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
    "TMPDIR": "/scratch",
    "PYTHONPATH": "/opt/airflow/include",
    "CUDA_VISIBLE_DEVICES": "0,1",
    "NCCL_DEBUG": "WARN",
    "TORCH_EXTENSIONS_DIR": "/cache/ext",
    "OMP_NUM_THREADS": "2",
    "MKL_NUM_THREADS": "2",
    "HF_HOME": "/cache/hf",
    "TRANSFORMERS_CACHE": "/cache/tf",
    "MASTER_ADDR": "node-a",
    "MASTER_PORT": "29500",
    "DS_ACCELERATOR": "cpu",
    "MLFLOW_TRACKING_URI": "http://mlflow:5000",
    "MLFLOW_TRACKING_USERNAME": "trainer",
    "MLFLOW_TRACKING_PASSWORD": "mlflow-pw",
    "LLMOPS_HOME": "/var/lib/llmops",
    "LLMOPS_CONFIG": "/etc/llmops.yaml",
    "LLMOPS__TRAINING__MAX_STEPS": "5",
    "LLMOPS_KILL_AT": "train_step@3",
    "LLMOPS_PHASE_FILE": "/tmp/phases",
    "LLMOPS_PAUSE_AT": "x=1",
    "LLMOPS_KILL_ONCE_FILE": "/tmp/once",
    "LLMOPS_TEST_INJECT_FAULT": "oom@2",
}
SECRETS = {
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
    "AIRFLOW__CORE__FERNET_KEY",
    "AIRFLOW__API_AUTH__JWT_SECRET",
    "LLMOPS_TRITON_CONTROL_KEY",
    "AWS_SECRET_ACCESS_KEY",
    "MLFLOW_DB_PASSWORD",
    "HF_TOKEN",
    "HUGGING_FACE_HUB_TOKEN",
    "AIRFLOW_CONN_LLMOPS_ALERTS_WEBHOOK",
    "GITHUB_TOKEN",
}


def test_training_gets_an_allow_listed_environment() -> None:
    env = training_env(WORKER_ENV)
    assert not SECRETS & set(env), sorted(SECRETS & set(env))
    assert not any(v in {"pw", "fernet", "control", "hf"} for v in env.values())
    for name in set(WORKER_ENV) - SECRETS - {"PATH"}:
        assert env[name] == WORKER_ENV[name], name
    assert env["PATH"].split(":") == [str(Path(sys.executable).parent), "/usr/bin"]
    assert env["HF_HUB_OFFLINE"] == "1" and env["PYTHONUNBUFFERED"] == "1"


def test_training_env_defaults_to_this_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW__CORE__FERNET_KEY", "fernet")
    monkeypatch.setenv("LLMOPS_KILL_AT", "train_step")
    env = training_env()
    assert "AIRFLOW__CORE__FERNET_KEY" not in env and env["LLMOPS_KILL_AT"] == "train_step"


@pytest.mark.parametrize("path", sorted(DEEPSPEED_CONFIG_DIR.glob("*.json")), ids=lambda p: p.stem)
def test_the_shipped_deepspeed_configs_pass_the_allow_list(path: Path) -> None:
    check_deepspeed_config(json.loads(path.read_text()), path.name)


@pytest.mark.parametrize(
    ("extra", "where"),
    [
        ({"tensorboard": {"enabled": True, "output_path": "/tmp/tb"}}, "'tensorboard'"),
        ({"wandb": {"enabled": True}}, "'wandb'"),
        ({"csv_monitor": {"enabled": True, "output_path": "/tmp"}}, "'csv_monitor'"),
        ({"comet": {"enabled": True}}, "'comet'"),
        ({"flops_profiler": {"enabled": True, "output_file": "/etc/x"}}, "'flops_profiler'"),
        ({"aio": {"block_size": 1}}, "'aio'"),
        ({"checkpoint": {"load_universal": True}}, "'checkpoint'"),
        ({"optimizer": {"type": "Adam"}}, "'optimizer'"),
        (
            {"zero_optimization": {"stage": 3, "offload_param": {"device": "cpu", "nvme_path": "/var/x"}}},
            "'zero_optimization.offload_param.nvme_path'",
        ),
        ({"zero_optimization": {"stage": 3, "offload_optimizer": {"device": "nvme"}}}, "offload to one of"),
        ({"bf16": {"enabled": True, "output_path": "/x"}}, "'bf16.output_path'"),
        ({"steps_per_print": {"nested": 1}}, "must be a single value"),
        ({"zero_optimization": "3"}, "must be a mapping"),
    ],
)
def test_deepspeed_keys_outside_the_allow_list_are_refused(extra: dict[str, Any], where: str) -> None:
    config = {"train_micro_batch_size_per_gpu": "auto", "zero_optimization": {"stage": 2}, **extra}
    with pytest.raises(UnsafeDeepSpeedConfig, match=f"custom.json.*{where}") as err:
        check_deepspeed_config(config, "custom.json")
    assert isinstance(err.value, Permanent), "not retried"


def test_build_job_refuses_an_unsafe_deepspeed_file(tmp_path: Path) -> None:
    unsafe = tmp_path / "ds.json"
    unsafe.write_text(json.dumps({"zero_optimization": {"stage": 0}, "tensorboard": {"enabled": True}}))
    cfg = load_config(overrides={"training": {"deepspeed_config": str(unsafe)}})
    with pytest.raises(UnsafeDeepSpeedConfig, match=r"ds\.json: key 'tensorboard' is not allowed"):
        build_job(cfg, "train.parquet", tmp_path / "out", None)
