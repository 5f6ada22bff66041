"""Weights written again from the registry must be the weights the platform served.

Whoever can write MLflow can replace a version's artifacts. A promotion or rollback therefore records, in the
platform's own append-only promotion log, a **weights digest** of the version folder it served: SHA-256 over the
canonical JSON of the manifest entries (size and SHA-256) of the weight and tokenizer files (``model/...``; the
platform's ``model.py`` is left out, it changes with releases). Before a rollback or reconcile writes a version into
the model repository again from downloaded artifacts (:func:`llmops.serving.reconcile.rematerialize_locked`), the
download's digest must equal the one recorded when the version first served; otherwise nothing is written.

Registry tags are never the reference: a tag is as writable as the artifacts it would vouch for.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from llmops.config import LLMOpsConfig
from llmops.errors import Permanent
from llmops.registry import registry
from llmops.serving.champion import promotion_log_path
from llmops.serving.repository import WEIGHTS_DIR, read_manifest, weights_manifest

DIGEST_KEY = "weights_digest"


class UntrustedWeights(Permanent):
    """Artifacts downloaded from the registry do not match the digest the platform recorded (or none was recorded):
    they are not written into the model repository. Retrying will not help."""


def weights_digest(files: Mapping[str, Mapping[str, Any]]) -> str:
    """SHA-256 (hex) of the ``model/...`` entries of a version manifest's ``files`` (size and SHA-256 each).

    Args:
        files: ``{relative path: {"bytes", "sha256"}}`` as in ``MANIFEST.json``; other entries are ignored.
    """
    entries = {
        rel: {"bytes": int(meta["bytes"]), "sha256": str(meta["sha256"])}
        for rel, meta in files.items()
        if rel.startswith(f"{WEIGHTS_DIR}/")
    }
    text = json.dumps(entries, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def folder_weights_digest(version_dir: Path) -> str:
    """The weights digest of a version folder from its manifest (``""`` when it has none)."""
    manifest = read_manifest(version_dir)
    return weights_digest(manifest["files"]) if manifest is not None else ""


def recorded_weights_digest(cfg: LLMOpsConfig, version: int | str) -> str | None:
    """The digest the promotion log recorded when ``version`` first served (``None`` when no event of this model
    for the version carries one: it never served through this platform, or before digests were recorded)."""
    for event in registry.read_events(promotion_log_path(cfg)):
        if (
            event.get("model") == cfg.mlflow.model_name
            and str(event.get("to_version")) == str(version)
            and event.get(DIGEST_KEY)
        ):
            return str(event[DIGEST_KEY])
    return None


def check_downloaded_weights(cfg: LLMOpsConfig, version: int | str, model_dir: Path) -> str:
    """Compare weights downloaded from the registry with the digest recorded for ``version``.

    Returns:
        The digest (equal to the recorded one).

    Raises:
        UntrustedWeights: no digest is recorded for the version, or the download's differs; the message says
            which and that the artifacts may have been replaced.
        ValueError: the download is not a servable model directory (pickle files, no safetensors, links).
    """
    recorded = recorded_weights_digest(cfg, version)
    if recorded is None:
        raise UntrustedWeights(
            f"version {version} of {cfg.mlflow.model_name} has no weights digest in the promotion log "
            f"{promotion_log_path(cfg)} (it never served through this platform, or before digests were recorded), "
            "so its artifacts from the registry cannot be verified; they are not written into the model repository"
        )
    actual = weights_digest(weights_manifest(model_dir))
    if actual != recorded:
        raise UntrustedWeights(
            f"the weights of version {version} of {cfg.mlflow.model_name} downloaded from the registry have digest "
            f"{actual}, but the promotion log recorded {recorded} when it served: the registry's artifacts may "
            "have been replaced; they are not written into the model repository"
        )
    return actual
