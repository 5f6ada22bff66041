"""The whole `llm_finetune_pipeline` on tiny settings: real Airflow (`dag.test`), GX, DeepSpeed, MLflow,
Evidently and a real Triton server. Asserts on what each stage produced."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest

from llmops.config import LLMOpsConfig

pytestmark = pytest.mark.integration

DAGS = Path(__file__).resolve().parents[2] / "dags"


@pytest.fixture(scope="module")
def stack(
    tmp_path_factory: pytest.TempPathFactory,
    start_pipeline_stack: Callable[[Path], AbstractContextManager[LLMOpsConfig]],
) -> Iterator[LLMOpsConfig]:
    with start_pipeline_stack(tmp_path_factory.mktemp("pipeline-home")) as cfg:
        yield cfg


def _run_dag(conf: dict | None = None):  # type: ignore[no-untyped-def]
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS / "llm_finetune_pipeline.py"))
    assert bag.import_errors == {}
    dag = bag.dags["llm_finetune_pipeline"]
    return dag.test(run_conf=conf or {})


def _states(dag_run) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {ti.task_id: str(ti.state) for ti in dag_run.get_task_instances()}


def test_pipeline_end_to_end(stack: LLMOpsConfig) -> None:
    from llmops.registry import registry, tracking
    from llmops.serving.client import TritonClient
    from llmops.serving.repository import served_version

    cfg = stack
    dag_run = _run_dag()
    states = _states(dag_run)
    # approve_promotion is skipped when no approval is required; the data stage runs as six tasks (two mapped)
    assert states == {t: "success" for t in states} | {"approve_promotion": "skipped"}, states
    data_tasks = {"validate_raw_data", "plan_shards", "scrub_shard", "sign_shard", "dedup_dataset", "snapshot_dataset"}
    assert data_tasks <= set(states), states

    # data stage: quarantine written, duplicates removed, counts add up
    curated = sorted(cfg.paths.curated_dir.rglob("train.parquet"))
    assert len(curated) == 1
    quarantine = sorted(cfg.paths.quarantine_dir.rglob("quarantine.parquet"))
    assert quarantine, "bad rows must be set aside, not dropped"
    import pandas as pd

    q = pd.read_parquet(quarantine[0])
    assert len(q) > 0 and q["reason"].str.len().min() > 0

    # MLflow: one version, alias champion on it, per-step training loss, fine-tuned beats base
    c = tracking.client(cfg)
    champion = registry.alias_version(cfg, registry.CHAMPION)
    assert champion == "1"
    assert registry.alias_version(cfg, registry.CHALLENGER) == "1"
    mv = c.get_model_version(cfg.mlflow.model_name, champion)
    run = c.get_run(mv.run_id)
    assert run.data.metrics["eval_loss"] < run.data.metrics["base_eval_loss"]
    history = c.get_metric_history(mv.run_id, "train_loss")
    assert len(history) == cfg.training.max_steps
    assert mv.tags["llmops.gate.passed"] == "True"

    # drift report exists
    html = sorted(cfg.paths.reports_dir.rglob("drift_report.html"))
    assert html and html[0].stat().st_size > 10_000

    # Triton serves the new version and answers
    assert served_version(cfg.paths.model_repository, cfg.triton.model_name) == 1
    with TritonClient(cfg.triton.http_url) as client:
        assert client.is_model_ready(cfg.triton.model_name, "1")
        answer = client.generate(cfg.triton.model_name, [cfg.triton.smoke_prompt], max_new_tokens=16, temperature=None)
    assert answer[0].strip()

    # the served model wrote production logs in the shared schema
    from llmops.data.schema import PROD_LOG_COLUMNS

    lines = [
        json.loads(line)
        for f in cfg.paths.prod_log_dir.rglob("*.jsonl")
        if "demo" not in f.parts
        for line in f.read_text().splitlines()
        if line.strip()
    ]
    assert lines, "the served model wrote no production log"
    assert set(PROD_LOG_COLUMNS) <= set(lines[-1])

    # the promotion is recorded
    events = [json.loads(x) for x in (cfg.paths.home / "promotions.jsonl").read_text().splitlines()]
    assert events[-1]["to_version"] == "1" and events[-1]["kind"] == "promotion"


def test_rerun_against_champion_is_gated(stack: LLMOpsConfig) -> None:
    """A second run (fewer steps) is registered as a new version; champion moves only if the gate passes."""
    from llmops.registry import registry, tracking

    cfg = stack
    dag_run = _run_dag({"max_steps": 5})
    states = _states(dag_run)
    assert states["register_model"] == "success"
    c = tracking.client(cfg)
    versions = sorted(int(v.version) for v in c.search_model_versions(f"name = '{cfg.mlflow.model_name}'"))
    assert versions == [1, 2]
    v2 = c.get_model_version(cfg.mlflow.model_name, "2")
    if v2.tags["llmops.gate.passed"] == "True":
        assert states["promote_to_triton"] == "success"
        assert registry.alias_version(cfg, registry.CHAMPION) == "2"
    else:
        # 5 steps cannot match a 60-step champion: the candidate stays registered without the alias
        assert states["promote_to_triton"] == "skipped"
        assert registry.alias_version(cfg, registry.CHAMPION) == "1"
        assert "champion" in v2.tags["llmops.gate.reason"]
