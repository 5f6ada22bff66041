"""The trigger surface of the pipeline: undeclared conf keys, bounded numbers, closed choices, confined file paths."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from llmops.config import PROJECT_ROOT, load_config
from llmops.config.runtime import (
    PARAM_LIMITS,
    RELATIVE_PATH_PATTERN,
    SCHEMA_KEYWORDS,
    InvalidParams,
    check_conf_keys,
    config_for_run,
    confined_path,
    param_path,
    params_to_overrides,
    pipeline_form,
)
from llmops.errors import Permanent


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LLMOPS_HOME", str(tmp_path / "home"))
    folder = load_config().paths.data_dir
    (folder / "raw").mkdir(parents=True)
    return folder


def test_undeclared_conf_keys_are_refused_by_name() -> None:
    check_conf_keys(None, {"max_steps"})
    check_conf_keys({}, set())
    check_conf_keys({"max_steps": 5}, {"max_steps", "raw_path"})
    with pytest.raises(InvalidParams) as err:
        check_conf_keys({"base_model": "/etc", "world_size": 999, "max_steps": 5}, {"max_steps", "raw_path"})
    message = str(err.value)
    assert "base_model, world_size" in message and "declared: max_steps, raw_path" in message
    assert isinstance(err.value, Permanent), "a refused conf fails without retries"
    with pytest.raises(InvalidParams, match=r"raw_path \(declared: none\)"):
        check_conf_keys({"raw_path": "x"}, set())


BAD_PATHS = [
    "/etc/passwd",
    "//etc/passwd",
    "~/secrets.jsonl",
    "../train.jsonl",
    "raw/../../train.jsonl",
    "raw/..",
    "..",
    "raw\\..\\x",
    "include/../.env",
]


@pytest.mark.parametrize("value", BAD_PATHS)
def test_file_params_refuse_absolute_home_and_parent_paths(value: str, data_dir: Path) -> None:
    with pytest.raises(InvalidParams, match="raw_path"):
        confined_path("raw_path", value, data_dir)
    assert re.search(RELATIVE_PATH_PATTERN, value) is None, "the form's pattern refuses it at trigger time too"


@pytest.mark.parametrize(
    ("value", "where"),
    [
        ("raw/train.jsonl", "data"),
        ("curated/retrain/abc/train.parquet", "data"),
        ("./raw/eval.jsonl", "data"),
        ("raw..jsonl", "data"),  # dots inside a name are not a parent segment
        ("include/configs/llmops.yaml", "include"),
    ],
)
def test_file_params_resolve_under_the_data_or_include_folder(value: str, where: str, data_dir: Path) -> None:
    assert re.search(RELATIVE_PATH_PATTERN, value) is not None
    resolved = confined_path("raw_path", value, data_dir)
    root = data_dir if where == "data" else PROJECT_ROOT / "include"
    assert resolved.is_absolute() and resolved.is_relative_to(root.resolve())


def test_a_symlink_out_of_the_data_folder_is_refused(data_dir: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.jsonl").write_text("{}\n")
    (data_dir / "raw" / "escape").symlink_to(outside)
    (data_dir / "raw" / "inside").symlink_to(data_dir / "raw")
    with pytest.raises(InvalidParams, match="resolves outside"):
        confined_path("eval_path", "raw/escape/secret.jsonl", data_dir)
    assert confined_path("eval_path", "raw/inside/x.jsonl", data_dir) == (data_dir / "raw" / "x.jsonl").resolve()


def test_path_params_become_absolute_config_paths(data_dir: Path) -> None:
    tree = params_to_overrides({"raw_path": "raw/train.jsonl", "eval_path": ""}, data_dir)
    assert tree == {"data": {"raw_path": (data_dir / "raw" / "train.jsonl").resolve()}}
    cfg = config_for_run({"raw_path": "raw/mine.jsonl", "max_steps": 7})
    assert cfg.raw_train_path == (data_dir / "raw" / "mine.jsonl").resolve() and cfg.training.max_steps == 7
    with pytest.raises(InvalidParams, match="raw_path"):
        config_for_run({"raw_path": "/etc/passwd"})


def test_param_path_names_a_data_file_relative_to_the_data_folder(data_dir: Path) -> None:
    cfg = load_config()
    merged = data_dir / "curated" / "retrain" / "0123" / "train.parquet"
    value = param_path(cfg, merged)
    assert value == "curated/retrain/0123/train.parquet"
    assert confined_path("raw_path", value, data_dir) == merged.resolve()
    with pytest.raises(ValueError):
        param_path(cfg, "/etc/passwd")


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"max_steps": PARAM_LIMITS["max_steps"] + 1}, "max_steps"),
        ({"max_steps": 0}, "minimum"),
        ({"max_steps": "300"}, "not of type"),
        ({"max_steps": True}, "not of type"),
        ({"micro_batch_size": 10**6}, "maximum"),
        ({"learning_rate": 5.0}, "learning_rate"),
        ({"learning_rate": 0}, "above 0"),
        ({"recipe": "../../etc/passwd"}, "recipe"),
        ({"recipe": "/abs/recipe.yaml"}, "not one of"),
        ({"deepspeed_config": "/tmp/evil.json"}, "deepspeed_config"),
        ({"deepspeed_config": "zero3_offload_nvme"}, "not one of"),
        ({"lora": True}, "lora"),
        ({"promote": "yes"}, "promote"),
        ({"raw_path": 3}, "raw_path"),
    ],
)
def test_values_outside_the_form_are_refused_when_mapped(params: dict[str, Any], fragment: str) -> None:
    """A conf that bypasses the form (an API client, ``dag.test``) meets the same constraints as the form."""
    with pytest.raises(InvalidParams, match=re.escape(fragment)):
        params_to_overrides(params, Path("/nonexistent-data"))


def test_in_bounds_values_map_as_before() -> None:
    limits = {name: PARAM_LIMITS[name] for name in ("max_steps", "micro_batch_size", "learning_rate")}
    tree = params_to_overrides({**limits, "recipe": "tiny-gpt2/sft", "deepspeed_config": "zero3", "lora": "off"})
    assert tree == {"training": {**limits, "recipe": "tiny-gpt2/sft", "deepspeed_config": "zero3", "lora": False}}
    assert params_to_overrides({"target_version": "3", "reason": "x"}) == {}, "another DAG's params pass through"


def test_the_form_declares_its_bounds_and_only_checked_keywords() -> None:
    form = {p.name: p for p in pipeline_form()}
    for name, limit in PARAM_LIMITS.items():
        assert form[name].schema["maximum"] == limit, name
    for name in ("raw_path", "eval_path"):
        assert form[name].schema["pattern"] == RELATIVE_PATH_PATTERN and form[name].kind == "path"
    for p in form.values():
        assert set(p.schema) <= SCHEMA_KEYWORDS, f"{p.name}: a keyword check_param does not enforce"
    assert not {"world_size", "launcher", "hostfile", "base_model", "master_port"} & set(form)
