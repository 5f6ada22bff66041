"""Deterministic demo dataset for a support assistant of "Nimbus Drive", a fictional cloud-storage product.

:func:`generate_demo_dataset` writes ``train.jsonl`` (clean rows plus planted defects, shuffled), ``eval.jsonl``
(clean held-out rows) and ``manifest.json`` (what was planted where). Everything is seeded: the same seed gives
byte-identical files.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llmops.data.dedup import content_key, normalize_text
from llmops.data.schema import TRAIN_COLUMNS
from llmops.demo.defects import (
    EMPTY_KINDS,
    MALFORMED_KINDS,
    NEAR_DUPLICATE_KINDS,
    OVERSIZED_KINDS,
    OVERSIZED_PROMPT_CHARS,
    OVERSIZED_RESPONSE_CHARS,
    json_line,
    long_text,
    malformed_line,
    near_duplicate,
    with_pii,
)
from llmops.demo.intents import INTENTS, unique_examples
from llmops.demo.slots import PRODUCT
from llmops.fsutil import atomic_write_bytes

if TYPE_CHECKING:
    from llmops.config import DemoDataConfig

SOURCE = "demo"
# The manifest names the generator as it did before the demo code moved out of ``llmops.data``: the same seed must
# keep giving byte-identical files.
GENERATOR = "llmops.data.demo"


@dataclass
class _Draft:
    """A row before ids are assigned: content plus what kind of line it becomes."""

    kind: str
    record: dict[str, Any]
    original: int | None = None  # index of the entry it duplicates (for ordering)
    detail: str = ""


def _record(example: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "",
        "prompt": example["prompt"],
        "response": example["response"],
        "category": example["category"],
        "source": SOURCE,
    }


def generate_demo_dataset(cfg: DemoDataConfig, out_dir: Path) -> dict[str, Path]:
    """Write the demo training set (with planted defects), the held-out eval set and a manifest.

    ``train.jsonl`` holds ``cfg.n_train`` clean rows plus, shuffled in deterministically: exact duplicates of earlier
    rows (new id), near-duplicates (case, punctuation, whitespace or one-word edits of earlier rows), rows with PII
    in the prompt (emails, phone numbers, Luhn-valid card numbers), rows with an empty/blank/null field, rows with
    an oversized prompt or response, lines that are not valid JSON objects, and one row whose prompt is a number.
    ``eval.jsonl`` holds ``cfg.n_eval`` clean rows whose prompts appear nowhere in the training file.
    ``manifest.json`` records the counts, the ids and the line numbers of every planted defect.

    Args:
        cfg: the ``demo`` section of the configuration.
        out_dir: output directory (created).

    Returns:
        ``{"train": ..., "eval": ..., "manifest": ...}`` paths.
    """
    rng = random.Random(cfg.seed)
    out_dir = Path(out_dir)
    taken: set[str] = set()

    drafts: list[_Draft] = [_Draft("clean", _record(e)) for e in unique_examples(rng, cfg.n_train, taken)]
    n_clean = len(drafts)
    originals = rng.sample(range(n_clean), min(n_clean, cfg.exact_duplicates + cfg.near_duplicates))
    for index in originals[: cfg.exact_duplicates]:
        drafts.append(_Draft("exact_duplicate", dict(drafts[index].record), original=index))
    for number, index in enumerate(originals[cfg.exact_duplicates :]):
        kind = NEAR_DUPLICATE_KINDS[number % len(NEAR_DUPLICATE_KINDS)]
        record = dict(drafts[index].record)
        record["prompt"] = near_duplicate(rng, record["prompt"], kind)
        taken.add(normalize_text(record["prompt"]))
        drafts.append(_Draft("near_duplicate", record, original=index, detail=kind))
    for number, example in enumerate(unique_examples(rng, cfg.pii_rows, taken)):
        kinds = [("email", "phone", "card")[number % 3]]
        if number % 5 == 4:
            kinds.append(rng.choice(("email", "phone", "card")))
        drafts.append(_Draft("pii", _record(with_pii(rng, example, kinds)), detail="+".join(kinds)))
    for number, example in enumerate(unique_examples(rng, cfg.empty_fields, taken)):
        kind = EMPTY_KINDS[number % len(EMPTY_KINDS)]
        record = _record(example)
        field_name = "prompt" if kind.endswith("prompt") else "response"
        record[field_name] = None if kind.startswith("null") else "   " if kind.startswith("blank") else ""
        drafts.append(_Draft("empty_field", record, detail=kind))
    for number, example in enumerate(unique_examples(rng, cfg.oversized_fields, taken)):
        kind = OVERSIZED_KINDS[number % len(OVERSIZED_KINDS)]
        record = _record(example)
        if kind == "long_prompt":
            record["prompt"] = long_text(rng, record["prompt"], OVERSIZED_PROMPT_CHARS)
        else:
            record["response"] = long_text(rng, record["response"], OVERSIZED_RESPONSE_CHARS)
        drafts.append(_Draft("oversized", record, detail=kind))
    for number, example in enumerate(unique_examples(rng, cfg.malformed_lines, taken)):
        drafts.append(_Draft("malformed", _record(example), detail=MALFORMED_KINDS[number % len(MALFORMED_KINDS)]))
    if cfg.malformed_lines:
        (example,) = unique_examples(rng, 1, taken)
        record = _record(example)
        record["prompt"] = rng.randrange(10_000, 100_000)
        drafts.append(_Draft("wrong_type", record, detail="prompt is a number"))

    order = list(range(len(drafts)))
    rng.shuffle(order)
    position = {draft_index: pos for pos, draft_index in enumerate(order)}
    for draft_index, draft in enumerate(drafts):
        # A duplicate must come after the row it copies, so "keep the first" keeps the original.
        if draft.original is not None and position[draft_index] < position[draft.original]:
            a, b = position[draft_index], position[draft.original]
            order[a], order[b] = order[b], order[a]
            position[draft_index], position[draft.original] = b, a

    lines: list[bytes] = []
    planted: dict[str, list[dict[str, Any]]] = {
        "exact_duplicates": [],
        "near_duplicates": [],
        "pii_rows": [],
        "empty_fields": [],
        "oversized_fields": [],
        "malformed_lines": [],
        "wrong_type_rows": [],
    }
    ids: dict[int, str] = {}
    for line_number, draft_index in enumerate(order, start=1):
        ids[draft_index] = f"train-{line_number:05d}"
    for line_number, draft_index in enumerate(order, start=1):
        draft = drafts[draft_index]
        record = {**draft.record, "id": ids[draft_index]}
        record = {name: record[name] for name in TRAIN_COLUMNS}
        entry: dict[str, Any] = {"id": record["id"], "line": line_number}
        if draft.detail:
            entry["kind"] = draft.detail
        if draft.original is not None:
            entry["duplicate_of"] = ids[draft.original]
        if draft.kind == "malformed":
            lines.append(malformed_line(draft.detail, record))
            planted["malformed_lines"].append(entry)
            continue
        lines.append(json_line(record))
        key = {
            "exact_duplicate": "exact_duplicates",
            "near_duplicate": "near_duplicates",
            "pii": "pii_rows",
            "empty_field": "empty_fields",
            "oversized": "oversized_fields",
            "wrong_type": "wrong_type_rows",
        }.get(draft.kind)
        if key:
            planted[key].append(entry)

    # What the clean pipeline should end with: rows that pass ingest and the contract, after exact dedup.
    valid_kinds = {"clean", "exact_duplicate", "near_duplicate", "pii"}
    valid = [d.record for d in drafts if d.kind in valid_kinds]
    distinct = len({content_key(record) for record in valid})

    eval_rng = random.Random(cfg.seed * 7919 + 104_729)
    eval_records = []
    for number, example in enumerate(unique_examples(eval_rng, cfg.n_eval, taken), start=1):
        record = _record(example)
        record["id"] = f"eval-{number:05d}"
        eval_records.append(record)

    paths = {"train": out_dir / "train.jsonl", "eval": out_dir / "eval.jsonl", "manifest": out_dir / "manifest.json"}
    atomic_write_bytes(paths["train"], b"".join(line + b"\n" for line in lines), fsync=False)
    atomic_write_bytes(paths["eval"], b"".join(json_line(r) + b"\n" for r in eval_records), fsync=False)
    manifest = {
        "generator": GENERATOR,
        "product": PRODUCT,
        "seed": cfg.seed,
        "intents": len(INTENTS),
        "files": {"train": paths["train"].name, "eval": paths["eval"].name},
        "train_lines": len(lines),
        "clean_rows": n_clean,
        "eval_rows": len(eval_records),
        "counts": {name: len(entries) for name, entries in planted.items()},
        "expected": {
            "ingest_quarantined": len(planted["malformed_lines"]) + len(planted["wrong_type_rows"]),
            "contract_quarantined": len(planted["empty_fields"]) + len(planted["oversized_fields"]),
            "valid_rows": len(valid),
            "exact_dedup_removed": len(valid) - distinct,
            "rows_after_exact_dedup": distinct,
        },
        "planted": planted,
    }
    atomic_write_bytes(
        paths["manifest"], (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode("utf-8"), fsync=False
    )
    return paths
