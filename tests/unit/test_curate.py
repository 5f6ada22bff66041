"""The curation task functions end to end on planted-defect demo data (real GX), plus their failure modes."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from llmops.config import LLMOpsConfig, load_config
from llmops.data import validate as validate_module
from llmops.data.curate import DataContractError, ReconciliationError, dedup_dataset, validate_raw_data
from llmops.data.demo import generate_demo_dataset
from llmops.data.ingest import read_parquet_rows
from llmops.data.schema import QUARANTINE_COLUMNS, TRAIN_COLUMNS

MakeConfig = Callable[..., LLMOpsConfig]
SMALL_DEMO = {
    "seed": 5,
    "n_train": 300,
    "n_eval": 20,
    "exact_duplicates": 15,
    "near_duplicates": 12,
    "pii_rows": 6,
    "empty_fields": 4,
    "oversized_fields": 2,
    "malformed_lines": 6,
}


@pytest.fixture
def make_cfg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> MakeConfig:
    monkeypatch.setenv("LLMOPS_HOME", str(tmp_path / "home"))

    def make(**sections: Any) -> LLMOpsConfig:
        return load_config(overrides={"demo": SMALL_DEMO, **sections}, environ={})

    return make


def _write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def _rows(n: int, start: int = 0, **extra: Any) -> list[dict[str, Any]]:
    return [
        {"id": f"r{i}", "prompt": f"Where is my invoice number {i}?", "response": "Open Billing.", **extra}
        for i in range(start, start + n)
    ]


def test_demo_data_flows_through_validation_and_dedup(make_cfg: MakeConfig) -> None:
    cfg = make_cfg()
    files = generate_demo_dataset(cfg.demo, cfg.paths.raw_dir)
    manifest = json.loads(files["manifest"].read_text())

    result = validate_raw_data(cfg, "run_1")
    json.dumps(result)  # XCom-safe
    assert result["passed"]
    assert result["rows_in"] == manifest["train_lines"]
    assert result["rows_in"] == result["rows_valid"] + result["rows_quarantined"]
    expected = manifest["expected"]
    assert result["rows_valid"] == expected["valid_rows"]
    assert result["metrics"]["ingest_quarantined"] == expected["ingest_quarantined"]
    assert result["metrics"]["contract_quarantined"] == expected["contract_quarantined"]
    assert result["validated_path"] == str(cfg.paths.curated_dir / "run_1" / "validated.parquet")

    quarantine = read_parquet_rows(Path(result["quarantine_path"]))
    assert all(tuple(q) == QUARANTINE_COLUMNS for q in quarantine)
    planted = manifest["planted"]
    planted_lines = {
        e["line"]
        for kind in ("malformed_lines", "wrong_type_rows", "empty_fields", "oversized_fields")
        for e in planted[kind]
    }
    assert {q["line_number"] for q in quarantine} == planted_lines
    contract_reasons = [q["reason"] for q in quarantine if q["reason"].startswith("expect_")]
    assert len(contract_reasons) == expected["contract_quarantined"]

    dedup = dedup_dataset(cfg, "run_1", result["validated_path"])
    json.dumps(dedup)
    assert dedup["rows_in"] == result["rows_valid"]
    assert dedup["duplicates_removed"] == expected["exact_dedup_removed"]
    assert dedup["rows_out"] == expected["rows_after_exact_dedup"]
    train = read_parquet_rows(Path(dedup["train_path"]))
    assert len(train) == dedup["rows_out"] and all(tuple(r) == TRAIN_COLUMNS for r in train)
    removed = {r["id"]: r["cluster_id"] for r in read_parquet_rows(Path(dedup["removed_path"]))}
    for entry in planted["exact_duplicates"]:
        assert removed[entry["id"]] == entry["duplicate_of"]


def test_outputs_are_idempotent(make_cfg: MakeConfig) -> None:
    cfg = make_cfg()
    generate_demo_dataset(cfg.demo, cfg.paths.raw_dir)
    first = validate_raw_data(cfg, "again")
    snapshot = {p: Path(first[p]).read_bytes() for p in ("validated_path", "quarantine_path")}
    first_dedup = dedup_dataset(cfg, "again", first["validated_path"])
    train_bytes = Path(first_dedup["train_path"]).read_bytes()

    second = validate_raw_data(cfg, "again")
    assert {p: Path(second[p]).read_bytes() for p in snapshot} == snapshot
    assert {k: v for k, v in second.items() if k != "metrics"} == {k: v for k, v in first.items() if k != "metrics"}
    assert dedup_dataset(cfg, "again", second["validated_path"]) == first_dedup
    assert Path(first_dedup["train_path"]).read_bytes() == train_bytes
    leftovers = [p.name for p in Path(first_dedup["train_path"]).parent.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []


def test_broken_contract_raises_after_writing_the_quarantine(make_cfg: MakeConfig) -> None:
    cfg = make_cfg()
    _write_jsonl(cfg.raw_train_path, _rows(60) + _rows(30, start=60, category="weather"))
    stale = cfg.paths.curated_dir / "bad" / "validated.parquet"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"from an earlier attempt")

    with pytest.raises(DataContractError, match="max_quarantine_ratio"):
        validate_raw_data(cfg, "bad")
    quarantine = read_parquet_rows(cfg.paths.quarantine_dir / "bad" / "quarantine.parquet")
    assert len(quarantine) == 30
    assert {q["reason"] for q in quarantine} == {"expect_column_values_to_be_in_set(category)"}
    assert not stale.exists()  # a failed run leaves nothing that looks validated


def test_ingest_rejects_count_towards_the_quarantine_ratio(make_cfg: MakeConfig) -> None:
    cfg = make_cfg()
    path = cfg.raw_train_path
    _write_jsonl(path, _rows(60))
    with path.open("a") as fh:
        fh.write("not json\n" * 20)
    with pytest.raises(DataContractError, match=r"20 of 80 records quarantined"):
        validate_raw_data(cfg, "ratio")
    assert len(read_parquet_rows(cfg.paths.quarantine_dir / "ratio" / "quarantine.parquet")) == 20


def test_empty_raw_file_breaks_the_contract(make_cfg: MakeConfig) -> None:
    cfg = make_cfg()
    cfg.raw_train_path.parent.mkdir(parents=True)
    cfg.raw_train_path.write_bytes(b"")
    with pytest.raises(DataContractError, match="empty batch"):
        validate_raw_data(cfg, "empty")
    assert read_parquet_rows(cfg.paths.quarantine_dir / "empty" / "quarantine.parquet") == []


def test_lost_rows_fail_reconciliation(make_cfg: MakeConfig, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = make_cfg()
    _write_jsonl(cfg.raw_train_path, _rows(60))
    real = validate_module.validate_records

    def lossy(rows: list[dict[str, Any]], *args: Any, **kwargs: Any) -> validate_module.ValidationOutcome:
        outcome = real(rows, *args, **kwargs)
        outcome.kept_rows = outcome.kept_rows[:-1]  # a bug that silently drops a row
        return outcome

    monkeypatch.setattr(validate_module, "validate_records", lossy)
    with pytest.raises(ReconciliationError, match="60 records read"):
        validate_raw_data(cfg, "lossy")


def test_too_many_duplicates_break_the_contract(make_cfg: MakeConfig, tmp_path: Path) -> None:
    from llmops.data.ingest import records_to_parquet

    cfg = make_cfg(data={"max_duplicate_ratio": 0.1})
    rows = [{**r, "category": "billing", "source": "unit"} for r in _rows(50)]
    validated = records_to_parquet(rows + rows[:10], tmp_path / "validated.parquet", columns=TRAIN_COLUMNS)
    with pytest.raises(DataContractError, match="max_duplicate_ratio"):
        dedup_dataset(cfg, "dups", str(validated))
    assert len(read_parquet_rows(cfg.paths.curated_dir / "dups" / "removed_duplicates.parquet")) == 10


@pytest.mark.parametrize("key", ["", "..", "a/b"])
def test_run_key_must_be_one_path_component(make_cfg: MakeConfig, key: str) -> None:
    with pytest.raises(ValueError, match="run_key"):
        dedup_dataset(make_cfg(), key, "unused.parquet")
