"""Decontamination: training rows that near-duplicate an eval example are found before any other dedup.

The eval set is read, PII-scrubbed like the training rows (so both are compared alike) and signed with the same
MinHash parameters. Candidates share an LSH band hash with an eval example; they count when their estimated
Jaccard similarity reaches ``data.dedup.contamination_threshold``. Each contaminated row is matched to its most
similar eval example.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from llmops.config import LLMOpsConfig
    from llmops.data.minhash import MinHashParams
    from llmops.data.payloads import Signed


@dataclass(frozen=True)
class Contamination:
    """Training rows that copy eval examples.

    Attributes:
        rows: global rows of the contaminated training rows, ascending.
        matches: for each, the index of its best eval example in ``eval_ids``.
        similarity: for each, the estimated Jaccard similarity to that example.
        eval_ids: ids of the eval examples, in file order.
    """

    rows: Any
    matches: Any
    similarity: Any
    eval_ids: list[str]


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


def find_contaminated(
    cfg: LLMOpsConfig, signed: Sequence[Signed], bands: Any, empty: Any, params: MinHashParams
) -> Contamination:
    """Training rows whose estimated similarity to an eval example reaches ``contamination_threshold``.

    Args:
        cfg: the configuration (``raw_eval_path``, ``data.dedup.contamination_threshold``).
        signed: the signed shards (signatures of candidate rows are read from them).
        bands: ``(n, n_bands)`` band hashes of all training rows, by global row.
        empty: ``(n,)`` bool, training rows without shingles (never contaminated).
        params: MinHash and LSH parameters.

    Returns:
        The contaminated rows and their best eval matches (none when the eval file is empty).
    """
    import numpy as np

    from llmops.data import lsh, minhash
    from llmops.data.shards import read_signatures

    eval_ids, eval_sigs = eval_signatures(cfg, params)
    none = Contamination(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), eval_ids)
    if not eval_ids:
        return none
    eval_bands = minhash.band_hashes(eval_sigs, params.bands, params.rows_per_band)
    cand = lsh.cross_candidates(bands, eval_bands, empty, minhash.empty_mask(eval_sigs))
    if not len(cand):
        return none
    train_sigs = read_signatures(signed, cand[:, 0], params.num_perm)
    left = np.stack([train_sigs[int(r)] for r in cand[:, 0]])
    sim = minhash.estimated_jaccard(left, eval_sigs[cand[:, 1]])
    rows, matches, similarity = lsh.best_matches(cand, sim, cfg.data.dedup.contamination_threshold)
    return Contamination(rows, matches, similarity, eval_ids)
