"""User feedback → training candidates, one interval at a time.

A feedback record is one JSON line: ``{"request_id", "timestamp", "rating", "corrected_response"?, "user"?}`` where
``rating`` is thumbs up or down (``"up"``/``"down"``, ``1``/``-1``/``0``, ``true``/``false``) and ``user`` names who
gave it (the authenticated user or session id, as the feedback endpoint knows it). The feedback whose
timestamp lies in the interval is joined to its request in the curated partitions of the rolling window (the
request may be older than its feedback); the latest feedback of a request wins.

``request_id`` must be the id the server issued (returned with every answer as the ``request_id`` output, logged as
the request's ``request_id``); the id a client chose is only logged beside it (``client_request_id``) and matches
nothing here. Feedback naming an id that no logged request of the window has is dropped and counted as
``unmatched``. Candidates keep ``request_id`` and ``feedback_by`` (the ``user``, "" when none) beside the training
columns.

* thumbs up: the served ``(prompt, response)`` becomes a candidate (``source="feedback-accepted"``);
* a corrected response (any rating): ``(prompt, corrected_response)`` becomes one (``source="feedback-corrected"``);
* thumbs down without a correction: no candidate (it counts in the feedback score).

Candidates then go through what training data goes through: the training contract's row-level checks (quarantine),
PII scrubbing, exact and near-duplicate removal within the batch and against the champion's training snapshot, and
decontamination against the eval set (MinHash/LSH with the data stage's parameters). They are written to
``<curated_dir>/feedback/interval=<key>/candidates.parquet`` (training layout), replacing an earlier attempt.

No Airflow import here.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from llmops.config import LLMOpsConfig
from llmops.data.schema import TRAIN_COLUMNS
from llmops.monitoring.interval import interval_key, read_interval_records, window_partitions

log = logging.getLogger(__name__)

CANDIDATES_FILE = "candidates.parquet"
SUMMARY_FILE = "summary.json"
ACCEPTED, CORRECTED = "feedback-accepted", "feedback-corrected"
_UP = {"up", "thumbs_up", "+1", "1", "true", "yes", "good"}
_DOWN = {"down", "thumbs_down", "-1", "0", "false", "no", "bad"}


@dataclass
class FeedbackResult:
    """Counts of one interval's feedback curation (every feedback record ends in exactly one bucket)."""

    key: str
    candidates_path: str = ""
    feedback: int = 0
    unmatched: int = 0
    invalid: int = 0
    superseded: int = 0
    thumbs_up: int = 0
    thumbs_down: int = 0
    rejected: int = 0
    quarantined: int = 0
    duplicates: int = 0
    known: int = 0
    contaminated: int = 0
    candidates: int = 0
    feedback_score: float | None = None
    # model_version -> [thumbs up, thumbs down] of the requests that version answered (rollback watch).
    by_version: dict[str, list[int]] = field(default_factory=dict)
    pii_counts: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return asdict(self)


def feedback_dir(cfg: LLMOpsConfig) -> Path:
    """Where feedback records are read from (``<home>/feedback`` unless ``monitoring.feedback_source`` is set)."""
    return cfg.monitoring.feedback_source or cfg.paths.home / "feedback"


def candidates_dir(cfg: LLMOpsConfig) -> Path:
    """The folder holding one ``interval=<key>`` sub-folder of candidates per interval."""
    return cfg.paths.curated_dir / "feedback"


def parse_rating(value: Any) -> bool | None:
    """``True`` for thumbs up, ``False`` for thumbs down, ``None`` when the value is neither."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return True if value > 0 else False if value <= 0 else None
    text = str(value).strip().lower() if isinstance(value, str) else ""
    return True if text in _UP else False if text in _DOWN else None


def _join_texts(prompts: list[str], responses: list[str]) -> list[str]:
    return [f"{p or ''}\n{r or ''}" for p, r in zip(prompts, responses, strict=True)]


def _eval_texts(cfg: LLMOpsConfig) -> list[str]:
    from llmops.data.ingest import iter_record_chunks
    from llmops.data.pii import PiiScrubber

    path = cfg.raw_eval_path
    if not path.exists():
        log.warning("eval set %s not found: feedback candidates are not decontaminated", path)
        return []
    scrubber = PiiScrubber(cfg.data.pii.entities) if cfg.data.pii.enabled else None
    prompts: list[str] = []
    responses: list[str] = []
    for chunk in iter_record_chunks(path, cfg.data.max_line_bytes, cfg.data.batch_rows):
        rows = chunk.rows
        if scrubber is not None:
            rows, _, _ = scrubber.scrub_records(rows)
        prompts.extend(str(r.get("prompt") or "") for r in rows)
        responses.extend(str(r.get("response") or "") for r in rows)
    return _join_texts(prompts, responses)


def _filter_known(
    cfg: LLMOpsConfig, rows: list[dict[str, Any]], reference: Path | None, result: FeedbackResult
) -> list[dict[str, Any]]:
    """Drop duplicates (within, and against the training snapshot) and eval-set near-duplicates."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa

    from llmops.data import minhash
    from llmops.data.dedup import content_keys

    if not rows:
        return rows
    ref = (
        pd.read_parquet(reference, columns=["prompt", "response"])
        if reference is not None
        else pd.DataFrame({"prompt": [], "response": []})
    )
    eval_texts = _eval_texts(cfg) if cfg.data.dedup.decontaminate else []
    ref_texts = _join_texts(ref["prompt"].astype(str).tolist(), ref["response"].astype(str).tolist())
    cand_texts = _join_texts([r["prompt"] for r in rows], [r["response"] for r in rows])
    ref_keys = set(content_keys(pa.array(ref["prompt"].astype(str)), pa.array(ref["response"].astype(str))).tolist())
    keys = content_keys(
        pa.array([r["prompt"] for r in rows], pa.string()), pa.array([r["response"] for r in rows], pa.string())
    ).tolist()
    n_eval, n_ref = len(eval_texts), len(ref_texts)
    params = minhash.MinHashParams.from_config(cfg.data.dedup)
    labels = minhash.near_duplicate_clusters(eval_texts + ref_texts + cand_texts, params)
    eval_clusters = set(np.asarray(labels[:n_eval]).tolist())
    ref_clusters = set(np.asarray(labels[n_eval : n_eval + n_ref]).tolist())
    seen_clusters: set[int] = set()
    seen_keys: set[int] = set()
    kept: list[dict[str, Any]] = []
    for index, row in enumerate(rows):
        label = int(labels[n_eval + n_ref + index])
        if label in eval_clusters:
            result.contaminated += 1
        elif keys[index] in ref_keys or label in ref_clusters:
            result.known += 1
        elif keys[index] in seen_keys or label in seen_clusters:
            result.duplicates += 1
        else:
            seen_keys.add(keys[index])
            seen_clusters.add(label)
            kept.append(row)
    return kept


def curate_feedback(
    cfg: LLMOpsConfig, start: datetime, end: datetime, reference: Path | None, source: Path | None = None
) -> FeedbackResult:
    """Turn the interval's feedback into deduplicated, decontaminated, PII-free training candidates.

    Args:
        cfg: configuration (data-stage contract, PII and dedup settings; ``monitoring.window_intervals``).
        start: data interval start (aware).
        end: data interval end (aware, exclusive).
        reference: the champion's training snapshot (candidates already in it are dropped), or ``None``.
        source: feedback file or folder; ``None`` for :func:`feedback_dir`.

    Returns:
        The :class:`FeedbackResult`; ``candidates_path`` is "" when no candidate is left (an earlier file of the
        interval is removed).
    """
    import pandas as pd

    from llmops.data.ingest import normalize_record
    from llmops.data.pii import PiiScrubber
    from llmops.data.validate import TRAINING, validate_records
    from llmops.fsutil import atomic_write_text

    key = interval_key(start)
    result = FeedbackResult(key=key)
    records, _ = read_interval_records(source or feedback_dir(cfg), start, end)
    result.feedback = len(records)
    latest: dict[str, dict[str, Any]] = {}
    for record in sorted(records, key=lambda r: str(r.get("timestamp"))):
        rid = record.get("request_id")
        user = record.get("user")
        bad_user = user is not None and not isinstance(user, str)
        if not isinstance(rid, str) or not rid or parse_rating(record.get("rating")) is None or bad_user:
            result.invalid += 1
            continue
        if rid in latest:
            result.superseded += 1
        latest[rid] = record
    requests: dict[str, tuple[str, str, str]] = {}
    for part in window_partitions(cfg, key, cfg.monitoring.window_intervals):
        frame = pd.read_parquet(part, columns=["request_id", "prompt", "response", "model_version"])
        texts = zip(frame["prompt"], frame["response"], frame["model_version"].astype(str), strict=True)
        requests.update(zip(frame["request_id"], texts, strict=True))

    rows: list[dict[str, Any]] = []
    given_by: dict[str, str] = {}  # candidate id -> who gave the feedback
    for rid, record in latest.items():
        if rid not in requests:  # not an id the server issued in the window (or a client's own id)
            result.unmatched += 1
            continue
        prompt, response, version = requests[rid]
        up = bool(parse_rating(record.get("rating")))
        result.by_version.setdefault(version, [0, 0])[0 if up else 1] += 1
        result.thumbs_up += up
        result.thumbs_down += not up
        corrected = record.get("corrected_response")
        if isinstance(corrected, str) and corrected.strip():
            obj = {"prompt": prompt, "response": corrected, "source": CORRECTED}
        elif up:
            obj = {"prompt": prompt, "response": response, "source": ACCEPTED}
        else:
            result.rejected += 1
            continue
        row, _ = normalize_record(obj, ACCEPTED)
        if row is None:
            result.invalid += 1
            continue
        row["id"] = f"fb-{rid}"
        given_by[row["id"]] = str(record.get("user") or "")[:200]
        rows.append(row)
    judged = result.thumbs_up + result.thumbs_down
    result.feedback_score = result.thumbs_up / judged if judged else None

    if rows:
        # Corrections are user-typed text: scrub before validation so nothing unscrubbed reaches any output.
        if cfg.data.pii.enabled:
            rows, counts, _ = PiiScrubber(cfg.data.pii.entities).scrub_records(rows)
            result.pii_counts = {k: int(v) for k, v in counts.items()}
        # Row-level contract only: batch-level bounds (minimum rows, ...) apply to the merged training set.
        outcome = validate_records(rows, cfg, f"feedback-{key}", build_docs=False, kind=TRAINING)
        result.quarantined = len(outcome.quarantined)
        rows = [dict(r) for r in outcome.kept_rows]
    rows = _filter_known(cfg, rows, reference, result)
    result.candidates = len(rows)

    folder = candidates_dir(cfg) / f"interval={key}"
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    if rows:
        path = folder / CANDIDATES_FILE
        tmp = folder / f".{CANDIDATES_FILE}.tmp"
        columns = [*TRAIN_COLUMNS, "request_id", "feedback_by"]
        provenance = [
            {"request_id": str(r["id"]).removeprefix("fb-"), "feedback_by": given_by.get(r["id"], "")} for r in rows
        ]
        pd.DataFrame(
            [{c: r.get(c) for c in TRAIN_COLUMNS} | p for r, p in zip(rows, provenance, strict=True)], columns=columns
        ).to_parquet(tmp, index=False)
        os.replace(tmp, path)
        result.candidates_path = str(path)
    atomic_write_text(folder / SUMMARY_FILE, json.dumps(result.to_dict(), indent=2, sort_keys=True), fsync=False)
    log.info("feedback %s: %s", key, json.dumps(result.to_dict(), sort_keys=True))
    return result
