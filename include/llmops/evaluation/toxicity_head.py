"""A sentence-level toxicity classifier: logistic regression on all-MiniLM-L6-v2 sentence embeddings.

A word list finds the words it holds, in any spelling; it does not find an insult it lacks, nor abuse without a swear
word ("a child could have done this", "stop wasting my time"). This head reads the whole answer: a 384-weight
logistic regression over the packaged sentence encoder's embeddings (:func:`llmops.evaluation.scorers.embed`).

- **Training data**: :mod:`llmops.evaluation.toxicity_corpus`, a generated set of support answers, abusive and benign,
  whose vocabulary was written apart from the benchmark's labelled sets (``bench/safety_corpus.py``), so the benchmark
  measures how the head does on insults and phrases it has not seen. Half of its support content is sentences of
  the deployment's own answers (:func:`domain_sentences`: the demo's intents, another seed than the benchmark's), so
  that the head does not take unfamiliar product content for abuse.
- **Weights**: ``toxicity_head.json`` (plain JSON: weights, bias, threshold and provenance: corpus version, seeds,
  sizes, the encoder's SHA-256, held-out figures). Nothing is unpickled. A head trained for other encoder weights is
  refused (:class:`HeadMismatch`).
- **Reproduce**: ``python -m llmops.evaluation.toxicity_head`` retrains with the recorded settings and rewrites the file
  (deterministic on one machine: full-batch L-BFGS from zero weights).
"""

from __future__ import annotations

import argparse
import json
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

HEAD_FILE = Path(__file__).with_name("toxicity_head.json")
TRAIN_SEED = 0
HELD_OUT_SEED = 1
TRAIN_SIZE = 8000
HELD_OUT_SIZE = 2000
L2 = 1e-5
DOMAIN_SEED = 100
DOMAIN_ANSWERS = 3000
CACHE_SIZE = 100_000
"""Distinct answers whose probability is kept (monitoring scores each distinct answer once per interval)."""


class HeadMismatch(RuntimeError):
    """The classifier head was trained on embeddings of other encoder weights than the installed ones."""


@dataclass(frozen=True)
class ToxicityHead:
    """Logistic regression weights over sentence embeddings, and the decision threshold on its probability."""

    weights: tuple[float, ...]
    bias: float
    threshold: float
    encoder_sha256: str
    provenance: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> ToxicityHead:
        data = json.loads(text)
        return cls(
            weights=tuple(float(w) for w in data["weights"]),
            bias=float(data["bias"]),
            threshold=float(data["threshold"]),
            encoder_sha256=str(data["encoder_sha256"]),
            provenance=dict(data.get("provenance", {})),
        )

    def probabilities(self, embeddings: Any) -> list[float]:
        """P(toxic) per row of a ``(n, 384)`` embedding tensor."""
        import torch

        w = torch.tensor(self.weights, dtype=embeddings.dtype)
        return [float(p) for p in torch.sigmoid(embeddings @ w + self.bias).tolist()]


@cache
def load_head(path: Path = HEAD_FILE) -> ToxicityHead:
    """The packaged head, checked against the installed encoder's weights digest."""
    from llmops.evaluation.scorers import ENCODER_WEIGHTS_SHA256

    head = ToxicityHead.from_json(path.read_text(encoding="utf-8"))
    if head.encoder_sha256 != ENCODER_WEIGHTS_SHA256:
        raise HeadMismatch(
            f"{path} was trained on encoder weights {head.encoder_sha256}, the installed encoder is "
            f"{ENCODER_WEIGHTS_SHA256}: retrain it with python -m llmops.evaluation.toxicity_head"
        )
    return head


_cache: OrderedDict[str, float] = OrderedDict()
_cache_lock = threading.Lock()


def toxic_probabilities(texts: Sequence[str], head: ToxicityHead | None = None) -> list[float]:
    """P(toxic) of each text, embedding in batches only the texts not seen before (an LRU of :data:`CACHE_SIZE`).

    Callers with many answers (monitoring, the gate) pass them together: one batched pass instead of one per answer.
    """
    from llmops.evaluation.scorers import embed

    model = head or load_head()
    use_cache = head is None
    with _cache_lock:
        known = {t: _cache[t] for t in texts if use_cache and t in _cache}
    missing = list(dict.fromkeys(t for t in texts if t not in known))
    if missing:
        fresh = dict(zip(missing, model.probabilities(embed(missing)), strict=True))
        known.update(fresh)
        if use_cache:
            with _cache_lock:
                _cache.update(fresh)
                while len(_cache) > CACHE_SIZE:
                    _cache.popitem(last=False)
    if use_cache:
        with _cache_lock:
            for t in known:
                if t in _cache:
                    _cache.move_to_end(t)
    return [known[t] for t in texts]


def _fit(embeddings: Any, labels: Any, l2: float) -> tuple[list[float], float]:
    """Full-batch L-BFGS on the mean logistic loss plus ``l2`` times the squared weights, from zero weights."""
    import torch

    w = torch.zeros(embeddings.shape[1], dtype=embeddings.dtype, requires_grad=True)
    b = torch.zeros((), dtype=embeddings.dtype, requires_grad=True)
    optimizer = torch.optim.LBFGS([w, b], lr=1.0, max_iter=500, tolerance_grad=1e-9, line_search_fn="strong_wolfe")

    def closure() -> Any:
        optimizer.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(embeddings @ w + b, labels) + l2 * (w * w).sum()
        loss.backward()
        return loss

    optimizer.step(closure)
    return [float(x) for x in w.detach().tolist()], float(b.detach())


def _figures(probabilities: Sequence[float], labels: Sequence[bool], threshold: float) -> dict[str, float]:
    tp = sum(p >= threshold and y for p, y in zip(probabilities, labels, strict=True))
    fp = sum(p >= threshold and not y for p, y in zip(probabilities, labels, strict=True))
    positives = sum(labels)
    return {
        "precision": round(tp / (tp + fp), 4) if tp + fp else 0.0,
        "recall": round(tp / positives, 4) if positives else 0.0,
    }


def domain_sentences(n_answers: int = DOMAIN_ANSWERS, seed: int = DOMAIN_SEED) -> list[str]:
    """Distinct sentences of the demo deployment's own support answers (``llmops.demo.intents``): the benign content
    a deployment trains its head with. A real deployment passes sentences of its own reviewed answers instead."""
    import random
    import re

    from llmops.demo.intents import render_example

    rng = random.Random(seed)
    sentences: dict[str, None] = {}
    for _ in range(n_answers):
        response = render_example(rng)[1]["response"]
        for sentence in re.split(r"(?<=[.!?])\s+", response):
            if len(sentence.split()) >= 3:
                sentences[sentence.strip()] = None
    return list(sentences)


def train_head(
    train_size: int = TRAIN_SIZE,
    held_out_size: int = HELD_OUT_SIZE,
    *,
    l2: float = L2,
    threshold: float = 0.5,
) -> ToxicityHead:
    """Fit the head on the generated training set (seed :data:`TRAIN_SEED`) and report it on another seed's set.

    Args:
        train_size: training texts.
        held_out_size: texts of the held-out seed (the same generator: a check of the fit, not of generalisation).
        l2: weight of the L2 penalty.
        threshold: probability at or above which an answer is toxic.
    """
    import torch

    from llmops.evaluation.scorers import ENCODER_PACKAGE, ENCODER_WEIGHTS_SHA256, embed
    from llmops.evaluation.toxicity_corpus import CORPUS_VERSION, build_training_set

    torch.manual_seed(0)
    content = domain_sentences()
    train = build_training_set(train_size, TRAIN_SEED, content)
    seen = {t.text for t in train}
    held_out = [t for t in build_training_set(held_out_size, HELD_OUT_SEED, content) if t.text not in seen]
    x = embed([t.text for t in train]).to(torch.float64)
    y = torch.tensor([float(t.toxic) for t in train], dtype=torch.float64)
    weights, bias = _fit(x, y, l2)
    head = ToxicityHead(tuple(weights), bias, threshold, ENCODER_WEIGHTS_SHA256)
    train_p = head.probabilities(x.to(torch.float32))
    held_p = head.probabilities(embed([t.text for t in held_out]))
    provenance = {
        "encoder": ENCODER_PACKAGE,
        "corpus": "llmops.evaluation.toxicity_corpus",
        "corpus_version": CORPUS_VERSION,
        "domain_content": f"llmops.demo.intents answers, seed {DOMAIN_SEED}, {len(content)} sentences",
        "train_seed": TRAIN_SEED,
        "train_size": len(train),
        "train_toxic": sum(t.toxic for t in train),
        "held_out_seed": HELD_OUT_SEED,
        "held_out_size": len(held_out),
        "l2": l2,
        "train_figures": _figures(train_p, [t.toxic for t in train], threshold),
        "held_out_figures": _figures(held_p, [t.toxic for t in held_out], threshold),
    }
    return ToxicityHead(head.weights, head.bias, threshold, head.encoder_sha256, provenance)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Train the toxicity head and write its JSON file.")
    parser.add_argument("--out", type=Path, default=HEAD_FILE)
    parser.add_argument("--train-size", type=int, default=TRAIN_SIZE)
    parser.add_argument("--held-out-size", type=int, default=HELD_OUT_SIZE)
    parser.add_argument("--l2", type=float, default=L2)
    args = parser.parse_args(argv)
    head = train_head(args.train_size, args.held_out_size, l2=args.l2)
    tmp = args.out.with_suffix(".json.tmp")
    tmp.write_text(head.to_json(), encoding="utf-8")
    tmp.replace(args.out)
    print(json.dumps(head.provenance, indent=1))
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
