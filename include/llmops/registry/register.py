"""Registration engine: one registered version per pipeline run, alias ``challenger``."""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from llmops import __version__
from llmops.config import PROJECT_ROOT, LLMOpsConfig
from llmops.data.snapshot import SNAPSHOT_HASH_TAG, SNAPSHOT_TAG
from llmops.errors import Permanent
from llmops.evaluation.gate import describe, non_finite_candidate_metrics
from llmops.fsutil import file_sha256
from llmops.registry.model_card import CARD_FILE, model_card
from llmops.registry.registry import RegisteredVersion, log_and_register
from llmops.registry.tracking import PROMPT_TAG, TRAINING_FINGERPRINT_TAG


def code_version() -> str:
    """The git commit of the project when available, else the package version."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.SubprocessError):
        return __version__
    return out.stdout.strip() if out.returncode == 0 and out.stdout.strip() else __version__


def snapshot_hash(data: dict[str, Any]) -> str:
    """sha256 of the curated training snapshot (``snapshot_hash`` when the data step computed one already)."""
    if data.get("snapshot_hash"):
        return str(data["snapshot_hash"])
    path = Path(str(data.get("train_path") or ""))
    if not data.get("train_path") or not path.is_file():
        return ""
    return file_sha256(path)


def _prompt_sha256(model_dir: Path) -> str:
    """SHA-256 of the template in the weights' ``prompt.json`` ("" when the folder has none)."""
    from llmops.prompts import read_prompt_file

    prompt = read_prompt_file(model_dir) if model_dir.is_dir() else None
    return prompt.sha256 if prompt is not None else ""


def publish_model_card(cfg: LLMOpsConfig, finetune: Mapping[str, Any], name: str, version: str, card: str) -> None:
    """Write the card as ``MODEL_CARD.md`` in the training run's artifacts, as the run's description (the MLflow UI
    shows it as Markdown on the run's page) and as the version's description, below its serving headline if it has
    one (all replaced by a retry, with the same text)."""
    from llmops.registry.registry import SERVING_NOTE, client

    c = client(cfg)
    c.log_text(finetune["mlflow_run_id"], card, CARD_FILE)
    c.set_tag(finetune["mlflow_run_id"], "mlflow.note.content", card)
    old = c.get_model_version(name, version).description or ""
    headline = SERVING_NOTE.match(old)
    new = (headline.group(0) if headline else "") + card
    if old != new:
        c.update_model_version(name, version, description=new)


def refuse_non_finite(metrics: Mapping[str, float]) -> None:
    """Nothing is registered for a candidate whose own evaluation is not finite.

    Raises:
        Permanent: one of the candidate's own metrics is NaN or infinite (the message names them).
    """
    bad = non_finite_candidate_metrics(metrics)
    if bad:
        raise Permanent(f"not registered: the candidate's evaluation is not finite ({describe(bad)})")


def verdict_tags(gate: Mapping[str, Any], metrics: Mapping[str, float]) -> dict[str, str]:
    """The version tags of the gate's verdict and of every evaluation metric (``llmops.metric.<name>``)."""
    return {
        "llmops.gate.passed": str(gate["passed"]),
        "llmops.gate.reason": str(gate["reason"]),
        **{f"llmops.metric.{k}": f"{float(v):.6g}" for k, v in metrics.items()},
    }


def registered(rv: RegisteredVersion, gate: Mapping[str, Any]) -> dict[str, Any]:
    """``{"name", "version", "model_uri", "created", "gate_passed"}`` of a registration."""
    return {
        "name": rv.name,
        "version": str(rv.version),
        "model_uri": rv.model_uri,
        "created": bool(rv.created),
        "gate_passed": bool(gate["passed"]),
    }


def register_candidate(
    cfg: LLMOpsConfig,
    run_key: str,
    finetune: Mapping[str, Any],
    metrics: Mapping[str, float],
    gate: Mapping[str, Any],
    data: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Register the fine-tuned model (check, then create) and tag it with what it was made from and scored.

    Args:
        metrics: the evaluation's metrics (tagged ``llmops.metric.<name>``).
        gate: the promotion gate's verdict (``passed``, ``reason``): a rejected candidate is registered too.

    Returns:
        ``{"name", "version", "model_uri", "created", "gate_passed"}``.

    Raises:
        Permanent: one of the candidate's own metrics is NaN or infinite; nothing is registered and ``challenger``
            does not move.
    """
    refuse_non_finite(metrics)
    data = dict(data or {})
    ds_hash = hashlib.sha256(
        json.dumps(json.loads(Path(cfg.training.deepspeed_config).read_text()), sort_keys=True).encode()
    ).hexdigest()[:16]
    tags = {
        SNAPSHOT_TAG: str(data.get("train_path", "")),
        SNAPSHOT_HASH_TAG: snapshot_hash(data),
        "llmops.data_rows": str(data.get("rows_out", "")),
        "llmops.gx_passed": str(data.get("gx_passed", "")),
        "llmops.code_version": code_version(),
        "llmops.deepspeed_config_hash": ds_hash,
        "llmops.base_model": str(finetune.get("base_model", "")),
        TRAINING_FINGERPRINT_TAG: str(finetune.get("training_fingerprint", "")),
        PROMPT_TAG: str(finetune.get("prompt", "")),
        f"{PROMPT_TAG}_sha256": _prompt_sha256(Path(finetune["model_dir"])),
        **verdict_tags(gate, metrics),
    }
    label = str(finetune.get("prompt") or "")
    prompts = [f"prompts:/{label}"] if label and not label.endswith("/file") else None
    rv = log_and_register(cfg, finetune["mlflow_run_id"], Path(finetune["model_dir"]), run_key, tags, prompts)
    publish_model_card(cfg, finetune, rv.name, rv.version, model_card(
        cfg, rv.version, run_key, finetune, metrics, gate, data, tags["llmops.code_version"]
    ))  # fmt: skip
    return registered(rv, gate)
