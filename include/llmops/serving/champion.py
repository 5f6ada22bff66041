"""The ``promote_to_triton`` step: serve the new version on Triton, then move the ``champion`` alias."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from llmops.config import LLMOpsConfig
from llmops.registry import registry

log = logging.getLogger(__name__)

PROMOTION_LOG = "promotions.jsonl"


class PromotionRefused(RuntimeError):
    """The candidate must not be promoted (gate or drift); nothing was changed."""


def promotion_log_path(cfg: LLMOpsConfig) -> Path:
    """The append-only log of promotions and rollbacks."""
    return cfg.paths.home / PROMOTION_LOG


def promote_to_triton(
    cfg: LLMOpsConfig,
    run_key: str,
    registration: dict[str, Any],
    finetune: dict[str, Any],
    evaluation: dict[str, Any],
    drift: dict[str, Any],
    at: str,
) -> dict[str, Any]:
    """Write, load, ready-check and smoke-test the registered version on Triton; then make it ``champion``.

    Check-then-act: when ``champion`` already points at this version and Triton serves it, nothing changes.
    On failure the previously served version keeps serving and ``champion`` does not move.

    Args:
        at: the time of the event, taken from the run's logical date (not the wall clock).

    Raises:
        PromotionRefused: the gate rejected the candidate, or drift blocks promotion (configured).
        RuntimeError: Triton is unreachable or the promotion failed (reason in the message).
    """
    from llmops.serving.client import TritonClient
    from llmops.serving.promote import PromotionError, promote_version
    from llmops.serving.repository import served_version

    gate = evaluation["gate"]
    if not gate["passed"]:
        raise PromotionRefused(f"not promoted: {gate['reason']}")
    if drift.get("block_promotion"):
        raise PromotionRefused(f"not promoted: drift gate: {drift.get('reason')}")

    version = str(registration["version"])
    name = cfg.triton.model_name
    repo = cfg.paths.model_repository
    previous = registry.alias_version(cfg, registry.CHAMPION)
    client = TritonClient(
        cfg.triton.http_url, timeout=cfg.triton.ready_timeout_s, control_header=cfg.triton.control_header
    )
    try:
        if not client.server_ready():
            raise RuntimeError(f"Triton is not ready at http://{cfg.triton.http_url}; start the stack with `make up`")
        if previous == version and served_version(repo, name) == int(version) and client.is_model_ready(name, version):
            log.info("version %s is already champion and served; nothing to do", version)
            return {"served_version": version, "previous_version": previous, "changed": False}
        try:
            result = promote_version(
                repo, name, int(version), Path(finetune["model_dir"]), cfg.triton, cfg.paths.prod_log_dir, client
            )
        except PromotionError as exc:
            raise RuntimeError(
                f"promotion of version {version} failed, version {exc.result.served_version} keeps serving: "
                f"{exc.result.reason}"
            ) from exc
    finally:
        client.close()

    registry.move_champion(
        cfg,
        registry.AliasEvent(
            kind="promotion",
            model=cfg.mlflow.model_name,
            from_version=previous,
            to_version=version,
            run_key=run_key,
            reason=str(gate["reason"]),
            at=at,
        ),
        promotion_log_path(cfg),
    )
    log.info("version %s serves on Triton as champion (was %s): %s", version, previous, result.reason)
    return {
        "served_version": version,
        "previous_version": previous,
        "changed": True,
        "smoke_response": result.smoke_response,
        "smoke_latency_ms": result.smoke_latency_ms,
        "triton_model": name,
    }
