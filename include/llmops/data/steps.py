"""The data stage's tasks, in order::

    validate_raw_data -> plan_shards -> scrub_shard (mapped) -> sign_shard (mapped) -> dedup_dataset
    -> snapshot_dataset

Each function is one task (same name as the task id; its docstring's first paragraph is the task's doc in the UI).
Outputs are written under ``<paths.curated_dir>/<run.key>/`` and replaced atomically; each task returns a small dict
of paths and counts (:mod:`llmops.data.payloads`), never the data. The three decisions of the stage are recorded as
verdicts (:mod:`llmops.data.gates`); a failed one fails the run without retries.

``apply_retention`` (``llm_data_retention``) and ``erase_records`` (``llm_data_erasure``) run the engine of
:mod:`llmops.data.retention`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from llmops.data import dedup, gates, shards, snapshot, validation
from llmops.data.payloads import Curated, Deduped, Scrubbed, Signed, Validated
from llmops.errors import Permanent
from llmops.run import Run
from llmops.verdict import Verdict, record


def validate_raw_data(run: Run) -> Validated:
    """Check the raw training file against the data contract (Great Expectations suite `raw_training_data`):
    quarantine bad rows with their reason, keep the valid ones.

    Records the `data_contract` verdict; a broken contract (empty or too small file, missing column, too many bad
    rows or duplicates) fails the run without retries, after writing the quarantine file.
    """
    validated = validation.validate_raw_file(run.config, run.key)
    gates.enforce(record(run, gates.data_contract(run.config, validated)))
    return validated


def plan_shards(run: Run, validated: Validated) -> list[str]:
    """Split the validated rows into shards of `data.shard_rows` rows; the mapped tasks below get one each."""
    return shards.write_shards(run.config, run.key, validated["validated_path"])


def scrub_shard(run: Run, shard_path: str) -> Scrubbed:
    """Replace PII (emails, phones, cards, IBANs, IPs, secrets, SSNs) in one shard with typed placeholders."""
    return shards.scrub(run.config, shard_path)


def sign_shard(run: Run, scrubbed: Scrubbed) -> Signed:
    """Compute the exact-duplicate keys, MinHash signatures and LSH band hashes of one shard."""
    return shards.sign(run.config, scrubbed)


def dedup_dataset(run: Run, signed: list[Signed]) -> Deduped:
    """Merge the shards: remove training rows that near-duplicate the eval set, then exact and near duplicates
    (MinHash/LSH), keeping the earliest row of each cluster.

    Records the `duplicate_ceiling` verdict; more duplicates than `data.max_duplicate_ratio` fails the run without
    retries, after writing what was removed.
    """
    deduped = dedup.dedup_shards(run.config, run.key, list(signed))
    gates.enforce(record(run, gates.duplicate_ceiling(run.config, deduped)))
    return deduped


def snapshot_dataset(run: Run, validated: Validated, deduped: Deduped) -> Curated:
    """Write the curated set as a content-addressed snapshot with a lineage manifest.

    Records the `count_reconciliation` verdict first: rows in must equal kept + quarantined + duplicates +
    contaminated, or the run fails without retries and nothing is written.
    """
    gates.enforce(record(run, gates.count_reconciliation(validated, deduped)))
    return snapshot.write_snapshot(run.config, run.key, validated, deduped)


# --- llm_data_retention and llm_data_erasure ------------------------------------------------------------------------


def apply_retention(run: Run) -> dict[str, Any]:
    """Delete production data past its retention (`retention:` days per kind): raw request logs and feedback whose
    interval was curated, interval partitions, feedback candidates, quarantined records and monitoring reports,
    never inside the feedback window. Ages are measured from the run's data interval end; a re-run deletes nothing
    more. Records the `retention` verdict with the counts per kind."""
    from llmops.data.retention import apply_retention as prune

    _, end = run.interval()
    report = prune(run.config, end)
    metrics = {f"deleted_{k}": float(v) for k, v in report.deleted.items()}
    record(run, Verdict("retention", True, report.reason, metrics, on_fail="warn"))
    return report.to_dict()


def erase_records(run: Run) -> dict[str, Any]:
    """Erase the records of the `request_ids` and `user_ids` params from logs, partitions, quarantine, feedback,
    candidates, retrain sets and snapshots under the state folder; future snapshots exclude them. Names the model
    versions trained on a snapshot that held them. Appends hashes and counts (never content or raw ids) to
    `privacy/erasures.jsonl` and records the `erasure` verdict: a file that still holds an id fails the run."""
    from llmops.data.retention import check_ids, erase

    try:
        request_ids = check_ids("request_ids", run.param("request_ids", []))
        user_ids = check_ids("user_ids", run.param("user_ids", []))
    except ValueError as exc:
        raise Permanent(str(exc)) from exc
    result = erase(run.config, request_ids, user_ids, run.logical_date or datetime(1970, 1, 1, tzinfo=UTC))
    metrics = {f"removed_{k}": float(v) for k, v in result.removed.items()}
    metrics["model_versions"] = float(len(result.model_versions))
    record(run, Verdict("erasure", not result.residual, result.reason, metrics)).enforce()
    return {
        "erasure_id": result.erasure_id,
        "model_versions": result.model_versions,
        "snapshots": [s["path"] for s in result.snapshots],
        "registry": result.registry,
    }
