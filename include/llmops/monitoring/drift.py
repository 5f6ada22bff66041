"""Drift check between the training snapshot (reference) and production request logs (current).

The check compares prompts and responses with Evidently's ``DataDriftPreset``: the raw texts (TF-IDF domain
classifier) plus cheap per-row descriptors computed here without Evidently (length, words, non-letter share,
out-of-vocabulary share), and ``latency_ms`` when both sides log it. Outputs land in one directory:

* ``drift_report.html``: the Evidently report for humans;
* ``drift_report.json``: Evidently's metric and test results (``Snapshot.json()``);
* ``drift_summary.json``: the :class:`DriftResult` fields, small enough for XCom or MLflow.

No Airflow import here; pandas and Evidently are imported inside the functions that need them.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeGuard

from llmops.config import DriftConfig
from llmops.data.prodlog import iter_prod_log_lines
from llmops.data.schema import PROD_LOG_COLUMNS
from llmops.fsutil import atomic_write_text

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)

HTML_NAME = "drift_report.html"
JSON_NAME = "drift_report.json"
SUMMARY_NAME = "drift_summary.json"
TEXT_COLUMNS: tuple[str, ...] = ("prompt", "response")
# Descriptors that go into the drift test. ``<col>_empty`` is reported as a rate in the metrics instead: a 0/1
# column would mostly add a constant column to the denominator of the drift share.
DRIFT_DESCRIPTORS: tuple[str, ...] = ("length", "words", "non_letter_share", "oov_share")
SAMPLE_SEED = 0

_WORD = re.compile(r"[^\W\d_]+")


@dataclass
class DriftResult:
    """Outcome of a drift check, shaped like every quality gate: passed, metrics, reason.

    Attributes:
        passed: True when the share of drifted columns is below ``DriftConfig.drift_share_threshold`` (or when
            there were too few production rows to judge).
        drift_share: share of the tested columns where Evidently detected drift (0.0 when not assessed).
        drifted_columns: names of the drifted columns, in report order.
        metrics: flat ``name -> float`` dict (per-column drift scores, mean lengths, empty rates, OOV shares, ...).
        reason: one human-readable sentence explaining the verdict.
        html_path: the Evidently HTML report ("" when Evidently did not run).
        json_path: the Evidently JSON results (a small status JSON when Evidently did not run).
    """

    passed: bool
    drift_share: float
    drifted_columns: list[str] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)
    reason: str = ""
    html_path: str = ""
    json_path: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Return the fields as a JSON-ready dict (for XCom or a summary file)."""
        return dataclasses.asdict(self)


# --------------------------------------------------------------------------------------------------------------
# Production logs
# --------------------------------------------------------------------------------------------------------------
def load_prod_logs(source: Path, max_rows: int, max_line_bytes: int = 1_000_000) -> pd.DataFrame:
    """Read production request logs (JSONL) and keep the most recent rows.

    Lines are read strictly (:func:`llmops.data.prodlog.iter_prod_log_lines`): a line that is no usable record
    (over ``max_line_bytes``, not UTF-8, not JSON, a missing field, a wrong type, no readable timestamp, a
    half-written last line) is skipped and counted; so are failed requests (``error`` set); blank lines are ignored.

    Args:
        source: a ``.jsonl`` file, or a directory searched recursively for ``*.jsonl`` (files read in path order).
        max_rows: keep at most this many rows, the most recent by ``timestamp``.
        max_line_bytes: longest accepted line, in bytes (``data.max_line_bytes``).

    Returns:
        A DataFrame with at least the ``PROD_LOG_COLUMNS`` (``timestamp`` parsed to UTC, ``latency_ms`` numeric),
        sorted by timestamp. ``df.attrs`` holds ``bad_lines``, ``failed_requests``, ``files`` (ints) and ``source``.

    Raises:
        FileNotFoundError: ``source`` does not exist.
        ValueError: ``max_rows`` is not positive.
    """
    import pandas as pd

    if max_rows < 1:
        raise ValueError(f"max_rows must be >= 1, got {max_rows}")
    source = Path(source)
    if source.is_dir():
        files = sorted(
            (p for p in source.rglob("*.jsonl") if p.is_file()), key=lambda p: p.relative_to(source).as_posix()
        )
    elif source.is_file():
        files = [source]
    else:
        raise FileNotFoundError(f"production log source not found: {source}")

    records: list[dict[str, Any]] = []
    bad_lines = failed = 0
    for path in files:
        for line in iter_prod_log_lines(path, max_line_bytes):
            record = line.record
            texts = (record.get("prompt"), record.get("response")) if record is not None else (None, None)
            if record is None or not all(isinstance(text, str) for text in texts):
                bad_lines += 1
            elif line.failed:  # a failed request has no answer to compare
                failed += 1
            else:
                records.append(record)
    if bad_lines:
        log.warning("skipped %d malformed production log line(s) under %s", bad_lines, source)

    df = pd.DataFrame.from_records(records)
    for column in PROD_LOG_COLUMNS:
        if column not in df.columns:
            df[column] = None
    df["timestamp"] = pd.to_datetime(df["timestamp"], utc=True, errors="coerce", format="ISO8601")
    df["latency_ms"] = pd.to_numeric(df["latency_ms"], errors="coerce")
    # Stable sort: equal timestamps keep file order; unparseable timestamps sort first and are dropped first.
    df = df.sort_values("timestamp", kind="mergesort", na_position="first").tail(max_rows).reset_index(drop=True)
    df.attrs["bad_lines"] = bad_lines
    df.attrs["failed_requests"] = failed
    df.attrs["files"] = len(files)
    df.attrs["source"] = str(source)
    return df


# --------------------------------------------------------------------------------------------------------------
# Text descriptors
# --------------------------------------------------------------------------------------------------------------
def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


def tokenize(text: str) -> list[str]:
    """Split a text into lowercase word tokens (runs of letters; digits and punctuation are separators)."""
    return _WORD.findall(text.lower())


def build_vocabulary(texts: Iterable[Any]) -> Counter[str]:
    """Count in how many texts each lowercase word token appears (document frequency).

    Args:
        texts: the reference texts (non-strings count as empty).

    Returns:
        ``token -> number of texts containing it``; its keys are the vocabulary.
    """
    vocabulary: Counter[str] = Counter()
    for text in texts:
        vocabulary.update(set(tokenize(_as_text(text))))
    return vocabulary


def text_descriptors(
    df: pd.DataFrame,
    column: str,
    vocabulary: Mapping[str, int] | AbstractSet[str] | None = None,
    *,
    leave_one_out: bool = False,
) -> pd.DataFrame:
    """Compute per-row numeric descriptors of a text column.

    Columns of the result (prefixed with ``<column>_``): ``length`` (characters), ``words`` (whitespace-separated
    words), ``non_letter_share`` (share of non-space characters that are not letters), ``oov_share`` (share of the
    row's word tokens missing from the vocabulary) and ``empty`` (1.0 when the text is blank).

    Args:
        df: the frame holding the column (missing values count as empty texts).
        column: the text column.
        vocabulary: the reference vocabulary: a set of lowercase tokens, or the document frequencies from
            :func:`build_vocabulary`. ``None`` builds it from ``df[column]`` itself, leave-one-out.
        leave_one_out: the rows of ``df`` are the very texts the vocabulary (document frequencies) was built
            from: a token counts as in-vocabulary only if another text also contains it. Without this every
            reference row would have an OOV share of 0, and any fresh sample would look drifted.

    Returns:
        A float DataFrame with the same index as ``df``.

    Raises:
        KeyError: ``column`` is not in ``df``.
        ValueError: ``leave_one_out`` with a plain set (document frequencies are needed).
    """
    import pandas as pd

    texts = [_as_text(v) for v in df[column].tolist()]
    if vocabulary is None:
        vocabulary, leave_one_out = build_vocabulary(texts), True
    if leave_one_out and not isinstance(vocabulary, Mapping):
        raise ValueError("leave_one_out needs document frequencies (build_vocabulary), not a plain set")
    min_df = 2 if leave_one_out else 1

    lengths: list[float] = []
    words: list[float] = []
    non_letter: list[float] = []
    oov: list[float] = []
    empty: list[float] = []
    for text in texts:
        lengths.append(float(len(text)))
        words.append(float(len(text.split())))
        visible = [ch for ch in text if not ch.isspace()]
        non_letter.append(sum(not ch.isalpha() for ch in visible) / len(visible) if visible else 0.0)
        tokens = tokenize(text)
        if tokens:
            if isinstance(vocabulary, Mapping):
                missing = sum(vocabulary.get(tok, 0) < min_df for tok in tokens)
            else:
                missing = sum(tok not in vocabulary for tok in tokens)
            oov.append(missing / len(tokens))
        else:
            oov.append(0.0)
        empty.append(0.0 if text.strip() else 1.0)
    return pd.DataFrame(
        {
            f"{column}_length": lengths,
            f"{column}_words": words,
            f"{column}_non_letter_share": non_letter,
            f"{column}_oov_share": oov,
            f"{column}_empty": empty,
        },
        index=df.index,
    )


# --------------------------------------------------------------------------------------------------------------
# Drift check
# --------------------------------------------------------------------------------------------------------------
def _sample(df: pd.DataFrame, cap: int) -> pd.DataFrame:
    # Seeded so that reruns of the same data interval give the same report.
    if len(df) > cap:
        df = df.sample(n=cap, random_state=SAMPLE_SEED)
    return df.reset_index(drop=True)


def _has_values(df: pd.DataFrame, column: str) -> bool:
    import pandas as pd

    return column in df.columns and bool(pd.to_numeric(df[column], errors="coerce").notna().any())


def _finite(metrics: Mapping[str, float]) -> dict[str, float]:
    # NaN/inf are not valid JSON and MLflow rejects them: leave such keys out.
    return {k: float(v) for k, v in metrics.items() if v is not None and math.isfinite(float(v))}


def _frame_for_drift(
    ref: pd.DataFrame, cur: pd.DataFrame, with_latency: bool
) -> tuple[pd.DataFrame, pd.DataFrame, list[str], dict[str, float]]:
    """Build the two frames Evidently compares, and the descriptor summary metrics."""
    import pandas as pd

    frames: dict[str, dict[str, Any]] = {"ref": {}, "cur": {}}
    numeric: list[str] = []
    metrics: dict[str, float] = {}
    for column in TEXT_COLUMNS:
        vocabulary = build_vocabulary(ref[column])
        descriptors = {
            "ref": text_descriptors(ref, column, vocabulary, leave_one_out=True),
            "cur": text_descriptors(cur, column, vocabulary),
        }
        for side, source in (("ref", ref), ("cur", cur)):
            frames[side][column] = [_as_text(v) for v in source[column].tolist()]
            d = descriptors[side]
            for name in DRIFT_DESCRIPTORS:
                frames[side][f"{column}_{name}"] = d[f"{column}_{name}"].to_numpy()
            metrics[f"{column}_length_mean_{side}"] = float(d[f"{column}_length"].mean())
            metrics[f"{column}_words_mean_{side}"] = float(d[f"{column}_words"].mean())
            metrics[f"{column}_oov_share_{side}"] = float(d[f"{column}_oov_share"].mean())
            metrics[f"{column}_empty_rate_{side}"] = float(d[f"{column}_empty"].mean())
        numeric.extend(f"{column}_{name}" for name in DRIFT_DESCRIPTORS)
    if with_latency:
        frames["ref"]["latency_ms"] = pd.to_numeric(ref["latency_ms"], errors="coerce").to_numpy(dtype=float)
        frames["cur"]["latency_ms"] = pd.to_numeric(cur["latency_ms"], errors="coerce").to_numpy(dtype=float)
        metrics["latency_ms_mean_ref"] = float(frames["ref"]["latency_ms"].mean())
        metrics["latency_ms_mean_cur"] = float(frames["cur"]["latency_ms"].mean())
        numeric.append("latency_ms")
    return pd.DataFrame(frames["ref"]), pd.DataFrame(frames["cur"]), numeric, metrics


def _run_report(
    ref: pd.DataFrame,
    cur: pd.DataFrame,
    text_columns: list[str],
    numeric_columns: list[str],
    cfg: DriftConfig,
    title: str,
    timestamp: datetime | None,
    text_method: str | None,
) -> Any:
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    columns = text_columns + numeric_columns
    definition = DataDefinition(text_columns=text_columns or None, numerical_columns=numeric_columns)
    # include_tests=True: the per-column ValueDrift tests are where Evidently states "drift detected" per column.
    report = Report(
        [DataDriftPreset(columns=columns, drift_share=cfg.drift_share_threshold, text_method=text_method)],
        include_tests=True,
    )
    return report.run(
        Dataset.from_pandas(cur[columns], data_definition=definition),
        Dataset.from_pandas(ref[columns], data_definition=definition),
        timestamp=timestamp,
        name=title,
    )


def _type_is(config: Any, name: str) -> TypeGuard[Mapping[str, Any]]:
    return isinstance(config, Mapping) and str(config.get("type", "")).rsplit(":", 1)[-1] == name


def parse_drift_results(results: Mapping[str, Any]) -> tuple[float, int, list[str], dict[str, float]]:
    """Read drift share, drifted columns and per-column scores from ``Snapshot.dict()`` (Evidently 0.7).

    Args:
        results: ``{"metrics": [...], "tests": [...]}`` as returned by ``Snapshot.dict()`` of a report holding a
            ``DataDriftPreset`` run with ``include_tests=True``.

    Returns:
        ``(drift_share, drifted_count, drifted_columns, scores)`` where ``scores`` maps
        ``drift_score.<column>`` to the column's drift score (a p-value or a ROC AUC, depending on the method).

    Raises:
        ValueError: the results hold no ``DriftedColumnsCount`` metric.
    """
    share: float | None = None
    count = 0
    scores: dict[str, float] = {}
    columns_in_order: list[str] = []
    for metric in results.get("metrics", []):
        config = metric.get("config")
        if _type_is(config, "DriftedColumnsCount"):
            value = metric.get("value") or {}
            share = float(value["share"])
            count = round(float(value.get("count", 0)))
        elif _type_is(config, "ValueDrift"):
            column = str(config["column"])
            columns_in_order.append(column)
            scores[f"drift_score.{column}"] = float(metric["value"])
    if share is None:
        raise ValueError("Evidently results hold no DriftedColumnsCount metric: cannot read the drift share")
    failed: set[str] = set()
    for test in results.get("tests", []):
        params = (test.get("metric_config") or {}).get("params")
        if _type_is(params, "ValueDrift") and test.get("status") == "FAIL":
            failed.add(str(params["column"]))
    drifted = [c for c in columns_in_order if c in failed]
    if len(drifted) != count:
        log.warning("Evidently counts %d drifted columns but flags %d: %s", count, len(drifted), drifted)
    return share, count, drifted, scores


def _write_outputs(out_dir: Path, result: DriftResult) -> None:
    atomic_write_text(out_dir / SUMMARY_NAME, json.dumps(result.to_dict(), indent=2, sort_keys=True), fsync=False)


def run_drift_check(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    out_dir: Path,
    cfg: DriftConfig,
    *,
    title: str = "Prompt/response drift: training data vs production",
    timestamp: datetime | None = None,
    text_method: str | None = None,
) -> DriftResult:
    """Compare production traffic with the training data and write the Evidently report.

    Each side is sampled (seeded) down to ``cfg.max_reference_rows`` / ``cfg.max_current_rows``. If the TF-IDF
    text drift cannot run (vocabulary too small: "After pruning, no terms remain"), the check is rerun on the
    descriptors alone and ``reason`` says so (``metrics["text_drift_assessed"] == 0``).

    Args:
        reference: training rows with ``prompt`` and ``response`` (``latency_ms`` optional).
        current: production rows, e.g. from :func:`load_prod_logs`.
        out_dir: where ``drift_report.html``, ``drift_report.json`` and ``drift_summary.json`` go (created).
        cfg: sampling caps, minimum production rows and the drift-share threshold.
        title: the snapshot's name in the report.
        timestamp: the report's timestamp (pass the data interval end; defaults to Evidently's ``now()``).
        text_method: Evidently stat test for the text columns; ``None`` lets Evidently choose (percentile text
            content drift with 1,000 bootstrap rounds up to 1,000 reference rows, absolute ROC AUC above).

    Returns:
        The :class:`DriftResult`; ``passed`` is ``drift_share < cfg.drift_share_threshold``.

    Raises:
        ValueError: a side lacks ``prompt``/``response``, or the reference is empty.
    """
    for name, frame in (("reference", reference), ("current", current)):
        missing = [c for c in TEXT_COLUMNS if c not in frame.columns]
        if missing:
            raise ValueError(f"{name} data lacks column(s) {missing}; expected at least {list(TEXT_COLUMNS)}")
    if len(reference) == 0:
        raise ValueError("reference data is empty: nothing to compare production traffic with")

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    html_path, json_path = out_dir / HTML_NAME, out_dir / JSON_NAME

    n_current = len(current)
    if n_current < cfg.min_current_rows:
        reason = f"not enough production rows ({n_current} < {cfg.min_current_rows}): drift not assessed"
        html_path.unlink(missing_ok=True)  # a stale report from an earlier attempt would contradict this result
        result = DriftResult(
            passed=True,
            drift_share=0.0,
            metrics={"current_rows": float(n_current), "reference_rows": float(len(reference)), "assessed": 0.0},
            reason=reason,
            json_path=str(json_path),
        )
        atomic_write_text(
            json_path, json.dumps({"assessed": False, "reason": reason, "metrics": result.metrics}), fsync=False
        )
        _write_outputs(out_dir, result)
        log.info(reason)
        return result

    ref = _sample(reference, cfg.max_reference_rows)
    cur = _sample(current, cfg.max_current_rows)
    with_latency = _has_values(ref, "latency_ms") and _has_values(cur, "latency_ms")
    ref_frame, cur_frame, numeric, metrics = _frame_for_drift(ref, cur, with_latency)

    text_columns = list(TEXT_COLUMNS)
    text_note = ""
    try:
        snapshot = _run_report(ref_frame, cur_frame, text_columns, numeric, cfg, title, timestamp, text_method)
    except ValueError as exc:
        # Typically sklearn's TF-IDF: "After pruning, no terms remain" or "empty vocabulary" on tiny vocabularies.
        text_note = f"text drift not assessed ({type(exc).__name__}: {exc}); descriptors only"
        log.warning("%s", text_note)
        text_columns = []
        snapshot = _run_report(ref_frame, cur_frame, text_columns, numeric, cfg, title, timestamp, text_method)

    results = snapshot.dict()
    drift_share, drifted_count, drifted_columns, scores = parse_drift_results(results)
    n_columns = len(text_columns) + len(numeric)
    metrics.update(scores)
    metrics.update(
        {
            "assessed": 1.0,
            "drift_share": drift_share,
            "drifted_columns_count": float(drifted_count),
            "columns_tested": float(n_columns),
            "reference_rows": float(len(ref)),
            "current_rows": float(len(cur)),
            "text_drift_assessed": 0.0 if text_note else 1.0,
        }
    )

    threshold = cfg.drift_share_threshold
    passed = drift_share < threshold
    verdict = f"drift share {drift_share:.2f} {'<' if passed else '>='} threshold {threshold:.2f}"
    detail = f"{drifted_count} of {n_columns} columns drifted"
    if drifted_columns:
        detail += ": " + ", ".join(drifted_columns)
    reason = f"{verdict} ({detail})"
    if text_note:
        reason += f"; {text_note}"

    tmp_html = out_dir / f".{HTML_NAME}.tmp"
    snapshot.save_html(str(tmp_html))  # save_html silently ignores non-str paths
    os.replace(tmp_html, html_path)
    atomic_write_text(json_path, snapshot.json(), fsync=False)

    result = DriftResult(
        passed=passed,
        drift_share=drift_share,
        drifted_columns=drifted_columns,
        metrics=_finite(metrics),
        reason=reason,
        html_path=str(html_path),
        json_path=str(json_path),
    )
    _write_outputs(out_dir, result)
    log.info("drift check: %s", reason)
    return result
