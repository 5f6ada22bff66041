"""The data stage's three decisions land on the run's MLflow run (embedded sqlite store) as verdict tags, whether
they pass or fail."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from llmops.config import LLMOpsConfig, load_config
from llmops.data import steps
from llmops.data.gates import DataContractError, ReconciliationError
from llmops.run import Run

MakeConfig = Callable[..., LLMOpsConfig]
GATES = ("data_contract", "duplicate_ceiling", "count_reconciliation")


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One state folder (and MLflow store) for the module: each test uses its own run keys."""
    return tmp_path_factory.mktemp("verdicts-home")


@pytest.fixture
def make_cfg(home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> MakeConfig:
    monkeypatch.setenv("LLMOPS_HOME", str(home))

    def make(**data: Any) -> LLMOpsConfig:
        paths = {"raw_path": str(tmp_path / "train.jsonl"), "eval_path": str(tmp_path / "eval.jsonl")}
        return load_config(overrides={"data": {"shard_rows": 100, "batch_rows": 128, **paths, **data}}, environ={})

    return make


def _write_rows(path: Path, n: int = 50, near: int = 5, category: str = "billing") -> None:
    """``n`` distinct rows, then near copies of the first ``near`` of them."""
    topics = ["invoice", "folder", "password", "device", "plan", "refund", "photo", "share", "sync", "backup"]
    rows = [
        {
            "id": f"r{i}",
            "prompt": f"Question {i}: what about my {topics[i % 10]} {topics[(i // 10) % 10]} number {i * 7919}?",
            "response": f"Answer {i}: open {topics[(i // 3) % 10]} settings, then item {i * 104729}.",
            "category": category,
        }
        for i in range(n)
    ]
    rows += [{**r, "id": f"n{r['id']}", "prompt": "Hello! " + r["prompt"]} for r in rows[:near]]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def _recorded(cfg: LLMOpsConfig, key: str) -> tuple[dict[str, str], dict[str, float]]:
    """The tags and metrics of the MLflow run of run key ``key``."""
    from llmops.registry import tracking

    run_id = tracking.find_run(cfg, key)
    assert run_id is not None, f"no MLflow run for {key}"
    data = tracking.client(cfg).get_run(run_id).data
    return dict(data.tags), dict(data.metrics)


def test_each_data_decision_is_recorded_on_the_run(make_cfg: MakeConfig) -> None:
    cfg = make_cfg()
    _write_rows(cfg.raw_train_path)
    run = Run.for_test(cfg, "verdicts-pass")
    validated = steps.validate_raw_data(run)
    signed = [steps.sign_shard(run, steps.scrub_shard(run, s)) for s in steps.plan_shards(run, validated)]
    deduped = steps.dedup_dataset(run, signed)
    steps.snapshot_dataset(run, validated, deduped)

    tags, metrics = _recorded(cfg, "verdicts-pass")
    for gate in GATES:
        assert tags[f"llmops.verdict.{gate}"] == "passed"
        assert tags[f"llmops.verdict.{gate}.on_fail"] == "fail"
    assert tags["llmops.verdict.data_contract.reason"].startswith(
        f"quarantined 0 of 55 rows (0.0%) ≤ max_quarantine_ratio {cfg.data.max_quarantine_ratio:.1%}; "
        "suite raw_training_data: "
    )
    assert tags["llmops.verdict.duplicate_ceiling.reason"] == (
        "5 of 55 rows are duplicates (9.1%: 0 exact, 5 near) ≤ max_duplicate_ratio "
        f"{cfg.data.max_duplicate_ratio:.1%}; 0 contaminated rows removed"
    )
    assert tags["llmops.verdict.count_reconciliation.reason"] == (
        "data stage: 55 rows in = kept 50 + quarantined 0 + duplicates 5 + contaminated 0"
    )
    assert metrics["verdict.data_contract.rows_valid"] == 55
    assert metrics["verdict.duplicate_ceiling.near_duplicates"] == 5
    assert metrics["verdict.count_reconciliation.kept"] == 50


def test_failed_decisions_are_recorded_before_the_run_fails(make_cfg: MakeConfig, tmp_path: Path) -> None:
    broken = make_cfg(raw_path=str(tmp_path / "broken.jsonl"))
    _write_rows(broken.raw_train_path, n=60, near=0)
    with (broken.raw_train_path).open("a") as fh:
        fh.write("not json\n" * 20)
    with pytest.raises(DataContractError, match="max_quarantine_ratio"):
        steps.validate_raw_data(Run.for_test(broken, "verdicts-contract"))
    tags, _ = _recorded(broken, "verdicts-contract")
    assert tags["llmops.verdict.data_contract"] == "failed"
    assert tags["llmops.verdict.data_contract.reason"].startswith(
        f"20 of 80 records quarantined (25.0%), above max_quarantine_ratio {broken.data.max_quarantine_ratio:.1%} "
        "(quarantined rows: "
    )

    cfg = make_cfg()
    _write_rows(cfg.raw_train_path)
    run = Run.for_test(cfg, "verdicts-fail")
    validated = steps.validate_raw_data(run)
    signed = [steps.sign_shard(run, steps.scrub_shard(run, s)) for s in steps.plan_shards(run, validated)]
    strict = make_cfg(max_duplicate_ratio=0.05)
    with pytest.raises(DataContractError, match="max_duplicate_ratio"):
        steps.dedup_dataset(Run.for_test(strict, "verdicts-dups"), signed)
    tags, metrics = _recorded(cfg, "verdicts-dups")
    assert tags["llmops.verdict.duplicate_ceiling"] == "failed"
    assert tags["llmops.verdict.duplicate_ceiling.reason"].startswith(
        "5 of 55 rows are duplicates (9.1%), above max_duplicate_ratio 5.0% (removed rows: "
    )
    assert metrics["verdict.duplicate_ceiling.max_duplicate_ratio"] == 0.05

    deduped = steps.dedup_dataset(run, signed)
    with pytest.raises(ReconciliationError, match="data stage"):
        steps.snapshot_dataset(Run.for_test(cfg, "verdicts-counts"), {**validated, "rows_quarantined": 1}, deduped)
    tags, _ = _recorded(cfg, "verdicts-counts")
    assert tags["llmops.verdict.count_reconciliation"] == "failed"
    assert tags["llmops.verdict.count_reconciliation.reason"] == (
        "data stage: 55 rows in but kept 50 + quarantined 1 + duplicates 5 + contaminated 0 = 56"
    )
