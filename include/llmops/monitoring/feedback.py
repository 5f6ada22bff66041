"""User feedback → training candidates, one interval at a time.

A feedback record is one JSON line: ``{"request_id", "timestamp", "rating", "corrected_response"?, "user"?}`` where
``rating`` is thumbs up or down (``"up"``/``"down"``, ``1``/``-1``/``0``, ``true``/``false``) and ``user`` names who
gave it (the authenticated user or session id, as the feedback endpoint knows it). The feedback whose
timestamp lies in the interval is joined to its request in the curated intervals of the rolling window (the
request may be older than its feedback): their partitions, and the request index of the intervals skipped as too
small for drift (:func:`llmops.monitoring.interval.window_request_files`), so feedback on a quiet hour is kept; the
latest feedback of a request wins.

``request_id`` must be the id the server issued (returned with every answer as the ``request_id`` output, logged as
the request's ``request_id``); the id a client chose is only logged beside it (``client_request_id``) and matches
nothing here. Feedback naming an id that no logged request of the window has is dropped and counted as
``unmatched``. Candidates keep ``request_id`` and ``feedback_by`` (the ``user``, "" when none) beside the training
columns.

* thumbs up: the served ``(prompt, response)`` becomes a candidate (``source="feedback-accepted"``);
* a corrected response (any rating): ``(prompt, corrected_response)`` becomes one (``source="feedback-corrected"``);
* thumbs down without a correction: no candidate (it counts in the feedback score).

Candidates then go through what training data goes through: PII scrubbing, the training contract's row-level checks
(quarantine), screening (below), exact and near-duplicate removal within the batch and against the champion's
training snapshot, and decontamination against the eval set (MinHash/LSH with the data stage's parameters). They are
written to ``<curated_dir>/feedback/interval=<key>/candidates.parquet`` (training layout), replacing an earlier
attempt.

Screening (:func:`screen_candidate`): feedback is text that anyone with a session can send, so a candidate is
dropped when

* its prompt, or a corrected response, holds an injection marker or backdoor trigger (``injection_markers`` in
  ``llmops/evaluation/scorer_lexicon.yaml``; a served answer is not searched: "you are now signed in" is an answer);
* a corrected response holds personal data: any entity the PII detector finds in the text as typed (before
  scrubbing), whoever it belongs to, since a correction is not the place for contact details; a correction that
  came through feedback capture (:mod:`llmops.monitoring.capture`) was scrubbed on arrival, and its record's
  ``pii_found`` says what it held;
* a thumbs-up answer leaks personal data (the ``pii_leak`` scorer on the texts as served: a value the prompt did not
  contain and that is not the company's own contact detail, which also catches invented e-mail addresses and phone
  numbers);
* the answer or correction is abusive (the ``toxicity`` scorer, l33t and spaced spellings included), or a
  thumbs-up answer is degenerate (the ``degenerate`` scorer with the ``scorers`` thresholds). ``degenerate`` is not
  applied to corrections: people type answers without a final full stop, which it reads as truncation.
  ``unsupported_facts`` is not applied at all: it flags most real answers (its gate ceiling is 0.6), and the
  invented facts that matter most (contact details) are ``pii_leak``'s.

The scorers that quote text (``toxicity``, ``degenerate``) read the scrubbed text, ``pii_leak`` and the PII check
report types and counts only, and markers are quoted from the list: no reason carries raw personal data. Dropped
candidates are written with their reasons and scrubbed texts to ``screened_out.jsonl`` beside the candidates.

No Airflow import here.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from llmops.config import LLMOpsConfig
from llmops.data.schema import TRAIN_COLUMNS
from llmops.monitoring.interval import interval_key, read_interval_records, window_request_files

log = logging.getLogger(__name__)

CANDIDATES_FILE = "candidates.parquet"
SCREENED_FILE = "screened_out.jsonl"
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
    # Candidates dropped by screening; screened_reasons counts each reason's kind (a row can have several).
    screened_out: int = 0
    screened_reasons: dict[str, int] = field(default_factory=dict)
    duplicates: int = 0
    known: int = 0
    contaminated: int = 0
    candidates: int = 0
    feedback_score: float | None = None
    # model_version -> [thumbs up, thumbs down] of the requests that version answered (rollback watch).
    by_version: dict[str, list[int]] = field(default_factory=dict)
    # prompt_version -> the same, by the prompt the answer was served with ("None": not recorded by the writer).
    by_prompt: dict[str, list[int]] = field(default_factory=dict)
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


@cache
def load_injection_markers(path: Path | None = None) -> tuple[str, ...]:
    """The ``injection_markers`` list of the scorers' lexicon (lower case, curly apostrophes straightened).

    Args:
        path: the YAML file; the packaged ``scorer_lexicon.yaml`` by default.

    Returns:
        The markers (cached per path).
    """
    import yaml

    from llmops.evaluation.scorers import LEXICON_FILE

    source = path or LEXICON_FILE
    data = yaml.safe_load(source.read_text(encoding="utf-8"))
    markers = data.get("injection_markers") if isinstance(data, dict) else None
    if not isinstance(markers, list) or not markers:
        raise ValueError(f"{source}: expected a non-empty list 'injection_markers'")
    return tuple(_normalize_text(str(m)) for m in markers)


def _normalize_text(text: str) -> str:
    """Compatibility form (full-width letters read as ASCII), zero-width and other format characters removed,
    curly apostrophes straightened, lower case."""
    import unicodedata

    plain = "".join(c for c in unicodedata.normalize("NFKC", text) if unicodedata.category(c) != "Cf")
    return plain.replace("\u2019", "'").replace("\u2018", "'").lower()


def _bounded(marker: str) -> str:
    """A marker's pattern: whole words where it starts or ends with a word character ("cf" is not "cfg"), and
    anywhere next to its markup ("<|im_start|>system")."""
    body = re.escape(marker).replace(r"\ ", r"\s+")
    start = r"(?<!\w)" if re.match(r"\w", marker) else ""
    end = r"(?!\w)" if re.search(r"\w$", marker) else ""
    return f"{start}{body}{end}"


@cache
def _marker_pattern(markers: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(_bounded(m) for m in sorted(markers, key=len, reverse=True)))


def injection_markers(text: str | None, markers: tuple[str, ...] | None = None) -> list[str]:
    """The injection markers and trigger tokens a text holds (as listed, each once, in order of appearance)."""
    if not text:
        return []
    pattern = _marker_pattern(markers if markers is not None else load_injection_markers())
    found = [" ".join(m.group().split()) for m in pattern.finditer(_normalize_text(text))]
    return list(dict.fromkeys(found))


def screen_candidate(
    cfg: LLMOpsConfig,
    source: str,
    raw: tuple[str, str],
    scrubbed: tuple[str, str],
    pii_at_arrival: Mapping[str, int] | None = None,
) -> dict[str, str]:
    """Why a feedback candidate must not be trained on (empty when it may).

    Args:
        cfg: configuration (``data.pii.entities``, ``scorers`` thresholds and knowledge file).
        source: :data:`ACCEPTED` (a served answer the user liked) or :data:`CORRECTED` (a response the user typed).
        raw: ``(prompt, response)`` as logged and typed, before PII scrubbing; read, never quoted.
        scrubbed: the same texts after scrubbing; the scorers that quote text read these.
        pii_at_arrival: what feedback capture replaced in the correction before writing it (its ``pii_found``):
            the correction as typed is gone, these counts say what it held.

    Returns:
        Reason kind (``injection_marker``, ``pii``, ``pii_leak``, ``toxicity``, ``degenerate``) -> reason.
    """
    from llmops.data.pii import PiiScrubber
    from llmops.evaluation.scorers import score_response

    reasons: dict[str, str] = {}
    corrected = source == CORRECTED
    found = injection_markers(raw[0]) + (injection_markers(raw[1]) if corrected else [])
    if found:
        where = "prompt or correction" if corrected else "prompt"
        listed = ", ".join(repr(m) for m in dict.fromkeys(found))
        reasons["injection_marker"] = f"injection marker or trigger in the {where}: {listed}"
    if corrected:
        entities = Counter(m.entity for m in PiiScrubber.from_config(cfg).analyze(raw[1]))
        entities.update({str(k): int(v) for k, v in (pii_at_arrival or {}).items() if int(v) > 0})
        if entities:
            listed = ", ".join(f"{entity} x{n}" for entity, n in sorted(entities.items()))
            reasons["pii"] = f"personal data in the correction: {listed}"
        scored = score_response(*scrubbed, None, cfg.scorers, ["toxicity"])
    else:
        leak = score_response(*raw, None, cfg.scorers, ["pii_leak"])["pii_leak"]
        if leak.flagged:
            reasons["pii_leak"] = f"pii_leak: {leak.reason}"
        scored = score_response(*scrubbed, None, cfg.scorers, ["toxicity", "degenerate"])
    for name, score in scored.items():
        if score.flagged:
            reasons[name] = f"{name}: {score.reason}"
    return reasons


def _join_texts(prompts: list[str], responses: list[str]) -> list[str]:
    return [f"{p or ''}\n{r or ''}" for p, r in zip(prompts, responses, strict=True)]


def _eval_texts(cfg: LLMOpsConfig) -> list[str]:
    from llmops.data.ingest import iter_record_chunks
    from llmops.data.pii import PiiScrubber

    path = cfg.raw_eval_path
    if not path.exists():
        log.warning("eval set %s not found: feedback candidates are not decontaminated", path)
        return []
    scrubber = PiiScrubber.from_config(cfg) if cfg.data.pii.enabled else None
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


def _screen(
    cfg: LLMOpsConfig,
    rows: list[dict[str, Any]],
    raw: dict[str, tuple[str, str]],
    given_by: dict[str, str],
    result: FeedbackResult,
    pii_at_arrival: Mapping[str, Mapping[str, int]] | None = None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Split candidates into kept and screened-out ones (:func:`screen_candidate`), counting the reasons.

    Returns:
        ``(kept rows, screened-out records)``; a record holds ``request_id``, ``feedback_by``, ``source``,
        ``reasons`` (kinds), ``reason`` and the scrubbed ``prompt`` and ``response``.
    """
    from llmops.data.pii import PiiScrubber

    # The screened-out file holds scrubbed text even where scrubbing of training data is switched off.
    scrubber = None if cfg.data.pii.enabled else PiiScrubber.from_config(cfg)
    kept: list[dict[str, Any]] = []
    screened: list[dict[str, Any]] = []
    reasons: Counter[str] = Counter()
    for row in rows:
        texts = (str(row["prompt"]), str(row["response"]))
        if scrubber is not None:
            texts = (scrubber.scrub(texts[0])[0] or "", scrubber.scrub(texts[1])[0] or "")
        arrived = (pii_at_arrival or {}).get(row["id"])
        found = screen_candidate(cfg, str(row["source"]), raw[row["id"]], texts, arrived)
        if not found:
            kept.append(row)
            continue
        reasons.update(found.keys())
        screened.append(
            {
                "request_id": str(row["id"]).removeprefix("fb-"),
                "feedback_by": given_by.get(row["id"], ""),
                "source": row["source"],
                "reasons": sorted(found),
                "reason": "; ".join(found[k] for k in sorted(found)),
                "prompt": texts[0],
                "response": texts[1],
            }
        )
    result.screened_out = len(screened)
    result.screened_reasons = dict(sorted(reasons.items()))
    if screened:
        log.warning("feedback %s: %d candidates screened out %s", result.key, len(screened), result.screened_reasons)
    return kept, screened


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
        interval is removed). Screened-out candidates are in ``screened_out.jsonl`` beside it (only when any).
    """
    import pandas as pd
    import pyarrow.parquet as pq

    from llmops.data.ingest import normalize_record
    from llmops.data.pii import PiiScrubber
    from llmops.data.validate import TRAINING, validate_records
    from llmops.fsutil import atomic_write_text

    key = interval_key(start)
    result = FeedbackResult(key=key)
    records, _ = read_interval_records(source or feedback_dir(cfg), start, end, cfg.data.max_line_bytes)
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
    requests: dict[str, tuple[str, str, str, str]] = {}
    for part in window_request_files(cfg, key, cfg.monitoring.window_intervals):
        columns = ["request_id", "prompt", "response", "model_version"]
        if "prompt_version" in pq.read_schema(part).names:  # files written before it was recorded lack it
            columns.append("prompt_version")
        frame = pd.read_parquet(part, columns=columns)
        if "prompt_version" not in frame.columns:
            frame["prompt_version"] = None
        texts = zip(
            frame["prompt"],
            frame["response"],
            frame["model_version"].astype(str),
            frame["prompt_version"].astype(str),
            strict=True,
        )
        requests.update(zip(frame["request_id"], texts, strict=True))

    rows: list[dict[str, Any]] = []
    given_by: dict[str, str] = {}  # candidate id -> who gave the feedback
    arrived: dict[str, dict[str, int]] = {}  # candidate id -> what capture replaced in the correction
    for rid, record in latest.items():
        if rid not in requests:  # not an id the server issued in the window (or a client's own id)
            result.unmatched += 1
            continue
        prompt, response, version, prompt_version = requests[rid]
        up = bool(parse_rating(record.get("rating")))
        result.by_version.setdefault(version, [0, 0])[0 if up else 1] += 1
        result.by_prompt.setdefault(prompt_version, [0, 0])[0 if up else 1] += 1
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
        if isinstance(record.get("pii_found"), dict) and obj["source"] == CORRECTED:
            arrived[row["id"]] = {str(k): int(v) for k, v in record["pii_found"].items() if isinstance(v, int)}
        rows.append(row)
    judged = result.thumbs_up + result.thumbs_down
    result.feedback_score = result.thumbs_up / judged if judged else None

    screened: list[dict[str, Any]] = []
    if rows:
        # Screening reads the texts as typed (PII in a correction is a reason); kept in memory only.
        raw = {r["id"]: (str(r["prompt"]), str(r["response"])) for r in rows}
        # Corrections are user-typed text: scrub before validation so nothing unscrubbed reaches any output.
        if cfg.data.pii.enabled:
            rows, counts, _ = PiiScrubber.from_config(cfg).scrub_records(rows)
            result.pii_counts = {k: int(v) for k, v in counts.items()}
        # Row-level contract only: batch-level bounds (minimum rows, ...) apply to the merged training set.
        outcome = validate_records(rows, cfg, f"feedback-{key}", build_docs=False, kind=TRAINING)
        result.quarantined = len(outcome.quarantined)
        rows, screened = _screen(cfg, [dict(r) for r in outcome.kept_rows], raw, given_by, result, arrived)
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
    if screened:
        lines = "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in screened)
        atomic_write_text(folder / SCREENED_FILE, lines, fsync=False)
    atomic_write_text(folder / SUMMARY_FILE, json.dumps(result.to_dict(), indent=2, sort_keys=True), fsync=False)
    log.info("feedback %s: %s", key, json.dumps(result.to_dict(), sort_keys=True))
    return result
