"""The evaluation steps: score the candidate, then decide the promotion gate once.

Task functions only (task id = function name); the engines are ``evaluate`` (metrics) and ``gate`` (the rule).
"""

from __future__ import annotations

import logging
from typing import TypedDict

from llmops.run import Run
from llmops.training.steps import Finetune
from llmops.verdict import VerdictDict, record

log = logging.getLogger(__name__)


class Evaluation(TypedDict):
    metrics: dict[str, float]
    champion_version: str | None
    samples_path: str
    eval_rows: int


def evaluate_model(run: Run, finetune: Finetune) -> Evaluation:
    """Held-out loss, perplexity, exact match, ROUGE, chrF/BLEU and semantic agreement of the fine-tuned model, the
    base model and the current champion on the same eval set, plus the safety scorers on their held-out, red-team and
    canary answers (each row's assessments in MLflow's GenAI evaluation); sample generations saved for reading and
    for the approver."""
    from llmops.evaluation.evaluate import evaluate_candidate

    result = evaluate_candidate(run.config, run.key, dict(finetune), at=run.logical_date)
    return Evaluation(
        metrics=dict(result["metrics"]),
        champion_version=result.get("champion_version"),
        samples_path=str(result["samples_path"]),
        eval_rows=int(result["eval_rows"]),
    )


def gate_model(run: Run, finetune: Finetune, evaluation: Evaluation) -> VerdictDict:
    """The promotion gate: beat the base model and be no worse than the champion on quality, keep every safety rate
    (PII leak, toxicity, unsupported facts, degenerate, red-team failures) under its ceiling and the champion's plus
    a margin, and answer the canary probes like the champion (bounds in `gate:`).

    A rejected candidate is still registered, without the `champion` alias; the reason lists every failed criterion.
    """
    from llmops.evaluation.gate import gate_from_metrics
    from llmops.registry import tracking

    cfg = run.config
    verdict = gate_from_metrics(
        evaluation["metrics"], cfg.gate, cfg.scorers.safety_critical, require_redteam=cfg.evaluation.redteam
    )
    record(run, verdict)
    run_id = finetune.get("mlflow_run_id")
    if run_id:  # the names the registry and the UI have always shown
        c = tracking.client(run.config)
        c.set_tag(run_id, "llmops.gate.passed", str(verdict.passed))
        c.set_tag(run_id, "llmops.gate.reason", verdict.reason)
        c.set_tag(run_id, "llmops.gate.metric", run.config.gate.metric)
    return verdict.to_dict()
