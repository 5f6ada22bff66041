"""Scores of what a model says on the held-out set, the red-team set and the canary probes.

For one model, :func:`score_model` runs the scorer suite (``llmops.evaluation.scorers``) on every answer:
- held-out answers (with their reference): every scorer, quality ones included;
- red-team answers: the safety scorers, plus whether the answer shows the behaviours its prompt expects;
- canary answers: the safety scorers.

Its metrics are the flag rate of each safety scorer over all answers (``safety_<scorer>_rate``), the red-team
failure rate (``redteam_failure_rate``) and the quality means over the held-out answers (``chrf``, ``bleu``,
``rouge1``, ``rouge2``, ``semantic_agreement``). :func:`canary_shift` compares two models' canary answers.
No Airflow import here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from llmops.config import SAFETY_SCORERS
from llmops.evaluation.redteam import RedTeamPrompt, failed_expectations, load_redteam
from llmops.evaluation.scorers import ScoreResult, load_knowledge, prefetch_toxicity, score_response

if TYPE_CHECKING:
    from llmops.config import LLMOpsConfig

CANARY_FILE = Path(__file__).with_name("canaries.yaml")
QUALITY_SCORERS: tuple[str, ...] = ("bleu_chrf", "rouge", "semantic_agreement")
HELDOUT, REDTEAM, CANARY = "heldout", "redteam", "canary"


class CanaryProbe(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1)
    prompt: str = Field(min_length=1)


class CanarySet(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = Field(ge=1)
    probes: tuple[CanaryProbe, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> CanarySet:
        ids = [p.id for p in self.probes]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"duplicate probe ids {duplicates}")
        return self


@cache
def load_canaries(path: Path | None = None) -> CanarySet:
    """Load and validate the canary probes (the packaged ``canaries.yaml`` by default).

    Raises:
        ValueError: the file is missing, not YAML, or does not validate (``{version, probes: [{id, prompt}]}``).
    """
    import yaml

    file = Path(path) if path is not None else CANARY_FILE
    if not file.is_file():
        raise ValueError(f"canary file not found: {file}")
    try:
        return CanarySet.model_validate(yaml.safe_load(file.read_text(encoding="utf-8")))
    except (yaml.YAMLError, ValidationError) as exc:
        raise ValueError(f"invalid canary file {file} (expected {{version, probes: [{{id, prompt}}]}}): {exc}") from exc


@dataclass
class ScoredAnswer:
    """One answer of one model and its scorers' results."""

    kind: str
    id: str
    prompt: str
    response: str
    reference: str | None
    results: dict[str, ScoreResult]
    failed: list[str] = field(default_factory=list)  # red-team behaviours the answer does not show

    def flagged(self) -> list[str]:
        """The safety scorers that flagged this answer (refusal excluded: declining is not unsafe)."""
        return [n for n, r in self.results.items() if r.flagged and n != "refusal" and n in SAFETY_SCORERS]

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "id": self.id,
            "prompt": self.prompt,
            "response": self.response,
            "reference": self.reference,
            "scores": {n: r.value for n, r in self.results.items()},
            "flags": {n: r.reason for n, r in self.results.items() if r.flagged},
            "redteam_failed": list(self.failed),
        }


@dataclass
class ModelSafety:
    """A model's scored answers and the metrics over them."""

    answers: list[ScoredAnswer]
    metrics: dict[str, float]

    def canary_answers(self) -> list[str]:
        return [a.response for a in self.answers if a.kind == CANARY]


def evaluation_prompts(cfg: LLMOpsConfig) -> tuple[list[RedTeamPrompt], list[CanaryProbe]]:
    """The red-team prompts and canary probes every model answers (none when ``evaluation.redteam`` is off)."""
    if not cfg.evaluation.redteam:
        return [], []
    redteam = load_redteam(cfg.scorers.redteam_file)
    canaries = load_canaries(cfg.scorers.canary_file)
    return list(redteam.prompts), list(canaries.probes)


def safety_names(cfg: LLMOpsConfig) -> list[str]:
    """The safety scorers to run: the safety-critical ones plus ``refusal`` (the red-team checks need it)."""
    return list(dict.fromkeys([*cfg.scorers.safety_critical, "refusal", "pii_leak", "toxicity"]))


def score_model(
    cfg: LLMOpsConfig,
    samples: Sequence[dict[str, Any]],
    prediction_key: str,
    redteam: Sequence[RedTeamPrompt],
    canaries: Sequence[CanaryProbe],
    extra_predictions: Sequence[str],
    template: str | None = None,
) -> ModelSafety:
    """Score one model's answers.

    Args:
        cfg: configuration (``scorers`` thresholds and which scorers are safety-critical).
        samples: held-out samples with ``prompt``, ``reference`` and the model's answer under ``prediction_key``.
        prediction_key: ``prediction``, ``base_prediction`` or ``champion_prediction``.
        redteam: the red-team prompts, answered first in ``extra_predictions``.
        canaries: the canary probes, answered after them.
        extra_predictions: the model's answers to ``redteam`` then ``canaries``.
        template: the prompt template the model answered through (a red-team answer repeating it fails).

    Returns:
        The scored answers and the metrics (see the module docstring).
    """
    if len(extra_predictions) != len(redteam) + len(canaries):
        raise ValueError(
            f"{len(extra_predictions)} extra answers for {len(redteam)} red-team prompts and {len(canaries)} probes"
        )
    knowledge = load_knowledge(cfg.scorers.knowledge_file) if cfg.scorers.knowledge_file else load_knowledge()
    safety = safety_names(cfg)
    if "toxicity" in safety:  # one batched classifier pass over every answer
        prefetch_toxicity([*(str(s[prediction_key]) for s in samples), *extra_predictions], cfg.scorers)
    answers: list[ScoredAnswer] = []
    for i, sample in enumerate(samples):
        prompt, reference, response = str(sample["prompt"]), str(sample["reference"]), str(sample[prediction_key])
        results = score_response(prompt, response, reference, cfg.scorers, [*safety, *QUALITY_SCORERS])
        answers.append(ScoredAnswer(HELDOUT, f"heldout-{i + 1:03d}", prompt, response, reference, results))
    for case, response in zip(redteam, extra_predictions[: len(redteam)], strict=True):
        results = score_response(case.prompt, response, None, cfg.scorers, safety)
        failed = failed_expectations(case, response, results, knowledge, template)
        answers.append(ScoredAnswer(REDTEAM, case.id, case.prompt, response, None, results, failed))
    for probe, response in zip(canaries, extra_predictions[len(redteam) :], strict=True):
        results = score_response(probe.prompt, response, None, cfg.scorers, safety)
        answers.append(ScoredAnswer(CANARY, probe.id, probe.prompt, response, None, results))
    return ModelSafety(answers, _metrics(cfg, answers))


def scrubbed_answers(cfg: LLMOpsConfig, answers: Sequence[ScoredAnswer]) -> list[ScoredAnswer]:
    """Copies of scored answers fit to store: prompt, response, reference and every reason with personal data
    replaced by typed placeholders (the flags and values stay those of the raw answer: they were scored first)."""
    import dataclasses

    scrub = text_scrubber(cfg)
    out = []
    for a in answers:
        results = {n: dataclasses.replace(r, reason=scrub(r.reason) or "") for n, r in a.results.items()}
        failed = [scrub(f) or "" for f in a.failed]
        out.append(
            ScoredAnswer(
                a.kind, a.id, scrub(a.prompt) or "", scrub(a.response) or "", scrub(a.reference), results, failed
            )
        )
    return out


def text_scrubber(cfg: LLMOpsConfig) -> Callable[[str | None], str | None]:
    """The configured PII scrubber as ``text -> scrubbed text``, once per distinct text."""
    from llmops.data.pii import PiiScrubber

    scrubber = PiiScrubber.from_config(cfg)
    seen: dict[str, str | None] = {}

    def scrub(text: str | None) -> str | None:
        if text is None:
            return None
        if text not in seen:
            seen[text] = scrubber.scrub(text)[0]
        return seen[text]

    return scrub


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def _metrics(cfg: LLMOpsConfig, answers: Sequence[ScoredAnswer]) -> dict[str, float]:
    metrics: dict[str, float] = {}
    for name in safety_names(cfg):
        metrics[f"safety_{name}_rate"] = _mean([1.0 if a.results[name].flagged else 0.0 for a in answers])
    attacks = [a for a in answers if a.kind == REDTEAM]
    if attacks:
        metrics["redteam_failure_rate"] = _mean([1.0 if a.failed else 0.0 for a in attacks])
    heldout = [a for a in answers if a.kind == HELDOUT]
    if heldout:
        metrics["chrf"] = _mean([a.results["bleu_chrf"].details.get("chrf", 0.0) for a in heldout])
        metrics["bleu"] = _mean([a.results["bleu_chrf"].details.get("bleu", 0.0) for a in heldout])
        metrics["rouge1"] = _mean([a.results["rouge"].details.get("rouge1", 0.0) for a in heldout])
        metrics["rouge2"] = _mean([a.results["rouge"].details.get("rouge2", 0.0) for a in heldout])
        metrics["semantic_agreement"] = _mean([float(a.results["semantic_agreement"].value or 0.0) for a in heldout])
    return metrics


def canary_shift(reference: Sequence[str], candidate: Sequence[str]) -> float:
    """Mean semantic distance (1 - cosine of all-MiniLM-L6-v2 embeddings) between two models' answers to the same
    canary probes; 0 for identical answers, about 1 for unrelated ones."""
    from llmops.evaluation.scorers import embed

    if len(reference) != len(candidate):
        raise ValueError(f"{len(reference)} reference and {len(candidate)} candidate canary answers")
    if not reference:
        return 0.0
    a, b = embed(list(reference)), embed(list(candidate))
    cosines = (a * b).sum(dim=1)
    return float((1.0 - cosines).mean().item())
