"""One contract for every decision the platform takes: a :class:`Verdict`, recorded once by :func:`record`.

A verdict names its gate, says whether it passed, why (what was compared and by how much), the figures it looked at
and what failing means. :func:`record` writes the reason to the task log, to the run's MLflow run (created on first
use, keyed by the run) and, where a model version is known, to that version's tags. :meth:`Verdict.enforce` then
turns a failed verdict into the error its ``on_fail`` names, which the orchestrator maps to "fail without retries"
or "skip".

MLflow layout, per gate ``g``: tags ``llmops.verdict.g`` (``passed`` / ``failed``), ``llmops.verdict.g.reason`` and
``llmops.verdict.g.on_fail``; metrics ``verdict.g.<name>`` for the finite figures.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypedDict

from llmops.errors import Permanent, Refused

if TYPE_CHECKING:
    from llmops.config import LLMOpsConfig
    from llmops.run import Run

log = logging.getLogger(__name__)

OnFail = Literal["fail", "skip", "warn"]
"""What a failed verdict means: ``fail`` the run (no retries), ``skip`` what depends on it, or ``warn`` (recorded
and alerted; the run goes on)."""

TAG_PREFIX = "llmops.verdict."
METRIC_PREFIX = "verdict."
MAX_TAG_CHARS = 5000

# The decisions the platform takes, by gate name (documentation and the fitness tests read this table).
GATES: dict[str, str] = {
    "data_contract": "the raw data passes the Great Expectations suite and the bad-row share stays under its bound",
    "duplicate_ceiling": "the share of rows removed as duplicates or eval overlap stays under its bound",
    "count_reconciliation": "rows in = kept + quarantined + duplicates + contaminated",
    "new_training_input": "no other run registered a version trained on the same data snapshot, base model and "
    "training settings (param force trains anyway)",
    "training_guard_rails": "training finished with finite loss, within time and memory",
    "promotion_gate": "the candidate beats the base model and is no worse than the champion on quality, keeps every "
    "safety rate (PII leak, toxicity, unsupported facts, degenerate, red-team failures) under its ceiling and the "
    "champion's plus a margin, and answers the canary probes like the champion",
    "prompt_candidate": "a prompt release's template is usable (one {{prompt}}, bounded, no control characters), "
    "differs from the champion's and is registered as challenger",
    "drift": "production traffic has not drifted from the training data beyond the bound",
    "approval": "a human approved the promotion (when approval is required)",
    "promotion_decision": "gate, drift, approval and the promote param all allow the promotion",
    "promotion": "the candidate loaded, became ready, answered the smoke test and became champion",
    "interval_size": "the monitoring interval holds enough answered requests to judge",
    "interval_contract": "the interval's production logs keep the production-log contract",
    "prod_log_loss": "the served model wrote every answered request of the interval to its production log",
    "alert_bounds": "drift share, empty answers, latency p95, server errors, duplicate request ids and the answers' "
    "safety rates stay within their bounds",
    "retrain_decision": "enough pending feedback or drift to retrain",
    "rollback_watch": "the new champion is no worse than the version it replaced on live figures and its answers' "
    "PII-leak and toxic rates stay within their bounds",
    "rollback_target": "the requested rollback target is a registered version that can be served",
    "rollback": "the rollback target serves and is champion",
    "champion_unchanged": "champion is still the version the gate compared the candidate with (compare-and-set)",
    "serving_consistency": "Triton serves exactly the champion, the config pins it and no operation is left half done",
    "retention": "production data past its retention, curated and out of the feedback window, was deleted (counts "
    "per kind)",
    "audit_chain": "every audit record follows the one before it (hash chain) and the serving state matches the "
    "last promotion, prompt release or rollback recorded",
    "erasure": "no file under the state folder holds an erased request or user id any more; the model versions "
    "trained on data that held them are named",
}


class VerdictDict(TypedDict):
    """A verdict as it travels through XCom."""

    gate: str
    passed: bool
    reason: str
    metrics: dict[str, float]
    on_fail: str


class VerdictFailed(Permanent):
    """A verdict whose failure fails the run."""


class VerdictRefused(Refused):
    """A verdict whose failure skips what depends on it."""


@dataclass(frozen=True)
class Verdict:
    """A decision: ``gate`` passed or not, ``reason`` says what was compared and by how much."""

    gate: str
    passed: bool
    reason: str
    metrics: dict[str, float] = field(default_factory=dict)
    on_fail: OnFail = "fail"

    def __post_init__(self) -> None:
        if self.gate not in GATES:
            raise ValueError(f"unknown gate {self.gate!r}; known gates: {', '.join(GATES)}")
        if not self.reason.strip():
            raise ValueError(f"verdict {self.gate!r} needs a reason")

    @property
    def outcome(self) -> str:
        return "passed" if self.passed else "failed"

    def line(self) -> str:
        """One line for logs and summaries."""
        return f"{self.gate} {self.outcome}: {self.reason}"

    def to_dict(self) -> VerdictDict:
        return {
            "gate": self.gate,
            "passed": self.passed,
            "reason": self.reason,
            "metrics": dict(self.metrics),
            "on_fail": self.on_fail,
        }

    @classmethod
    def from_dict(cls, data: VerdictDict | dict[str, Any]) -> Verdict:
        on_fail = str(data.get("on_fail", "fail"))
        if on_fail not in ("fail", "skip", "warn"):
            raise ValueError(f"verdict on_fail must be fail, skip or warn, not {on_fail!r}")
        return cls(
            gate=str(data["gate"]),
            passed=bool(data["passed"]),
            reason=str(data["reason"]),
            metrics={str(k): float(v) for k, v in dict(data.get("metrics") or {}).items()},
            on_fail=on_fail,  # type: ignore[arg-type]
        )

    def enforce(self) -> Verdict:
        """Raise what a failed verdict means (``fail``: :class:`VerdictFailed`, ``skip``: :class:`VerdictRefused`);
        return the verdict otherwise."""
        if self.passed or self.on_fail == "warn":
            return self
        if self.on_fail == "skip":
            raise VerdictRefused(self.line())
        raise VerdictFailed(self.line())


def _finite(metrics: dict[str, float]) -> dict[str, float]:
    out: dict[str, float] = {}
    for k, v in metrics.items():
        try:
            f = float(v)
        except (TypeError, ValueError):
            continue
        if math.isfinite(f):
            out[k] = f
    return out


def tags_of(verdict: Verdict) -> dict[str, str]:
    """The MLflow tags that record a verdict."""
    g = f"{TAG_PREFIX}{verdict.gate}"
    return {g: verdict.outcome, f"{g}.reason": verdict.reason[:MAX_TAG_CHARS], f"{g}.on_fail": verdict.on_fail}


def record(run: Run, verdict: Verdict, model_version: str | int | None = None) -> Verdict:
    """Record a verdict once: the task log, the run's MLflow run, and the model version's tags when known.

    Idempotent: a retry writes the same tags again. An unreachable MLflow raises (a decision that cannot be
    recorded is not taken), and the task is retried.

    Args:
        run: the run the decision belongs to (its ``mlflow_key`` and ``experiment`` name the MLflow run).
        verdict: the decision.
        model_version: the registered version the decision is about, if any.

    Returns:
        The verdict, so a step can write ``return record(run, v).enforce()``.
    """
    level = logging.INFO if verdict.passed else logging.WARNING
    log.log(level, "verdict %s", verdict.line())
    cfg = run.config
    from mlflow.entities import Metric, RunTag

    from llmops.registry import tracking

    run_tags = dict(run.tracking_tags)
    run_id = tracking.get_or_create_run(cfg, run.mlflow_key, run.mlflow_key, tags=run_tags, experiment=run.experiment)
    c = tracking.client(cfg)
    tags = tags_of(verdict)
    metrics = [
        Metric(f"{METRIC_PREFIX}{verdict.gate}.{_metric_name(k)}", v, 0, 0) for k, v in _finite(verdict.metrics).items()
    ]
    c.log_batch(run_id, metrics=metrics, tags=[RunTag(k, v) for k, v in {**run_tags, **tags}.items()])
    if model_version is not None:
        tag_version(cfg, verdict, model_version)
    return verdict


def tag_version(cfg: LLMOpsConfig, verdict: Verdict, model_version: str | int) -> None:
    """Put a verdict already recorded on its run onto the model version it is about (tags only)."""
    from llmops.registry import tracking

    c = tracking.client(cfg)
    for k, v in tags_of(verdict).items():
        c.set_model_version_tag(cfg.mlflow.model_name, str(model_version), k, v)


def _metric_name(name: str) -> str:
    # MLflow metric names allow letters, digits, _ - . / and space.
    return "".join(ch if ch.isalnum() or ch in "_-./ " else "_" for ch in name)
