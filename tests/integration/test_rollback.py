"""Promotion through the registry and rollback, on a REAL tritonserver and a REAL MLflow store.

One server and one state folder for the module; the tests run in file order and build on each other:
promote v1 and v2 → a version whose model.py raises on load is refused (v2 keeps serving, champion stays) → a failed
alias move puts Triton back → v4 is promoted and v1 pruned from the repository → rollbacks walk back the chain
(previous: 4 → 2 → 1, read from the promotion log; v1 written again from MLflow once its weights match the digest its
promotion recorded) → rollbacks away from a champion that answers errors and from one that fails to load → the
`llm_rollback` DAG itself with `dag.test()`. Tampered tags and replaced artifacts: test_registry_trust.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from test_triton_serving import RAISING_MODEL_PY, served_state

from llmops.config import LLMOpsConfig
from llmops.errors import Refused

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]

DAGS = Path(__file__).resolve().parents[2] / "dags"
AT = "2026-03-01T00:00:00+00:00"
GATE_OK = {"passed": True, "reason": "candidate beats base and champion", "metrics": {}}
EVALUATION = {"metrics": {"eval_loss": 0.5}, "gate": GATE_OK}

# Loads fine and is READY, but every request fails: a champion that "answers errors".
ERRORING_MODEL_PY = """
import triton_python_backend_utils as pb_utils

class TritonPythonModel:
    def initialize(self, args):
        pass

    def execute(self, requests):
        return [
            pb_utils.InferenceResponse(output_tensors=[], error=pb_utils.TritonError("planted: internal error"))
            for _ in requests
        ]
"""


@dataclass
class Env:
    cfg: LLMOpsConfig
    model_dir: Path
    tmp: Path
    client: Any
    finetune: dict[str, Any]


def _register(env: Env, run_key: str) -> dict[str, Any]:
    from llmops.registry import tracking
    from llmops.registry.register import register_candidate

    run_id = tracking.get_or_create_run(env.cfg, run_key, run_key)
    finetune = {**env.finetune, "mlflow_run_id": run_id}
    return register_candidate(env.cfg, run_key, finetune, EVALUATION["metrics"], EVALUATION["gate"], {})


def _events(cfg: LLMOpsConfig) -> list[dict[str, Any]]:
    path = cfg.paths.home / cfg.promotion.log_file
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _champion(cfg: LLMOpsConfig) -> str | None:
    from llmops.registry import registry

    return registry.alias_version(cfg, registry.CHAMPION)


def _tags(cfg: LLMOpsConfig, version: str) -> dict[str, str]:
    from llmops.registry import tracking

    return dict(tracking.client(cfg).get_model_version(cfg.mlflow.model_name, version).tags)


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    tmp = tmp_path_factory.mktemp("rollback")
    settings = {
        "smoke_prompt": "How do I reset my password?",
        "smoke_prompts": '["How do I share my folder?"]',
        "versions_to_keep": "2",
    }
    with served_state(tmp, **settings) as (cfg, model_dir, client):
        yield Env(cfg, model_dir, tmp, client, {"model_dir": str(model_dir), "base_model": "tiny"})


def _promote(env: Env, registration: dict[str, Any], run_key: str) -> dict[str, Any]:
    from llmops.serving.champion import serve_as_champion
    from llmops.serving.release import promotion_decision

    decision = promotion_decision(EVALUATION["gate"], {}, None, promote=True)
    assert decision.passed, decision.reason
    return serve_as_champion(env.cfg, run_key, registration["version"], env.finetune["model_dir"], decision.reason, AT)


def test_promote_good_versions_moves_champion_and_records_events(env: Env) -> None:
    cfg, name = env.cfg, env.cfg.triton.model_name
    for n in (1, 2):
        registration = _register(env, f"run_{n}")
        assert registration["version"] == str(n)
        out = _promote(env, registration, f"run_{n}")
        assert out["changed"] is True and out["served_version"] == str(n)
        assert env.client.ready_versions(name) == [n]
        assert _champion(cfg) == str(n)
    again = _promote(env, {"version": "2"}, "run_2")  # a retry of the same run
    assert again["changed"] is False

    events = _events(cfg)
    assert [(e["kind"], e["from_version"], e["to_version"]) for e in events] == [
        ("promotion", None, "1"),
        ("promotion", "1", "2"),
    ]
    assert events[-1]["run_key"] == "run_2" and events[-1]["at"] == AT and events[-1]["model"] == cfg.mlflow.model_name
    tags = _tags(cfg, "2")
    assert tags["llmops.promotion.from_version"] == "1" and tags["llmops.promotion.at"] == AT
    assert tags["llmops.promotion.reason"] == GATE_OK["reason"]


def test_refused_candidates_change_nothing(env: Env) -> None:
    from llmops.serving import steps
    from llmops.serving.release import approval_verdict, promotion_decision

    cfg = env.cfg
    before = (_champion(cfg), env.client.ready_versions(cfg.triton.model_name), len(_events(cfg)))
    failed_gate = {"passed": False, "reason": "worse than champion 2"}
    refused = promotion_decision(failed_gate, {}, None, promote=True)
    assert not refused.passed and "worse than champion" in refused.reason
    rejected = promotion_decision(EVALUATION["gate"], {}, approval_verdict(False, "rejected by bo: too slow"), True)
    assert not rejected.passed and "rejected by bo" in rejected.reason
    blocked = promotion_decision(EVALUATION["gate"], {"block_promotion": True, "reason": "drift 0.9"}, None, True)
    assert not blocked.passed and "drift gate" in blocked.reason
    # the promote_to_triton step refuses a refused decision before it touches Triton
    from llmops.run import Run

    for decision in (refused, rejected, blocked):
        with pytest.raises(Refused, match="not promoted"):
            steps.promote_to_triton(
                Run.for_test(cfg, "run_x"),
                {"version": "2"},  # type: ignore[typeddict-item]
                env.finetune,  # type: ignore[arg-type]
                decision.to_dict(),
                {"metrics": {}, "champion_version": _champion(cfg), "samples_path": "", "eval_rows": 0},
            )
    assert (_champion(cfg), env.client.ready_versions(cfg.triton.model_name), len(_events(cfg))) == before


def test_version_whose_model_py_raises_on_load_is_not_promoted(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    from llmops.serving import repository
    from llmops.serving.champion import PromotionFailed

    cfg, name = env.cfg, env.cfg.triton.model_name
    registration = _register(env, "run_3")
    assert registration["version"] == "3"
    raising = env.tmp / "raising_model.py"
    raising.write_text(RAISING_MODEL_PY)
    monkeypatch.setattr(repository, "SERVING_MODEL_SOURCE", raising)
    events_before = _events(cfg)

    with pytest.raises(PromotionFailed, match="planted failure") as info:
        _promote(env, registration, "run_3")
    assert "version 2 keeps serving" in str(info.value) and "champion stays on 2" in str(info.value)
    assert env.client.ready_versions(name) == [2]
    assert env.client.generate(name, ["How do I sync my folder?"], max_new_tokens=4)[0]
    assert _champion(cfg) == "2"
    assert _events(cfg) == events_before
    assert not (cfg.paths.model_repository / name / "3").exists()
    assert not [p for p in (cfg.paths.model_repository / name).iterdir() if p.name.startswith((".staging", ".trash"))]
    assert "llmops.promotion.at" not in _tags(cfg, "3")


def test_failed_alias_move_switches_triton_back(env: Env) -> None:
    """The promotion log cannot be written (a directory sits where the file should be): the alias move is undone
    and Triton serves the previous version again."""
    from llmops.serving.champion import PromotionFailed

    cfg, name = env.cfg, env.cfg.triton.model_name
    registration = _register(env, "run_4")
    assert registration["version"] == "4"
    log_file = cfg.paths.home / cfg.promotion.log_file
    moved = log_file.with_name("promotions.saved")
    log_file.rename(moved)
    log_file.mkdir()
    try:
        with pytest.raises(PromotionFailed, match="version 2 serves again"):
            _promote(env, registration, "run_4")
    finally:
        log_file.rmdir()
        moved.rename(log_file)
    assert _champion(cfg) == "2"
    assert env.client.ready_versions(name) == [2]
    assert "llmops.promotion.at" not in _tags(cfg, "4"), "tags of an undone event are removed"
    assert not (cfg.paths.model_repository / name / "4").exists(), "the directory the promotion wrote is removed"


def test_promotion_prunes_old_versions(env: Env) -> None:
    from llmops.serving.repository import list_versions

    cfg, name = env.cfg, env.cfg.triton.model_name
    out = _promote(env, {"version": "4"}, "run_4")
    assert out["changed"] and _champion(cfg) == "4"
    assert env.client.ready_versions(name) == [4]
    assert list_versions(cfg.paths.model_repository, name) == [2, 4], "versions_to_keep=2: v1 is pruned"


def test_rollback_previous_walks_back_the_promotion_chain(env: Env) -> None:
    from llmops.serving.rollback import RollbackError, rollback

    cfg, name = env.cfg, env.cfg.triton.model_name
    first = rollback(cfg, "previous", "rb_1", AT, "v4 answers badly")
    assert (first["from_version"], first["target_version"], first["rematerialized"]) == ("4", 2, False)
    assert env.client.ready_versions(name) == [2] and _champion(cfg) == "2"

    second = rollback(cfg, "previous", "rb_2", AT, "v2 too", triggered_by="oncall")
    assert (second["from_version"], second["target_version"]) == ("2", 1)
    assert second["rematerialized"] is True, "v1 was pruned: it is written again from the MLflow artifacts"
    assert env.client.ready_versions(name) == [1] and _champion(cfg) == "1"
    assert env.client.generate(name, ["How do I reset my folder?"], max_new_tokens=4)[0]

    with pytest.raises(RollbackError, match="first promotion"):
        rollback(cfg, "previous", "rb_3", AT, "nothing before v1")
    assert _champion(cfg) == "1" and env.client.ready_versions(name) == [1]

    rollbacks = [e for e in _events(cfg) if e["kind"] == "rollback"]
    assert [(e["from_version"], e["to_version"], e["reason"]) for e in rollbacks] == [
        ("4", "2", "v4 answers badly"),
        ("2", "1", "v2 too"),
    ]
    tags = _tags(cfg, "1")
    assert tags["llmops.rollback.from_version"] == "2" and tags["llmops.rollback.run_key"] == "rb_2"
    assert tags["llmops.rollback.at"] == AT

    # One audit record per change, chained, and the serving state is the last one's.
    from llmops.audit import audit_log_path, read_records, verify

    records = read_records(audit_log_path(cfg))
    assert [(r["change"], r["to_version"]) for r in records] == [
        (e["kind"], e["to_version"]) for e in _events(cfg)
    ]  # fmt: skip
    assert [r["seq"] for r in records] == list(range(1, len(records) + 1))
    assert (records[-1]["change"], records[-1]["from_version"], records[-1]["reason"]) == ("rollback", "2", "v2 too")
    assert records[-1]["triggered_by"] == "oncall" and records[-2]["triggered_by"] == "(schedule or asset event)"
    verdict = verify(cfg)
    assert verdict.passed and "version 1 serves as recorded" in verdict.reason, verdict.reason


def test_rollback_to_an_unknown_version_changes_nothing(env: Env) -> None:
    from llmops.serving.rollback import RollbackError, rollback

    cfg = env.cfg
    with pytest.raises(RollbackError, match="not registered"):
        rollback(cfg, "99", "rb_x", AT, "typo")
    with pytest.raises(ValueError, match="invalid rollback target"):
        rollback(cfg, "../4", "rb_x", AT, "hostile")
    with pytest.raises(RollbackError, match="moved from 4 to 1"):
        rollback(cfg, "4", "rb_x", AT, "stale plan", expected_champion="4")
    assert _champion(cfg) == "1"


def _force_serve(env: Env, version: int, model_py: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Put a bad version in front of users the way a bad day does (not through promotion, which would refuse it):
    write it, pin it, load it, and make it champion."""
    from llmops.registry import registry
    from llmops.serving import repository
    from llmops.serving.champion import promotion_log_path

    cfg, name, repo = env.cfg, env.cfg.triton.model_name, env.cfg.paths.model_repository
    source = env.tmp / f"model_{version}.py"
    source.write_text(model_py)
    monkeypatch.setattr(repository, "SERVING_MODEL_SOURCE", source)
    repository.write_model_version(repo, name, version, env.model_dir, cfg.triton, cfg.paths.prod_log_dir)
    repository.write_config(repo, name, cfg.triton, cfg.paths.prod_log_dir, served_version=version)
    env.client.load_model(name)
    event = registry.AliasEvent("promotion", cfg.mlflow.model_name, _champion(cfg), str(version), "bad_day", "x", AT)
    registry.move_champion(cfg, event, promotion_log_path(cfg))


def test_rollback_away_from_a_champion_that_answers_errors(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    from llmops.serving.client import TritonClientError
    from llmops.serving.rollback import rollback

    cfg, name = env.cfg, env.cfg.triton.model_name
    registration = _register(env, "run_5")
    assert registration["version"] == "5"
    _force_serve(env, 5, ERRORING_MODEL_PY, monkeypatch)
    assert env.client.ready_versions(name) == [5] and _champion(cfg) == "5"
    with pytest.raises(TritonClientError, match="planted: internal error"):
        env.client.generate(name, ["How do I reset my password?"])

    out = rollback(cfg, "previous", "rb_5", AT, "v5 answers errors")
    assert (out["from_version"], out["target_version"]) == ("5", 1)
    assert env.client.ready_versions(name) == [1] and _champion(cfg) == "1"
    assert env.client.generate(name, ["How do I reset my password?"], max_new_tokens=4)[0]


def test_rollback_away_from_a_champion_that_fails_to_load(env: Env) -> None:
    from llmops.serving.client import TritonClientError
    from llmops.serving.rollback import rollback

    cfg, name, repo = env.cfg, env.cfg.triton.model_name, env.cfg.paths.model_repository
    # v4 comes back, then its weights rot on disk and the server restarts it: it no longer loads.
    rollback(cfg, "4", "rb_6", AT, "try v4 again")
    assert env.client.ready_versions(name) == [4]
    (repo / name / "4" / "model" / "model.safetensors").write_bytes(b"\x00" * 128)
    env.client.unload_model(name)
    with pytest.raises(TritonClientError):
        env.client.load_model(name)
    assert env.client.ready_versions(name) == []

    out = rollback(cfg, "previous", "rb_7", AT, "v4 does not load")
    assert (out["from_version"], out["target_version"], out["served_before"]) == ("4", 2, 4)
    assert env.client.ready_versions(name) == [2] and _champion(cfg) == "2"

    # The rollback's reconcile first wrote the damaged champion's folder again from the registry.
    from llmops.serving.repository import verify_version

    assert verify_version(repo / name / "4") == []
    # A damaged version is written again from MLflow when it is the target.
    (repo / name / "4" / "model" / "model.safetensors").write_bytes(b"\x00" * 128)
    back = rollback(cfg, "4", "rb_8", AT, "v4 repaired from the registry")
    assert back["rematerialized"] is True
    assert env.client.ready_versions(name) == [4] and _champion(cfg) == "4"


def test_llm_rollback_dag_end_to_end(env: Env, airflow_db_migrate: Callable[[], None]) -> None:
    from airflow.dag_processing.dagbag import DagBag

    cfg, name = env.cfg, env.cfg.triton.model_name
    airflow_db_migrate()
    bag = DagBag(dag_folder=str(DAGS / "llm_rollback.py"))
    assert bag.import_errors == {}
    dag_run = bag.dags["llm_rollback"].test(run_conf={"target_version": "previous", "reason": "from the DAG"})
    states = {ti.task_id: str(ti.state) for ti in dag_run.get_task_instances()}
    assert states == {"resolve_rollback_target": "success", "rollback_model": "success"}, states
    # v4 was last promoted from v2 (its promotion event in the log; its tag agrees): previous of 4 is 2.
    assert _champion(cfg) == "2" and env.client.ready_versions(name) == [2]
    last = _events(cfg)[-1]
    assert (last["kind"], last["from_version"], last["to_version"], last["reason"]) == (
        "rollback",
        "4",
        "2",
        "from the DAG",
    )
    assert last["run_key"].startswith("manual__")
    # the champion asset's event says the same
    from airflow.models.asset import AssetEvent
    from airflow.utils.session import create_session

    with create_session() as session:
        extras = [e.extra for e in session.query(AssetEvent).all() if e.asset.uri.endswith("/champion")]
    assert extras and (extras[-1]["kind"], extras[-1]["version"], extras[-1]["previous_version"]) == (
        "rollback",
        "2",
        "4",
    ), extras
    assert extras[-1]["reason"] == "from the DAG" and "data_snapshot_hash" in extras[-1], extras
