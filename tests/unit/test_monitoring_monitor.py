"""The interval drift step: live figures, Evidently reports against the champion's snapshot, MLflow, alerts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from llmops.config import LLMOpsConfig, load_config
from llmops.demo import generate_prod_logs
from llmops.fsutil import file_sha256
from llmops.monitoring.interval import curate_interval
from llmops.monitoring.monitor import check_interval_drift, live_figures

START = datetime(2026, 1, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)


def test_live_figures() -> None:
    df = pd.DataFrame({"response": ["ok", "", "  ", None, "fine"], "latency_ms": [10.0, 20.0, 30.0, 40.0, None]})
    figures = live_figures(df)
    assert figures["rows"] == 5
    assert figures["empty_response_rate"] == pytest.approx(3 / 5)
    assert figures["latency_p50_ms"] == pytest.approx(25.0)
    assert figures["latency_p95_ms"] == pytest.approx(38.5)
    assert live_figures(df.iloc[:0]) == {"rows": 0.0}


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LLMOpsConfig, Path]]:
    mp = pytest.MonkeyPatch()
    mp.setenv("LLMOPS_HOME", str(tmp_path_factory.mktemp("home")))
    cfg = load_config()
    # The champion's training data: the undrifted request distribution.
    ref = generate_prod_logs(400, 0.0, 1, cfg.paths.home / "ref.jsonl", start=START - 48 * HOUR)
    snapshot = cfg.paths.curated_dir / "snapshots" / "reference" / "train.parquet"
    snapshot.parent.mkdir(parents=True)
    pd.read_json(ref, lines=True)[["prompt", "response"]].to_parquet(snapshot)
    # Two hours of heavily drifted traffic (two files: the second hour starts where the first ends).
    generate_prod_logs(150, 0.9, 2, cfg.paths.prod_log_dir / "requests.jsonl", start=START)
    generate_prod_logs(150, 0.9, 3, cfg.paths.prod_log_dir / "requests.1.jsonl", start=START + HOUR)
    # A third hour of traffic like the training data.
    generate_prod_logs(150, 0.0, 4, cfg.paths.prod_log_dir / "requests.2.jsonl", start=START + 2 * HOUR)
    cfg.monitoring.min_interval_rows = 20
    yield cfg, snapshot
    mp.undo()


def _make_champion(cfg: LLMOpsConfig, snapshot: Path) -> str:
    from llmops.registry import tracking

    c = tracking.client(cfg)
    c.create_registered_model(cfg.mlflow.model_name)
    source = cfg.paths.home / "model_v1"
    source.mkdir()
    tags = {"llmops.data_snapshot": str(snapshot), "llmops.data_snapshot_hash": file_sha256(snapshot)}
    mv = c.create_model_version(cfg.mlflow.model_name, source=str(source), tags=tags)
    c.set_registered_model_alias(cfg.mlflow.model_name, "champion", mv.version)
    return str(mv.version)


def test_interval_drift_end_to_end(env: tuple[LLMOpsConfig, Path]) -> None:
    from llmops.registry import tracking

    cfg, snapshot = env
    first = curate_interval(cfg, START, START + HOUR)
    no_champion = check_interval_drift(cfg, first.key, first.partition_path, START + HOUR)
    assert no_champion["champion_version"] is None and "no champion" in no_champion["drift_reason"]
    assert set(no_champion["reports"]) == {"text_evals_html", "text_evals_json"}  # what the answers say: always
    assert "drift_share" not in no_champion["metrics"]
    assert 0.0 <= no_champion["metrics"]["safety_pii_leak_rate"] <= 1.0
    assert no_champion["metrics"]["safety_scored_rows"] == first.rows

    version = _make_champion(cfg, snapshot)
    second = curate_interval(cfg, START + HOUR, START + 2 * HOUR)
    assert not second.skipped
    summary = check_interval_drift(cfg, second.key, second.partition_path, START + 2 * HOUR)
    assert summary["champion_version"] == version
    assert summary["metrics"]["drift_share"] >= cfg.monitoring.drift_score_threshold, summary["drift_reason"]
    assert summary["alerts"][0]["name"] == "drift_share"
    for name in ("interval_html", "interval_json", "window_html", "window_json"):
        assert Path(summary["reports"][name]).is_file(), name
    assert summary["metrics"]["window_intervals"] == 2
    assert "latency_p95_ms" in summary["metrics"] and "empty_response_rate" in summary["metrics"]
    assert (
        json.loads((cfg.paths.reports_dir / "monitoring" / second.key / "monitoring_summary.json").read_text())[
            "alerts"
        ]
        == summary["alerts"]
    )

    c = tracking.client(cfg)
    run = c.get_run(summary["mlflow_run_id"])
    assert c.get_experiment(run.info.experiment_id).name == cfg.monitoring.experiment
    assert run.data.metrics["drift_share"] == pytest.approx(summary["metrics"]["drift_share"])
    artifacts = {a.path for a in c.list_artifacts(run.info.run_id, "monitoring/interval")}
    assert "monitoring/interval/drift_report.html" in artifacts
    evals = {a.path for a in c.list_artifacts(run.info.run_id, "monitoring/text_evals")}
    assert {"monitoring/text_evals/text_evals.html", "monitoring/text_evals/text_evals.json"} <= evals
    assert "safety_toxicity_rate" in run.data.metrics
    tags = c.get_model_version(cfg.mlflow.model_name, version).tags
    assert tags["llmops.monitoring.last_interval"] == second.key
    assert tags["llmops.monitoring.alerts"].startswith("drift_share")
    assert tags["llmops.monitoring.mlflow_run"] == summary["mlflow_run_id"]

    # Re-running the interval: same MLflow run, no duplicate metric points, same verdict.
    again = check_interval_drift(cfg, second.key, second.partition_path, START + 2 * HOUR)
    assert again["mlflow_run_id"] == summary["mlflow_run_id"]
    assert again["alerts"] == summary["alerts"]
    assert len(c.get_metric_history(run.info.run_id, "drift_share")) == 1
    runs = c.search_runs([run.info.experiment_id], f"tags.`llmops.interval` = '{second.key}'")
    assert len(runs) == 1


def test_undrifted_interval_raises_no_drift_alert(env: tuple[LLMOpsConfig, Path]) -> None:
    from llmops.registry import registry

    cfg, snapshot = env
    if registry.alias_version(cfg, "champion") is None:  # this test alone
        _make_champion(cfg, snapshot)
    third = curate_interval(cfg, START + 2 * HOUR, START + 3 * HOUR)
    summary = check_interval_drift(cfg, third.key, third.partition_path, START + 3 * HOUR, log_mlflow=False)
    assert summary["champion_version"] is not None
    assert summary["metrics"]["drift_share"] < cfg.monitoring.drift_score_threshold, summary["drift_reason"]
    assert "drift_share" not in [a["name"] for a in summary["alerts"]]


def _usage_rows() -> pd.DataFrame:
    # Two batches of version 1 (4 rows sharing 100 ms, then 2 rows sharing 40 ms) and one row of version 2 (60 ms).
    rows = [("1", 30, 10, 4, 100.0, 120.0)] * 4 + [("1", 20, 5, 2, 40.0, 50.0)] * 2 + [("2", 40, 20, 1, 60.0, 70.0)]
    return pd.DataFrame(
        rows, columns=["model_version", "prompt_tokens", "completion_tokens", "batch_size", "compute_ms", "latency_ms"]
    ).assign(response="ok")


def test_usage_figures_count_each_batch_once_and_price_the_interval() -> None:
    from llmops.monitoring.monitor import usage_figures

    figures = usage_figures(_usage_rows(), 3600.0, 0.36)
    assert figures["prompt_tokens"] == 4 * 30 + 2 * 20 + 40 and figures["completion_tokens"] == 40 + 10 + 20
    assert figures["busy_s"] == pytest.approx(0.2)  # 100 + 40 + 60 ms: each batch's time once
    assert figures["tokens_per_s"] == pytest.approx(70 / 0.2)
    assert figures["tokens_per_request"] == pytest.approx((200 + 70) / 7)
    assert figures["busy_share"] == pytest.approx(0.2 / 3600)
    assert figures["cost"] == pytest.approx(0.36) and figures["cost_per_1k_tokens"] == pytest.approx(0.36 / 270 * 1000)
    assert "cost" not in usage_figures(_usage_rows(), 3600.0, 0.0), "no price: no cost"
    assert usage_figures(_usage_rows().drop(columns=["compute_ms"]), 3600.0, 0.36) == {}, "writers without usage"


def test_version_figures_share_the_cost_by_generation_time() -> None:
    from llmops.monitoring.monitor import version_figures

    figures = version_figures(_usage_rows(), {"2": 1, "3": 2}, 3600.0, 0.36)
    # version 1 generated for 140 of the 200 busy ms, version 2 for 60
    assert figures["cost_per_1k_tokens.v1"] == pytest.approx(0.36 * 0.7 / (160 + 50) * 1000)
    assert figures["cost_per_1k_tokens.v2"] == pytest.approx(0.36 * 0.3 / 60 * 1000)
    assert figures["tokens_per_s.v1"] == pytest.approx(50 / 0.14)
    assert figures["tokens_per_s.v2"] == pytest.approx(20 / 0.06)
    assert figures["error_rate.v1"] == 0.0 and figures["error_rate.v2"] == 0.5 and figures["error_rate.v3"] == 1.0
    assert figures["latency_p99_ms.v2"] == 70.0 and "latency_p50_ms.v1" in figures and "tokens_per_s.v3" not in figures
