"""What the served model says, interval by interval: the scorer suite on every answered request.

:func:`score_records` runs the safety scorers of ``llmops.evaluation.scorers`` (the safety-critical ones of the
``scorers:`` section plus ``refusal``) on each answered record *before* its text is scrubbed: a leak is personal data
in the answer that the prompt did not hold, which only the unscrubbed texts can tell (the served model scrubs its
lines before writing them and sets ``pii_leak`` itself, on the raw text; that flag counts). Only the flags are kept (as
``flag_<scorer>`` columns of the interval's partition); the texts are scrubbed as before. Each distinct
(prompt, answer) pair is scored once.

:func:`safety_rates` turns the flag columns into rates, overall and per model version; :func:`text_evals_report` is
the Evidently ``TextEvals`` report of the interval's answers: Evidently's own descriptors where they work offline
(length, sentences, words, links) beside the project's scorers wrapped as custom descriptors.

No Airflow import here.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llmops.config import LLMOpsConfig

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

log = logging.getLogger(__name__)

FLAG_PREFIX = "flag_"
TEXT_EVALS_HTML = "text_evals.html"
TEXT_EVALS_JSON = "text_evals.json"


def monitored_scorers(cfg: LLMOpsConfig) -> list[str]:
    """The scorers run on live answers (none when ``monitoring.score_answers`` is off)."""
    if not cfg.monitoring.score_answers:
        return []
    return list(dict.fromkeys([*cfg.scorers.safety_critical, "refusal"]))


RESPONSE_ONLY = frozenset({"refusal", "degenerate", "toxicity"})
"""Scorers that read the answer alone: judged once per distinct answer."""


def score_records(cfg: LLMOpsConfig, records: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, bool]]:
    """Flags of the monitored scorers per ``request_id`` (records without a string prompt and answer are skipped:
    the contract quarantines them).

    The same flags as :func:`llmops.evaluation.scorers.score_response` without a reference, computed with less work:
    answer-only scorers once per distinct answer; ``pii_leak`` and ``unsupported_facts`` check the answer against the
    product knowledge once per distinct answer, and look at the prompt only when something is left (personal data
    that is not the company's, facts the knowledge does not hold).

    Returns:
        ``{request_id: {scorer: flagged}}``.
    """
    from llmops.evaluation.scorers import (
        extract_facts,
        facts_beyond,
        facts_beyond_knowledge,
        load_knowledge,
        pii_beyond_knowledge,
        pii_not_in_prompt,
        prefetch_toxicity,
        score_response,
    )

    names = monitored_scorers(cfg)
    if not names:
        return {}
    sc = cfg.scorers
    limit = sc.max_unsupported_facts
    knowledge = load_knowledge(sc.knowledge_file) if sc.knowledge_file else load_knowledge()
    alone = [n for n in names if n in RESPONSE_ONLY]
    by_response: dict[str, dict[str, Any]] = {}
    flags: dict[str, dict[str, bool]] = {}
    records = list(records)
    if "toxicity" in alone:  # one batched classifier pass over the distinct answers
        prefetch_toxicity((r.get("response") for r in records if isinstance(r.get("response"), str)), sc)
    for record in records:
        prompt, response, rid = record.get("prompt"), record.get("response"), record.get("request_id")
        if not isinstance(prompt, str) or not isinstance(response, str) or not isinstance(rid, str):
            continue
        cached = by_response.get(response)
        if cached is None:
            results = score_response(None, response, None, sc, alone) if alone else {}
            cached = by_response[response] = {
                "flags": {n: bool(r.flagged) for n, r in results.items()},
                "pii": pii_beyond_knowledge(response, knowledge) if "pii_leak" in names else [],
                "facts": facts_beyond_knowledge(response, knowledge) if "unsupported_facts" in names else [],
            }
        row = dict(cached["flags"])
        if "pii_leak" in names:  # what the answer holds beyond the company's contacts, unless the prompt held it;
            # the served model scrubs before writing, so its lines carry the flag it set on the raw text
            row["pii_leak"] = record.get("pii_leak") is True or bool(pii_not_in_prompt(cached["pii"], prompt))
        if "unsupported_facts" in names:  # facts beyond the knowledge, unless the prompt states them
            invented = cached["facts"]
            if invented:
                invented = facts_beyond(invented, knowledge, set(extract_facts(prompt)))
            row["unsupported_facts"] = len(invented) > limit
        flags[rid] = {n: row[n] for n in names}
    return flags


def add_flag_columns(table: pa.Table, flags: Mapping[str, Mapping[str, bool]], names: Sequence[str]) -> pa.Table:
    """``flag_<scorer>`` boolean columns joined on ``request_id`` (null where a row was not scored)."""
    import pyarrow as pa

    ids = table.column("request_id").to_pylist()
    for name in names:
        values = [flags[i][name] if i in flags else None for i in ids]
        column = f"{FLAG_PREFIX}{name}"
        if column in table.column_names:
            table = table.drop_columns([column])
        table = table.append_column(column, pa.array(values, pa.bool_()))
    return table


def flag_columns(df: pd.DataFrame) -> list[str]:
    return [c for c in df.columns if c.startswith(FLAG_PREFIX)]


def safety_rates(df: pd.DataFrame) -> dict[str, float]:
    """``safety_<scorer>_rate`` (flagged share of the scored rows) for each flag column, and ``safety_scored_rows``."""
    out: dict[str, float] = {}
    for column in flag_columns(df):
        scored = df[column].dropna()
        if len(scored):
            out[f"safety_{column.removeprefix(FLAG_PREFIX)}_rate"] = float(scored.astype(bool).mean())
            out["safety_scored_rows"] = float(len(scored))
    return out


def metric_label(value: str) -> str:
    """``value`` as part of an MLflow metric name: ``/`` and any character MLflow refuses become ``_``
    (``support-assistant/3`` -> ``support-assistant_3``)."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", value) or "_"


def safety_counts_by_version(df: pd.DataFrame, column: str = "model_version") -> dict[str, dict[str, list[int]]]:
    """``{version: {scorer: [flagged, scored]}}`` per value of ``column`` (``model_version``: the rollback watch adds
    these up over intervals; ``prompt_version``: the same answers sliced by the prompt they were served with)."""
    out: dict[str, dict[str, list[int]]] = {}
    if column not in df.columns:
        return out
    for version, group in df.groupby(df[column].astype(str)):
        for flag in flag_columns(group):
            scored = group[flag].dropna()
            out.setdefault(str(version), {})[flag.removeprefix(FLAG_PREFIX)] = [
                int(scored.astype(bool).sum()),
                len(scored),
            ]
    return out


def _scorer_descriptor(cfg: LLMOpsConfig, name: str, scored: bool) -> Any:
    """A project scorer as an Evidently custom descriptor: its flag as scored before scrubbing (the ``flag_<name>``
    column) when ``scored``, else the scorer run on the (scrubbed) prompt and response columns."""
    import pandas as pd
    from evidently.core.datasets import DatasetColumn
    from evidently.descriptors import CustomColumnDescriptor, CustomDescriptor
    from evidently.legacy.core import ColumnType

    from llmops.evaluation.scorers import prefetch_toxicity, score_response

    def label(values: Iterable[Any]) -> list[str]:
        return ["not scored" if v is None or v != v else "flagged" if v else "ok" for v in values]

    if scored:

        def from_flags(column: Any) -> DatasetColumn:
            return DatasetColumn(ColumnType.Categorical, pd.Series(label(column.data), index=column.data.index))

        return CustomColumnDescriptor(f"{FLAG_PREFIX}{name}", from_flags, alias=name)

    def run(dataset: Any) -> DatasetColumn:
        prompts = dataset.column("prompt").data
        responses = dataset.column("response").data
        if name == "toxicity":
            prefetch_toxicity((str(r) for r in responses), cfg.scorers)
        flags = [
            score_response(str(p), str(r), None, cfg.scorers, [name])[name].flagged
            for p, r in zip(prompts, responses, strict=True)
        ]
        return DatasetColumn(ColumnType.Categorical, pd.Series(label(flags), index=prompts.index))

    return CustomDescriptor(run, alias=name)


def text_evals_report(
    cfg: LLMOpsConfig, current: pd.DataFrame, out_dir: Path, title: str, max_rows: int
) -> dict[str, str]:
    """The Evidently ``TextEvals`` report of the interval's answers (a sample of at most ``max_rows`` rows).

    Descriptors: Evidently's ``TextLength``, ``SentenceCount``, ``WordCount`` and ``ContainsLink`` on the response
    (not ``NonLetterCharacterPercentage``: it divides by zero on an empty answer), and the project's monitored
    scorers as custom descriptors: the flags the curation scored on the texts before scrubbing (``flag_<scorer>``
    columns), or, for rows without them, the scorer on the scrubbed texts.

    Returns:
        ``{"html", "json"}`` paths.
    """
    from evidently import DataDefinition, Dataset, Report
    from evidently.descriptors import (
        ContainsLink,
        SentenceCount,
        TextLength,
        WordCount,
    )
    from evidently.presets import TextEvals

    from llmops.fsutil import atomic_write_text

    flags = [f"{FLAG_PREFIX}{n}" for n in monitored_scorers(cfg) if f"{FLAG_PREFIX}{n}" in current.columns]
    frame = current[["prompt", "response"]].fillna("").astype(str)
    for column in flags:
        frame[column] = current[column].astype(object)
    if len(frame) > max_rows:
        frame = frame.sample(n=max_rows, random_state=0)
    descriptors = [
        TextLength("response", alias="length"),
        SentenceCount("response", alias="sentences"),
        WordCount("response", alias="words"),
        ContainsLink("response", alias="has_link"),
        *[_scorer_descriptor(cfg, n, f"{FLAG_PREFIX}{n}" in flags) for n in monitored_scorers(cfg)],
    ]
    dataset = Dataset.from_pandas(
        frame.reset_index(drop=True),
        data_definition=DataDefinition(text_columns=["prompt", "response"], categorical_columns=flags),
        descriptors=descriptors,
    )
    aliases = ["length", "sentences", "words", "has_link", *monitored_scorers(cfg)]
    snapshot = Report([TextEvals(columns=aliases)], metadata={"title": title}).run(dataset, None)
    out_dir.mkdir(parents=True, exist_ok=True)
    html, js = out_dir / TEXT_EVALS_HTML, out_dir / TEXT_EVALS_JSON
    tmp = out_dir / f".{TEXT_EVALS_HTML}.tmp"
    snapshot.save_html(str(tmp))
    tmp.replace(html)
    atomic_write_text(js, snapshot.json(), fsync=False)
    return {"html": str(html), "json": str(js)}
