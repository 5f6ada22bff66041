"""The served model's generation path (one batched pass, per-row limits and temperatures), the approval text and
decision, and rollback target parsing. A tiny GPT-2 is trained for a few steps so that it answers with words."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from llmops.config import LLMOpsConfig, TinyModelSpec, load_config
from llmops.serving import repository as repo_mod

MODEL_PY = Path(repo_mod.__file__).with_name("model.py")
PAIRS = [
    (f"How do I {verb} my {thing}?", f"Open the {place} page and choose {verb} {thing}.")
    for verb in ("reset", "share", "sync", "delete")
    for thing in ("password", "folder", "invoice")
    for place in ("settings", "billing")
]


def _served_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("llmops_served_model_gen", MODEL_PY)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> tuple[ModuleType, Any]:
    """model.py's module and a TritonPythonModel holding a tiny trained model (initialize() needs Triton)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from llmops.data.schema import format_prompt
    from llmops.training.base_model import build_tiny_base_model

    tmp = tmp_path_factory.mktemp("tiny")
    corpus = [t for pair in PAIRS for t in pair]
    base = build_tiny_base_model(TinyModelSpec(vocab_size=300, n_embd=32, n_layer=2, n_head=2), corpus, tmp / "base")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(base)
    model = AutoModelForCausalLM.from_pretrained(base)
    batch = tokenizer([format_prompt(p) + r + tokenizer.eos_token for p, r in PAIRS], return_tensors="pt", padding=True)
    labels = batch["input_ids"].masked_fill(batch["attention_mask"] == 0, -100)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-2)
    try:
        for _ in range(25):
            model(**batch, labels=labels).loss.backward()
            optimizer.step()
            optimizer.zero_grad()
    finally:
        torch.set_num_threads(threads)
    model.eval()

    module = _served_module()
    instance = module.TritonPythonModel.__new__(module.TritonPythonModel)
    tokenizer.padding_side = "left"
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    instance.tokenizer = tokenizer
    instance.model = model
    instance.context_length = 256
    return module, instance


def _rows(module: ModuleType, specs: list[tuple[str, int, float]]) -> list[Any]:
    return [module._Row(i, 0, prompt, tokens, temp) for i, (prompt, tokens, temp) in enumerate(specs)]


def test_batched_greedy_equals_one_by_one(served: tuple[ModuleType, Any]) -> None:
    """Left padding and the attention mask make a prompt's answer independent of its batch neighbours."""
    module, model = served
    prompts = ["How do I reset my password?", "How do I share my folder with the whole billing team today?", "Sync?"]
    alone = [model._generate(_rows(module, [(p, 12, 0.0)]))[0] for p in prompts]
    together = model._generate(_rows(module, [(p, 12, 0.0) for p in prompts]))
    assert together == alone
    assert all(alone), "the tiny model should answer with words"


def test_per_row_max_new_tokens_and_temperature_in_one_pass(
    served: tuple[ModuleType, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    module, model = served
    calls: list[int] = []
    real_generate = model.model.generate

    def counting_generate(**kwargs: Any) -> Any:
        calls.append(int(kwargs["input_ids"].shape[0]))
        return real_generate(**kwargs)

    monkeypatch.setattr(model.model, "generate", counting_generate)
    p1, p2, p3 = "How do I reset my password?", "How do I sync my invoice?", "How do I delete my folder?"
    full = [model._generate(_rows(module, [(p, 16, 0.0)]))[0] for p in (p1, p3)]
    calls.clear()
    mixed = model._generate(_rows(module, [(p1, 2, 0.0), (p2, 16, 5.0), (p3, 16, 0.0)]))
    assert calls == [3], "the whole batch must go through one generate call"
    assert len(model.tokenizer(mixed[0], add_special_tokens=False)["input_ids"]) <= 2
    assert full[0].startswith(mixed[0])
    assert mixed[2] == full[1], "a greedy row is unaffected by a sampled row in the same batch"


def test_row_temperature_processor_keeps_greedy_rows_deterministic() -> None:
    import torch

    module = _served_module()
    _, row_temperature = module._row_controls()
    scores = torch.tensor([[1.0, 3.0, 2.0], [1.0, 3.0, 2.0]])
    out = row_temperature([0.0, 2.0])(None, scores)
    assert torch.isinf(out[0]).tolist() == [True, False, True] and out[0, 1] == 0.0
    assert torch.allclose(out[1], scores[1] / 2.0)


def test_row_limits_stop_each_row_at_its_own_length() -> None:
    import torch

    module = _served_module()
    row_limits, _ = module._row_controls()
    criterion = row_limits(4, [1, 3])
    assert criterion(torch.zeros((2, 5), dtype=torch.long), None).tolist() == [True, False]
    assert criterion(torch.zeros((2, 7), dtype=torch.long), None).tolist() == [True, True]


# Approval ---------------------------------------------------------------------------------------------------------


@pytest.fixture
def cfg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LLMOpsConfig:
    monkeypatch.setenv("LLMOPS_HOME", str(tmp_path / "home"))
    return load_config()


def _evaluation(tmp_path: Path) -> dict[str, Any]:
    samples = tmp_path / "generations.json"
    rows = [
        {"prompt": f"How do I reset | my password {i}? <script>", "prediction": "Open **Settings**", "reference": "x"}
        for i in range(9)
    ]
    samples.write_text(json.dumps({"samples": rows}))
    return {
        "metrics": {"eval_loss": 0.25, "rouge_l": 0.81, "exact_match": 0.1},
        "champion_version": "2",
        "samples_path": str(samples),
    }


def _gate(passed: bool = True) -> dict[str, Any]:
    return {"passed": passed, "reason": "candidate beats base", "metrics": {"base_eval_loss": 7.5}}


def test_approval_request_shows_metrics_and_samples(cfg: LLMOpsConfig, tmp_path: Path) -> None:
    from llmops.serving.approval import approval_request

    drift = {"passed": True, "drift_share": 0.1, "reason": "no drift"}
    request = approval_request(cfg, {"version": "3"}, _evaluation(tmp_path), _gate(), drift, requested=True)
    assert request is not None
    assert request["subject"] == f"Promote {cfg.mlflow.model_name} version 3 to Triton?"
    body = request["body"]
    assert "| eval\\_loss | 0.25 |" in body and "| base\\_eval\\_loss | 7.5 |" in body
    assert "candidate beats base" in body and "current champion: 2" in body
    assert body.count("**Prompt**") == cfg.promotion.approval_samples
    assert "<script>" not in body and "\\<script\\>" in body, "sample text is escaped, not rendered"
    assert "reset \\| my password" in body, "a pipe in a sample must not break the table"


def test_no_approval_without_requirement_or_with_failed_gate(cfg: LLMOpsConfig, tmp_path: Path) -> None:
    from llmops.serving.approval import approval_request, needs_approval

    ev = _evaluation(tmp_path)
    assert approval_request(cfg, {"version": "3"}, ev, _gate(), {}, requested=False) is None
    assert approval_request(cfg, {"version": "3"}, ev, _gate(), {}, requested=True, promote=False) is None
    assert approval_request(cfg, {"version": "3"}, ev, _gate(passed=False), {}, requested=True) is None
    cfg.promotion.require_approval = True
    assert needs_approval(cfg, _gate(), requested=False), "a run cannot waive an approval the config requires"


@pytest.mark.parametrize(
    ("response", "proceed", "fragment"),
    [
        (
            {"chosen_options": ["Approve"], "responded_by_user": {"id": "1", "name": "ana"}, "params_input": {}},
            True,
            "approved by ana",
        ),
        (
            {
                "chosen_options": ["Reject"],
                "responded_by_user": {"id": "2", "name": "bo"},
                "params_input": {"comment": "answers look truncated"},
                "responded_at": "2026-01-02T03:04:05+00:00",
            },
            False,
            "rejected by bo at 2026-01-02T03:04:05+00:00: answers look truncated",
        ),
        ({"chosen_options": ["Reject"], "responded_by_user": None}, False, "rejected by timeout"),
        (None, False, "no answer was recorded"),
    ],
)
def test_approval_decision(response: dict[str, Any] | None, proceed: bool, fragment: str) -> None:
    from llmops.serving.approval import approval_decision

    ok, reason = approval_decision(True, response)
    assert ok is proceed
    assert fragment in reason


def test_approval_not_required_proceeds() -> None:
    from llmops.serving.approval import approval_decision

    assert approval_decision(False, None) == (True, "approval not required")


# Rollback target ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "expected"), [("previous", "previous"), ("PREVIOUS", "previous"), ("3", 3), (7, 7)])
def test_parse_rollback_target(value: object, expected: object) -> None:
    from llmops.serving.rollback import parse_target

    assert parse_target(value) == expected


@pytest.mark.parametrize(
    "value",
    ["../1", "..", "/etc/passwd", "1/../2", "%2e%2e%2f1", "%31", "..\\1", "C:\\models\\1", "0", "-1", "01", "", None],
)
def test_parse_rollback_target_rejects(value: object) -> None:
    from llmops.serving.rollback import parse_target

    with pytest.raises(ValueError, match="invalid rollback target"):
        parse_target(value)
