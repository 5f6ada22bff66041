"""Prompt releases: serve the champion's weights with a new prompt, gated like a model promotion.

A prompt release is a change of what the model says as real as new weights, so it goes the same way:

1. the new template is registered in MLflow's prompt registry as a new version of the champion's prompt, alias
   ``challenger`` (:func:`llmops.prompts.register_release_version`);
2. the champion's weights are fetched from the registry and written, with the new ``prompt.json`` beside them, into
   the run's folder (:func:`prepare_candidate`): the candidate;
3. the candidate (same weights, new prompt) is evaluated against the champion as it serves (same weights, current
   prompt) and the base model, with the same scorers and the same gate as a fine-tuned candidate, safety included;
4. the candidate is registered as a model version of its own (:func:`register_release`), tagged with the champion's
   lineage (data snapshot, base model, training fingerprint), the weights' origin and the new prompt; its model card
   says it is a prompt release;
5. approval, decision and serving are a model promotion's: a new Triton version folder (same weights, new
   ``prompt.json``), loaded, ready and smoke-tested before ``champion`` moves. The event's kind is
   ``prompt_release``; recording it points the prompt's ``champion`` alias at the new prompt version.

A rollback (``llm_rollback``, or the monitoring's rollback watch, which treats a prompt release like a promotion)
serves the version the release replaced, and recording it points the prompt's ``champion`` alias back.

No Airflow import here; the steps are in :mod:`llmops.prompts.steps`.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from llmops.config import LLMOpsConfig
from llmops.errors import Permanent
from llmops.prompts import Prompt, read_prompt_file, write_prompt_file

log = logging.getLogger(__name__)

RELEASE_KIND = "prompt_release"
KIND_TAG = "llmops.release_kind"  # on a registered version: "prompt_release" (absent: a fine-tuned model)
WEIGHTS_FROM_TAG = "llmops.weights_from_version"  # the version whose weights a prompt release serves
CANDIDATE_DIR = "prompt_candidate"

# What the approval and the decision are told about drift: a prompt release changes no weights and no training data.
NO_DRIFT_CHECK: dict[str, Any] = {
    "block_promotion": False,
    "reason": "not checked: a prompt release serves the champion's weights, trained on the same data",
}

# The champion version's tags a prompt release inherits: the weights are the same, so is their lineage.
LINEAGE_TAGS = (
    "llmops.data_snapshot",
    "llmops.data_snapshot_hash",
    "llmops.data_rows",
    "llmops.gx_passed",
    "llmops.deepspeed_config_hash",
    "llmops.base_model",
    "llmops.training_fingerprint",
)


class PromptReleaseError(Permanent):
    """The prompt release cannot go ahead (no champion, an unusable template, the same prompt as the champion's);
    nothing was changed. Retrying will not help."""


def champion_version(cfg: LLMOpsConfig) -> str:
    """The registered version ``champion`` points at.

    Raises:
        PromptReleaseError: there is no champion (a prompt release changes the prompt of a model that serves).
    """
    from llmops.registry import registry

    version = registry.alias_version(cfg, registry.CHAMPION)
    if version is None:
        raise PromptReleaseError(
            f"{cfg.mlflow.model_name} has no {registry.CHAMPION}: a prompt release serves the champion's weights with "
            "a new prompt; promote a model first (llm_finetune_pipeline)"
        )
    return version


def new_template(cfg: LLMOpsConfig, text: str | None, file: str | None) -> str:
    """The template a release asks for: ``text``, or the file ``file`` (relative to the data folder, or
    ``include/...`` in the project; see :func:`llmops.config.runtime.confined_path`).

    Raises:
        PromptReleaseError: both or neither given, the file is outside the data folder or unreadable, or the
            template does not validate (:func:`llmops.prompts.check_template`).
    """
    from llmops.config.runtime import InvalidParams, confined_path
    from llmops.prompts import check_template, read_template_file

    text, file = (text or "").strip("\r"), (file or "").strip()
    if bool(text.strip()) == bool(file):
        raise PromptReleaseError("give the new template either as text (template) or as a file (template_file), "
                                 "not both and not neither")  # fmt: skip
    try:
        if file:
            text = read_template_file(confined_path("template_file", file, cfg.paths.data_dir))
        return check_template(text)
    except (ValueError, InvalidParams) as exc:
        raise PromptReleaseError(f"the new template is not usable: {exc}") from exc


def served_prompt(cfg: LLMOpsConfig, version: str) -> Prompt | None:
    """The prompt the Triton folder of ``version`` serves with (``None`` when it has none, or no folder)."""
    from llmops.serving.repository import WEIGHTS_DIR, version_path

    folder = version_path(cfg.paths.model_repository, cfg.triton.model_name, version) / WEIGHTS_DIR
    return read_prompt_file(folder) if folder.is_dir() else None


def prepare_candidate(cfg: LLMOpsConfig, run_key: str, version: str, prompt: Prompt) -> Path:
    """The champion's weights with ``prompt`` beside them, in ``<runs>/<run_key>/prompt_candidate``.

    The weights are fetched from the registry (the registered artifact, not the Triton folder) into a scratch folder,
    checked against the weights digest the promotion log recorded when the version served (the registry is not
    trusted: replaced artifacts are refused, as for a rollback), and moved into place when complete; a retry finds
    the folder and only checks its prompt.

    Raises:
        PromptReleaseError: the folder exists with another prompt (another release under the same run key).
        UntrustedWeights: the download does not match the recorded digest, or none was recorded.
    """
    from llmops.registry import registry
    from llmops.serving.trust import check_downloaded_weights

    out_dir = cfg.paths.runs_dir / run_key
    final = out_dir / CANDIDATE_DIR
    if final.is_dir():
        existing = read_prompt_file(final)
        if existing is None or existing.sha256 != prompt.sha256:
            raise PromptReleaseError(f"{final} holds another prompt than {prompt.label}: remove it to release again")
        return final
    scratch = out_dir / f".{CANDIDATE_DIR}-download"
    shutil.rmtree(scratch, ignore_errors=True)
    try:
        weights = registry.model_dir_of_version(cfg, version, scratch / "artifacts")
        check_downloaded_weights(cfg, version, weights)
        staged = scratch / CANDIDATE_DIR
        shutil.copytree(weights, staged)
        write_prompt_file(staged, prompt)
        staged.replace(final)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    log.info("candidate of the prompt release: weights of version %s with prompt %s in %s", version, prompt.label,
             final)  # fmt: skip
    return final


def base_model_of(cfg: LLMOpsConfig, tags: Mapping[str, str]) -> str:
    """The base model the champion was fine-tuned from (its ``llmops.base_model`` tag when that folder is here, else
    ``base_model.name_or_path``), for the evaluation's comparison with the base model.

    Raises:
        PromptReleaseError: neither is available.
    """
    tagged = str(tags.get("llmops.base_model") or "")
    if tagged and Path(tagged).is_dir():
        return tagged
    if cfg.base_model.name_or_path:
        return cfg.base_model.name_or_path
    raise PromptReleaseError(
        f"the champion's base model {tagged or '(not recorded)'} is not on this machine and base_model.name_or_path "
        "is not set: the evaluation compares with the base model"
    )


def release_tags(champion_tags: Mapping[str, str], weights_from: str, prompt: Prompt) -> dict[str, str]:
    """The tags of the version a prompt release registers: the champion's lineage, the weights' origin, the kind."""
    from llmops.registry.register import code_version
    from llmops.registry.tracking import PROMPT_TAG

    return {
        **{k: str(champion_tags[k]) for k in LINEAGE_TAGS if k in champion_tags},
        KIND_TAG: RELEASE_KIND,
        WEIGHTS_FROM_TAG: str(weights_from),
        PROMPT_TAG: prompt.label,
        f"{PROMPT_TAG}_sha256": prompt.sha256,
        "llmops.code_version": code_version(),
    }


def release_card(card: str, weights_from: str, replaced: Prompt | None, prompt: Prompt, reason: str) -> str:
    """The model card of a prompt release: the pipeline's card with what the release changed on top."""
    head, _, rest = card.partition("\n## Intended use")
    was = f"`{replaced.label}` (`{replaced.template!r}`)" if replaced is not None else "the built-in template"
    section = [
        "",
        "## Prompt release",
        "",
        f"- Same weights as version {weights_from}; only the prompt changed.",
        f"- New prompt `{prompt.label}`: `{prompt.template!r}`",
        f"- Replaces {was}",
        f"- Reason: {reason}",
        "",
    ]
    return head + "\n".join(section) + "\n## Intended use" + rest if rest else card + "\n".join(section)


def register_release(
    cfg: LLMOpsConfig,
    run_key: str,
    finetune: Mapping[str, Any],
    metrics: Mapping[str, float],
    gate: Mapping[str, Any],
    weights_from: str,
    replaced: Prompt | None,
    reason: str,
) -> dict[str, Any]:
    """Register the candidate as a version of its own (check, then create; alias ``challenger``), linked to its
    prompt, tagged with the champion's lineage, the gate and the metrics, with its model card.

    Returns:
        ``{"name", "version", "model_uri", "created", "gate_passed"}``.

    Raises:
        Permanent: a candidate metric is not finite (nothing registered).
    """
    from llmops.data.snapshot import SNAPSHOT_HASH_TAG, SNAPSHOT_TAG
    from llmops.registry import registry
    from llmops.registry.model_card import model_card
    from llmops.registry.register import publish_model_card, refuse_non_finite, registered, verdict_tags

    refuse_non_finite(metrics)
    source = registry.get_version(cfg, weights_from)
    champion_tags = dict((source.tags or {}) if source is not None else {})
    prompt = read_prompt_file(Path(finetune["model_dir"]))
    if prompt is None:
        raise Permanent(f"the candidate folder {finetune['model_dir']} has no prompt.json")
    tags = {**release_tags(champion_tags, weights_from, prompt), **verdict_tags(gate, metrics)}
    rv = registry.log_and_register(
        cfg, finetune["mlflow_run_id"], Path(finetune["model_dir"]), run_key, tags, [prompt.uri]
    )
    data = {
        "train_path": champion_tags.get(SNAPSHOT_TAG, ""),
        "snapshot_hash": champion_tags.get(SNAPSHOT_HASH_TAG, ""),
        "rows_out": champion_tags.get("llmops.data_rows", "n/a"),
        "gx_passed": champion_tags.get("llmops.gx_passed") == "True",
    }
    card = model_card(cfg, rv.version, run_key, finetune, metrics, gate, data, tags["llmops.code_version"])
    publish_model_card(cfg, finetune, rv.name, rv.version, release_card(card, weights_from, replaced, prompt, reason))
    return registered(rv, gate)
