"""Helpers shared by the DAG shims: run keys and trigger-time overrides. No Airflow import."""

from __future__ import annotations

import re
from typing import Any

from llmops.config import LLMOpsConfig, load_config

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")

# DAG param name -> config path. A param left empty (None) keeps the configured value.
PARAM_TO_CONFIG: dict[str, tuple[str, str]] = {
    "max_steps": ("training", "max_steps"),
    "learning_rate": ("training", "learning_rate"),
    "micro_batch_size": ("training", "micro_batch_size"),
    "deepspeed_config": ("training", "deepspeed_config"),
    "recipe": ("training", "recipe"),
    "lora": ("training", "lora"),
    "world_size": ("training", "world_size"),
    "raw_path": ("data", "raw_path"),
    "eval_path": ("data", "eval_path"),
    "base_model": ("base_model", "name_or_path"),
}


def run_key(run_id: str) -> str:
    """A filesystem- and tag-safe key for an Airflow run id (outputs are keyed by it)."""
    key = _UNSAFE.sub("_", run_id).strip("._")
    if not key:
        raise ValueError(f"cannot derive a run key from run id {run_id!r}")
    return key[:200]


def params_to_overrides(params: dict[str, Any] | None) -> dict[str, Any]:
    """Turn the DAG's trigger form into a nested config override (unknown and empty params are ignored)."""
    tree: dict[str, Any] = {}
    for name, value in (params or {}).items():
        if name not in PARAM_TO_CONFIG or value is None or value == "":
            continue
        section, key = PARAM_TO_CONFIG[name]
        tree.setdefault(section, {})[key] = value
    return tree


def config_for_run(params: dict[str, Any] | None) -> LLMOpsConfig:
    """Load the configuration with the run's params applied on top."""
    return load_config(overrides=params_to_overrides(params))
