"""Evaluation engine: fine-tuned vs base vs champion on the held-out set (the gate decides in ``gate.py``)."""

from __future__ import annotations

import json
import logging
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

from llmops.config import LLMOpsConfig
from llmops.evaluation.metrics import EvalResult, evaluate_causal_lm
from llmops.evaluation.safety import canary_shift, evaluation_prompts, score_model, scrubbed_answers
from llmops.fsutil import atomic_write_json, atomic_write_text
from llmops.prompts import load_prompt, read_prompt_file
from llmops.registry import registry, tracking

log = logging.getLogger(__name__)

EVAL_FILE = "evaluation.json"
SAMPLES_JSON = "generations.json"
SAMPLES_MD = "generations.md"
ANSWERS_JSON = "scored_answers.json"


def load_eval_set(cfg: LLMOpsConfig) -> tuple[list[str], list[str]]:
    """Prompts and references of the held-out set (bad lines are skipped here: the eval set is curated)."""
    from llmops.data.ingest import read_records

    result = read_records(cfg.raw_eval_path, cfg.data.max_line_bytes)
    if result.quarantined:
        log.warning("%d malformed lines in the eval set %s were skipped", len(result.quarantined), cfg.raw_eval_path)
    rows = [r for r in result.rows if str(r.get("prompt") or "").strip() and str(r.get("response") or "").strip()]
    rows = rows[: cfg.evaluation.max_rows]
    if not rows:
        raise ValueError(f"eval set {cfg.raw_eval_path} has no usable rows")
    return [str(r["prompt"]) for r in rows], [str(r["response"]) for r in rows]


def _evaluate(
    cfg: LLMOpsConfig,
    model_dir: str | Path,
    prompts: list[str],
    refs: list[str],
    extra: list[str],
    template: str | None,
) -> EvalResult:
    e = cfg.evaluation
    return evaluate_causal_lm(
        model_dir,
        prompts,
        refs,
        max_seq_len=cfg.training.max_seq_len,
        batch_size=e.batch_size,
        generation_rows=e.generation_rows,
        max_new_tokens=e.max_new_tokens,
        extra_prompts=extra,
        template=template,
    )


def evaluate_candidate(
    cfg: LLMOpsConfig, run_key: str, finetune: dict[str, Any], at: datetime | None = None
) -> dict[str, Any]:
    """Evaluate the fine-tuned model against the base model and the current champion (same eval set).

    The result is cached per run, so a retry does not evaluate again. Metrics are logged at step 0 with the
    timestamp ``at`` (the run's logical date; see :func:`llmops.registry.tracking.metric_timestamp_ms` when
    ``None``), so a re-run overwrites its history point instead of adding one.

    Returns:
        ``{"metrics": {...}, "champion_version", "samples_path", "eval_rows"}``; metrics of the base model and the
        champion are prefixed ``base_`` and ``champion_``.
    """
    out_dir = cfg.paths.runs_dir / run_key
    cached = out_dir / EVAL_FILE
    if cached.is_file():
        return dict(json.loads(cached.read_text()))

    prompts, refs = load_eval_set(cfg)
    redteam, canaries = evaluation_prompts(cfg)
    extra = [case.prompt for case in redteam] + [probe.prompt for probe in canaries]
    # The candidate and the base model answer through the prompt version the candidate was trained with (the
    # run's); the champion answers as it serves, through the prompt beside its weights (the run's when it has none).
    # A prompt release's candidate is the champion's weights with a new prompt: the comparison is then the new
    # prompt against the current one.
    template = load_prompt(cfg, finetune["prompt"]).template if finetune.get("prompt") else None
    candidate = _evaluate(cfg, finetune["model_dir"], prompts, refs, extra, template)
    base = _evaluate(cfg, finetune["base_model"], prompts, refs, extra, template)
    champion_version = registry.alias_version(cfg, registry.CHAMPION)
    champion: EvalResult | None = None
    champion_prompt, champion_template = "", template
    if champion_version is not None:
        tmp = out_dir / "champion_download"
        try:
            champion_dir = registry.model_dir_of_version(cfg, champion_version, tmp)
            own = read_prompt_file(champion_dir)
            champion_prompt = own.label if own is not None else str(finetune.get("prompt") or "")
            champion_template = own.template if own is not None else template
            champion = _evaluate(cfg, champion_dir, prompts, refs, extra, champion_template)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    metrics = {**candidate.metrics(), **base.metrics("base_")}
    if champion is not None:
        metrics.update(champion.metrics("champion_"))
    samples = [{**s, "base_prediction": b["prediction"]} for s, b in zip(candidate.samples, base.samples, strict=True)]
    if champion is not None:
        for sample, champ in zip(samples, champion.samples, strict=True):
            sample["champion_prediction"] = champ["prediction"]

    # What each model says: the scorer suite on its held-out, red-team and canary answers.
    scored = {
        "candidate": score_model(cfg, samples, "prediction", redteam, canaries, candidate.extra_predictions, template),
        "base": score_model(cfg, samples, "base_prediction", redteam, canaries, base.extra_predictions, template),
    }
    if champion is not None:
        scored["champion"] = score_model(
            cfg, samples, "champion_prediction", redteam, canaries, champion.extra_predictions, champion_template
        )
    for label, prefix in (("candidate", ""), ("base", "base_"), ("champion", "champion_")):
        if label in scored:
            metrics.update({f"{prefix}{k}": v for k, v in scored[label].metrics.items()})
    if champion is not None and canaries:
        metrics["canary_shift"] = canary_shift(
            scored["champion"].canary_answers(), scored["candidate"].canary_answers()
        )
    for label, key in (("candidate", "flags"), ("champion", "champion_flags")):  # the scorers' findings per answer
        for sample, answer in zip(samples, scored[label].answers if label in scored else [], strict=False):
            sample[key] = answer.to_dict()["flags"]
    # Everything written from here on (MLflow, the approval form, the files) holds scrubbed text only.
    samples = scrub_samples(cfg, samples)
    stored = {label: scrubbed_answers(cfg, model.answers) for label, model in scored.items()}

    run_id = finetune["mlflow_run_id"]
    c = tracking.client(cfg)
    tracking.log_metrics(cfg, run_id, {**metrics, "eval_rows": float(len(prompts))}, at=at, step=0)
    c.log_dict(run_id, {"samples": samples}, f"evaluation/{SAMPLES_JSON}")
    c.log_text(run_id, samples_markdown(samples, metrics), f"evaluation/{SAMPLES_MD}")
    answers = {label: [a.to_dict() for a in model] for label, model in stored.items()}
    c.log_dict(run_id, answers, f"evaluation/{ANSWERS_JSON}")
    if champion_version is not None:
        c.set_tag(run_id, "llmops.gate.champion_version", champion_version)
        c.set_tag(run_id, "llmops.gate.champion_prompt", champion_prompt)
    if cfg.evaluation.genai_evaluate:
        from llmops.evaluation.genai import log_genai_evaluation

        for label, model_answers in stored.items():
            log_genai_evaluation(cfg, run_id, run_key, label, model_answers, redteam)

    samples_path = out_dir / SAMPLES_JSON
    result = {
        "metrics": metrics,
        "champion_version": champion_version,
        "samples_path": str(samples_path),
        "eval_rows": len(prompts),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_json(samples_path, {"samples": samples})
    atomic_write_json(out_dir / ANSWERS_JSON, answers)
    atomic_write_text(out_dir / SAMPLES_MD, samples_markdown(samples, metrics))
    atomic_write_json(cached, result)
    return result


SAMPLE_TEXT_KEYS = ("prompt", "reference", "prediction", "base_prediction", "champion_prediction")


def scrub_samples(cfg: LLMOpsConfig, samples: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The sample generations with their texts and flag reasons scrubbed of personal data."""
    from llmops.evaluation.safety import text_scrubber

    scrub = text_scrubber(cfg)
    out = []
    for sample in samples:
        copy = {k: scrub(v) if k in SAMPLE_TEXT_KEYS and isinstance(v, str) else v for k, v in sample.items()}
        for key in ("flags", "champion_flags"):
            if isinstance(sample.get(key), dict):
                copy[key] = {n: scrub(r) if isinstance(r, str) else r for n, r in sample[key].items()}
        out.append(copy)
    return out


def samples_markdown(samples: list[dict[str, Any]], metrics: dict[str, float], reason: str | None = None) -> str:
    """The sampled generations as a Markdown page for reading: prompt, reference, and each model's answer."""
    lines = ["# Sample generations (greedy, held-out set)", ""]
    if reason:
        lines += [f"Gate: {reason}", ""]
    lines += [
        "| metric | value |",
        "|---|---|",
    ]
    lines += [f"| {k} | {v:.4f} |" for k, v in sorted(metrics.items())]
    for i, s in enumerate(samples, 1):
        lines += ["", f"## {i}. {s['prompt']}", "", f"- **reference**: {s['reference']}"]
        flags = "; ".join(f"{k}: {v}" for k, v in (s.get("flags") or {}).items())
        lines.append(f"- **fine-tuned** (ROUGE-L {s['rouge_l']:.2f}): {s['prediction']}")
        if flags:
            lines.append(f"  - flagged: {flags}")
        lines.append(f"- **base**: {s.get('base_prediction', '')}")
        if "champion_prediction" in s:
            lines.append(f"- **champion**: {s['champion_prediction']}")
    return "\n".join(lines) + "\n"
