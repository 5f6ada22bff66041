"""Content-addressed snapshots: same input and settings give the same path and no new files; the manifest carries
the lineage."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from llmops.config import LLMOpsConfig, load_config
from llmops.data.snapshot import data_config_fingerprint
from llmops.demo import generate_demo_dataset

sys.path.insert(0, str(Path(__file__).parent))
from test_data_steps import SMALL_DEMO, run_stage, verdicts  # noqa: F401 - verdicts: autouse, keeps MLflow out


def _cfg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **data: Any) -> LLMOpsConfig:
    monkeypatch.setenv("LLMOPS_HOME", str(tmp_path / "home"))
    return load_config(overrides={"demo": SMALL_DEMO, "data": {"shard_rows": 100, **data}}, environ={})


def _files(root: Path) -> dict[str, float]:
    return {str(p.relative_to(root)): p.stat().st_mtime for p in root.rglob("*") if p.is_file()}


def test_rerun_gives_the_same_snapshot_and_no_new_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = _cfg(tmp_path, monkeypatch)
    generate_demo_dataset(cfg.demo, cfg.paths.raw_dir)
    _, _, first = run_stage(cfg, "first")
    snapshots = cfg.paths.curated_dir / "snapshots"
    before = _files(snapshots)
    assert sorted(before) == [f"{first['snapshot_hash']}/manifest.json", f"{first['snapshot_hash']}/train.parquet"]
    assert not first["reused"]

    _, _, again = run_stage(cfg, "second")  # another run key, same input and settings
    assert again["snapshot_hash"] == first["snapshot_hash"] and again["train_path"] == first["train_path"]
    assert again["reused"]
    assert _files(snapshots) == before  # nothing new, nothing rewritten
    _, _, retry = run_stage(cfg, "first")  # a retry of the same run
    assert retry["train_path"] == first["train_path"] and _files(snapshots) == before


def test_manifest_records_the_lineage(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = _cfg(tmp_path, monkeypatch)
    generate_demo_dataset(cfg.demo, cfg.paths.raw_dir)
    validated, deduped, snapshot = run_stage(cfg, "lineage")
    manifest = json.loads(Path(snapshot["manifest_path"]).read_text())
    assert manifest["snapshot_hash"] == snapshot["snapshot_hash"]
    sources = {s["role"]: s for s in manifest["sources"]}
    assert sources["train"]["path"] == str(cfg.raw_train_path) and len(sources["train"]["sha256"]) == 64
    assert sources["eval"]["path"] == str(cfg.raw_eval_path)
    counts = manifest["counts"]
    assert counts["rows_in"] == (
        counts["kept"]
        + counts["quarantined"]
        + counts["exact_duplicates"]
        + counts["near_duplicates"]
        + counts["contaminated"]
    )
    assert counts["kept"] == pq.read_metadata(snapshot["train_path"]).num_rows
    assert manifest["great_expectations"]["suite"] == "raw_training_data"
    assert manifest["great_expectations"]["evaluated_expectations"] > 10
    assert manifest["dedup"]["num_perm"] == cfg.data.dedup.num_perm and manifest["dedup"]["scheme"] == "affine32"
    assert set(manifest["pii_counts"]) == set(cfg.data.pii.entities)
    assert manifest["config_sha256"] == data_config_fingerprint(cfg)[1]
    assert "lineage" not in json.dumps(manifest)  # nothing run-specific
    del validated, deduped


def test_settings_and_content_change_the_address(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = _cfg(tmp_path, monkeypatch)
    generate_demo_dataset(cfg.demo, cfg.paths.raw_dir)
    base = run_stage(cfg, "a")[2]["snapshot_hash"]
    stricter = _cfg(tmp_path, monkeypatch, dedup={"threshold": 0.9})
    assert run_stage(stricter, "b")[2]["snapshot_hash"] != base
    chunked = _cfg(tmp_path, monkeypatch, shard_rows=137, batch_rows=101)  # chunking is not content
    assert run_stage(chunked, "c")[2]["snapshot_hash"] == base
    with cfg.raw_train_path.open("a") as fh:
        fh.write(json.dumps({"prompt": "A brand new question about quotas?", "response": "Here."}) + "\n")
    assert run_stage(cfg, "d")[2]["snapshot_hash"] != base


def test_incomplete_snapshot_folder_is_replaced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = _cfg(tmp_path, monkeypatch)
    generate_demo_dataset(cfg.demo, cfg.paths.raw_dir)
    first = run_stage(cfg, "x")[2]
    Path(first["manifest_path"]).unlink()  # a crash after the data, before the manifest
    second = run_stage(cfg, "y")[2]
    assert second["snapshot_hash"] == first["snapshot_hash"] and not second["reused"]
    assert Path(second["manifest_path"]).is_file()
    leftovers = [p.name for p in (cfg.paths.curated_dir / "snapshots").iterdir() if p.name.startswith(".")]
    assert leftovers == []


def test_a_written_snapshot_is_trusted_with_its_hash_and_refused_once_a_row_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pyarrow as pa

    from llmops.data.snapshot import UntrustedSnapshot, trusted_snapshot

    cfg = _cfg(tmp_path, monkeypatch)
    generate_demo_dataset(cfg.demo, cfg.paths.raw_dir)
    snapshot = run_stage(cfg, "trust")[2]
    path = Path(snapshot["train_path"])
    assert trusted_snapshot(cfg, snapshot["train_path"], snapshot["snapshot_hash"]) == path.resolve()
    table = pq.read_table(path)
    responses = table["response"].to_pylist()
    responses[0] = "Planted: send your password to this address."
    pq.write_table(table.set_column(table.schema.get_field_index("response"), "response", pa.array(responses)), path)
    with pytest.raises(UntrustedSnapshot, match=f"records {snapshot['snapshot_hash']}"):
        trusted_snapshot(cfg, snapshot["train_path"], snapshot["snapshot_hash"])
