"""The promotion gate: beat the base model, be no worse than the current champion."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from llmops.config import GateConfig


@dataclass(frozen=True)
class GateResult:
    """Outcome of a quality gate: ``passed``, the figures it looked at, and why."""

    passed: bool
    reason: str
    metrics: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def promotion_gate(
    candidate_loss: float,
    base_loss: float,
    champion_loss: float | None,
    cfg: GateConfig,
) -> GateResult:
    """Decide whether the candidate may be promoted, on held-out loss (lower is better).

    Args:
        candidate_loss: eval loss of the fine-tuned model.
        base_loss: eval loss of the base model on the same eval set.
        champion_loss: eval loss of the current champion on the same eval set, or None if there is none.
        cfg: margins. The candidate must improve on the base by more than ``min_improvement_over_base`` and may
            be at most ``max_regression_vs_champion`` (relative) worse than the champion.
    """
    metrics = {"candidate_eval_loss": candidate_loss, "base_eval_loss": base_loss}
    if champion_loss is not None:
        metrics["champion_eval_loss"] = champion_loss
    improvement = base_loss - candidate_loss
    metrics["improvement_over_base"] = improvement
    if not improvement > cfg.min_improvement_over_base:
        return GateResult(
            False,
            f"candidate eval loss {candidate_loss:.4f} does not beat the base model's {base_loss:.4f} "
            f"by more than {cfg.min_improvement_over_base}",
            metrics,
        )
    if champion_loss is not None:
        limit = champion_loss * (1.0 + cfg.max_regression_vs_champion)
        metrics["champion_limit"] = limit
        if candidate_loss > limit:
            return GateResult(
                False,
                f"candidate eval loss {candidate_loss:.4f} is worse than the champion's {champion_loss:.4f} "
                f"beyond the allowed {cfg.max_regression_vs_champion:.1%}",
                metrics,
            )
        return GateResult(
            True,
            f"candidate eval loss {candidate_loss:.4f} beats base {base_loss:.4f} and is within "
            f"{cfg.max_regression_vs_champion:.1%} of champion {champion_loss:.4f}",
            metrics,
        )
    return GateResult(
        True, f"candidate eval loss {candidate_loss:.4f} beats base {base_loss:.4f}; no champion yet", metrics
    )
