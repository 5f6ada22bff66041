"""The registered pyfunc model bounds generation by the model's context, like the served Triton model."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from llmops.config import TinyModelSpec

CONTEXT = 32


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from llmops.registry.pyfunc_model import CausalLMModel
    from llmops.training.base_model import build_tiny_base_model

    corpus = [f"open settings and share folder {i} with {n}" for i in range(40) for n in ("ann", "bo", "cy")]
    spec = TinyModelSpec(vocab_size=300, n_positions=CONTEXT, n_embd=32, n_layer=1, n_head=2)
    path = build_tiny_base_model(spec, corpus, tmp_path_factory.mktemp("tiny") / "base")
    wrapper = CausalLMModel()
    wrapper.load_context(SimpleNamespace(artifacts={"model_dir": str(path)}))
    return wrapper


def _spy_generate(model: Any, monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """Record (prompt tokens, max_new_tokens) of every generate call."""
    calls: list[tuple[int, int]] = []
    generate = model.model.generate

    def spy(**kwargs: Any) -> Any:
        calls.append((int(kwargs["input_ids"].shape[1]), int(kwargs["max_new_tokens"])))
        return generate(**kwargs)

    monkeypatch.setattr(model.model, "generate", spy)
    return calls


def test_context_is_read_from_the_model_config(model: Any) -> None:
    assert model.context_length == CONTEXT
    assert model.bounds(8) == (8, CONTEXT - 8)
    assert model.bounds(48) == (CONTEXT - 1, 1)  # the signature's default does not fit a 32-token context
    with pytest.raises(ValueError, match="max_new_tokens must be >= 1"):
        model.bounds(0)


@pytest.mark.parametrize("max_new_tokens", [8, 48, 500])
def test_a_long_prompt_and_many_new_tokens_fit_the_context(
    model: Any, monkeypatch: pytest.MonkeyPatch, max_new_tokens: int
) -> None:
    import pandas as pd

    calls = _spy_generate(model, monkeypatch)
    prompts = ["share folder " * 60, "open settings"]  # the first alone is far longer than the context
    out = model.predict(None, pd.DataFrame({"prompt": prompts}), params={"max_new_tokens": max_new_tokens})
    assert isinstance(out, list) and len(out) == 2 and all(isinstance(t, str) for t in out)
    (prompt_tokens, new_tokens), *_ = calls
    assert prompt_tokens + new_tokens <= CONTEXT
    assert new_tokens == min(max_new_tokens, CONTEXT - 1)


def test_an_over_long_prompt_keeps_its_end(model: Any) -> None:
    from llmops.registry.pyfunc_model import PROMPT_TEMPLATE

    text = PROMPT_TEMPLATE.replace("{{prompt}}", "share folder " * 60)
    _, max_prompt = model.bounds(8)
    enc = model.tokenizer([text], truncation=True, max_length=max_prompt, add_special_tokens=False)
    kept = model.tokenizer.decode(enc["input_ids"][0])
    assert kept.endswith("### Response:\n")
