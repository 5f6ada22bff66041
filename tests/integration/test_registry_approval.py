"""Human approval before the champion alias moves: the whole `llm_finetune_pipeline` with `require_approval=true`,
run by a real `dag.test()` on tiny settings, a real MLflow store and a real Triton server.

`dag.test()` parks the approval task in Airflow's AWAITING_INPUT state and waits, exactly as the scheduler would.
A reviewer thread answers through the same handler the REST API and the *Required Actions* UI use
(`PATCH .../taskInstances/approve_promotion/-1/hitlDetails`), after reading what the approver is shown.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest

from llmops.config import LLMOpsConfig

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]

DAGS = Path(__file__).resolve().parents[2] / "dags"
DAG_ID = "llm_finetune_pipeline"


@pytest.fixture(scope="module")
def stack(
    tmp_path_factory: pytest.TempPathFactory,
    start_pipeline_stack: Callable[[Path], AbstractContextManager[LLMOpsConfig]],
) -> Iterator[LLMOpsConfig]:
    with start_pipeline_stack(tmp_path_factory.mktemp("approval-home")) as cfg:
        yield cfg


class Reviewer(threading.Thread):
    """Waits for the approval task to park, reads the request, answers it through Airflow's HITL API handler."""

    def __init__(self, answer: str, comment: str) -> None:
        super().__init__(daemon=True)
        self.answer = answer
        self.comment = comment
        self.subject: str | None = None
        self.body: str | None = None
        self.options: list[str] | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self._run()
        except BaseException as exc:  # reported by the test, after dag.test() returns
            self.error = exc
            self._fail_waiting_task()

    @staticmethod
    def _fail_waiting_task() -> None:
        """dag.test() would wait for an answer forever: fail the parked task so that the run ends."""
        from airflow.models.taskinstance import TaskInstance
        from airflow.utils.session import create_session
        from airflow.utils.state import TaskInstanceState
        from sqlalchemy import update

        with create_session() as session:
            session.execute(
                update(TaskInstance)
                .where(TaskInstance.dag_id == DAG_ID, TaskInstance.state == TaskInstanceState.AWAITING_INPUT)
                .values(state=TaskInstanceState.FAILED)
            )

    def _run(self) -> None:
        from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser
        from airflow.api_fastapi.core_api.datamodels.hitl import UpdateHITLDetailPayload
        from airflow.api_fastapi.core_api.routes.public.hitl import update_hitl_detail
        from airflow.models.taskinstance import TaskInstance
        from airflow.utils.session import create_session
        from airflow.utils.state import TaskInstanceState
        from sqlalchemy import select
        from sqlalchemy.orm import joinedload

        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            with create_session() as session:
                ti = session.scalar(
                    select(TaskInstance)
                    .where(
                        TaskInstance.dag_id == DAG_ID,
                        TaskInstance.task_id == "approve_promotion",
                        TaskInstance.state == TaskInstanceState.AWAITING_INPUT,
                    )
                    .options(joinedload(TaskInstance.hitl_detail))
                )
                if ti is not None and ti.hitl_detail is not None:
                    self.subject, self.body = ti.hitl_detail.subject, ti.hitl_detail.body
                    self.options = list(ti.hitl_detail.options)
                    update_hitl_detail(
                        dag_id=DAG_ID,
                        dag_run_id=ti.run_id,
                        task_id="approve_promotion",
                        update_hitl_detail_payload=UpdateHITLDetailPayload(
                            chosen_options=[self.answer], params_input={"comment": self.comment}
                        ),
                        user=SimpleAuthManagerUser(username="reviewer", role="admin"),
                        session=session,
                    )
                    return
            time.sleep(0.5)
        raise TimeoutError("the approval task never asked for input")


def _run_pipeline(conf: dict[str, Any], reviewer: Reviewer) -> dict[str, str]:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS / f"{DAG_ID}.py"))
    assert bag.import_errors == {}
    reviewer.start()
    dag_run = bag.dags[DAG_ID].test(run_conf=conf)
    reviewer.join(30)
    assert reviewer.error is None, reviewer.error
    return {ti.task_id: str(ti.state) for ti in dag_run.get_task_instances()}


def _events(cfg: LLMOpsConfig) -> list[dict[str, Any]]:
    path = cfg.paths.home / cfg.promotion.log_file
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_rejected_candidate_is_not_promoted(stack: LLMOpsConfig, capfd: pytest.CaptureFixture[str]) -> None:
    from llmops.registry import registry
    from llmops.serving.client import client_for

    cfg = stack
    reviewer = Reviewer("Reject", "answers cut off mid-sentence")
    states = _run_pipeline({"require_approval": True}, reviewer)
    task_logs = capfd.readouterr().out  # dag.test() prints the task logs
    assert states["register_model"] == "success"
    assert states["check_approval_required"] == "success"
    assert states["approve_promotion"] == "success", "a human answer, Reject included, completes the task"
    assert states["promote_to_triton"] == "skipped"

    # What the approver saw: the gate decision and metrics, and sample generations.
    assert reviewer.options == ["Approve", "Reject"]
    assert reviewer.subject == f"Promote {cfg.mlflow.model_name} version 1 to Triton?"
    assert reviewer.body and "**Gate**: passed" in reviewer.body
    assert "eval\\_loss" in reviewer.body and "**Sample generations**" in reviewer.body
    assert reviewer.body.count("**Prompt**") == min(cfg.promotion.approval_samples, cfg.evaluation.generation_rows)
    # ... and the version's model card (its registry description)
    from llmops.registry import tracking

    card = tracking.client(cfg).get_model_version(cfg.mlflow.model_name, "1").description
    assert card.startswith(f"# {cfg.mlflow.model_name} version 1") and card.strip() in reviewer.body

    assert registry.alias_version(cfg, registry.CHAMPION) is None
    assert _events(cfg) == []
    with client_for(cfg.triton) as client:
        assert client.ready_versions(cfg.triton.model_name) == []
    # The refusal says why, in the task log and in MLflow: who rejected it, and their comment.
    assert states["candidate_refused"] == "success" and states["candidate_accepted"] == "skipped"
    assert "not promoted: rejected by reviewer" in task_logs and "answers cut off mid-sentence" in task_logs
    from llmops.registry import tracking

    mv = tracking.client(cfg).get_model_version(cfg.mlflow.model_name, "1")
    assert mv.tags["llmops.verdict.approval"] == "failed"
    assert "rejected by reviewer" in mv.tags["llmops.verdict.approval.reason"]
    assert "answers cut off mid-sentence" in mv.tags["llmops.verdict.promotion_decision.reason"]


def test_approved_candidate_is_promoted(stack: LLMOpsConfig) -> None:
    from llmops.registry import registry
    from llmops.serving.client import client_for

    cfg = stack
    reviewer = Reviewer("Approve", "looks good")
    states = _run_pipeline({"require_approval": True, "max_steps": 30}, reviewer)
    assert states["approve_promotion"] == "success" and states["promote_to_triton"] == "success", states
    assert reviewer.subject == f"Promote {cfg.mlflow.model_name} version 2 to Triton?"

    assert registry.alias_version(cfg, registry.CHAMPION) == "2"
    [event] = _events(cfg)
    assert (event["kind"], event["from_version"], event["to_version"]) == ("promotion", None, "2")
    assert "approved by reviewer" in event["reason"] and "looks good" in event["reason"]
    # the audit record says who approved, beside the other verdicts
    from llmops.audit import audit_log_path, read_records

    (audited,) = read_records(audit_log_path(cfg))
    assert "approved by reviewer" in audited["approval"] and audited["verdicts"]["approval"]["passed"] is True
    assert audited["verdicts"]["promotion_gate"]["passed"] is True and audited["to_version"] == "2"
    with client_for(cfg.triton) as client:
        assert client.ready_versions(cfg.triton.model_name) == [2]
