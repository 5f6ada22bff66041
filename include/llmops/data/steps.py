"""The data stage's tasks, in order::

    validate_raw_data -> plan_shards -> scrub_shard (mapped) -> sign_shard (mapped) -> dedup_dataset
    -> snapshot_dataset

Each function is one task (same name as the task id; its docstring's first paragraph is the task's doc in the UI).
Outputs are written under ``<paths.curated_dir>/<run.key>/`` and replaced atomically; each task returns a small dict
of paths and counts (:mod:`llmops.data.payloads`), never the data. The three decisions of the stage are recorded as
verdicts (:mod:`llmops.data.gates`); a failed one fails the run without retries.
"""

from __future__ import annotations

from llmops.data import dedup, gates, shards, snapshot, validation
from llmops.data.payloads import Curated, Deduped, Scrubbed, Signed, Validated
from llmops.run import Run
from llmops.verdict import record


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
