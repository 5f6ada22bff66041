"""Held-out evaluation of a causal LM: response-token loss, perplexity, exact match, ROUGE-L, and greedy answers to
further prompts (red-team, canaries) for the scorers."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmops.data.schema import format_prompt
from llmops.training.train import IGNORE_INDEX, collate, tokenize_rows

_TOKEN_RE = re.compile(r"\w+", re.UNICODE)


def _tokens(text: str) -> list[str]:
    return _TOKEN_RE.findall(text.lower())


def rouge_l(prediction: str, reference: str) -> float:
    """ROUGE-L F-measure (Google's rouge-score: lower-cased alphanumeric tokens, no stemming)."""
    from llmops.evaluation.scorers import rouge

    value = rouge(None, prediction, reference).value
    return float(value or 0.0)


def exact_match(prediction: str, reference: str) -> float:
    """1.0 when the normalized token sequences are identical."""
    return 1.0 if _tokens(prediction) == _tokens(reference) else 0.0


@dataclass
class EvalResult:
    """Metrics of one model on one eval set, plus sampled generations."""

    eval_loss: float
    perplexity: float
    exact_match: float
    rouge_l: float
    n_loss_rows: int
    n_generation_rows: int
    samples: list[dict[str, Any]] = field(default_factory=list)
    extra_predictions: list[str] = field(default_factory=list)

    def metrics(self, prefix: str = "") -> dict[str, float]:
        return {
            f"{prefix}eval_loss": self.eval_loss,
            f"{prefix}perplexity": self.perplexity,
            f"{prefix}exact_match": self.exact_match,
            f"{prefix}rouge_l": self.rouge_l,
        }


def evaluate_causal_lm(
    model_dir: str | Path,
    prompts: list[str],
    references: list[str],
    *,
    max_seq_len: int,
    batch_size: int,
    generation_rows: int,
    max_new_tokens: int,
    extra_prompts: Sequence[str] = (),
    template: str | None = None,
) -> EvalResult:
    """Evaluate a model directory on prompt/reference pairs.

    The loss is the mean cross-entropy over response tokens only (the prompt is masked, as in training), so the
    base and fine-tuned models are measured on exactly the same tokens. Generation is greedy. ``extra_prompts`` (the
    red-team set, the canary probes) are answered too, in ``extra_predictions``; they do not enter the metrics.
    Prompts are rendered with ``template`` (the run's prompt version; the prompt file's when ``None``).
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if not prompts:
        raise ValueError("the eval set is empty")
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir), trust_remote_code=False)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(str(model_dir), trust_remote_code=False, use_safetensors=True)
    model.eval()

    examples = tokenize_rows(prompts, references, tokenizer, max_seq_len, template)
    total_loss, total_tokens = 0.0, 0
    with torch.no_grad():
        for i in range(0, len(examples), batch_size):
            batch = collate(examples[i : i + batch_size], int(tokenizer.pad_token_id))
            logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
            shift_logits = logits[:, :-1, :].reshape(-1, logits.size(-1)).float()
            shift_labels = batch["labels"][:, 1:].reshape(-1)
            loss = torch.nn.functional.cross_entropy(
                shift_logits, shift_labels, ignore_index=IGNORE_INDEX, reduction="sum"
            )
            total_loss += float(loss.item())
            total_tokens += int((shift_labels != IGNORE_INDEX).sum().item())
    eval_loss = total_loss / max(total_tokens, 1)

    gen_prompts = prompts[:generation_rows]
    gen_refs = references[:generation_rows]
    predictions = generate(
        model, tokenizer, gen_prompts, max_new_tokens=max_new_tokens, batch_size=batch_size, template=template
    )
    extra = (
        generate(
            model,
            tokenizer,
            list(extra_prompts),
            max_new_tokens=max_new_tokens,
            batch_size=batch_size,
            template=template,
        )
        if extra_prompts
        else []
    )
    samples: list[dict[str, Any]] = [
        {"prompt": p, "reference": r, "prediction": g, "rouge_l": round(rouge_l(g, r), 4)}
        for p, r, g in zip(gen_prompts, gen_refs, predictions, strict=True)
    ]
    n = max(len(samples), 1)
    return EvalResult(
        eval_loss=eval_loss,
        perplexity=math.exp(min(eval_loss, 50.0)),
        exact_match=sum(exact_match(s["prediction"], s["reference"]) for s in samples) / n,
        rouge_l=sum(s["rouge_l"] for s in samples) / n,
        n_loss_rows=len(examples),
        n_generation_rows=len(samples),
        samples=samples,
        extra_predictions=extra,
    )


def generate(
    model: Any, tokenizer: Any, prompts: list[str], *, max_new_tokens: int, batch_size: int, template: str | None = None
) -> list[str]:
    """Greedy batched generation with left padding (prompts rendered with ``template``); returns the decoded
    continuations."""
    import torch

    tokenizer.padding_side = "left"
    out: list[str] = []
    for i in range(0, len(prompts), batch_size):
        texts = [format_prompt(p, template) for p in prompts[i : i + batch_size]]
        enc = tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False)
        with torch.no_grad():
            gen = model.generate(
                **enc,
                max_new_tokens=max_new_tokens,
                do_sample=False,
                pad_token_id=tokenizer.pad_token_id,
                eos_token_id=tokenizer.eos_token_id,
            )
        new = gen[:, enc["input_ids"].shape[1] :]
        out.extend(t.strip() for t in tokenizer.batch_decode(new, skip_special_tokens=True))
    return out
