"""The production loop on real Airflow: `llm_production_monitoring` with `dag.test()` over demo intervals.

A champion (a registered version whose training snapshot is the undrifted demo distribution) faces an hour of
heavily drifted demo traffic: the interval is curated into its partition, drift is detected and logged to MLflow,
and the alert reaches a webhook configured as an Airflow connection. Re-running the interval changes nothing; an
empty interval is skipped.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from llmops.config import LLMOpsConfig, load_config
from llmops.fsutil import file_sha256

DAGS = Path(__file__).resolve().parents[2] / "dags"
START = datetime(2026, 3, 1, 10, tzinfo=UTC)
HOUR = timedelta(hours=1)


@pytest.fixture(scope="module")
def env(
    tmp_path_factory: pytest.TempPathFactory,
    alert_webhook: tuple[str, list[dict[str, Any]]],
    airflow_db_migrate: Callable[[], None],
) -> Iterator[LLMOpsConfig]:
    from llmops.demo import generate_prod_logs
    from llmops.registry import tracking

    home = tmp_path_factory.mktemp("loop-home")
    conn = json.dumps({"conn_type": "http", "host": alert_webhook[0]})
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LLMOPS_HOME", str(home))
        mp.setenv("AIRFLOW_CONN_LLMOPS_ALERTS_WEBHOOK", conn)
        airflow_db_migrate()
        cfg = load_config()
        ref = generate_prod_logs(400, 0.0, 1, home / "reference.jsonl", start=START - 48 * HOUR)
        snapshot = cfg.paths.curated_dir / "snapshots" / "reference" / "train.parquet"
        snapshot.parent.mkdir(parents=True)
        pd.read_json(ref, lines=True)[["prompt", "response"]].to_parquet(snapshot)
        c = tracking.client(cfg)
        c.create_registered_model(cfg.mlflow.model_name)
        (home / "model").mkdir()
        tags = {"llmops.data_snapshot": str(snapshot), "llmops.data_snapshot_hash": file_sha256(snapshot)}
        mv = c.create_model_version(cfg.mlflow.model_name, source=str(home / "model"), tags=tags)
        c.set_registered_model_alias(cfg.mlflow.model_name, "champion", mv.version)
        logs = generate_prod_logs(200, 0.9, 5, cfg.paths.prod_log_dir / "requests.jsonl", start=START)
        requests = pd.read_json(logs, lines=True, dtype={"request_id": str})
        in_hour = requests[pd.to_datetime(requests["timestamp"], utc=True) < START + HOUR].drop_duplicates("prompt")
        feedback = [
            {
                "request_id": rid,
                "timestamp": (START + timedelta(minutes=59)).isoformat(),
                "rating": "up" if i % 2 else "down",
                "corrected_response": None if i % 2 else f"Corrected answer number {i}: open Settings, then Sync.",
            }
            for i, rid in enumerate(in_hour["request_id"].head(12))
        ]
        (home / "feedback").mkdir()
        (home / "feedback" / "feedback.jsonl").write_text("".join(json.dumps(r) + "\n" for r in feedback))
        yield cfg


def dag_by_id(dag_id: str) -> Any:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS / f"{dag_id}.py"))
    assert bag.import_errors == {}
    return bag.dags[dag_id]


def retrain_run_id(run_id: str) -> str:
    """The run id `llm_nightly_retrain`'s `trigger_finetune` gives the pipeline run that retrain run ``run_id``
    triggers."""
    return "retrain__" + run_id.replace(":", "-").replace("+", "_")


def _run(logical_date: datetime) -> dict[str, str]:
    # The timetable's runs cover the hour before their logical date.
    dag_run = dag_by_id("llm_production_monitoring").test(logical_date=logical_date + HOUR)
    return {ti.task_id: str(ti.state) for ti in dag_run.get_task_instances()}


def test_monitoring_interval_detects_drift_and_alerts(
    env: LLMOpsConfig, alert_webhook: tuple[str, list[dict[str, Any]]]
) -> None:
    from llmops.monitoring.interval import partition_path
    from llmops.registry import tracking

    cfg, (_, received) = env, alert_webhook
    states = _run(START)
    assert states == {
        "curate_interval": "success",
        "check_interval_drift": "success",
        "notify_alerts": "success",
        "curate_feedback": "success",
        "watch_champion": "skipped",  # the champion was never promoted: nothing to watch
        "reconcile_serving": "failed",  # there is a champion, and no Triton here to serve it
        "verify_audit": "success",  # a warning: the champion was set without a recorded promotion
    }
    key = "20260301T100000Z"
    part = partition_path(cfg, key)
    rows = pd.read_parquet(part)
    ts = pd.to_datetime(rows["timestamp"], utc=True)
    assert len(rows) > 20 and ts.min() >= START and ts.max() < START + HOUR
    summary = json.loads((cfg.paths.reports_dir / "monitoring" / key / "monitoring_summary.json").read_text())
    assert summary["alerts"][0]["name"] == "drift_share"
    assert Path(summary["reports"]["interval_html"]).is_file()
    drift_alerts = [r for r in received if "interval" in r]
    assert len(drift_alerts) == 1 and drift_alerts[0]["interval"] == key and "drift share" in drift_alerts[0]["text"]
    # reconcile_serving alerted too: there is a champion and no Triton to serve it.
    assert any("Triton is not reachable" in r["text"] for r in received if "interval" not in r)
    assert any("serves with no promotion recorded" in r["text"] for r in received if r.get("gate") == "audit_chain")

    # Re-running the interval replaces its partition and reports: same rows, one MLflow run.
    assert _run(START)["check_interval_drift"] == "success"
    pd.testing.assert_frame_equal(pd.read_parquet(part), rows)
    assert list(part.parent.glob("*.parquet")) == [part]
    c = tracking.client(cfg)
    exp = c.get_experiment_by_name(cfg.monitoring.experiment)
    assert len(c.search_runs([exp.experiment_id], f"tags.`llmops.interval` = '{key}'")) == 1


def test_feedback_updates_the_asset_and_nightly_retrain_triggers_the_pipeline(env: LLMOpsConfig) -> None:
    from airflow.models.asset import AssetEvent
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session

    cfg = env
    candidates = cfg.paths.curated_dir / "feedback" / "interval=20260301T100000Z" / "candidates.parquet"
    frame = pd.read_parquet(candidates)
    assert 6 <= len(frame) <= 12
    assert set(frame["source"]) <= {"feedback-accepted", "feedback-corrected"}
    with create_session() as session:
        events = session.query(AssetEvent).all()
        extras = [e.extra for e in events if e.asset.uri == "llmops://datasets/feedback_candidates"]
    assert extras and extras[-1]["candidates"] == len(frame) and extras[-1]["interval"] == "20260301T100000Z"

    run = dag_by_id("llm_nightly_retrain").test(logical_date=START + 16 * HOUR)
    states = {ti.task_id: str(ti.state) for ti in run.get_task_instances()}
    assert states == {"decide_retrain": "success", "merge_feedback": "success", "trigger_finetune": "success"}
    with create_session() as session:  # the runs this retrain run triggered (other modules share the database)
        triggered = (
            session.query(DagRun)
            .filter(DagRun.dag_id == "llm_finetune_pipeline", DagRun.run_id == retrain_run_id(run.run_id))
            .all()
        )
        confs = [dict(r.conf or {}) for r in triggered]
    assert len(confs) == 1
    assert not confs[0]["raw_path"].startswith("/"), "file params are relative to the data folder"
    merged = pd.read_parquet(cfg.paths.data_dir / confs[0]["raw_path"])
    assert len(merged) == 400 + len(frame)  # the champion's snapshot plus every candidate


def test_empty_interval_is_skipped(env: LLMOpsConfig) -> None:
    states = _run(START + 5 * HOUR)
    assert states["curate_interval"] == "skipped"
    assert states["check_interval_drift"] == "skipped"
    assert states["notify_alerts"] != "success"
    summary = json.loads(
        (env.paths.curated_dir / "monitoring" / "prod_logs" / "interval=20260301T150000Z" / "summary.json").read_text()
    )
    assert summary["skipped"] and summary["rows_read"] == 0
