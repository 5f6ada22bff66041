"""The data stage of the llmops pipeline: raw file -> curated, content-addressed training snapshot.

- :mod:`~llmops.data.steps`: the six tasks (``validate_raw_data`` ... ``snapshot_dataset``);
  :mod:`~llmops.data.payloads`: what they return.
- :mod:`~llmops.data.gates`: the stage's decisions as verdicts (``data_contract``, ``duplicate_ceiling``,
  ``count_reconciliation``) and :class:`~llmops.data.gates.DataContractError`.
- Engines: :mod:`~llmops.data.validation` (streamed contract check and quarantine), :mod:`~llmops.data.shards` (split,
  PII scrubbing, signatures), :mod:`~llmops.data.dedup` (exact keys and the merge), :mod:`~llmops.data.decontaminate`,
  :mod:`~llmops.data.lsh` and :mod:`~llmops.data.minhash` (near-duplicate kernels), :mod:`~llmops.data.snapshot`,
  :mod:`~llmops.data.sinks` (output layout and atomic Parquet writers).
- The contract itself: :mod:`~llmops.data.validate` (GX suites, Data Docs) and :mod:`~llmops.data.contract` (the
  suites evaluated on Arrow); records: :mod:`~llmops.data.ingest`, :mod:`~llmops.data.schema`, :mod:`~llmops.data.pii`.
- :mod:`~llmops.data.prodlog`: production request logs (the strict line reader monitoring shares, and curation).
"""
