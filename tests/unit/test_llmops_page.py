"""The LLMOps page: gathered from a real local MLflow registry, audit log and monitoring summaries; rendered with
Plotly; served by the plugin app behind an authentication check (Airflow's own is exercised by the browser test)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi import HTTPException, Request
from fastapi.testclient import TestClient
from llmops_airflow.api import create_app
from llmops_airflow.ui import champion_changes, default_links, figures, render_page

from llmops import audit
from llmops.config import LLMOpsConfig, load_config
from llmops.monitoring.monitor import SUMMARY_FILE
from llmops.overview import gather
from llmops.registry import tracking

HOSTILE = '<script>alert("x")</script>'


def _interval(cfg: LLMOpsConfig, key: str, champion: str, metrics: dict[str, float], alerts: list[str]) -> None:
    folder = cfg.paths.reports_dir / "monitoring" / key
    (folder / "interval").mkdir(parents=True)
    html = folder / "interval" / "drift_report.html"
    html.write_text("<html>drift</html>", encoding="utf-8")
    summary = {
        "key": key,
        "champion_version": champion,
        "metrics": metrics,
        "alerts": [{"name": a} for a in alerts],
        "drift_reason": f"drift share {metrics.get('drift_share', 0):.2f}",
        "reports": {"interval_html": str(html)},
        "mlflow_run_id": None,
    }
    (folder / SUMMARY_FILE).write_text(json.dumps(summary), encoding="utf-8")


@pytest.fixture
def cfg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LLMOpsConfig:
    monkeypatch.setenv("LLMOPS_HOME", str(tmp_path / "home"))
    config = load_config()
    c = tracking.client(config)
    name = config.mlflow.model_name
    c.create_registered_model(name)
    (tmp_path / "model").mkdir()
    reasons = {"1": "eval_loss 1.20 <= base 1.30", "2": "eval_loss 1.10 <= champion 1.20", "3": HOSTILE}
    for version, reason in reasons.items():
        c.create_model_version(name, source=str(tmp_path / "model"))
        tags = {
            "llmops.gate.passed": str(version != "3"),
            "llmops.gate.reason": reason,
            "llmops.verdict.quality": "passed" if version != "3" else "failed",
            "llmops.verdict.quality.reason": reason,
            "llmops.metric.eval_loss": {"1": "1.2", "2": "1.1", "3": "1.5"}[version],
            "llmops.prompt": f"support-assistant-prompt/{version}",
        }
        for k, v in tags.items():
            c.set_model_version_tag(name, version, k, v)
    c.set_registered_model_alias(name, "champion", "2")
    c.set_registered_model_alias(name, "challenger", "3")
    for i, (change, frm, to) in enumerate((("promotion", None, "1"), ("promotion", "1", "2"))):
        audit.append(
            config,
            change,  # type: ignore[arg-type]
            f"{to}@run{i}",
            {"at": f"2026-12-0{i + 1}T00:00:00+00:00", "from_version": frm, "to_version": to,
             "reason": f"gate passed for v{to}", "prompt_version": "support-assistant-prompt/1"},
        )  # fmt: skip
    for hour, (champion, drift) in enumerate((("1", 0.1), ("1", 0.2), ("2", 0.7), ("2", 0.3))):
        metrics = {
            "drift_share": drift,
            "latency_p95_ms": 100.0 + hour,
            "tokens_per_s": 500.0,
            "cost_per_1k_tokens": 0.01,
            "safety_pii_leak_rate": 0.01 * hour,
        }
        _interval(config, f"20261201T0{hour}0000Z", champion, metrics, ["drift_share"] if drift > 0.5 else [])
    return config


def test_the_overview_reads_registry_audit_and_intervals(cfg: LLMOpsConfig) -> None:
    ov = gather(cfg)
    assert ov.problems == []
    assert (ov.champion, ov.challenger) == ("2", "3")
    assert [v.version for v in ov.versions] == ["3", "2", "1"]
    champion = ov.version("2")
    assert champion is not None and champion.aliases == ("champion",)
    assert champion.verdicts["quality"] == {"passed": True, "reason": "eval_loss 1.10 <= champion 1.20"}
    assert champion.metrics == {"eval_loss": 1.1}
    assert [r["to_version"] for r in ov.timeline] == ["2", "1"]  # newest first
    assert ov.chain_holds and ov.serving_prompt == "support-assistant-prompt/1"
    assert [p.key for p in ov.intervals] == [f"20261201T0{h}0000Z" for h in range(4)]
    assert ov.intervals[2].alerts == ("drift_share",)
    assert champion_changes(ov.intervals) == [(ov.intervals[2].start, "v1 → v2")]


def test_the_page_shows_champion_timeline_and_plots_escaping_stored_text(cfg: LLMOpsConfig) -> None:
    ov = gather(cfg)
    figs = figures(ov)
    titles = [f.layout.title.text for f in figs]
    assert titles[:3] == [
        "Held-out loss per version (green: gate passed)",
        "Drift share",
        "Safety: share of answers flagged (dashed: alert bounds)",
    ]
    assert list(figs[0].data[0].x) == ["v1", "v2 (champion)", "v3"] and list(figs[0].data[0].y) == [1.2, 1.1, 1.5]
    assert "Thumbs-up share" not in titles  # no feedback recorded: no empty panel
    drift = figs[1]
    assert any(s.y0 == cfg.monitoring.drift_score_threshold == s.y1 for s in drift.layout.shapes)
    assert any(a.text == "v1 → v2" for a in drift.layout.annotations)
    # every interval panel shares one time axis: all monitored intervals, half an hour either side
    starts = sorted(p.start for p in ov.intervals)
    assert all(tuple(f.layout.xaxis.range) == tuple(drift.layout.xaxis.range) for f in figs[1:]), titles
    assert drift.layout.xaxis.range[0] < starts[0] and drift.layout.xaxis.range[1] > starts[-1]
    page = render_page(ov, default_links(cfg))
    assert "Champion: " + cfg.mlflow.model_name + " v2" in page
    assert "Challenger: " + cfg.mlflow.model_name + " v3" in page
    assert HOSTILE not in page and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert page.count('class="plot"') == len(figs) >= 4
    assert "gate passed for v2" in page and "hash chain holds" in page
    assert 'href="reports/monitoring/20261201T020000Z/interval/drift_report.html"' in page
    assert "cdn" not in page.lower()


def _viewer(status: int | None) -> Any:
    async def check(request: Request) -> None:
        if status is not None:
            raise HTTPException(status_code=status, detail="refused")

    return check


def _client(cfg: LLMOpsConfig, status: int | None) -> TestClient:
    app = create_app(config=lambda: cfg, environ={}, viewer=_viewer(status), login_url=lambda r: "/auth/login?next=x")
    return TestClient(app, follow_redirects=False)


def test_the_page_is_served_only_to_an_authenticated_viewer(cfg: LLMOpsConfig) -> None:
    anonymous = _client(cfg, 401)
    answer = anonymous.get("/ui/")
    assert answer.status_code == 303 and answer.headers["location"] == "/auth/login?next=x"
    assert anonymous.get("/ui/reports/monitoring/20261201T000000Z/interval/drift_report.html").status_code == 401
    assert _client(cfg, 403).get("/ui/").status_code == 403
    viewer = _client(cfg, None)
    page = viewer.get("/ui/")
    assert page.status_code == 200 and "Champion: " in page.text
    report = viewer.get("/ui/reports/monitoring/20261201T000000Z/interval/drift_report.html")
    assert report.status_code == 200 and report.text == "<html>drift</html>"
    (cfg.paths.home / "secret.txt").write_text("not a report", encoding="utf-8")
    for path in ("/ui/reports/../secret.txt", "/ui/reports/%2e%2e/secret.txt", "/ui/reports/monitoring"):
        assert viewer.get(path).status_code == 404, path
    js = viewer.get("/ui/static/plotly.min.js")
    assert js.status_code == 200 and "plotly" in js.text[:2000].lower()


def test_a_task_instance_links_to_the_report_it_wrote(cfg: LLMOpsConfig) -> None:
    from llmops.config.runtime import run_key

    run_id = "manual__2026-12-01T00:00:00+00:00"
    docs = cfg.paths.reports_dir / "data_docs" / run_key(run_id)
    docs.mkdir(parents=True)
    (docs / "index.html").write_text("<html>gx</html>", encoding="utf-8")
    viewer = _client(cfg, None)
    answer = viewer.get(f"/ui/task/llm_finetune_pipeline/{run_id}/validate_raw_data")
    assert answer.status_code == 307, answer.text
    assert answer.headers["location"].endswith(f"/ui/reports/data_docs/{run_key(run_id)}/index.html")
    assert viewer.get(answer.headers["location"]).text == "<html>gx</html>"
    (docs / "summary.html").write_text("<html>summary</html>", encoding="utf-8")  # the readable one comes first
    answer = viewer.get(f"/ui/task/llm_finetune_pipeline/{run_id}/validate_raw_data")
    assert answer.headers["location"].endswith("/summary.html")
    # a task without a report (or whose report is gone): its run's MLflow run
    for task in ("finetune_model", "check_drift"):
        answer = viewer.get(f"/ui/task/llm_finetune_pipeline/{run_id}/{task}")
        assert answer.status_code == 307 and "/ui/run/llm_finetune_pipeline/" in answer.headers["location"], task
    assert _client(cfg, 401).get(f"/ui/task/llm_finetune_pipeline/{run_id}/validate_raw_data").status_code == 401


def test_airflow_authentication_refuses_a_request_without_credentials(cfg: LLMOpsConfig) -> None:
    app = create_app(config=lambda: cfg, environ={}, login_url=lambda r: "/auth/login")
    client = TestClient(app, follow_redirects=False)
    assert client.get("/ui/").status_code == 303
    assert client.get("/ui/reports/monitoring").status_code == 401
    assert client.get("/ui/run/llm_finetune_pipeline/manual__1").status_code == 401


def test_experiments_open_on_the_view_of_their_kind(cfg: LLMOpsConfig) -> None:
    c = tracking.client(cfg)
    training = c.get_experiment(tracking.ensure_experiment(cfg))
    monitoring = c.get_experiment(tracking.ensure_experiment(cfg, cfg.monitoring.experiment))
    assert training.tags[tracking.EXPERIMENT_KIND_TAG] == "finetuning"
    assert monitoring.tags[tracking.EXPERIMENT_KIND_TAG] == "custom_model_development"
