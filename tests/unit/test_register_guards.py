"""Registration refuses a candidate whose own evaluation is not finite: nothing is logged, registered or aliased."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from llmops.config import LLMOpsConfig, load_config
from llmops.errors import Permanent

GATE = {"passed": False, "reason": "candidate eval_loss is not finite (nan)"}


@pytest.fixture
def cfg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LLMOpsConfig:
    monkeypatch.setenv("LLMOPS_HOME", str(tmp_path / "home"))
    return load_config()


@pytest.mark.parametrize(
    ("metrics", "named"),
    [
        ({"eval_loss": float("nan"), "base_eval_loss": 3.0}, "eval_loss=nan"),
        ({"eval_loss": 1.0, "perplexity": float("inf"), "rouge_l": float("nan")}, "perplexity=inf, rouge_l=nan"),
        ({"eval_loss": 1.0, "exact_match": "n/a"}, "exact_match=nan"),
    ],
)
def test_a_non_finite_evaluation_is_never_registered(
    cfg: LLMOpsConfig, monkeypatch: pytest.MonkeyPatch, metrics: dict[str, Any], named: str
) -> None:
    from llmops.registry import register

    calls: list[Any] = []
    monkeypatch.setattr(register, "log_and_register", lambda *a, **k: calls.append(a))
    finetune = {"mlflow_run_id": "r", "model_dir": "/nowhere", "base_model": "tiny"}
    with pytest.raises(Permanent, match=f"not registered: the candidate's evaluation is not finite \\({named}\\)"):
        register.register_candidate(cfg, "manual__nan", finetune, metrics, GATE, {})
    assert calls == [], "nothing may be logged or registered, and challenger must not move"


def test_non_finite_references_do_not_block_registration(cfg: LLMOpsConfig, monkeypatch: pytest.MonkeyPatch) -> None:
    """A NaN base or champion figure fails the gate (see the gate tests), but the candidate itself is sound."""
    from llmops.registry import register
    from llmops.registry.registry import RegisteredVersion

    monkeypatch.setattr(
        register, "log_and_register", lambda *a, **k: RegisteredVersion("m", "1", "models:/m/1", "r", True)
    )
    cards: list[str] = []
    monkeypatch.setattr(register, "publish_model_card", lambda *a: cards.append(a[-1]))
    metrics = {"eval_loss": 1.0, "base_eval_loss": float("nan"), "champion_eval_loss": float("inf")}
    finetune = {"mlflow_run_id": "r", "model_dir": "/nowhere", "base_model": "tiny"}
    out = register.register_candidate(cfg, "manual__ok", finetune, metrics, GATE, {})
    assert out["version"] == "1" and out["gate_passed"] is False
    # the card shows what was measured, non-finite figures as n/a, and the gate's verdict
    (card,) = cards
    assert "| eval_loss | 1 | n/a | n/a |" in card and f"**Promotion gate**: failed: {GATE['reason']}" in card
