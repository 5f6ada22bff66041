"""Build the project's own tiny base model: a byte-level BPE tokenizer and a GPT-2-style causal LM.

The result is an ordinary Hugging Face model directory (``config.json``, ``model.safetensors``, tokenizer files),
loaded everywhere through ``AutoTokenizer`` / ``AutoModelForCausalLM.from_pretrained`` exactly as a real base
model would be.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

from llmops.config import TinyModelSpec

EOS_TOKEN = "<|endoftext|>"
PAD_TOKEN = "<|pad|>"
SPEC_FILE = "llmops_base_spec.json"


def spec_fingerprint(spec: TinyModelSpec, corpus_digest: str) -> str:
    """Hash of the model shape and the tokenizer corpus: a rebuild is needed only when it changes."""
    payload = json.dumps({"spec": spec.model_dump(), "corpus": corpus_digest}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def build_tiny_base_model(spec: TinyModelSpec, corpus: Iterable[str], out_dir: Path) -> Path:
    """Train the tokenizer on ``corpus`` and save a randomly initialised GPT-2-style model to ``out_dir``.

    Idempotent: when ``out_dir`` already holds a model built from the same spec and corpus it is kept as is.
    The directory is assembled in a temporary sibling and renamed into place, so a crash never leaves a
    half-written model behind.

    Args:
        spec: model shape and seed.
        corpus: texts to train the tokenizer on (prompts and responses of the demo data).
        out_dir: target model directory.

    Returns:
        ``out_dir``.
    """
    texts = [t for t in corpus if t]
    if not texts:
        raise ValueError("cannot build a tokenizer from an empty corpus")
    corpus_digest = hashlib.sha256("\n".join(texts).encode()).hexdigest()
    fingerprint = spec_fingerprint(spec, corpus_digest)
    marker = out_dir / SPEC_FILE
    if marker.is_file() and json.loads(marker.read_text()).get("fingerprint") == fingerprint:
        return out_dir

    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=spec.vocab_size,
        min_frequency=2,
        special_tokens=[EOS_TOKEN, PAD_TOKEN],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(texts, trainer=trainer)
    hf_tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        bos_token=EOS_TOKEN,
        eos_token=EOS_TOKEN,
        unk_token=EOS_TOKEN,
        pad_token=PAD_TOKEN,
        model_max_length=spec.n_positions,
    )

    torch.manual_seed(spec.seed)
    config = GPT2Config(
        vocab_size=len(hf_tokenizer),
        n_positions=spec.n_positions,
        n_embd=spec.n_embd,
        n_layer=spec.n_layer,
        n_head=spec.n_head,
        bos_token_id=hf_tokenizer.bos_token_id,
        eos_token_id=hf_tokenizer.eos_token_id,
        pad_token_id=hf_tokenizer.pad_token_id,
    )
    model = GPT2LMHeadModel(config)

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.staging-", dir=out_dir.parent))
    try:
        hf_tokenizer.save_pretrained(staging)
        model.save_pretrained(staging, safe_serialization=True)
        n_params = sum(p.numel() for p in model.parameters())
        (staging / SPEC_FILE).write_text(
            json.dumps({"fingerprint": fingerprint, "spec": spec.model_dump(), "parameters": n_params}, indent=2)
        )
        if out_dir.exists():
            shutil.rmtree(out_dir)
        os.replace(staging, out_dir)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return out_dir
