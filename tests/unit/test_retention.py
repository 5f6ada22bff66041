"""Retention by age and erasure on request (llmops.data.retention), on a real state folder and a real MLflow store."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from llmops.config import ConfigError, LLMOpsConfig, load_config
from llmops.data.retention import (
    apply_retention,
    check_ids,
    erase,
    erasure_log_path,
    hash_id,
    read_erasure_log,
)
from llmops.data.sinks import MANIFEST_FILE, SNAPSHOTS_DIR, TRAIN_FILE
from llmops.data.snapshot import (
    SNAPSHOT_HASH_TAG,
    SNAPSHOT_TAG,
    UntrustedSnapshot,
    data_config_fingerprint,
    snapshot_content_hash,
    trusted_snapshot,
)
from llmops.monitoring.feedback import CANDIDATES_FILE, candidates_dir, curate_feedback
from llmops.monitoring.interval import curate_interval, interval_dir, interval_key, partitions_dir
from llmops.monitoring.retrain import merge_feedback, pending_candidates

START = datetime(2026, 3, 2, 8, tzinfo=UTC)
HOUR = timedelta(hours=1)
ERASED = "5b1e0c7a-erase-me"  # accepted feedback on it: in the candidates, the retrain set and the snapshot
BY_USER = "a9d4f2e6-by-user"  # the request user u-4711 gave feedback on
USER = "u-4711"


def _id(i: int) -> str:
    return {1: ERASED, 2: BY_USER}.get(i, f"{i:02d}c0ffee-kept")


def _request(i: int) -> dict[str, Any]:
    return {
        "request_id": _id(i),
        "client_request_id": f"client-{i}",
        "timestamp": (START + timedelta(minutes=i)).isoformat(),
        "model_name": "support_assistant",
        "model_version": "1",
        "prompt": f"Question {i}: how do I share folder number {i} with my whole team at work today?",
        "response": f"Open the folder, choose Share and add your team. This is answer number {i}.",
        "latency_ms": 20.0 + i,
    }


def _config(home: Path, mp: pytest.MonkeyPatch) -> LLMOpsConfig:
    mp.setenv("LLMOPS_HOME", str(home))
    cfg = load_config()
    cfg.monitoring.score_answers = False  # no scorer models: retention and erasure do not depend on them
    if hasattr(cfg.scorers, "toxicity_classifier"):
        cfg.scorers.toxicity_classifier = False
    return cfg


def _files_holding(home: Path, text: str) -> list[str]:
    needle = text.encode("utf-8")
    return sorted(str(p.relative_to(home)) for p in home.rglob("*") if p.is_file() and needle in p.read_bytes())


def _write_snapshot(cfg: LLMOpsConfig, rows: pd.DataFrame) -> tuple[Path, str]:
    """A content-addressed snapshot with its manifest, hashed as the data stage hashes it."""
    staging = cfg.paths.curated_dir / SNAPSHOTS_DIR / ".staging"
    staging.mkdir(parents=True)
    rows.to_parquet(staging / TRAIN_FILE, index=False)
    _, config_sha = data_config_fingerprint(cfg)
    digest = snapshot_content_hash(staging / TRAIN_FILE, config_sha)
    manifest = {"snapshot_hash": digest, "config_sha256": config_sha, "format": {"rows": len(rows)}}
    (staging / MANIFEST_FILE).write_text(json.dumps(manifest))
    final = staging.with_name(digest)
    staging.rename(final)
    return final / TRAIN_FILE, digest


# --- retention ------------------------------------------------------------------------------------------------------


def _log(ts: datetime, rid: str) -> str:
    return json.dumps({"request_id": rid, "timestamp": ts.isoformat(), "prompt": "p", "response": "r"}) + "\n"


def test_retention_deletes_old_curated_data_and_keeps_the_rest(tmp_path: Path) -> None:
    with pytest.MonkeyPatch.context() as mp:
        cfg = _config(tmp_path / "home", mp)
    as_of = datetime(2026, 6, 1, tzinfo=UTC)
    old = as_of - timedelta(days=40)  # past prod_logs_days (30) and the feedback window
    uncurated = old + 2 * HOUR
    recent = as_of - timedelta(hours=5)  # inside the feedback window (24 hourly intervals)
    for at in (old, recent):
        folder = interval_dir(cfg, interval_key(at))
        folder.mkdir(parents=True)
        (folder / "summary.json").write_text("{}")
        (folder / "part.parquet").write_bytes(b"x")
    logs = cfg.paths.prod_log_dir
    logs.mkdir(parents=True)
    (logs / "requests-20260422T000000Z-0.jsonl").write_text(
        _log(old, "old-1") + _log(old + timedelta(minutes=5), "old-2")
    )
    (logs / "requests.jsonl").write_text(_log(uncurated, "uncurated") + _log(recent, "recent") + "not json\n")
    long_ago = as_of - timedelta(days=200)  # past every kind's retention
    for base, prefix in [
        (partitions_dir(cfg), "interval="),
        (candidates_dir(cfg), "interval="),
        (cfg.paths.quarantine_dir / "prod_logs", "monitor-"),
        (cfg.paths.reports_dir / "monitoring", ""),
    ]:
        for at in (long_ago, recent):
            (base / f"{prefix}{interval_key(at)}").mkdir(parents=True, exist_ok=True)

    # The served model's raw stream: hourly files; none is kept at retain_raw_hours 0 once its hour is over.
    raw = cfg.paths.prod_log_raw_dir
    raw.mkdir(parents=True)
    for hour in ("20260420T07", "20260531T23", "20260601T00"):
        (raw / f"requests-{hour}-host-7.jsonl").write_text(_log(as_of, "raw"))

    report = apply_retention(cfg, as_of)

    assert report.deleted == {
        "prod_logs": 2,
        "feedback": 0,
        "partitions": 1,
        "candidates": 1,
        "quarantine": 1,
        "reports": 1,
        "prod_logs_raw": 2,
    }
    assert [p.name for p in raw.iterdir()] == ["requests-20260601T00-host-7.jsonl"]  # its hour is not over
    assert report.kept_uncurated["prod_logs"] == 1
    assert not (logs / "requests-20260422T000000Z-0.jsonl").exists()  # nothing left: removed
    live = (logs / "requests.jsonl").read_text()
    assert "uncurated" in live and "recent" in live and "not json" in live
    assert interval_dir(cfg, interval_key(old)).is_dir()  # 40 days < partitions_days (90)
    for base, prefix in [(partitions_dir(cfg), "interval="), (cfg.paths.reports_dir / "monitoring", "")]:
        assert (base / f"{prefix}{interval_key(recent)}").is_dir()
        assert not (base / f"{prefix}{interval_key(long_ago)}").exists()
    again = apply_retention(cfg, as_of)  # idempotent
    assert set(again.deleted.values()) == {0}


def test_raw_data_may_not_outlive_its_curated_form() -> None:
    with pytest.raises(ConfigError, match="prod_logs_days"):
        load_config(overrides={"retention": {"prod_logs_days": 100, "partitions_days": 90}})


@pytest.mark.parametrize(
    ("value", "ok"),
    [(["a-1", "b@c.d"], True), ([], True), (None, True), (["a b"], False), (['x"'], False), ("a", False)],
)
def test_check_ids(value: Any, ok: bool) -> None:
    if ok:
        assert check_ids("request_ids", value) == (value or [])
    else:
        with pytest.raises(ValueError, match="request_ids"):
            check_ids("request_ids", value)


# --- erasure --------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def state(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Logs → partition → feedback → candidates → retrain set → snapshot → registered version 1."""
    from llmops.registry import tracking

    with pytest.MonkeyPatch.context() as mp:
        cfg = _config(tmp_path_factory.mktemp("erasure") / "home", mp)
        cfg.monitoring.feedback_max_share = 1.0  # every candidate goes into the retrain set
        logs = cfg.paths.prod_log_dir / "requests.jsonl"
        logs.parent.mkdir(parents=True)
        logs.write_text("".join(json.dumps(_request(i)) + "\n" for i in range(25)))
        assert not curate_interval(cfg, START, START + HOUR).skipped
        reference, _ = _write_snapshot(
            cfg,
            pd.DataFrame(
                [{"id": "t1", "prompt": "How do I rename a file?", "response": "Right-click it.", "category": "general",
                  "source": "demo"}]
            ),
        )  # fmt: skip
        at = (START + 30 * timedelta(minutes=1)).isoformat()
        feedback = [
            {"request_id": ERASED, "timestamp": at, "rating": "up", "user": "u-1"},
            {"request_id": BY_USER, "timestamp": at, "rating": "up", "user": USER},
            {"request_id": _id(3), "timestamp": at, "rating": "up"},
        ]
        fb = cfg.paths.home / "feedback" / "feedback.jsonl"
        fb.parent.mkdir(parents=True)
        fb.write_text("".join(json.dumps(r) + "\n" for r in feedback))
        assert curate_feedback(cfg, START, START + HOUR, reference).candidates == 3
        merged = merge_feedback(cfg, reference)
        snapshot, digest = _write_snapshot(cfg, pd.read_parquet(merged["path"]))
        c = tracking.client(cfg)
        c.create_registered_model(cfg.mlflow.model_name)
        for path, value in [(reference, reference.parent.name), (snapshot, digest)]:  # v1 on the base, v2 on feedback
            c.create_model_version(
                cfg.mlflow.model_name,
                source=str(cfg.paths.models_dir),
                tags={SNAPSHOT_TAG: str(path), SNAPSHOT_HASH_TAG: value},
            )
        yield {"cfg": cfg, "snapshot": snapshot, "hash": digest, "reference": reference}


def test_erasing_a_request_id_leaves_no_trace_and_names_the_versions(state: dict[str, Any]) -> None:
    cfg: LLMOpsConfig = state["cfg"]
    home = cfg.paths.home
    assert len(_files_holding(home, ERASED)) >= 5  # logs, partition, curated logs, feedback, candidates, sets

    result = erase(cfg, [ERASED], [], START + timedelta(days=2))

    assert _files_holding(home, ERASED) == []
    assert result.model_versions == ["2"]
    assert "support-assistant v2" in result.registry
    assert {"prod_logs", "partitions", "feedback", "candidates", "snapshots", "retrain_sets"} <= set(result.removed)
    change = next(s for s in result.snapshots if s["kind"] == "snapshots")
    assert change["from_hash"] == state["hash"] and change["to_hash"] != state["hash"]
    # lineage still answers: the registry records the rewritten content's hash (and keeps the trained one); the
    # manifest alone vouches for nothing, so the old hash no longer passes
    from llmops.registry import tracking

    tags = tracking.client(cfg).get_model_version(cfg.mlflow.model_name, "2").tags
    assert tags[SNAPSHOT_HASH_TAG] == change["to_hash"] and tags[f"{SNAPSHOT_HASH_TAG}.trained"] == state["hash"]
    assert trusted_snapshot(cfg, state["snapshot"], tags[SNAPSHOT_HASH_TAG]) == state["snapshot"].resolve()
    with pytest.raises(UntrustedSnapshot):
        trusted_snapshot(cfg, state["snapshot"], state["hash"])
    with pytest.raises(UntrustedSnapshot):
        trusted_snapshot(cfg, state["snapshot"], "0" * 24)
    assert len(pd.read_parquet(state["snapshot"])) == 3  # t1 and the two other feedback rows
    retrain = next(s for s in result.snapshots if s["kind"] == "retrain_sets")
    sidecar = json.loads((cfg.paths.home / retrain["path"]).with_name("merge.json").read_text())
    assert sidecar["sha256"] == retrain["to_sha256"]  # the retrain set still passes its approval check
    # the log holds the hash, the counts and the versions, never the id
    (logged,) = read_erasure_log(cfg)
    assert logged["request_id_sha256"] == [hash_id(ERASED)] and logged["model_versions"] == ["2"]
    assert ERASED not in erasure_log_path(cfg).read_text()
    assert result.residual == [] and result.residual_external == []
    # ... and so does the audit log's record of it, chained after the changes before it
    from llmops.audit import audit_log_path, check_chain, read_records

    audited = [r for r in read_records(audit_log_path(cfg)) if r["change"] == "erasure"]
    assert len(audited) == 1 and audited[0]["erasure_id"] == result.erasure_id
    assert audited[0]["request_id_sha256"] == [hash_id(ERASED)] and audited[0]["model_versions"] == ["2"]
    assert check_chain(audit_log_path(cfg)).first_bad_line is None


def test_erasure_is_idempotent_and_future_snapshots_exclude_the_id(state: dict[str, Any]) -> None:
    cfg: LLMOpsConfig = state["cfg"]
    again = erase(cfg, [ERASED], [], START + timedelta(days=3))
    assert again.removed == {} and again.model_versions == ["2"]
    assert len(read_erasure_log(cfg)) == 2
    from llmops.audit import audit_log_path, read_records

    assert [r["at"] for r in read_records(audit_log_path(cfg)) if r["change"] == "erasure"] == [
        e["as_of"] for e in read_erasure_log(cfg)
    ]  # fmt: skip
    # feedback on the erased request arriving later (from a copy outside the state folder): never pending again
    late = candidates_dir(cfg) / "interval=20260303T080000Z" / CANDIDATES_FILE
    late.parent.mkdir(parents=True)
    row = {"id": f"fb-{ERASED}", "prompt": "Late question?", "response": "Late answer.", "category": "general",
           "source": "feedback-accepted", "request_id": ERASED, "feedback_by": ""}  # fmt: skip
    pd.DataFrame([row]).to_parquet(late, index=False)
    assert f"fb-{ERASED}" not in set(pending_candidates(cfg, state["reference"])["id"])
    shutil.rmtree(late.parent)


def test_erasing_a_user_erases_their_feedback_and_the_requests_it_named(state: dict[str, Any]) -> None:
    cfg: LLMOpsConfig = state["cfg"]
    result = erase(cfg, [], [USER], START + timedelta(days=4))
    assert result.derived_requests == 1
    assert _files_holding(cfg.paths.home, USER) == []
    assert _files_holding(cfg.paths.home, BY_USER) == []
    assert result.model_versions == ["2"]
    assert USER not in erasure_log_path(cfg).read_text()
    assert _files_holding(cfg.paths.home, _id(3))  # other requests stay
