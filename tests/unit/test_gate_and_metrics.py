from __future__ import annotations

import math

import pytest

from llmops.config import GateConfig
from llmops.evaluation.evaluate import samples_markdown
from llmops.evaluation.gate import gate_from_metrics, promotion_gate
from llmops.evaluation.metrics import exact_match, rouge_l


@pytest.mark.parametrize(
    ("candidate", "base", "champion", "passed", "why"),
    [
        (1.0, 2.0, None, True, "no champion yet"),  # passes: beats base, nothing to defend
        (2.0, 2.0, None, False, "does not beat the base"),  # fails against base: a tie is not a win
        (2.5, 2.0, None, False, "does not beat the base"),
        (2.5, 2.0, 1.0, False, "does not beat the base"),  # the base check comes first
        (1.0, 2.0, 1.0, True, "within"),
        (1.01, 2.0, 1.0, True, "within"),  # no worse than the champion, within the 2% margin
        (1.05, 2.0, 1.0, False, "worse than the champion"),  # fails against champion: beats base, loses to it
        (0.8, 2.0, 1.0, True, "within"),
        (float("nan"), 2.0, None, False, "candidate eval_loss is not finite (nan)"),
        (float("inf"), 2.0, 1.0, False, "candidate eval_loss is not finite (inf)"),
        # a non-finite reference fails closed: NaN compares False, +inf base loss is "beaten" by anything
        (1.0, float("nan"), None, False, "base model eval_loss is not finite (nan)"),
        (1.0, float("inf"), None, False, "base model eval_loss is not finite (inf)"),
        (1.0, 2.0, float("nan"), False, "champion eval_loss is not finite (nan)"),
        (1.0, 2.0, float("inf"), False, "champion eval_loss is not finite (inf)"),
        (1.0, 2.0, float("-inf"), False, "champion eval_loss is not finite (-inf)"),
    ],
)
def test_promotion_gate(candidate: float, base: float, champion: float | None, passed: bool, why: str) -> None:
    result = promotion_gate(candidate, base, champion, GateConfig(max_regression_vs_champion=0.02))
    assert result.passed is passed
    assert why in result.reason
    value = result.metrics["candidate_eval_loss"]
    assert value == candidate or (math.isnan(value) and math.isnan(candidate))
    assert set(result.to_dict()) == {"gate", "passed", "metrics", "reason", "on_fail"}
    assert result.gate == "promotion_gate" and result.on_fail == "skip"


def test_gate_margins_are_configurable() -> None:
    cfg = GateConfig(min_improvement_over_base=0.5)
    assert not promotion_gate(1.8, 2.0, None, cfg).passed
    assert promotion_gate(1.4, 2.0, None, cfg).passed
    strict = GateConfig(max_regression_vs_champion=0.0)
    assert not promotion_gate(1.01, 2.0, 1.0, strict).passed
    assert promotion_gate(1.0, 2.0, 1.0, strict).passed


def test_gate_on_a_higher_is_better_metric() -> None:
    cfg = GateConfig(metric="rouge_l", max_regression_vs_champion=0.1)
    metrics = {"rouge_l": 0.50, "base_rouge_l": 0.20, "champion_rouge_l": 0.52}
    ok = gate_from_metrics(metrics, cfg)
    assert ok.passed and ok.metrics["champion_limit"] == pytest.approx(0.468)
    assert not gate_from_metrics({**metrics, "rouge_l": 0.40}, cfg).passed  # more than 10% below the champion
    assert "does not beat the base" in gate_from_metrics({**metrics, "rouge_l": 0.1}, cfg).reason
    assert gate_from_metrics({"rouge_l": 0.3, "base_rouge_l": 0.2}, cfg).reason.endswith("no champion yet")


def test_gate_fails_on_any_non_finite_candidate_metric() -> None:
    metrics = {"eval_loss": 1.0, "base_eval_loss": 3.0, "rouge_l": float("nan"), "base_rouge_l": float("nan")}
    result = gate_from_metrics(metrics, GateConfig())
    assert not result.passed
    assert result.reason == "candidate metrics are not finite (rouge_l=nan)"  # the base's NaN ROUGE is not named
    assert gate_from_metrics({**metrics, "rouge_l": 0.5}, GateConfig()).passed


def test_gate_on_a_nan_champion_of_a_higher_is_better_metric() -> None:
    metrics = {"rouge_l": 0.1, "base_rouge_l": 0.05, "champion_rouge_l": float("nan")}
    result = gate_from_metrics(metrics, GateConfig(metric="rouge_l"))
    assert not result.passed and "champion rouge_l is not finite (nan)" in result.reason


def test_gate_from_evaluation_metrics_uses_loss_by_default() -> None:
    metrics = {"eval_loss": 1.2, "base_eval_loss": 3.0, "champion_eval_loss": 1.0, "rouge_l": 0.9}
    result = gate_from_metrics(metrics, GateConfig())
    assert not result.passed and "worse than the champion's 1.0000" in result.reason


def test_rouge_and_exact_match() -> None:
    assert rouge_l("the cat sat", "the cat sat") == pytest.approx(1.0)
    assert rouge_l("", "anything") == 0.0
    assert 0 < rouge_l("open settings then security", "open settings and choose security") < 1
    assert exact_match("Open Settings.", "open settings") == 1.0
    assert exact_match("open settings now", "open settings") == 0.0


def test_samples_markdown_is_readable() -> None:
    samples = [
        {
            "prompt": "How do I share?",
            "reference": "Open Share.",
            "prediction": "Open Share.",
            "rouge_l": 1.0,
            "base_prediction": "zzz",
            "champion_prediction": "Open it.",
        }
    ]
    text = samples_markdown(samples, {"eval_loss": 1.0}, "candidate beats base")
    assert "## 1. How do I share?" in text and "**champion**: Open it." in text and "| eval_loss | 1.0000 |" in text
