"""The data-stage steps end to end on planted-defect demo data (real GX, PII, MinHash), and their failure
modes: broken contracts, duplicate ceiling, reconciliation. Verdicts are captured here instead of going to MLflow
(``test_data_verdicts.py`` checks the MLflow side)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from llmops.config import LLMOpsConfig, load_config
from llmops.data import sinks, steps
from llmops.data.gates import DataContractError, ReconciliationError, reconcile
from llmops.data.schema import QUARANTINE_COLUMNS, TRAIN_COLUMNS
from llmops.data.sinks import read_parquet_rows
from llmops.demo import generate_demo_dataset
from llmops.run import Run
from llmops.verdict import Verdict

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
        data = {"shard_rows": 100, "batch_rows": 128, **sections.pop("data", {})}
        return load_config(overrides={"demo": SMALL_DEMO, "data": data, **sections}, environ={})

    return make


def _write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def _rows(n: int, start: int = 0, **extra: Any) -> list[dict[str, Any]]:
    topics = ["invoice", "folder", "password", "device", "plan", "refund", "photo", "share", "sync", "backup"]
    return [
        {
            "id": f"r{i}",
            "prompt": f"Question {i}: what about my {topics[i % 10]} {topics[(i // 10) % 10]} number {i * 7919}?",
            "response": f"Answer {i}: open {topics[(i // 3) % 10]} settings, then item {i * 104729}.",
            **extra,
        }
        for i in range(start, start + n)
    ]


@pytest.fixture(autouse=True)
def verdicts(monkeypatch: pytest.MonkeyPatch) -> list[Verdict]:
    """The verdicts the steps record, in order (kept in memory instead of MLflow)."""
    seen: list[Verdict] = []

    def record(run: Run, verdict: Verdict, model_version: str | int | None = None) -> Verdict:
        seen.append(verdict)
        return verdict

    monkeypatch.setattr(steps, "record", record)
    return seen


def run_stage(cfg: LLMOpsConfig, key: str) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """The data part of the DAG, step by step, the way Airflow runs it (mapped tasks per shard)."""
    run = Run.for_test(cfg, key)
    validated = steps.validate_raw_data(run)
    shards = steps.plan_shards(run, validated)
    signed = [steps.sign_shard(run, steps.scrub_shard(run, shard)) for shard in shards]
    deduped = steps.dedup_dataset(run, signed)
    return dict(validated), dict(deduped), dict(steps.snapshot_dataset(run, validated, deduped))


def test_demo_data_flows_through_every_data_task(make_cfg: MakeConfig, verdicts: list[Verdict]) -> None:
    cfg = make_cfg()
    files = generate_demo_dataset(cfg.demo, cfg.paths.raw_dir)
    manifest = json.loads(files["manifest"].read_text())
    validated, deduped, snapshot = run_stage(cfg, "run_1")
    for result in (validated, deduped, snapshot):
        json.dumps(result)  # XCom-safe

    expected = manifest["expected"]
    assert validated["passed"] and validated["rows_in"] == manifest["train_lines"]
    assert validated["rows_valid"] == expected["valid_rows"]
    assert validated["metrics"]["ingest_quarantined"] == expected["ingest_quarantined"]
    assert validated["metrics"]["contract_quarantined"] == expected["contract_quarantined"]
    assert Path(validated["data_docs_dir"], "index.html").is_file()

    quarantine = read_parquet_rows(Path(validated["quarantine_path"]))
    assert all(tuple(q) == QUARANTINE_COLUMNS for q in quarantine)
    planted = manifest["planted"]
    planted_lines = {
        e["line"]
        for kind in ("malformed_lines", "wrong_type_rows", "empty_fields", "oversized_fields")
        for e in planted[kind]
    }
    assert {q["line_number"] for q in quarantine} == planted_lines
    assert all(q["source_file"] == str(cfg.raw_train_path) for q in quarantine)

    # dedup: every planted exact or near duplicate is removed with the id of the row kept for its cluster
    assert deduped["rows_in"] == validated["rows_valid"]
    removed = {r["id"]: r for r in read_parquet_rows(Path(deduped["removed_path"]))}
    for entry in planted["exact_duplicates"] + planted["near_duplicates"]:
        assert entry["id"] in removed, entry
    for entry in planted["exact_duplicates"]:
        assert removed[entry["id"]]["cluster_id"] == entry["duplicate_of"]
        assert removed[entry["id"]]["dedup_method"] == "exact"
    assert deduped["exact_duplicates"] >= expected["exact_dedup_removed"]
    assert all(r["cluster_id"] and r["dedup_method"] in ("exact", "minhash") for r in removed.values())

    # PII is scrubbed in the snapshot, and counted
    train = read_parquet_rows(Path(snapshot["train_path"]))
    assert len(train) == snapshot["rows_out"] and all(tuple(r) == TRAIN_COLUMNS for r in train)
    text = " ".join(r["prompt"] + " " + r["response"] for r in train)
    assert "@example." not in text
    assert sum(snapshot["pii_counts"].values()) >= len(planted["pii_rows"])
    assert snapshot["pii_counts"]["EMAIL"] > 0

    # counts reconcile across the whole stage
    assert snapshot["rows_in"] == (
        snapshot["rows_out"] + snapshot["rows_quarantined"] + snapshot["duplicates_removed"] + snapshot["contaminated"]
    )
    assert not (cfg.paths.curated_dir / "run_1" / "shards").exists()  # derived shards are cleaned up

    # every decision of the stage is a verdict that passed, and says so with figures
    assert [(v.gate, v.passed) for v in verdicts] == [
        ("data_contract", True),
        ("duplicate_ceiling", True),
        ("count_reconciliation", True),
    ]
    contract, ceiling, counts = (v.reason for v in verdicts)
    assert contract.startswith(f"quarantined {validated['rows_quarantined']} of {validated['rows_in']} rows (")
    assert f"≤ max_quarantine_ratio {cfg.data.max_quarantine_ratio:.1%}; suite raw_training_data: " in contract
    assert ceiling.startswith(f"{deduped['duplicates_removed']} of {deduped['rows_in']} rows are duplicates (")
    assert counts == (
        f"data stage: {snapshot['rows_in']} rows in = kept {snapshot['rows_out']} + quarantined "
        f"{snapshot['rows_quarantined']} + duplicates {snapshot['duplicates_removed']} + contaminated "
        f"{snapshot['contaminated']}"
    )


def test_training_rows_copied_from_the_eval_set_are_decontaminated(make_cfg: MakeConfig) -> None:
    cfg = make_cfg()
    rows = _rows(80, category="billing")
    eval_rows = [dict(rows[5]), dict(rows[17]), {**rows[40], "response": rows[40]["response"] + " Thanks!"}]
    _write_jsonl(cfg.raw_train_path, rows)
    _write_jsonl(cfg.raw_eval_path, [{**r, "id": f"eval-{i}"} for i, r in enumerate(eval_rows)])
    _, deduped, snapshot = run_stage(cfg, "decon")
    assert deduped["contaminated"] == 3 and snapshot["contaminated"] == 3
    gone = {r["id"]: r["cluster_id"] for r in read_parquet_rows(Path(deduped["contaminated_path"]))}
    assert gone == {"r5": "eval-0", "r17": "eval-1", "r40": "eval-2"}
    assert snapshot["rows_out"] == 77

    off = make_cfg(data={"dedup": {"decontaminate": False}})
    assert run_stage(off, "decon-off")[1]["contaminated"] == 0


def test_near_duplicates_across_shards_keep_the_earliest_row(make_cfg: MakeConfig) -> None:
    cfg = make_cfg(data={"shard_rows": 100, "dedup": {"decontaminate": False}})
    rows = _rows(250, category="billing")
    rows.append({**rows[3], "id": "late-copy", "prompt": rows[3]["prompt"].replace("Question", "Hi! Question")})
    rows.append({**rows[120], "id": "exact-copy"})
    _write_jsonl(cfg.raw_train_path, rows)
    validated, deduped, _ = run_stage(cfg, "shards")
    assert len(deduped["shard_paths"]) == 3
    removed = {r["id"]: r for r in read_parquet_rows(Path(deduped["removed_path"]))}
    assert set(removed) == {"late-copy", "exact-copy"}
    assert removed["late-copy"]["cluster_id"] == "r3" and removed["late-copy"]["dedup_method"] == "minhash"
    assert removed["exact-copy"]["cluster_id"] == "r120" and removed["exact-copy"]["dedup_method"] == "exact"
    decisions = pq.read_table(deduped["decisions_path"]).to_pylist()
    assert sorted(d["row"] for d in decisions) == [250, 251]
    assert validated["rows_in"] == 252


def test_dedup_is_deterministic(make_cfg: MakeConfig) -> None:
    cfg = make_cfg()
    generate_demo_dataset(cfg.demo, cfg.paths.raw_dir)
    first = run_stage(cfg, "det_a")[1]
    second = run_stage(cfg, "det_b")[1]
    keep = ("rows_out", "exact_duplicates", "near_duplicates", "contaminated", "clusters")
    assert {k: first[k] for k in keep} == {k: second[k] for k in keep}
    assert pq.read_table(first["decisions_path"]).equals(pq.read_table(second["decisions_path"]))


def test_broken_contract_raises_after_writing_the_quarantine(make_cfg: MakeConfig, verdicts: list[Verdict]) -> None:
    cfg = make_cfg()
    _write_jsonl(cfg.raw_train_path, _rows(60, category="billing") + _rows(30, start=60, category="weather"))
    stale = cfg.paths.curated_dir / "bad" / "validated.parquet"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"from an earlier attempt")

    with pytest.raises(DataContractError, match="max_quarantine_ratio"):
        steps.validate_raw_data(Run.for_test(cfg, "bad"))
    [verdict] = verdicts  # recorded before the run fails, with the same reason
    assert verdict.gate == "data_contract" and not verdict.passed and verdict.on_fail == "fail"
    bound = cfg.data.max_quarantine_ratio
    assert verdict.reason.startswith(f"30 of 90 rows quarantined (33.3%), above max_quarantine_ratio {bound:.1%}")
    assert verdict.reason.endswith(f"(quarantined rows: {cfg.paths.quarantine_dir / 'bad' / 'quarantine.parquet'})")
    quarantine = read_parquet_rows(cfg.paths.quarantine_dir / "bad" / "quarantine.parquet")
    assert len(quarantine) == 30
    assert {q["reason"] for q in quarantine} == {"expect_column_values_to_be_in_set(category)"}
    assert not stale.exists()  # a failed run leaves nothing that looks validated


@pytest.mark.parametrize(
    ("lines", "fragment"),
    [
        (b"", "empty batch"),
        (b"not json\n" * 60, "empty batch"),
        (
            b"".join(json.dumps({"prompt": f"p{i} xyz", "response": "r"}).encode() + b"\n" for i in range(10)),
            "min_rows",
        ),
    ],
    ids=["empty_file", "nothing_parses", "too_few_rows"],
)
def test_contract_breaks_on_bad_batches(make_cfg: MakeConfig, lines: bytes, fragment: str) -> None:
    cfg = make_cfg()
    cfg.raw_train_path.parent.mkdir(parents=True)
    cfg.raw_train_path.write_bytes(lines)
    with pytest.raises(DataContractError, match=fragment):
        steps.validate_raw_data(Run.for_test(cfg, "broken"))
    assert (cfg.paths.quarantine_dir / "broken" / "quarantine.parquet").is_file()


def test_ingest_rejects_count_towards_the_quarantine_ratio(make_cfg: MakeConfig) -> None:
    cfg = make_cfg()
    _write_jsonl(cfg.raw_train_path, _rows(60, category="billing"))
    with cfg.raw_train_path.open("a") as fh:
        fh.write("not json\n" * 20)
    with pytest.raises(DataContractError, match=r"20 of 80 records quarantined"):
        steps.validate_raw_data(Run.for_test(cfg, "ratio"))
    assert len(read_parquet_rows(cfg.paths.quarantine_dir / "ratio" / "quarantine.parquet")) == 20


def test_lost_rows_fail_reconciliation(make_cfg: MakeConfig, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = make_cfg()
    _write_jsonl(cfg.raw_train_path, _rows(60, category="billing"))
    real = sinks.ParquetSink.write

    def lossy(self: Any, table: Any) -> None:  # a bug that silently drops a validated row
        real(self, table.slice(1) if self.path.name == "validated.parquet" else table)

    monkeypatch.setattr(sinks.ParquetSink, "write", lossy)
    with pytest.raises(ReconciliationError, match=r"validate_raw_data: 60 rows in but valid 59 \+ quarantined 0"):
        steps.validate_raw_data(Run.for_test(cfg, "lossy"))
    assert not (cfg.paths.curated_dir / "lossy" / "validated.parquet").exists()


def test_stage_reconciliation_names_every_category() -> None:
    reconcile("ok", 10, kept=5, quarantined=2, duplicates=2, contaminated=1)
    with pytest.raises(ReconciliationError, match=r"10 rows in but kept 5 \+ quarantined 2 \+ duplicates 1"):
        reconcile("data stage", 10, kept=5, quarantined=2, duplicates=1, contaminated=1)


def test_snapshot_refuses_counts_that_do_not_add_up(make_cfg: MakeConfig, verdicts: list[Verdict]) -> None:
    cfg = make_cfg()
    _write_jsonl(cfg.raw_train_path, _rows(60, category="billing"))
    validated, deduped, _ = run_stage(cfg, "counts")
    before = sorted(p.name for p in (cfg.paths.curated_dir / "snapshots").iterdir())
    with pytest.raises(ReconciliationError, match="data stage"):
        steps.snapshot_dataset(Run.for_test(cfg, "counts"), {**validated, "rows_in": validated["rows_in"] + 1}, deduped)
    assert verdicts[-1].gate == "count_reconciliation" and not verdicts[-1].passed
    assert (
        verdicts[-1].reason == "data stage: 61 rows in but kept 60 + quarantined 0 + duplicates 0 + contaminated 0 = 60"
    )
    assert sorted(p.name for p in (cfg.paths.curated_dir / "snapshots").iterdir()) == before  # nothing written


def test_too_many_duplicates_break_the_contract(make_cfg: MakeConfig, verdicts: list[Verdict]) -> None:
    cfg = make_cfg(data={"max_duplicate_ratio": 0.25})
    rows = _rows(50, category="billing")
    near = [{**r, "id": f"n{r['id']}", "prompt": "Hello! " + r["prompt"]} for r in rows[:20]]
    _write_jsonl(cfg.raw_train_path, rows + near)
    run = Run.for_test(cfg, "dups")
    validated = steps.validate_raw_data(run)  # no exact duplicates: the contract holds
    shards = steps.plan_shards(run, validated)
    signed = [steps.sign_shard(run, steps.scrub_shard(run, s)) for s in shards]
    with pytest.raises(DataContractError, match="max_duplicate_ratio"):
        steps.dedup_dataset(run, signed)
    assert len(read_parquet_rows(cfg.paths.curated_dir / "dups" / "removed_duplicates.parquet")) == 20
    assert [(v.gate, v.passed) for v in verdicts] == [("data_contract", True), ("duplicate_ceiling", False)]
    removed = cfg.paths.curated_dir / "dups" / "removed_duplicates.parquet"
    assert verdicts[-1].reason == (
        f"20 of 70 rows are duplicates (28.6%), above max_duplicate_ratio 25.0% (removed rows: {removed})"
    )


@pytest.mark.parametrize("key", ["", "..", "a/b"])
def test_run_key_must_be_one_path_component(make_cfg: MakeConfig, key: str) -> None:
    with pytest.raises(ValueError, match="run_key"):
        steps.dedup_dataset(Run.for_test(make_cfg(), key), [])
