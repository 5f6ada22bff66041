"""A trigger outside the form never runs anything: real Airflow (`dag.test()`), the real `llm_finetune_pipeline`.

A conf with keys the DAG does not declare, or a file param outside the data folder, fails the run at its first
task, once (no retries), with a message that names the problem, before any input is read or output written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from llmops.config import LLMOpsConfig, load_config

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

DAGS = Path(__file__).resolve().parents[2] / "dags"


@pytest.fixture(scope="module")
def home(airflow_db_migrate: Callable[[], None], tmp_path_factory: pytest.TempPathFactory) -> Iterator[LLMOpsConfig]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LLMOPS_HOME", str(tmp_path_factory.mktemp("refusal-home")))
        airflow_db_migrate()
        yield load_config()


def _trigger(conf: dict[str, Any]) -> Any:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS / "llm_finetune_pipeline.py"))
    assert bag.import_errors == {}
    return bag.dags["llm_finetune_pipeline"].test(run_conf=conf)


def _assert_refused_at_the_first_task(dag_run: Any, cfg: LLMOpsConfig) -> None:
    tis = {ti.task_id: ti for ti in dag_run.get_task_instances()}
    first = tis["validate_raw_data"]
    assert str(first.state) == "failed" and first.try_number == 1, "refused once, not retried"
    ran = sorted(t for t, ti in tis.items() if str(ti.state) in {"success", "running", "failed"} and t != first.task_id)
    assert ran == [], f"tasks ran after a refused trigger: {ran}"
    assert str(dag_run.state) == "failed"
    # nothing was read or written: no quarantine, no snapshot, no run folder, no demo data generated
    assert not cfg.paths.data_dir.exists() or not any(cfg.paths.data_dir.rglob("*.parquet"))
    assert not cfg.paths.runs_dir.exists()


def test_undeclared_conf_keys_fail_the_first_task(home: LLMOpsConfig, capfd: pytest.CaptureFixture[str]) -> None:
    dag_run = _trigger({"base_model": "/etc", "world_size": 999})
    logs = capfd.readouterr()
    _assert_refused_at_the_first_task(dag_run, home)
    text = logs.out + logs.err
    assert "the run conf holds keys this DAG does not declare as params: base_model, world_size" in text


def test_an_absolute_file_param_is_refused_at_trigger_time(home: LLMOpsConfig) -> None:
    """The form's schema (``pattern``) refuses it before a run exists."""
    from airflow.sdk.exceptions import ParamValidationError

    with pytest.raises(ParamValidationError, match=r"param raw_path: '/etc/passwd' does not match"):
        _trigger({"raw_path": "/etc/passwd"})


def test_a_file_param_that_escapes_the_data_folder_fails_the_first_task(
    home: LLMOpsConfig, capfd: pytest.CaptureFixture[str]
) -> None:
    """A relative path that passes the form's pattern but leads out of the data folder through a symbolic link."""
    (home.paths.data_dir / "raw").mkdir(parents=True)
    (home.paths.data_dir / "raw" / "escape").symlink_to("/etc")
    dag_run = _trigger({"raw_path": "raw/escape/passwd"})
    logs = capfd.readouterr()
    _assert_refused_at_the_first_task(dag_run, home)
    assert "param raw_path: 'raw/escape/passwd' resolves outside" in logs.out + logs.err
