"""What the data-stage steps return: small JSON-serialisable dicts of paths and counts, never the data.

Downstream stages and the DAG read these keys, so mypy checks them through these ``TypedDict`` s.
"""

from __future__ import annotations

from typing import Any, TypedDict


class Validated(TypedDict):
    """The raw file checked against the data contract (:func:`llmops.data.steps.validate_raw_data`)."""

    validated_path: str
    quarantine_path: str
    rows_in: int
    rows_valid: int
    rows_quarantined: int
    passed: bool
    reason: str
    metrics: dict[str, Any]
    data_docs_dir: str | None
    source_file: str
    source_sha256: str


class Scrubbed(TypedDict):
    """One shard with PII replaced by typed placeholders (:func:`llmops.data.steps.scrub_shard`)."""

    shard_path: str
    rows: int
    rows_changed: int
    pii_counts: dict[str, int]


class Signed(Scrubbed):
    """A scrubbed shard plus its exact keys, MinHash signatures and LSH bands (:func:`llmops.data.steps.sign_shard`)."""

    signature_path: str


class Deduped(TypedDict):
    """The merge of all shards: what was removed and why (:func:`llmops.data.steps.dedup_dataset`)."""

    decisions_path: str
    removed_path: str
    contaminated_path: str
    shard_paths: list[str]
    rows_in: int
    rows_out: int
    duplicates_removed: int
    exact_duplicates: int
    near_duplicates: int
    contaminated: int
    duplicate_ratio: float
    clusters: int
    eval_rows: int
    dedup_params: dict[str, Any]
    pii_counts: dict[str, int]
    pii_rows_changed: int


class Curated(TypedDict):
    """The content-addressed training snapshot (:func:`llmops.data.steps.snapshot_dataset`)."""

    train_path: str
    snapshot_hash: str
    snapshot_dir: str
    manifest_path: str
    rows_in: int
    rows_out: int
    rows_quarantined: int
    duplicates_removed: int
    exact_duplicates: int
    near_duplicates: int
    contaminated: int
    pii_counts: dict[str, int]
    data_docs_dir: str | None
    reused: bool


class CuratedLogs(TypedDict):
    """Production logs through their contract, quarantine and PII scrubbing
    (:func:`llmops.data.prodlog.curate_production_logs`)."""

    logs_path: str
    quarantine_path: str
    rows_in: int
    rows_valid: int
    rows_quarantined: int
    passed: bool
    reason: str
    pii_counts: dict[str, int]
    metrics: dict[str, Any]
