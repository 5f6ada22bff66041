from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from llmops.config import PROJECT_ROOT, ConfigError, env_overrides, load_config
from llmops.config.runtime import params_to_overrides, run_key


def test_defaults_load_with_absolute_paths() -> None:
    cfg = load_config()
    assert cfg.paths.home.is_absolute()
    assert cfg.paths.model_repository == PROJECT_ROOT / "triton_models"
    assert cfg.training.deepspeed_config.is_file()
    assert cfg.tracking_uri.startswith("sqlite:///") and cfg.tracking_uri.endswith("mlflow.db")


def test_env_overrides_keep_types() -> None:
    tree = env_overrides({"LLMOPS__TRAINING__MAX_STEPS": "12", "LLMOPS__TRITON__INSTANCE_KIND": "KIND_GPU", "X": "1"})
    assert tree == {"training": {"max_steps": 12}, "triton": {"instance_kind": "KIND_GPU"}}
    cfg = load_config(environ={"LLMOPS__TRAINING__MAX_STEPS": "12"})
    assert cfg.training.max_steps == 12


def test_invalid_value_names_the_field(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"training\.max_steps"):
        load_config(overrides={"training": {"max_steps": 0}})
    with pytest.raises(ConfigError, match=r"n_embd .* divisible"):
        load_config(overrides={"base_model": {"tiny": {"n_embd": 30, "n_head": 4}}})
    with pytest.raises(ConfigError, match=r"unexpected|Extra inputs"):
        load_config(overrides={"training": {"max_stepz": 3}})


def test_bad_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("training: [1, 2\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)
    listy = tmp_path / "list.yaml"
    listy.write_text("- 1\n")
    with pytest.raises(ConfigError, match="mapping"):
        load_config(listy)


def _digest(run_id: str) -> str:
    return hashlib.sha256(run_id.encode()).hexdigest()[:12]


@pytest.mark.parametrize(
    ("run_id", "readable"),
    [
        ("manual__2026-11-21T10:00:00+00:00", "manual__2026-11-21T10_00_00_00_00"),
        ("scheduled__2026-01-01T02:00:00+00:00", "scheduled__2026-01-01T02_00_00_00_00"),
        ("../../etc/passwd", "etc_passwd"),
    ],
)
def test_run_key_is_path_safe(run_id: str, readable: str) -> None:
    key = run_key(run_id)
    assert key == f"{readable}-{_digest(run_id)}"
    assert "/" not in key and ".." not in key
    assert run_key(run_id) == key  # deterministic


@pytest.mark.parametrize("run_id", ["manual__run_a", "retrain__2026-01-01T02-00-00_00-00", "a.b-c_d"])
def test_a_safe_run_id_is_its_own_key(run_id: str) -> None:
    assert run_key(run_id) == run_id


@pytest.mark.parametrize(
    "pair",
    [
        ("manual__2026-01-01T00:00:00+00:00", "manual__2026-01-01T00_00_00_00_00"),
        ("a:b", "a+b"),
        ("x" * 300, "x" * 301),
        ("a:b", f"a_b-{_digest('a:b')}"),  # a safe id that looks like another id's key
        ("run", "run."),
    ],
)
def test_distinct_run_ids_get_distinct_keys(pair: tuple[str, str]) -> None:
    first, second = (run_key(run_id) for run_id in pair)
    assert first != second
    for key in (first, second):
        assert len(key) <= 200 and re.fullmatch(r"[A-Za-z0-9_.-]+", key)


def test_run_key_rejects_empty() -> None:
    with pytest.raises(ValueError):
        run_key("///")


def test_params_to_overrides_ignores_empty_and_unknown() -> None:
    tree = params_to_overrides({"max_steps": 5, "learning_rate": None, "raw_path": "", "promote": True})
    assert tree == {"training": {"max_steps": 5}}
    cfg = load_config(overrides=params_to_overrides({"raw_path": "raw/x.jsonl"}))
    assert cfg.raw_train_path == (cfg.paths.data_dir / "raw" / "x.jsonl").resolve()
