"""The one Airflow adapter on a real Airflow (`dag.test()`): a step's `Permanent` fails without retries, `Refused`
skips with its reason, a branch follows its verdict, and each task's log ends with a summary."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from llmops.errors import Permanent, Refused
from llmops.run import Run
from llmops.verdict import Verdict, VerdictDict

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

SEEN: dict[str, Any] = {}


def produce_value(run: Run) -> dict[str, Any]:
    """Produce a small payload."""
    SEEN["run"] = run
    return {"path": "/tmp/x", "rows": 3, "summary": "3 rows written"}


def refuse_work(run: Run, produced: dict[str, Any]) -> dict[str, Any]:
    """Nothing to do."""
    raise Refused(f"nothing to do for {produced['rows']} rows")


def after_refusal(run: Run, refused: dict[str, Any]) -> str:
    """Runs after a skipped step (trigger rule none_failed)."""
    return f"used {refused['rows']} rows"


def break_contract(run: Run, produced: dict[str, Any]) -> None:
    """A broken contract."""
    SEEN["attempts"] = SEEN.get("attempts", 0) + 1
    raise Permanent("contract broken: column prompt missing")


def judge(run: Run, produced: dict[str, Any]) -> VerdictDict:
    """Decide."""
    return Verdict("promotion_decision", False, "not promoted: eval_loss 0.31 > 0.27", on_fail="skip").to_dict()


def take_yes(run: Run, decision: VerdictDict) -> str:
    """Yes."""
    return "yes"


def take_no(run: Run, decision: VerdictDict) -> str:
    """No."""
    return f"no: {decision['reason']}"


PROBE_DAG = """
from __future__ import annotations

from datetime import UTC, datetime

from airflow.sdk import dag
from llmops_airflow import default_args, step
from test_adapter import after_refusal, break_contract, judge, produce_value, refuse_work, take_no, take_yes


@dag(
    dag_id="llmops_adapter_probe",
    schedule=None,
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    params={"max_steps": 4},
    default_args=default_args(),
)
def llmops_adapter_probe() -> None:
    produced = step(produce_value)()
    step(after_refusal, trigger_rule="none_failed")(step(refuse_work)(produced))
    step(break_contract)(produced)
    decided = step(judge, branch=("take_yes", "take_no"))(produced)
    step(take_yes)(decided["verdict"])
    step(take_no)(decided["verdict"])


llmops_adapter_probe()
"""


@pytest.fixture(scope="module")
def run_dag(airflow_db_migrate: Callable[[], None], tmp_path_factory: pytest.TempPathFactory) -> Any:
    from airflow.dag_processing.dagbag import DagBag

    airflow_db_migrate()
    folder = tmp_path_factory.mktemp("probe")
    (folder / "llmops_adapter_probe.py").write_text(PROBE_DAG)
    # dag.test() serializes the DAGs of the configured bundles: add one holding the probe, for this module.
    local = "airflow.dag_processing.bundles.local.LocalDagBundle"
    bundles = [
        {"name": "dags-folder", "classpath": local, "kwargs": {}},
        {"name": "llmops-probe", "classpath": local, "kwargs": {"path": str(folder), "refresh_interval": 0}},
    ]
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST", json.dumps(bundles))
        bag = DagBag(dag_folder=str(folder))
        assert bag.import_errors == {}, bag.import_errors
        return bag.dags["llmops_adapter_probe"].test(run_conf={"max_steps": 4})


def test_states_follow_the_domain_errors_and_the_verdict(run_dag: Any, capfd: pytest.CaptureFixture[str]) -> None:
    states = {ti.task_id: str(ti.state) for ti in run_dag.get_task_instances()}
    assert states == {
        "produce_value": "success",
        "refuse_work": "skipped",
        "after_refusal": "skipped",  # its input is missing: skipped, not failed on a None
        "break_contract": "failed",
        "judge": "success",
        "take_yes": "skipped",
        "take_no": "success",
    }
    assert SEEN["attempts"] == 1, "a Permanent error is not retried (retries=2 in default_args)"


def test_the_run_is_built_from_the_context(run_dag: Any) -> None:
    run: Run = SEEN["run"]
    assert run.run_id == run_dag.run_id and run.key and "/" not in run.key
    assert run.params["max_steps"] == 4 and run.config.training.max_steps == 4, "params reach the config"
    assert run.logical_date is not None and run.at == run.logical_date.isoformat()
    assert run.triggered_by == "dag_test", "dag.test()'s triggering user (an approval by them would not count)"


def _xcom(dag_run: Any, task_id: str, key: str = "return_value") -> Any:
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        query = XComModel.get_many(run_id=dag_run.run_id, key=key, task_ids=task_id, dag_ids=dag_run.dag_id)
        row = session.scalars(query).first()
        return None if row is None else XComModel.deserialize_value(row)


def test_xcom_carries_the_payload_and_the_branch_verdict(run_dag: Any) -> None:
    assert _xcom(run_dag, "produce_value") == {"path": "/tmp/x", "rows": 3, "summary": "3 rows written"}
    assert _xcom(run_dag, "judge", "verdict")["gate"] == "promotion_decision"
    assert _xcom(run_dag, "take_no") == "no: not promoted: eval_loss 0.31 > 0.27"


def test_task_docs_come_from_the_step_docstrings() -> None:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(Path(__file__).resolve().parents[2] / "dags" / "llm_rollback.py"))
    task = bag.dags["llm_rollback"].get_task("resolve_rollback_target")
    assert task.doc_md and task.doc_md.startswith("Turn the `target_version` param into a registered version")
