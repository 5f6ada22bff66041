"""The promotion gate: beat the base model, be no worse than the current champion, say nothing unsafe.

Pure decisions over evaluation metrics; the ``gate_model`` step records the verdict. :func:`gate_from_metrics`
checks every criterion and its verdict names each one that failed:

- quality: ``gate.metric`` beats the base model and is within ``max_regression_vs_champion`` of the champion;
- safety: each safety-critical scorer's flag rate (``safety_<scorer>_rate``) and the red-team failure rate under
  their ceilings (``gate.safety_ceilings``) and at most ``gate.safety_margin`` above the champion's;
- canaries: the semantic shift of the answers to the canary probes from the champion's (``canary_shift``) at most
  ``gate.canary_max_shift``;
- every metric of the candidate finite.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence

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


def safety_failures(
    metrics: Mapping[str, float], cfg: GateConfig, safety_critical: Sequence[str], require_redteam: bool = False
) -> tuple[list[str], dict[str, float]]:
    """The safety criteria the candidate fails, and the figures compared.

    A rate the evaluation did not measure (no ``safety_<scorer>_rate`` metric) is a failure: the gate fails closed.
    """
    failures: list[str] = []
    figures: dict[str, float] = {}
    rates = [(name, f"safety_{name}_rate") for name in safety_critical]
    if "redteam_failure_rate" in metrics or require_redteam:
        rates.append(("redteam", "redteam_failure_rate"))
    for name, key in rates:
        if key not in metrics:
            failures.append(f"{key} was not measured")
            continue
        rate = float(metrics[key])
        ceiling = float(cfg.safety_ceilings.get(name, 1.0))
        figures[f"candidate_{key}"] = rate
        if not rate <= ceiling:  # NaN fails
            failures.append(f"{key} {rate:.3f} > ceiling {ceiling:.3f}")
        champion = metrics.get(f"champion_{key}")
        if champion is not None:
            figures[f"champion_{key}"] = float(champion)
            limit = float(champion) + cfg.safety_margin
            if not rate <= limit:
                failures.append(f"{key} {rate:.3f} > champion's {float(champion):.3f} + margin {cfg.safety_margin:.3f}")
    shift = metrics.get("canary_shift")
    if shift is not None:
        figures["canary_shift"] = float(shift)
        if not float(shift) <= cfg.canary_max_shift:
            failures.append(
                f"canary_shift {float(shift):.3f} > {cfg.canary_max_shift:.3f} (answers to the canary "
                "probes moved away from the champion's)"
            )
    return failures, figures


def gate_from_metrics(
    metrics: dict[str, float],
    cfg: GateConfig,
    safety_critical: Sequence[str] | None = None,
    require_redteam: bool = False,
) -> Verdict:
    """Apply the gate to evaluation metrics named ``<metric>``, ``base_<metric>`` and ``champion_<metric>``.

    Args:
        metrics: the evaluation's metrics (candidate unprefixed; ``base_`` and ``champion_`` for the others).
        cfg: the gate's settings.
        safety_critical: the scorers whose flag rates are bounded; ``None`` checks safety only when the evaluation
            measured it (metrics of an evaluation without scorers), an explicit list requires every rate.
        require_redteam: the red-team failure rate must have been measured.

    Returns:
        One verdict: passed when every criterion holds; otherwise its reason lists every failed criterion.

    Raises:
        KeyError: the candidate's or the base model's value of the gate metric is missing.
    """
    name = cfg.metric
    champion = metrics.get(f"champion_{name}")
    quality = promotion_gate(
        float(metrics[name]), float(metrics[f"base_{name}"]), None if champion is None else float(champion), cfg
    )
    failures = [] if quality.passed else [f"quality: {quality.reason}"]
    figures = dict(quality.metrics)
    if safety_critical is None:
        safety_critical = [
            k.removeprefix("safety_").removesuffix("_rate")
            for k in metrics
            if k.startswith("safety_") and k.endswith("_rate") and k != "safety_refusal_rate"
        ]
    unsafe, safety_figures = safety_failures(metrics, cfg, safety_critical, require_redteam)
    figures.update(safety_figures)
    failures += [f"safety: {f}" for f in unsafe]
    bad = non_finite_candidate_metrics(metrics)
    if bad:
        failures.append(f"candidate metrics are not finite ({describe(bad)})")
    if len(failures) == 1:
        return _verdict(False, failures[0], figures)
    if failures:
        return _verdict(False, f"{len(failures)} criteria failed: " + "; ".join(failures), figures)
    if not safety_figures:
        return _verdict(True, quality.reason, figures)
    return _verdict(True, f"{quality.reason}; {len(safety_figures)} safety figures within bounds", figures)
