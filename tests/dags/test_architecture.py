"""Fitness tests of the project's shape: thin DAGs, one adapter, file name = task name, one definition per thing."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel

ROOT = Path(__file__).resolve().parents[2]
DAGS_DIR = ROOT / "dags"
PACKAGE = ROOT / "include" / "llmops"
DAG_FILES = sorted(p for p in DAGS_DIR.glob("*.py") if not p.name.startswith("_"))
MAX_DAG_LINES = 120
# Operators that are not step functions (Airflow's own human-in-the-loop and trigger operators).
OPERATOR_TASKS = {"approve_promotion", "trigger_finetune"}


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS_DIR))


def _imports(path: Path) -> list[str]:
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
    return names


def test_no_airflow_import_under_the_package() -> None:
    offenders = [
        f"{p.relative_to(ROOT)}: {name}"
        for p in sorted(PACKAGE.rglob("*.py"))
        for name in _imports(p)
        if name.split(".")[0] == "airflow"
    ]
    assert offenders == []


def test_only_the_adapter_and_dags_import_airflow() -> None:
    include = ROOT / "include"
    offenders = [
        str(p.relative_to(ROOT))
        for p in sorted(include.rglob("*.py"))
        if "llmops_airflow" not in p.parts and any(n.split(".")[0] == "airflow" for n in _imports(p))
    ]
    assert offenders == []


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.name)
def test_dag_file_is_short(path: Path) -> None:
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_DAG_LINES, f"{path.name} has {lines} lines (at most {MAX_DAG_LINES})"


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.name)
def test_dag_file_translates_no_exceptions(path: Path) -> None:
    tree = ast.parse(path.read_text())
    assert not [n for n in ast.walk(tree) if isinstance(n, ast.Try)], f"{path.name}: try/except belongs in a step"
    text = path.read_text()
    assert "AirflowFailException" not in text and "AirflowSkipException" not in text


def test_every_task_resolves_to_its_step_function(dagbag) -> None:
    for dag in dagbag.dags.values():
        for t in dag.tasks:
            if t.task_id in OPERATOR_TASKS:
                continue
            callable_ = getattr(t, "python_callable", None)
            assert callable_ is not None, f"{dag.dag_id}.{t.task_id} is not a step"
            fn = getattr(callable_, "__wrapped__", callable_)
            module = fn.__module__
            assert re.fullmatch(r"llmops\.[a-z_]+\.steps", module), f"{t.task_id} comes from {module}"
            assert fn.__name__ == t.task_id, f"{module}.{fn.__name__} runs as task {t.task_id}"
            assert getattr(importlib.import_module(module), t.task_id) is fn
            assert t.doc_md and t.doc_md == (fn.__doc__ and __import__("inspect").getdoc(fn)), t.task_id


def test_steps_modules_hold_only_step_functions() -> None:
    for path in sorted(PACKAGE.glob("*/steps.py")):
        tree = ast.parse(path.read_text())
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
                first = node.args.args[0].arg if node.args.args else None
                assert first == "run", f"{path.relative_to(ROOT)}::{node.name} is not a step fn(run, *inputs)"


def test_each_asset_uri_is_defined_once() -> None:
    files = [*sorted((ROOT / "include").rglob("*.py")), *DAG_FILES]
    definitions: dict[str, list[str]] = {}
    for path in files:
        for m in re.finditer(r"""Asset\(\s*["']([^"']+)["']""", path.read_text()):
            definitions.setdefault(m.group(1), []).append(str(path.relative_to(ROOT)))
    assert definitions, "no Asset defined"
    repeated = {uri: where for uri, where in definitions.items() if len(where) > 1}
    assert repeated == {}


def _schema_keys(model: type[BaseModel], data: object, where: str) -> list[str]:
    if not isinstance(data, dict):
        return []
    unknown = []
    for key, value in data.items():
        field = model.model_fields.get(key)
        if field is None:
            unknown.append(f"{where}{key}")
            continue
        sub = field.annotation
        if isinstance(sub, type) and issubclass(sub, BaseModel):
            unknown += _schema_keys(sub, value, f"{where}{key}.")
    return unknown


def test_config_yaml_keys_are_in_the_schema() -> None:
    from llmops.config import DEFAULT_CONFIG_FILE, LLMOpsConfig

    data = yaml.safe_load(DEFAULT_CONFIG_FILE.read_text())
    assert _schema_keys(LLMOpsConfig, data, "") == []


def test_the_form_and_the_config_mapping_come_from_one_table(dagbag) -> None:
    from llmops.config import load_config
    from llmops.config.runtime import params_to_overrides, pipeline_form

    dag = dagbag.dags["llm_finetune_pipeline"]
    form = pipeline_form()
    assert [p.name for p in form] == list(dag.params.keys())
    cfg = load_config()
    for p in form:
        param = dag.params.get_param(p.name)
        assert param.schema.get("title") and param.schema.get("section"), p.name
        if p.config is not None:
            shown = param.description or ""
            assert "Empty:" in shown or "here (" in shown, f"{p.name}: the effective default is not shown"
            section, key = p.config
            assert hasattr(getattr(cfg, section), key), f"{p.name} maps to unknown config key {section}.{key}"
    assert params_to_overrides({"world_size": 1000, "base_model": "/etc"}) == {}, "only form params reach the config"
    assert dag.params.get_param("lora").schema["enum"] == ["recipe", "on", "off"]
    assert params_to_overrides({"recipe": "configured", "deepspeed_config": "configured", "lora": "recipe"}) == {}
    assert params_to_overrides({"deepspeed_config": "zero3", "lora": "off"}) == {
        "training": {"deepspeed_config": "zero3", "lora": False}
    }


def test_dags_show_names_and_descriptions(dagbag) -> None:
    for dag in dagbag.dags.values():
        assert dag.description and dag.dag_display_name != dag.dag_id, dag.dag_id
    retrain = dagbag.dags["llm_nightly_retrain"]
    assert "0 2 * * *" in retrain.description and "asset" in retrain.description
