"""Kill promotion and rollback once at every step boundary, on a REAL tritonserver and a REAL MLflow store.

The sample of ``make bench-chaos`` (which kills each point at least 20 times, with every candidate and next step):
here each point is killed once, with a candidate and a next step chosen so that every candidate and every next step
appears. After each kill and its next step the harness's invariants must hold (Triton serves exactly the champion,
the config pins it, the champion is a vetted version whose folder verifies, no leftovers or open journal, the
promotion log is readable and its last event names the champion, the rollback watch finds the champion's
promotion). The scenarios the platform must get right are named tests of their own.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

BENCH = Path(__file__).resolve().parents[2] / "bench"

# (op, point) -> (candidate, next step), one kill each.
SAMPLE: dict[tuple[str, str], tuple[str, str]] = {
    ("promote", "journal:started"): ("good", "nothing"),
    ("promote", "version-rename:before"): ("fails_load", "retry"),
    ("promote", "version-rename:after"): ("good", "rollback_previous"),
    ("promote", "config-write:before"): ("fails_smoke", "waiting_rollback"),
    ("promote", "config-write:after"): ("good", "triton_restart"),
    ("promote", "load:before"): ("good", "next_promotion"),
    ("promote", "load:after"): ("fails_smoke", "retry"),
    ("promote", "smoke:after"): ("good", "retry"),
    ("promote", "journal:switched"): ("good", "waiting_rollback"),
    ("promote", "alias:after"): ("good", "nothing"),
    ("promote", "event-append:before"): ("good", "triton_restart"),
    ("promote", "journal:aliased"): ("good", "next_promotion"),
    ("promote", "version-remove"): ("good", "nothing"),
    ("promote", "undo:inside"): ("fails_load", "nothing"),
    ("promote", "restore:inside"): ("slow_load", "retry"),
    ("rollback", "smoke:after"): ("good", "nothing"),
    ("rollback", "alias:after"): ("good", "retry"),
    ("rollback", "version-copy"): ("good", "nothing"),
}


def _load_chaos() -> ModuleType:
    sys.path.insert(0, str(BENCH))
    spec = importlib.util.spec_from_file_location("chaos", BENCH / "chaos.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["chaos"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def chaos_module() -> ModuleType:
    return _load_chaos()


@pytest.fixture(scope="module")
def env(chaos_module: ModuleType, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from llmops.serving.server import ServingEnvError, find_install

    serving_venv = Path(os.environ.get("LLMOPS_SERVING_VENV", chaos_module.ROOT / ".venv-serving"))
    try:
        find_install(serving_venv)
    except ServingEnvError as exc:
        pytest.skip(f"serving venv unavailable, run `make install`: {exc}")
    saved = dict(os.environ)
    harness = chaos_module.Chaos(tmp_path_factory.mktemp("chaos"))
    try:
        yield harness
    finally:
        harness.close()
        os.environ.clear()
        os.environ.update(saved)


def test_sample_covers_every_point_candidate_and_next_step(chaos_module: ModuleType) -> None:
    assert set(SAMPLE) == set(chaos_module.POINTS)
    assert {c for c, _ in SAMPLE.values()} == set(chaos_module.CANDIDATES)
    assert {n for _, n in SAMPLE.values()} == set(chaos_module.NEXT_STEPS)
    for key, (candidate, _) in SAMPLE.items():
        assert candidate in chaos_module.POINTS[key], f"{key} is never reached by a {candidate} candidate"


@pytest.mark.parametrize(("op", "point"), list(SAMPLE), ids=[f"{o}:{p}" for o, p in SAMPLE])
def test_kill_then_converge(env: Any, op: str, point: str) -> None:
    candidate, next_step = SAMPLE[(op, point)]
    champion_before = env.champion()
    trial = env.trial(op, point, candidate, next_step)
    assert trial.killed, f"the worker was not killed at {point}: {trial.problems}"
    assert trial.consistent, trial.problems
    if candidate != "good":
        assert env.kind_of[env.champion()] == "good"
    if (op, point) == ("promote", "load:after"):
        # The retry of a candidate that fails its smoke test ends with the old champion serving, not the candidate.
        assert env.champion() == champion_before
        with env.client() as client:
            assert client.ready_versions(env.name) == [int(champion_before)]
    if (op, point) == ("promote", "alias:after"):
        # The alias had moved: the reconcile completed the promotion (event, tags), so the watch watches it.
        from llmops.monitoring.rollback_watch import _last_promotion

        champion = env.champion()
        assert champion != champion_before
        event = _last_promotion(env.cfg, champion)
        assert event is not None and event["from_version"] == champion_before


def test_promote_task_of_an_old_run_is_refused_after_a_rollback(env: Any) -> None:
    """A promote task cleared after an operator's rollback compares the champion with the one its gate saw."""
    from llmops.errors import Refused
    from llmops.registry import tracking
    from llmops.run import Run
    from llmops.serving.steps import promote_to_triton
    from llmops.verdict import Verdict

    env.trial("promote", "journal:started", "good", "nothing")  # a consistent start
    gate_saw = env.champion()
    candidate = env.new_version("good")
    out = env.run_op(env.rollback_task("previous", "operator-rollback"), None)
    assert out["status"] == "ok", out
    now = env.champion()
    assert now != gate_saw
    with env.client() as client:
        ready_before = client.ready_versions(env.name)

    run = Run.for_test(env.cfg, "old-run-cleared")
    decision = Verdict("promotion_decision", True, "gate passed a week ago", on_fail="skip").to_dict()
    evaluation = {"metrics": {}, "champion_version": gate_saw, "samples_path": "", "eval_rows": 0}
    with pytest.raises(Refused, match="a newer decision"):
        promote_to_triton(
            run,
            {"version": candidate},  # type: ignore[typeddict-item]
            {"model_dir": str(env.model_dir)},  # type: ignore[typeddict-item]
            decision,  # type: ignore[arg-type]
            evaluation,  # type: ignore[arg-type]
        )
    assert env.champion() == now
    with env.client() as client:
        assert client.ready_versions(env.name) == ready_before
    assert not (env.repo / env.name / candidate).exists()
    tags = dict(tracking.client(env.cfg).get_model_version(env.cfg.mlflow.model_name, candidate).tags)
    assert tags.get("llmops.verdict.champion_unchanged") == "failed"
    assert env.check_invariants() == []
