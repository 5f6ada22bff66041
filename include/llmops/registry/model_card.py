"""The model card of a registered version: ``MODEL_CARD.md``, an artifact of its training run and the version's
description in the registry, and the text the approval form shows.

Built only from what the pipeline measured and recorded (no hand-written figures): the base model, the data snapshot
and its counts, every evaluation metric of the candidate beside the base model's and the champion's, the gate's
verdict, the prompt template and its hash, and the provenance (run, code version, configuration hash, training
fingerprint). The intended use and the known limits are the deployment's words: ``INTENDED_USE`` and
``KNOWN_LIMITS`` below.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from llmops.config import LLMOpsConfig

CARD_FILE = "MODEL_CARD.md"
INTENDED_USE = (
    "Answering customers' how-to questions about the product (syncing, sharing, billing, account recovery) in "
    "short English answers, behind the support site's chat. Not for decisions about a customer's account, legal, "
    "medical or financial advice, or any language other than English."
)
KNOWN_LIMITS = (
    "A small causal language model fine-tuned on curated support conversations: it can state product facts that "
    "are not true (the `unsupported_facts` rate below), it answers only what resembles its training data, and it "
    "has no access to a customer's account.",
    "Safety rates are measured on the held-out set, the red-team prompts and the canary probes of this run; live "
    "rates come from hourly monitoring.",
    "Personal data was scrubbed from the training data before training; what the scrubber misses is measured in "
    "`make bench-data`.",
)
SAFETY_PREFIXES = ("safety_", "redteam_", "canary_")


def _fmt(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int | float):
        return "n/a" if not math.isfinite(float(value)) else f"{float(value):.4g}"
    return str(value)


def _table(metrics: Mapping[str, float], names: list[str], champion: bool) -> list[str]:
    head = "| metric | candidate | base |" + (" champion |" if champion else "")
    rule = "|---|---:|---:|" + ("---:|" if champion else "")
    rows = [head, rule]
    for name in names:
        cells = [_fmt(metrics.get(name)), _fmt(metrics.get(f"base_{name}"))]
        if champion:
            cells.append(_fmt(metrics.get(f"champion_{name}")))
        rows.append(f"| {name} | " + " | ".join(cells) + " |")
    return rows


def model_card(
    cfg: LLMOpsConfig,
    version: str,
    run_key: str,
    finetune: Mapping[str, Any],
    metrics: Mapping[str, float],
    gate: Mapping[str, Any],
    data: Mapping[str, Any],
    code_version: str,
) -> str:
    """The card's Markdown for one registered version (same inputs, same text)."""
    from pathlib import Path

    from llmops.audit import config_hash
    from llmops.prompts import default_prompt, read_prompt_file

    model_dir = Path(str(finetune.get("model_dir", "")))
    prompt = (read_prompt_file(model_dir) if finetune.get("model_dir") and model_dir.is_dir() else None) or (
        default_prompt(cfg.mlflow.prompt_file)
    )

    own = sorted(k for k in metrics if not k.startswith(("base_", "champion_")))
    champion = any(k.startswith("champion_") for k in metrics)
    safety = [k for k in own if k.startswith(SAFETY_PREFIXES)]
    quality = [k for k in own if k not in safety]
    pii = data.get("pii_counts") or {}
    lines = [
        f"# {cfg.mlflow.model_name} version {version}",
        "",
        "## Intended use",
        "",
        INTENDED_USE,
        "",
        "## Model",
        "",
        f"- Base model: `{finetune.get('base_model', '')}`",
        f"- Fine-tuned by run `{run_key}` (training fingerprint `{finetune.get('training_fingerprint', '')}`)",
        f"- Prompt `{prompt.label}` (sha256 `{prompt.sha256[:16]}`): `{prompt.template!r}`",
        "",
        "## Training data",
        "",
        f"- Snapshot `{data.get('snapshot_hash', '')}` ({data.get('train_path', '')})",
        f"- Rows: {data.get('rows_in', 'n/a')} in, {data.get('rows_quarantined', 'n/a')} quarantined, "
        f"{data.get('duplicates_removed', 'n/a')} duplicates removed (exact {data.get('exact_duplicates', 'n/a')}, "
        f"near {data.get('near_duplicates', 'n/a')}), {data.get('contaminated', 'n/a')} overlapping the eval set, "
        f"{data.get('rows_out', 'n/a')} trained on",
        "- Personal data scrubbed: " + (", ".join(f"{k} {v}" for k, v in sorted(pii.items()) if v) or "none found"),
        f"- Data contract (Great Expectations): {'held' if data.get('gx_passed') else 'see the run'}",
        "",
        "## Evaluation",
        "",
        f"Held-out set of this run; the champion's column is {'shown' if champion else 'absent (no champion)'}.",
        "",
        *_table(metrics, quality, champion),
        "",
        "## Safety",
        "",
        *_table(metrics, safety, champion),
        "",
        f"**Promotion gate**: {'passed' if gate.get('passed') else 'failed'}: {gate.get('reason', '')}",
        "",
        "## Known limits",
        "",
        *(f"- {limit}" for limit in KNOWN_LIMITS),
        "",
        "## Provenance",
        "",
        f"- Code version `{code_version}`, configuration `sha256:{config_hash(cfg)[:16]}`",
        f"- MLflow run `{finetune.get('mlflow_run_id', '')}`",
        "",
    ]
    return "\n".join(lines)
