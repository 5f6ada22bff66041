"""The trigger form refuses at trigger time what the run would refuse: Airflow validates each value against its
Param's JSON schema (the UI and the REST API), and the schema comes from the same table as the run's checks."""

from __future__ import annotations

from typing import Any

import pytest

from llmops.config.runtime import PARAM_LIMITS


@pytest.fixture(scope="module")
def form() -> Any:
    from llmops_airflow import pipeline_params

    return pipeline_params()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("raw_path", "/etc/passwd"),
        ("raw_path", "../secrets.jsonl"),
        ("eval_path", "raw/../../x.jsonl"),
        ("eval_path", "~/x.jsonl"),
        ("max_steps", PARAM_LIMITS["max_steps"] + 1),
        ("micro_batch_size", PARAM_LIMITS["micro_batch_size"] * 2),
        ("learning_rate", 1.0),
        ("recipe", "../../etc/passwd"),
        ("deepspeed_config", "/tmp/ds.json"),
    ],
)
def test_the_form_refuses(form: Any, name: str, value: Any) -> None:
    from airflow.sdk.exceptions import ParamValidationError

    with pytest.raises(ParamValidationError):
        form[name].resolve(value)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("raw_path", "raw/train.jsonl"),
        ("raw_path", "curated/retrain/0123abcd/train.parquet"),
        ("raw_path", None),
        ("max_steps", PARAM_LIMITS["max_steps"]),
        ("learning_rate", 0.003),
        ("deepspeed_config", "zero3_offload"),
    ],
)
def test_the_form_accepts(form: Any, name: str, value: Any) -> None:
    assert form[name].resolve(value) == value
