"""The prompt release's own steps (``llm_prompt_release``); evaluation, gate, approval and decision are the model
promotion's steps. Task functions only (task id = function name); the engine is :mod:`llmops.prompts.release`.
"""

from __future__ import annotations

import logging
from typing import TypedDict

from llmops.evaluation.steps import Evaluation
from llmops.registry.steps import Registration
from llmops.run import Run
from llmops.serving.steps import Promotion, serve_decided
from llmops.training.steps import Finetune
from llmops.verdict import Verdict, VerdictDict, record

log = logging.getLogger(__name__)


class PromptCandidate(TypedDict):
    prompt: str  # <name>/<version> of the registered challenger prompt
    sha256: str
    champion_version: str  # the model version whose weights the release serves
    replaces: str | None  # <name>/<version> of the prompt the champion serves with (None: the built-in template)
    reason: str


def register_prompt_candidate(run: Run) -> PromptCandidate:
    """Register the new template (`template` text or `template_file`) as a new version of the champion's prompt in
    MLflow's prompt registry, alias `challenger` (once per run). Fails without retries, changing nothing, when there
    is no champion, the template is unusable (no `{{prompt}}`, too long, control characters) or is the one the
    champion serves with already."""
    from llmops.prompts import champion_prompt, register_release_version
    from llmops.prompts.release import PromptReleaseError, champion_version, new_template, served_prompt

    cfg = run.config
    reason = str(run.param("reason") or "prompt release")
    try:
        version = champion_version(cfg)
        template = new_template(cfg, run.param("template"), run.param("template_file"))
        current = served_prompt(cfg, version)
        name = current.name if current is not None else champion_prompt(cfg).name
        if current is not None and current.template == template:
            raise PromptReleaseError(f"the template is the one champion version {version} serves with already "
                                     f"({current.label}): nothing to release")  # fmt: skip
    except PromptReleaseError as exc:
        record(run, Verdict("prompt_candidate", False, str(exc), on_fail="fail"))
        raise
    prompt = register_release_version(cfg, name, template, run.key, reason)
    replaces = current.label if current is not None else None
    verdict = Verdict(
        "prompt_candidate", True, f"prompt {prompt.label} registered as challenger, to serve with the weights of "
        f"champion version {version} in place of {replaces or 'the built-in template'}: {reason}", on_fail="fail",
    )  # fmt: skip
    record(run, verdict)
    return PromptCandidate(
        prompt=prompt.label, sha256=prompt.sha256, champion_version=version, replaces=replaces, reason=reason
    )


def prepare_prompt_candidate(run: Run, candidate: PromptCandidate) -> Finetune:
    """The candidate: the champion's weights, fetched from the registry, with the new prompt beside them, in the
    run's folder; an MLflow run records the release. What `evaluate_model` and `gate_model` take from a training
    run, so the candidate is scored and gated exactly like a fine-tuned one."""
    from llmops.prompts import load_prompt
    from llmops.prompts.release import PromptReleaseError, base_model_of, prepare_candidate
    from llmops.registry import registry, tracking

    cfg = run.config
    prompt = load_prompt(cfg, candidate["prompt"])
    if prompt.sha256 != candidate["sha256"]:  # registry versions are immutable: someone replaced the store's record
        raise PromptReleaseError(f"prompt {prompt.label} in the registry is not the text registered by this run")
    source = registry.get_version(cfg, candidate["champion_version"])
    tags = dict((source.tags or {}) if source is not None else {})
    model_dir = prepare_candidate(cfg, run.key, candidate["champion_version"], prompt)
    # The run the verdicts of this release are recorded in (register_prompt_candidate created it).
    run_id = tracking.get_or_create_run(cfg, run.key, run.key, tags=dict(run.tracking_tags))
    c = tracking.client(cfg)
    c.set_tag(run_id, tracking.PROMPT_TAG, prompt.label)
    c.set_tag(
        run_id, "mlflow.note.content", f"Prompt release: {prompt.label} with the weights of version "
        f"{candidate['champion_version']} (replacing {candidate['replaces'] or 'the built-in template'}). "
        f"{candidate['reason']}",
    )  # fmt: skip
    return Finetune(
        mlflow_run_id=run_id,
        model_dir=str(model_dir),
        adapter_dir=None,
        base_model=base_model_of(cfg, tags),
        summary={},
        training_fingerprint=str(tags.get(tracking.TRAINING_FINGERPRINT_TAG, "")),
        prompt=prompt.label,
    )


def register_prompt_release(
    run: Run, candidate: PromptCandidate, finetune: Finetune, evaluation: Evaluation, gate: VerdictDict
) -> Registration:
    """Register the candidate as a model version of its own (once per run; alias `challenger`), linked to the new
    prompt, carrying the champion's data lineage, the weights' origin, the gate's verdict and a model card that says
    what the release changed. A refused candidate is registered too, without `champion`."""
    from llmops.prompts import load_prompt
    from llmops.prompts.release import register_release
    from llmops.verdict import tag_version

    replaced = load_prompt(run.config, candidate["replaces"]) if candidate["replaces"] else None
    out = register_release(
        run.config, run.key, finetune, evaluation["metrics"], gate, candidate["champion_version"], replaced,
        candidate["reason"],
    )  # fmt: skip
    tag_version(run.config, Verdict.from_dict(gate), out["version"])
    return Registration(**out)  # type: ignore[typeddict-item]  # register.registered: these fields, typed


def release_prompt(
    run: Run, registration: Registration, finetune: Finetune, decision: VerdictDict, evaluation: Evaluation
) -> Promotion:
    """Serve the accepted prompt on Triton as a promotion does (a new version folder with the same weights and the
    new `prompt.json`; load, ready, smoke test), then move `champion`; recording the `prompt_release` event points
    the prompt's `champion` alias at the new prompt. Skipped, with the reason, when `champion` moved since the
    evaluation."""
    from llmops.prompts.release import RELEASE_KIND

    return serve_decided(run, registration, finetune, decision, evaluation, kind=RELEASE_KIND)
