"""Decontamination: training rows that near-duplicate an eval example are found before any other dedup.

The eval set is read, PII-scrubbed like the training rows (so both are compared alike) and signed with the same
MinHash parameters. Candidates share an LSH band hash with an eval example; they count when their estimated
Jaccard similarity reaches ``data.dedup.contamination_threshold``. Each contaminated row is matched to its most
similar eval example (the merge does this on its engine: :func:`llmops.data.merge.merge`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from llmops.config import LLMOpsConfig
    from llmops.data.minhash import MinHashParams


def eval_signatures(cfg: LLMOpsConfig, params: MinHashParams) -> tuple[list[str], Any]:
    """Ids and ``(n, num_perm)`` signatures of the eval set (``cfg.raw_eval_path``), PII-scrubbed first."""
    import numpy as np

    from llmops.data import minhash
    from llmops.data.ingest import iter_record_chunks
    from llmops.data.pii import PiiScrubber
    from llmops.data.shards import dedup_texts
    from llmops.data.sinks import rows_table

    a, b = minhash.permutations(params.num_perm, params.seed)
    scrubber = PiiScrubber.from_config(cfg) if cfg.data.pii.enabled else None
    ids: list[str] = []
    parts = []
    for chunk in iter_record_chunks(cfg.raw_eval_path, cfg.data.max_line_bytes, cfg.data.batch_rows):
        rows = chunk.rows
        if scrubber is not None:
            rows, _, _ = scrubber.scrub_records(rows)
        if not rows:
            continue
        ids.extend(str(r["id"]) for r in rows)
        values, offsets = minhash.shingle_hashes(dedup_texts(rows_table(rows)), params.shingle_size)
        parts.append(minhash.signatures(values, offsets, a, b))
    sigs = np.concatenate(parts) if parts else np.zeros((0, params.num_perm), dtype=np.uint32)
    return ids, sigs
