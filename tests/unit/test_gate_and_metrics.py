from __future__ import annotations

import pytest

from llmops.config import GateConfig
from llmops.evaluation.gate import promotion_gate
from llmops.evaluation.metrics import exact_match, lcs_length, rouge_l


@pytest.mark.parametrize(
    ("candidate", "base", "champion", "passed", "why"),
    [
        (1.0, 2.0, None, True, "no champion yet"),
        (2.0, 2.0, None, False, "does not beat the base"),
        (2.5, 2.0, None, False, "does not beat the base"),
        (1.0, 2.0, 1.0, True, "within"),
        (1.01, 2.0, 1.0, True, "within"),
        (1.05, 2.0, 1.0, False, "worse than the champion"),
        (0.8, 2.0, 1.0, True, "within"),
    ],
)
def test_promotion_gate(candidate: float, base: float, champion: float | None, passed: bool, why: str) -> None:
    result = promotion_gate(candidate, base, champion, GateConfig(max_regression_vs_champion=0.02))
    assert result.passed is passed
    assert why in result.reason
    assert result.metrics["candidate_eval_loss"] == candidate


def test_gate_margin_over_base() -> None:
    cfg = GateConfig(min_improvement_over_base=0.5)
    assert not promotion_gate(1.8, 2.0, None, cfg).passed
    assert promotion_gate(1.4, 2.0, None, cfg).passed


def test_lcs_and_rouge() -> None:
    assert lcs_length(["a", "b", "c", "d"], ["a", "c", "d"]) == 3
    assert rouge_l("the cat sat", "the cat sat") == pytest.approx(1.0)
    assert rouge_l("", "anything") == 0.0
    assert 0 < rouge_l("open settings then security", "open settings and choose security") < 1
    assert exact_match("Open Settings.", "open settings") == 1.0
    assert exact_match("open settings now", "open settings") == 0.0
