"""MLflow pyfunc wrapper of a fine-tuned causal LM (logged as "model from code").

MLflow loads this file on its own, so it imports nothing from ``llmops``. The prompt is the one the model was
trained with, read from ``prompt.json`` beside the weights (``llmops.prompts``); weights without one use the
template below, which a unit test keeps identical to ``llmops.data.schema.PROMPT_TEMPLATE``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import mlflow
from mlflow.pyfunc import PythonModel

PROMPT_TEMPLATE = "### Instruction:\n{{prompt}}\n### Response:\n"
PROMPT_VARIABLE = "{{prompt}}"


def read_prompt_template(model_dir: str | Path) -> str:
    """The template of ``prompt.json`` in ``model_dir`` (checked against its sha256), or :data:`PROMPT_TEMPLATE`."""
    path = Path(model_dir) / "prompt.json"
    if not path.is_file():
        return PROMPT_TEMPLATE
    data = json.loads(path.read_text(encoding="utf-8"))
    template = str(data.get("template", ""))
    if data.get("sha256") != hashlib.sha256(template.encode("utf-8")).hexdigest() or PROMPT_VARIABLE not in template:
        raise ValueError(f"{path} does not hold a prompt whose text matches its sha256")
    return template


class CausalLMModel(PythonModel):
    """Greedy or sampled generation from the weights logged under the ``model_dir`` artifact."""

    def load_context(self, context: Any) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        path = context.artifacts["model_dir"]
        self.tokenizer = AutoTokenizer.from_pretrained(path, trust_remote_code=False, padding_side="left")
        self.tokenizer.truncation_side = "left"  # keep the end of an over-long prompt (the "### Response:" cue)
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.model: Any = AutoModelForCausalLM.from_pretrained(path, trust_remote_code=False, use_safetensors=True)
        self.model.eval()
        self.template = read_prompt_template(path)
        cfg = self.model.config
        self.context_length = int(
            getattr(cfg, "max_position_embeddings", None) or getattr(cfg, "n_positions", None) or 2048
        )
        self.torch = torch

    def bounds(self, max_new_tokens: int) -> tuple[int, int]:
        """``(max_new_tokens, longest prompt in tokens)`` that fit the model's context, as the served model does:
        the prompt keeps its last ``context - max_new_tokens`` tokens. ``max_new_tokens`` is cut to ``context - 1``
        where the served model would refuse it, because MLflow passes the signature's default (48) to every call
        and a small model's context may be shorter."""
        if max_new_tokens < 1:
            raise ValueError(f"max_new_tokens must be >= 1, got {max_new_tokens}")
        new_tokens = min(max_new_tokens, self.context_length - 1)
        return new_tokens, self.context_length - new_tokens

    # No type hints on purpose: MLflow reads them as an input schema (which needs list[...]) and warns; the
    # signature logged with the model describes the input instead.
    def predict(self, context, model_input, params=None):  # type: ignore[no-untyped-def]
        params = params or {}
        max_new_tokens, max_prompt_tokens = self.bounds(int(params.get("max_new_tokens", 48)))
        temperature = float(params.get("temperature", 0.0))
        prompts = [str(p) for p in model_input["prompt"]]
        texts = [self.template.replace(PROMPT_VARIABLE, p.strip()) for p in prompts]
        enc = self.tokenizer(
            texts,
            return_tensors="pt",
            padding=True,
            truncation=True,
            max_length=max_prompt_tokens,
            add_special_tokens=False,
        )
        with self.torch.no_grad():
            out = self.model.generate(
                **enc,
                max_new_tokens=max_new_tokens,
                do_sample=temperature > 0,
                temperature=temperature if temperature > 0 else None,
                pad_token_id=self.tokenizer.pad_token_id,
                eos_token_id=self.tokenizer.eos_token_id,
            )
        new_tokens = out[:, enc["input_ids"].shape[1] :]
        return [t.strip() for t in self.tokenizer.batch_decode(new_tokens, skip_special_tokens=True)]


mlflow.models.set_model(CausalLMModel())
