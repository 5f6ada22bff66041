"""The multi-objective gate, safety alerts and the rollback on what the served answers say."""

from __future__ import annotations

import pytest

from llmops.config import GateConfig, MonitoringConfig
from llmops.evaluation.gate import gate_from_metrics
from llmops.monitoring.alerts import decide_alerts
from llmops.monitoring.rollback_watch import VersionFigures, decide_rollback

SAFE = {
    "safety_pii_leak_rate": 0.0,
    "safety_toxicity_rate": 0.0,
    "safety_unsupported_facts_rate": 0.2,
    "safety_degenerate_rate": 0.1,
    "redteam_failure_rate": 0.5,
}
CRITICAL = ["pii_leak", "toxicity", "unsupported_facts", "degenerate"]


def _metrics(candidate: dict[str, float], champion: dict[str, float] | None = None, **extra: float) -> dict[str, float]:
    metrics = {"eval_loss": 1.0, "base_eval_loss": 3.0, **candidate, **extra}
    if champion is not None:
        metrics.update({"champion_eval_loss": 1.2, **{f"champion_{k}": v for k, v in champion.items()}})
    return metrics


def test_a_safe_candidate_that_beats_the_champion_passes() -> None:
    verdict = gate_from_metrics(_metrics(SAFE, SAFE, canary_shift=0.1), GateConfig(), CRITICAL, require_redteam=True)
    assert verdict.passed, verdict.reason
    assert "safety figures within bounds" in verdict.reason
    assert verdict.metrics["candidate_safety_pii_leak_rate"] == 0.0 and verdict.metrics["canary_shift"] == 0.1


def test_a_better_loss_does_not_buy_a_leaking_abusive_candidate_through() -> None:
    leaking = {**SAFE, "safety_pii_leak_rate": 0.3, "safety_toxicity_rate": 0.25}
    verdict = gate_from_metrics(_metrics(leaking, SAFE), GateConfig(), CRITICAL, require_redteam=True)
    assert not verdict.passed
    assert verdict.reason.startswith("4 criteria failed: ")  # ceiling and champion margin, for each of the two
    assert "safety_pii_leak_rate 0.300 > ceiling 0.020" in verdict.reason
    assert "safety_toxicity_rate 0.250 > champion's 0.000 + margin 0.050" in verdict.reason
    assert "quality" not in verdict.reason  # the loss criterion held


def test_every_failed_criterion_is_listed() -> None:
    worse = {**SAFE, "safety_degenerate_rate": 0.7, "redteam_failure_rate": 0.9}
    metrics = _metrics(worse, SAFE, canary_shift=0.8)
    metrics["eval_loss"] = 1.5  # > champion 1.2 x 1.02
    verdict = gate_from_metrics(metrics, GateConfig(), CRITICAL, require_redteam=True)
    assert not verdict.passed
    for part in (
        "quality: candidate eval_loss 1.5000 is worse than the champion's",
        "safety_degenerate_rate 0.700 > ceiling 0.600",
        "safety_degenerate_rate 0.700 > champion's 0.100",
        "redteam_failure_rate 0.900 > champion's 0.500",
        "canary_shift 0.800 > 0.500",
    ):
        assert part in verdict.reason, part


def test_a_rate_that_was_not_measured_fails_closed() -> None:
    partial = {k: v for k, v in SAFE.items() if k != "safety_toxicity_rate"}
    verdict = gate_from_metrics(_metrics(partial), GateConfig(), CRITICAL)
    assert not verdict.passed and verdict.reason == "safety: safety_toxicity_rate was not measured"
    no_redteam = {k: v for k, v in SAFE.items() if k != "redteam_failure_rate"}
    assert not gate_from_metrics(_metrics(no_redteam), GateConfig(), CRITICAL, require_redteam=True).passed
    nan = gate_from_metrics(_metrics({**SAFE, "safety_pii_leak_rate": float("nan")}), GateConfig(), CRITICAL)
    assert not nan.passed and "safety_pii_leak_rate nan > ceiling" in nan.reason


def test_ceilings_come_from_config() -> None:
    strict = GateConfig(safety_ceilings={"unsupported_facts": 0.1}, safety_margin=0.0)
    verdict = gate_from_metrics(_metrics(SAFE), strict, CRITICAL)
    assert not verdict.passed and verdict.reason == "safety: safety_unsupported_facts_rate 0.200 > ceiling 0.100"
    with pytest.raises(ValueError, match="unknown"):
        GateConfig(safety_ceilings={"rudeness": 0.1})


def test_safety_rates_alert_above_their_bounds() -> None:
    cfg = MonitoringConfig()
    alerts = decide_alerts({"safety_pii_leak_rate": 0.1, "safety_toxicity_rate": 0.0}, None, cfg)
    assert [a.name for a in alerts] == ["safety_pii_leak_rate"]
    assert alerts[0].message == "pii_leak rate 10.0% of the answers > bound 2.0%"


PREVIOUS = VersionFigures(requests=100, error_rate=0.0, empty_response_rate=0.0, latency_p95_ms=200.0)


@pytest.mark.parametrize(
    ("new_pii", "old_pii", "rollback"),
    [
        ([12, 40], [0, 100], True),  # 30% of the new champion's answers leak, none of the previous one's
        ([0, 40], [0, 100], False),
        ([12, 40], None, True),  # no figures of the previous version: the bound alone
        ([12, 40], [30, 100], False),  # the previous version leaked as much: rolling back would not help
        ([1, 100], [0, 100], False),  # 1% is within the 2% bound
    ],
)
def test_rollback_on_a_safety_breach(new_pii: list[int], old_pii: list[int] | None, rollback: bool) -> None:
    cfg = MonitoringConfig(rollback_min_requests=20)
    new = VersionFigures(
        requests=40, error_rate=0.0, empty_response_rate=0.0, latency_p95_ms=200.0, safety={"pii_leak": new_pii}
    )
    old = None if old_pii is None else VersionFigures(**{**PREVIOUS.__dict__, "safety": {"pii_leak": old_pii}})
    decision = decide_rollback(new, old, cfg)
    assert decision.rollback is rollback, decision.reason
    if rollback:
        assert decision.breaches == [decision.breaches[0]] and decision.breaches[0].startswith("pii_leak_rate 30.0%")
        assert "(12 of 40 answers) > bound 2.0%" in decision.reason


def test_rollback_safety_needs_a_bound() -> None:
    with pytest.raises(ValueError, match="need a bound"):
        MonitoringConfig(rollback_safety=["degenerate"], max_safety_rates={"pii_leak": 0.02})
