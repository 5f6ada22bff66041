"""The run note: when a run of a project DAG ends, its summary (:func:`llmops.run_note.run_note`) becomes the run's
note in the Airflow UI.

A listener (registered by the ``llmops`` plugin) that runs where the run's state changes, the scheduler (or the
api-server when a person marks a run): it reads the run's task results from XCom and sets the note on the run within
that same database session, so it commits with the state change and opens no second connection (a run that is
attached to no session, as under ``dag.test()``, is written through a session of its own). A note a person wrote is
kept. The listener only reads the run's XCom rows and sets one attribute; an error in it is logged, and the run's
state is not touched.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from airflow.listeners import hookimpl

if TYPE_CHECKING:
    from airflow.models.dagrun import DagRun
    from sqlalchemy.orm import Session

log = logging.getLogger(__name__)


def task_results(session: Session, dag_run: DagRun) -> dict[str, Any]:
    """``{task_id: return value}`` of the run's unmapped tasks a note is made of."""
    from airflow.models.xcom import XComModel

    from llmops.run_note import TASKS

    query = XComModel.get_many(
        run_id=dag_run.run_id, dag_ids=dag_run.dag_id, key="return_value", task_ids=list(TASKS), map_indexes=-1
    )
    rows: list[Any] = list(session.scalars(query))
    return {x.task_id: XComModel.deserialize_value(x) for x in rows}


def _write(session: Session, dag_run: DagRun) -> str | None:
    from llmops.run_note import may_replace, run_note

    note = run_note(task_results(session, dag_run))
    if note is None or not may_replace(dag_run.note) or dag_run.note == note:
        return None
    dag_run.note = note
    return note


def write_note(dag_run: DagRun) -> str | None:
    """Set the run's note from its results (unless a person wrote one); the note set, or ``None``.

    In the session the run is attached to (the scheduler's: the note commits with the state change); a run that
    is not attached to one (``dag.test()``) is written through a session of its own.
    """
    from airflow.models.dagrun import DagRun as DagRunModel
    from airflow.utils.session import create_session
    from sqlalchemy import select
    from sqlalchemy.orm import object_session

    session = object_session(dag_run)
    if session is not None:
        return _write(session, dag_run)
    with create_session() as own:
        query = select(DagRunModel).where(DagRunModel.dag_id == dag_run.dag_id, DagRunModel.run_id == dag_run.run_id)
        stored = own.scalar(query)
        return None if stored is None else _write(own, stored)


def _on_end(dag_run: DagRun) -> None:
    try:
        if write_note(dag_run):
            log.info("run note written for %s %s", dag_run.dag_id, dag_run.run_id)
    except Exception:  # a note must never disturb the scheduler
        log.exception("run note not written for %s %s", dag_run.dag_id, dag_run.run_id)


@hookimpl
def on_dag_run_success(dag_run: DagRun, msg: str) -> None:
    """A run that succeeded gets its summary as note."""
    _on_end(dag_run)


@hookimpl
def on_dag_run_failed(dag_run: DagRun, msg: str) -> None:
    """A run that failed gets the summary of what it did before failing."""
    _on_end(dag_run)
