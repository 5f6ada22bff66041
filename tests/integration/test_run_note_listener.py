"""The plugin's listener writes a run's summary as its note when the run ends (real Airflow: a DAG run through
``dag.test()``, the task results in XCom, the note in the metadata database); a person's note is kept."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

DAG_FILE = """
from datetime import UTC, datetime

from airflow.sdk import dag, task


@dag(dag_id="llmops_note_probe", schedule=None, start_date=datetime(2026, 1, 1, tzinfo=UTC), catchup=False)
def probe():
    @task(task_id="validate_raw_data")
    def validate():
        return {"rows_in": 10, "rows_valid": 9, "rows_quarantined": 1}

    @task(task_id="candidate_refused")
    def refused():
        return {"gate": "promotion_decision", "passed": False, "reason": "toxicity 0.23 above 0.18", "metrics": {}}

    validate() >> refused()


probe()
"""


def test_a_finished_run_gets_its_summary_as_note(
    airflow_db_migrate: Callable[[], None], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow.dag_processing.dagbag import DagBag
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session
    from llmops_airflow.notes import write_note

    airflow_db_migrate()
    (tmp_path / "llmops_note_probe.py").write_text(DAG_FILE, encoding="utf-8")
    # dag.test() serializes the DAGs of the configured bundles: add one holding the probe, for this test.
    local = "airflow.dag_processing.bundles.local.LocalDagBundle"
    bundles = [
        {"name": "dags-folder", "classpath": local, "kwargs": {}},
        {"name": "llmops-note-probe", "classpath": local, "kwargs": {"path": str(tmp_path), "refresh_interval": 0}},
    ]
    monkeypatch.setenv("AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST", json.dumps(bundles))
    bag = DagBag(dag_folder=str(tmp_path))
    assert bag.import_errors == {}, bag.import_errors
    dag_run = bag.dags["llmops_note_probe"].test()
    with create_session() as session:
        stored = session.query(DagRun).filter(DagRun.run_id == dag_run.run_id).one()
        note = stored.note
        assert note is not None, "the listener wrote no note"
        assert note.startswith("**Run summary**"), note
        assert "Candidate **refused**: toxicity 0.23 above 0.18" in note, note
        assert "10 rows in, 9 valid, 1 quarantined." in note, note
        # a person's note is kept
        stored.note = "keep: waiting for the data fix"
        session.flush()
        assert write_note(stored) is None and stored.note == "keep: waiting for the data fix"
