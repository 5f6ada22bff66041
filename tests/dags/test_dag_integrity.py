"""DAG integrity: every DAG file imports cleanly and fast, and follows the house rules."""

from __future__ import annotations

import ast
import itertools
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest

DAGS_DIR = Path(__file__).resolve().parents[2] / "dags"
DAG_FILES = sorted(p for p in DAGS_DIR.glob("*.py") if not p.name.startswith("_"))
HEAVY = {
    "torch",
    "transformers",
    "deepspeed",
    "mlflow",
    "evidently",
    "great_expectations",
    "pandas",
    "datasets",
    "tritonclient",
    "pyarrow",
    "numpy",
    "sklearn",
    "scipy",
    "peft",
    "presidio_analyzer",
    "spacy",
}
# The DAG files import the step modules (``llmops.<stage>.steps``) and the adapter: those only import light modules
# at the top (the run, the verdict, the config); every engine is imported inside the step that needs it.
# DAGs that promote or roll back (registry aliases, model repository): one run at a time.
MUTATING = {"llm_finetune_pipeline", "llm_rollback", "llm_production_monitoring", "llm_prompt_release"}


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS_DIR))


def test_there_are_dags() -> None:
    assert DAG_FILES, "no DAG files found"


def test_no_import_errors(dagbag) -> None:
    assert dagbag.import_errors == {}, dagbag.import_errors


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.name)
def test_file_name_is_dag_id(dagbag, path: Path) -> None:
    assert path.stem in dagbag.dag_ids, f"{path.name} must define the DAG {path.stem}"


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.name)
def test_no_heavy_imports_at_top_level(path: Path) -> None:
    tree = ast.parse(path.read_text())
    for node in tree.body:
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        for name in names:
            assert name.split(".")[0] not in HEAVY, f"{path.name}: top-level import of {name}"


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.name)
def test_parse_time(path: Path) -> None:
    """Parse each DAG file in a fresh interpreter, as the DAG processor does, and report the time."""
    code = (
        "import time, importlib.util, sys\n"
        "import airflow.sdk  # already loaded in the DAG processor: measure the file's own cost\n"
        "t = time.perf_counter()\n"
        f"spec = importlib.util.spec_from_file_location('dagfile', {str(path)!r})\n"
        "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)\n"
        "print(time.perf_counter() - t)\n"
        "print('heavy:' + ','.join(sorted(k for k in sys.modules if k.split('.')[0] in "
        f"{sorted(HEAVY)!r})))\n"
    )
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    lines = out.stdout.strip().splitlines()
    parse_s = float(lines[-2])
    loaded_heavy = [m for m in lines[-1].removeprefix("heavy:").split(",") if m]
    print(f"\nparse time {path.name}: {parse_s:.3f}s (process {time.perf_counter() - started:.2f}s)")
    assert loaded_heavy == [], f"parsing {path.name} imported heavy modules: {loaded_heavy[:10]}"


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.name)
def test_dag_conventions(dagbag, path: Path) -> None:
    dag = dagbag.dags[path.stem]
    assert dag.tags, "tags are required"
    assert dag.doc_md and len(dag.doc_md) > 200, "doc_md must describe the DAG"
    assert dag.catchup is False
    assert dag.start_date is not None and dag.start_date.utcoffset() == timedelta(0), "start_date must be UTC"
    decorators = [
        d
        for n in ast.walk(ast.parse(path.read_text()))
        if isinstance(n, ast.FunctionDef)
        for d in n.decorator_list
        if isinstance(d, ast.Call) and getattr(d.func, "id", "") == "dag"
    ]
    assert decorators and all(any(k.arg == "schedule" for k in d.keywords) for d in decorators), (
        "schedule must be set explicitly"
    )
    if dag.dag_id in MUTATING:
        assert dag.max_active_runs == 1, "DAGs that mutate the registry or model repository run one at a time"
    for t in dag.tasks:
        assert t.retries >= 2, f"{t.task_id}: retries must be >= 2"
        assert t.owner and t.owner != "airflow", f"{t.task_id}: owner must be set"


def test_pipeline_structure(dagbag) -> None:
    dag = dagbag.dags["llm_finetune_pipeline"]
    expected = [
        "validate_raw_data",
        "plan_shards",
        "scrub_shard",
        "sign_shard",
        "dedup_dataset",
        "snapshot_dataset",
        "finetune_model",
        "evaluate_model",
        "gate_model",
        "register_model",
        "check_drift",
        "check_approval_required",
        "approve_promotion",
        "decide_promotion",
        "candidate_refused",
        "candidate_accepted",
        "promote_to_triton",
    ]
    assert set(dag.task_ids) == set(expected)
    order = {tid: i for i, tid in enumerate(expected)}
    for t in dag.tasks:
        for down in t.downstream_task_ids:
            assert order[down] > order[t.task_id], f"{t.task_id} -> {down} runs against the data flow"
    promote = dag.get_task("promote_to_triton")
    decide = dag.get_task("decide_promotion")
    assert {"register_model", "check_drift", "gate_model"} <= decide.upstream_task_ids
    assert {"register_model", "finetune_model", "decide_promotion", "candidate_accepted"} <= promote.upstream_task_ids
    assert decide.downstream_task_ids == {"candidate_accepted", "candidate_refused", "promote_to_triton"}
    groups = {t.task_id: t.task_group.group_id for t in dag.tasks}
    assert groups["dedup_dataset"] == "data" and groups["gate_model"] == "train_and_evaluate"
    assert groups["promote_to_triton"] == "release"
    assert dag.task_dict["gate_model"].upstream_task_ids == {"evaluate_model", "finetune_model"}
    assert "gate_model" in dag.task_dict["register_model"].upstream_task_ids
    assert dag.get_task("finetune_model").queue == "training"
    assert {"max_steps", "learning_rate", "deepspeed_config", "promote", "require_approval"} <= set(dag.params.keys())
    assert dag.params["require_approval"] is False, "approval must be opt-in per run (or via the config)"


def test_pipeline_approval_wiring(dagbag) -> None:
    """The approval task sits between the gate/registration and promotion, and cannot block a run that needs none."""
    from airflow.providers.standard.operators.hitl import HITLOperator

    from llmops.serving import approval

    dag = dagbag.dags["llm_finetune_pipeline"]
    check = dag.get_task("check_approval_required")
    approve = dag.get_task("approve_promotion")
    promote = dag.get_task("promote_to_triton")
    assert {"register_model", "evaluate_model", "check_drift"} <= check.upstream_task_ids
    assert check.downstream_task_ids == {"approve_promotion"}, "the short-circuit may only skip the approval task"
    assert check.ignore_downstream_trigger_rules is False
    assert isinstance(approve, HITLOperator)
    assert approve.options == approval.OPTIONS
    assert approve.defaults == [approval.REJECT], "no answer must mean no promotion"
    assert approve.response_timeout is not None
    assert "comment" in approve.params
    decide = dag.get_task("decide_promotion")
    assert approve.downstream_task_ids == {"decide_promotion"}
    assert "approve_promotion" in decide.upstream_task_ids
    assert "check_approval_required" not in decide.upstream_task_ids
    assert str(decide.trigger_rule) in {"none_failed", "TriggerRule.NONE_FAILED"}
    assert "approve_promotion" not in promote.upstream_task_ids


def test_monitoring_structure(dagbag) -> None:
    """The rollback watch runs whatever drift and feedback did; every task alerts when it fails for good."""
    from llmops_airflow import alert_task_failure

    dag = dagbag.dags["llm_production_monitoring"]
    watch = dag.get_task("watch_champion")
    assert watch.upstream_task_ids == {"curate_interval", "curate_feedback"}
    assert str(watch.trigger_rule) in {"all_done", "TriggerRule.ALL_DONE"}
    assert dag.get_task("curate_feedback").upstream_task_ids == {"curate_interval"}
    for task in dag.tasks:
        callbacks = task.on_failure_callback
        callbacks = callbacks if isinstance(callbacks, list) else [callbacks]
        assert alert_task_failure in callbacks, task.task_id


def test_failure_alert_goes_through_the_run_channels(monkeypatch: pytest.MonkeyPatch) -> None:
    from types import SimpleNamespace

    import llmops_airflow

    sent: list[tuple[str, str, dict]] = []

    class Channel:
        def send(self, subject: str, body: str, payload: dict) -> None:
            sent.append((subject, body, dict(payload)))

    class Broken:
        def send(self, subject: str, body: str, payload: dict) -> None:
            raise OSError("webhook down")

    monkeypatch.setattr(llmops_airflow, "alert_channels", lambda cfg: [Broken(), Channel()])
    ti = SimpleNamespace(dag_id="llm_production_monitoring", task_id="check_interval_drift", try_number=3)
    context = {"ti": ti, "run_id": "scheduled__1", "exception": RuntimeError("evidently crashed"), "params": {}}
    llmops_airflow.alert_task_failure(context)  # the broken channel neither raises nor stops the other one
    [(subject, body, payload)] = sent
    assert subject == "[llmops] llm_production_monitoring.check_interval_drift failed"
    assert "RuntimeError: evidently crashed" in body and "scheduled__1" in body
    assert payload["kind"] == "task_failure" and payload["try_number"] == 3


def test_rollback_structure(dagbag) -> None:
    dag = dagbag.dags["llm_rollback"]
    assert type(dag.timetable).__name__ == "NullTimetable", "manual trigger only (schedule=None)"
    assert set(dag.task_ids) == {"resolve_rollback_target", "rollback_model"}
    assert dag.get_task("resolve_rollback_target").downstream_task_ids == {"rollback_model"}
    assert dag.max_active_runs == 1
    assert dag.params["target_version"] == "previous"
    assert {"target_version", "reason"} <= set(dag.params.keys())
    assert [o.uri for o in dag.get_task("rollback_model").outlets] == ["llmops://models/support_assistant/champion"]


def test_prompt_release_structure(dagbag) -> None:
    dag = dagbag.dags["llm_prompt_release"]
    assert type(dag.timetable).__name__ == "NullTimetable", "manual trigger only (schedule=None)"
    assert dag.max_active_runs == 1
    assert set(dag.params.keys()) == {"template", "template_file", "reason", "require_approval"}
    chain = [
        "register_prompt_candidate",
        "prepare_prompt_candidate",
        "evaluate_model",
        "gate_model",
        "register_prompt_release",
        "check_approval_required",
        "approve_promotion",
        "decide_promotion",
        "candidate_accepted",
        "release_prompt",
    ]
    for upstream, downstream in itertools.pairwise(chain):
        assert downstream in dag.get_task(upstream).downstream_task_ids, (upstream, downstream)
    assert {"candidate_accepted", "candidate_refused"} <= dag.get_task("decide_promotion").downstream_task_ids
    # Serving compares the champion with the one the evaluation saw, exactly as a model promotion does.
    assert "evaluate_model" in dag.get_task("release_prompt").upstream_task_ids
    assert [o.uri for o in dag.get_task("release_prompt").outlets] == ["llmops://models/support_assistant/champion"]


@pytest.mark.parametrize("good", ["", "prompts/v2.txt", "include/prompts/support_assistant.json"])
def test_prompt_release_file_param_accepts(dagbag, good: str) -> None:
    assert dagbag.dags["llm_prompt_release"].params.get_param("template_file").resolve(value=good) == good


@pytest.mark.parametrize("bad", ["/etc/passwd", "../x.txt", "a/../../x", "~/x"])
def test_prompt_release_file_param_rejects(dagbag, bad: str) -> None:
    from airflow.sdk.exceptions import ParamValidationError

    with pytest.raises(ParamValidationError):
        dagbag.dags["llm_prompt_release"].params.get_param("template_file").resolve(value=bad)


@pytest.mark.parametrize("good", ["previous", "1", "42"])
def test_rollback_param_accepts(dagbag, good: str) -> None:
    dag = dagbag.dags["llm_rollback"]
    assert dag.params.get_param("target_version").resolve(value=good) == good


@pytest.mark.parametrize(
    "bad", ["../1", "..", "/etc/passwd", "1/..", "%2e%2e", "0", "-1", "01", "1 ", "latest", "a\\b"]
)
def test_rollback_param_rejects(dagbag, bad: str) -> None:
    from airflow.sdk.exceptions import ParamValidationError

    dag = dagbag.dags["llm_rollback"]
    with pytest.raises(ParamValidationError):
        dag.params.get_param("target_version").resolve(value=bad)


def test_every_task_that_takes_the_repository_lock_has_a_deadline(dagbag) -> None:
    lockers = {
        "llm_finetune_pipeline": "promote_to_triton",
        "llm_rollback": "rollback_model",
        "llm_production_monitoring": "watch_champion",
        "llm_prompt_release": "release_prompt",
    }
    for dag_id, task_id in lockers.items():
        assert dagbag.dags[dag_id].get_task(task_id).execution_timeout is not None, (dag_id, task_id)
    reconcile = dagbag.dags["llm_production_monitoring"].get_task("reconcile_serving")
    assert reconcile.execution_timeout is not None
    # Independent of the interval's tasks: a failing interval never stops the repair.
    assert reconcile.upstream_task_ids == set() and reconcile.downstream_task_ids == {"verify_audit"}
    # The audit check runs after the repair, whatever it did, and compares the serving state with the last record.
    verify = dagbag.dags["llm_production_monitoring"].get_task("verify_audit")
    assert str(verify.trigger_rule) in {"all_done", "TriggerRule.ALL_DONE"}
    # Promotion compares the champion with the one the gate saw: it reads the evaluation.
    assert "evaluate_model" in dagbag.dags["llm_finetune_pipeline"].get_task("promote_to_triton").upstream_task_ids
