"""The promotion gate: beat the base model, be no worse than the current champion.

Pure decisions over evaluation metrics; the ``gate_model`` step records the verdict.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping

from llmops.config import GATE_METRICS, GateConfig
from llmops.verdict import Verdict

log = logging.getLogger(__name__)


REFERENCE_PREFIXES = ("base_", "champion_")
"""Evaluation metrics with these prefixes belong to the reference models; the others are the candidate's."""


def non_finite_candidate_metrics(metrics: Mapping[str, float]) -> dict[str, float]:
    """The candidate's own evaluation metrics that are NaN or infinite (or not numbers at all, as NaN)."""
    bad: dict[str, float] = {}
    for name, value in metrics.items():
        if name.startswith(REFERENCE_PREFIXES):
            continue
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = math.nan
        if not math.isfinite(number):
            bad[name] = number
    return bad


def describe(metrics: Mapping[str, float]) -> str:
    """``eval_loss=nan, rouge_l=inf`` for reasons."""
    return ", ".join(f"{name}={value}" for name, value in sorted(metrics.items()))


def _verdict(passed: bool, reason: str, metrics: dict[str, float]) -> Verdict:
    # A candidate the gate refuses is still registered; only its promotion is skipped.
    return Verdict("promotion_gate", passed, reason, metrics, on_fail="skip")


def promotion_gate(
    candidate: float,
    base: float,
    champion: float | None,
    cfg: GateConfig,
) -> Verdict:
    """Decide whether the candidate may be promoted, on ``cfg.metric`` measured on the same eval set.

    Args:
        candidate: the fine-tuned model's value of the metric.
        base: the base model's value.
        champion: the current champion's value, or None when there is no champion.
        cfg: the metric and margins. The candidate must improve on the base by more than
            ``min_improvement_over_base`` (absolute) and be at most ``max_regression_vs_champion`` (relative) worse
            than the champion. Whether higher is better depends on the metric (loss and perplexity: lower).

    Returns:
        The decision, with the figures and a reason that names them.
    """
    name = cfg.metric
    higher = GATE_METRICS[name]
    better = "higher" if higher else "lower"
    metrics = {f"candidate_{name}": candidate, f"base_{name}": base}
    if champion is not None:
        metrics[f"champion_{name}"] = champion
    # Fail closed: a comparison with NaN is always False, so a NaN reference would wave any candidate through.
    if not math.isfinite(candidate):
        return _verdict(False, f"candidate {name} is not finite ({candidate})", metrics)
    if not math.isfinite(base):
        return _verdict(False, f"base model {name} is not finite ({base}): nothing to compare against", metrics)
    if champion is not None and not math.isfinite(champion):
        return _verdict(False, f"champion {name} is not finite ({champion}): nothing to compare against", metrics)
    improvement = candidate - base if higher else base - candidate
    metrics["improvement_over_base"] = improvement
    if not improvement > cfg.min_improvement_over_base:
        return _verdict(
            False,
            f"candidate {name} {candidate:.4f} does not beat the base model's {base:.4f} "
            f"by more than {cfg.min_improvement_over_base} ({better} is better)",
            metrics,
        )
    if champion is None:
        return _verdict(True, f"candidate {name} {candidate:.4f} beats base {base:.4f}; no champion yet", metrics)
    margin = cfg.max_regression_vs_champion
    limit = champion * (1.0 - margin) if higher else champion * (1.0 + margin)
    metrics["champion_limit"] = limit
    worse = candidate < limit if higher else candidate > limit
    if worse:
        return _verdict(
            False,
            f"candidate {name} {candidate:.4f} is worse than the champion's {champion:.4f} "
            f"beyond the allowed {margin:.1%} ({better} is better)",
            metrics,
        )
    return _verdict(
        True,
        f"candidate {name} {candidate:.4f} beats base {base:.4f} and is within {margin:.1%} of champion {champion:.4f}",
        metrics,
    )


def gate_from_metrics(metrics: dict[str, float], cfg: GateConfig) -> Verdict:
    """Apply the gate to evaluation metrics named ``<metric>``, ``base_<metric>`` and ``champion_<metric>``.

    Any of the candidate's own metrics that is not finite fails the gate, whatever ``cfg.metric`` is.

    Raises:
        KeyError: the candidate's or the base model's value of the gate metric is missing.
    """
    name = cfg.metric
    champion = metrics.get(f"champion_{name}")
    verdict = promotion_gate(
        float(metrics[name]), float(metrics[f"base_{name}"]), None if champion is None else float(champion), cfg
    )
    bad = non_finite_candidate_metrics(metrics)
    if verdict.passed and bad:
        return _verdict(False, f"candidate metrics are not finite ({describe(bad)})", dict(verdict.metrics))
    return verdict
