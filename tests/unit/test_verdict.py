"""The verdict contract: one type for every decision, recorded once to the log, the run's MLflow run and the
version's tags; what failing means maps to the two domain errors."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from llmops.config import LLMOpsConfig, load_config
from llmops.errors import Permanent, Refused
from llmops.run import Run
from llmops.verdict import GATES, TAG_PREFIX, Verdict, VerdictFailed, VerdictRefused, record, tags_of


@pytest.fixture
def cfg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LLMOpsConfig:
    monkeypatch.setenv("LLMOPS_HOME", str(tmp_path / "home"))
    return load_config()


def test_unknown_gate_and_empty_reason_are_rejected() -> None:
    with pytest.raises(ValueError, match="unknown gate"):
        Verdict("my_gate", True, "fine")
    with pytest.raises(ValueError, match="needs a reason"):
        Verdict("promotion_gate", True, "  ")


@pytest.mark.parametrize(("on_fail", "error"), [("fail", VerdictFailed), ("skip", VerdictRefused), ("warn", None)])
def test_enforce_maps_what_failing_means(on_fail: str, error: type[Exception] | None) -> None:
    failed = Verdict("drift", False, "drift share 0.8 >= 0.5", {"drift_share": 0.8}, on_fail)  # type: ignore[arg-type]
    assert Verdict("drift", True, "ok", on_fail=on_fail).enforce().passed  # type: ignore[arg-type]
    if error is None:
        assert failed.enforce() is failed
        return
    with pytest.raises(error, match=r"drift failed: drift share 0\.8"):
        failed.enforce()
    assert issubclass(VerdictFailed, Permanent) and issubclass(VerdictRefused, Refused)


def test_round_trip_through_xcom() -> None:
    v = Verdict("promotion_gate", False, "eval_loss 0.31 > champion 0.27 × 1.05", {"eval_loss": 0.31}, "skip")
    assert Verdict.from_dict(v.to_dict()) == v
    with pytest.raises(ValueError, match="on_fail"):
        Verdict.from_dict({**v.to_dict(), "on_fail": "explode"})


def test_tags_name_the_gate_and_cut_long_reasons() -> None:
    tags = tags_of(Verdict("approval", False, "x" * 9000, on_fail="skip"))
    assert tags[f"{TAG_PREFIX}approval"] == "failed"
    assert len(tags[f"{TAG_PREFIX}approval.reason"]) == 5000
    assert tags[f"{TAG_PREFIX}approval.on_fail"] == "skip"


def test_record_writes_log_run_and_version(cfg: LLMOpsConfig, caplog: pytest.LogCaptureFixture) -> None:
    from llmops.registry import tracking

    run = Run.for_test(cfg, "manual__verdicts")
    with caplog.at_level(logging.INFO, logger="llmops.verdict"):
        record(run, Verdict("data_contract", True, "quarantined 19 of 2559 rows (0.7%) <= 5%", {"share": 0.0074}))
        record(run, Verdict("promotion_gate", False, "eval_loss 0.31 > champion 0.27", {"eval_loss": float("nan")}))
    assert "verdict data_contract passed: quarantined 19 of 2559 rows" in caplog.text
    assert "verdict promotion_gate failed: eval_loss 0.31 > champion 0.27" in caplog.text

    run_id = tracking.find_run(cfg, "manual__verdicts")
    assert run_id is not None, "the run's MLflow run is created on first use"
    data = tracking.client(cfg).get_run(run_id).data
    assert data.tags["llmops.verdict.data_contract"] == "passed"
    assert data.tags["llmops.verdict.promotion_gate.reason"] == "eval_loss 0.31 > champion 0.27"
    assert data.metrics["verdict.data_contract.share"] == pytest.approx(0.0074)
    assert "verdict.promotion_gate.eval_loss" not in data.metrics, "non-finite figures are not logged"
    # a retry records the same decision again: still one MLflow run
    record(run, Verdict("data_contract", True, "quarantined 19 of 2559 rows (0.7%) <= 5%"))
    assert tracking.find_run(cfg, "manual__verdicts") == run_id


def test_every_gate_is_documented() -> None:
    assert all(text.strip() for text in GATES.values())
    assert len(GATES) >= 12


def test_run_for_test_and_its_helpers(cfg: LLMOpsConfig) -> None:
    run = Run.for_test(cfg, "k", params={"promote": False, "max_steps": ""})
    assert run.param("promote", True) is False and run.param("max_steps", 7) == 7
    assert run.mlflow_key == "k" and run.upstream_value("approve_promotion") is None
    with pytest.raises(Permanent, match="data interval"):
        run.interval()

    sent: list[str] = []

    class Broken:
        def send(self, subject: str, body: str, payload: object) -> None:
            raise OSError("unreachable")

    class Good:
        def send(self, subject: str, body: str, payload: object) -> None:
            sent.append(subject)

    noisy = Run.for_test(cfg, "k", notifiers=(Broken(), Good()))
    assert noisy.notify("s", "b", {}) == ["Broken: unreachable"] and sent == ["s"]
