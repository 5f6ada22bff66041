"""Registry content is not trusted blindly, on a REAL tritonserver and a REAL MLflow store.

Someone who can write MLflow can move aliases, rewrite tags and replace artifacts. One server and one state folder
for the module; the tests run in file order: v1 and v2 are promoted (each promotion records the served weights'
digest in the platform's promotion log) → a tampered ``llmops.promotion.from_version`` tag on the champion makes a
rollback to "previous" refuse → a tampered ``llmops.data_snapshot`` (outside the curated folder, or inside with other
content) makes the drift and retraining reference refuse → v1's artifact is replaced in the MLflow artifact store and
its folder pruned: the rollback to it refuses; the same for the champion's own folder and the reconcile. Each time
``champion`` does not move and Triton keeps serving the same version.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import pandas as pd
import pytest
from test_triton_serving import served_state

from llmops.config import LLMOpsConfig

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]

AT = "2026-03-01T00:00:00+00:00"
GATE_OK = {"passed": True, "reason": "candidate beats base and champion", "metrics": {}}
PROMPT = "How do I reset my password?"


@dataclass
class Env:
    cfg: LLMOpsConfig
    tmp: Path
    client: Any
    finetune: dict[str, Any]


def _events(cfg: LLMOpsConfig) -> list[dict[str, Any]]:
    path = cfg.paths.home / cfg.promotion.log_file
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _champion(cfg: LLMOpsConfig) -> str | None:
    from llmops.registry import registry

    return registry.alias_version(cfg, registry.CHAMPION)


def _set_tag(cfg: LLMOpsConfig, version: str, key: str, value: str) -> None:
    from llmops.registry import tracking

    tracking.client(cfg).set_model_version_tag(cfg.mlflow.model_name, version, key, value)


def _tags(cfg: LLMOpsConfig, version: str) -> dict[str, str]:
    from llmops.registry import tracking

    return dict(tracking.client(cfg).get_model_version(cfg.mlflow.model_name, version).tags)


def _serving(env: Env) -> tuple[str | None, list[int], int]:
    """``(champion, Triton's ready versions, number of promotion-log events)``: what a refusal must not change."""
    return _champion(env.cfg), env.client.ready_versions(env.cfg.triton.model_name), len(_events(env.cfg))


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    tmp = tmp_path_factory.mktemp("trust")
    with served_state(tmp, smoke_prompt=PROMPT, smoke_prompts="[]") as (cfg, model_dir, client):
        yield Env(cfg, tmp, client, {"model_dir": str(model_dir), "base_model": "tiny"})


def _register_and_promote(env: Env, n: int) -> None:
    from llmops.registry import tracking
    from llmops.registry.register import register_candidate
    from llmops.serving.champion import serve_as_champion

    run_key = f"run_{n}"
    run_id = tracking.get_or_create_run(env.cfg, run_key, run_key)
    finetune = {**env.finetune, "mlflow_run_id": run_id}
    registration = register_candidate(env.cfg, run_key, finetune, {"eval_loss": 0.5}, GATE_OK, {})
    assert registration["version"] == str(n)
    serve_as_champion(env.cfg, run_key, registration["version"], env.finetune["model_dir"], GATE_OK["reason"], AT)


def test_promotions_record_the_served_weights_digest(env: Env) -> None:
    from llmops.serving.repository import version_path
    from llmops.serving.trust import folder_weights_digest

    cfg, name = env.cfg, env.cfg.triton.model_name
    for n in (1, 2):
        _register_and_promote(env, n)
    assert _serving(env) == ("2", [2], 2)
    for event in _events(cfg):
        folder = version_path(cfg.paths.model_repository, name, event["to_version"])
        assert len(event["weights_digest"]) == 64 and event["weights_digest"] == folder_weights_digest(folder)
    assert "weights_digest" not in json.dumps(_tags(cfg, "2")), "the digest lives in the platform's log, not in MLflow"


def test_a_tampered_from_version_tag_refuses_rollback_to_previous(env: Env) -> None:
    from llmops.serving.rollback import RollbackError, rollback

    cfg = env.cfg
    assert _tags(cfg, "2")["llmops.promotion.from_version"] == "1"
    before = _serving(env)
    _set_tag(cfg, "2", "llmops.promotion.from_version", "7")  # someone with MLflow access points "previous" elsewhere
    try:
        with pytest.raises(RollbackError, match="tampered") as info:
            rollback(cfg, "previous", "rb_tampered", AT, "v2 answers badly")
        assert "'7'" in str(info.value) and "'1'" in str(info.value)
        assert _serving(env) == before
        assert env.client.generate(cfg.triton.model_name, [PROMPT], max_new_tokens=4, version="2")[0]
    finally:
        _set_tag(cfg, "2", "llmops.promotion.from_version", "1")


def test_a_tampered_snapshot_tag_refuses_the_drift_and_retraining_reference(env: Env) -> None:
    from llmops.data.snapshot import SNAPSHOT_HASH_TAG, SNAPSHOT_TAG, UntrustedSnapshot
    from llmops.fsutil import file_sha256
    from llmops.monitoring.monitor import champion_reference
    from llmops.monitoring.retrain import retrain_decision

    cfg = env.cfg
    frame = pd.DataFrame({"id": ["1"], "prompt": [PROMPT], "response": ["Open Settings."], "category": ["a"]})
    genuine = cfg.paths.curated_dir / "snapshots" / "genuine" / "train.parquet"
    genuine.parent.mkdir(parents=True)
    frame.assign(source="demo").to_parquet(genuine)
    _set_tag(cfg, "2", SNAPSHOT_TAG, str(genuine))
    _set_tag(cfg, "2", SNAPSHOT_HASH_TAG, file_sha256(genuine))
    assert champion_reference(cfg) == ("2", genuine.resolve(), "")

    outside = env.tmp / "planted" / "train.parquet"
    outside.parent.mkdir()
    frame.assign(source="planted").to_parquet(outside)
    _set_tag(cfg, "2", SNAPSHOT_TAG, str(outside))
    _set_tag(cfg, "2", SNAPSHOT_HASH_TAG, file_sha256(outside))  # a matching hash does not make it trusted
    for read in (champion_reference, lambda c: retrain_decision(c, asset_triggered=False)):
        with pytest.raises(UntrustedSnapshot, match="outside the curated-data folder") as info:
            read(cfg)
        assert SNAPSHOT_TAG in str(info.value) and str(outside) in str(info.value)

    recorded = file_sha256(genuine)
    frame.assign(source="replaced").to_parquet(genuine)  # inside, but not the content the version was trained on
    _set_tag(cfg, "2", SNAPSHOT_TAG, str(genuine))
    _set_tag(cfg, "2", SNAPSHOT_HASH_TAG, recorded)
    for read in (champion_reference, lambda c: retrain_decision(c, asset_triggered=False)):
        with pytest.raises(UntrustedSnapshot, match=f"{SNAPSHOT_HASH_TAG} records {recorded}") as info:
            read(cfg)
        assert str(genuine) in str(info.value)


def _replace_artifact(cfg: LLMOpsConfig, version: str) -> Path:
    """Overwrite the weights of ``version`` in the MLflow artifact store with other bytes of the same size."""
    from llmops.registry import tracking

    c = tracking.client(cfg)
    source = str(c.get_model_version(cfg.mlflow.model_name, version).source)
    assert source.startswith("models:/"), source
    location = urlparse(c.get_logged_model(source.removeprefix("models:/")).artifact_location)
    assert location.scheme == "file", location
    (weights,) = Path(unquote(location.path)).rglob("model.safetensors")
    data = bytearray(weights.read_bytes())
    data[-64:] = bytes(64)  # same size: only the content hash tells
    weights.write_bytes(bytes(data))
    return weights


def test_a_replaced_artifact_refuses_the_rollback_that_would_download_it(env: Env) -> None:
    from llmops.serving.journal import read_journal
    from llmops.serving.repository import remove_version, version_path
    from llmops.serving.rollback import RollbackError, rollback

    cfg, name, repo = env.cfg, env.cfg.triton.model_name, env.cfg.paths.model_repository
    _replace_artifact(cfg, "1")
    remove_version(repo, name, 1)  # pruned: a rollback to 1 downloads it from MLflow
    before = _serving(env)
    with pytest.raises(RollbackError, match="may have been replaced") as info:
        rollback(cfg, "1", "rb_replaced", AT, "back to v1")
    assert "champion stays on 2" in str(info.value) and "keeps serving 2" in str(info.value)
    assert _serving(env) == before
    assert not version_path(repo, name, 1).exists(), "the downloaded weights were not written"
    op = read_journal(repo, name)
    assert op is not None and (op.kind, op.to_version, op.step, op.outcome) == ("rollback", "1", "committed", "failed")
    assert env.client.generate(name, [PROMPT], max_new_tokens=4, version="2")[0]


def test_reconcile_does_not_write_the_champion_again_from_a_replaced_artifact(env: Env) -> None:
    from llmops.serving.reconcile import reconcile
    from llmops.serving.repository import verify_version, version_path

    cfg, name, repo = env.cfg, env.cfg.triton.model_name, env.cfg.paths.model_repository
    _replace_artifact(cfg, "2")
    (version_path(repo, name, 2) / "model" / "tokenizer.json").unlink()  # the champion's folder is damaged
    before = _serving(env)
    result = reconcile(cfg)
    assert any("was not written again" in p and "may have been replaced" in p for p in result.problems), result
    assert _serving(env) == before, "Triton keeps serving the champion it had loaded"
    assert verify_version(version_path(repo, name, 2), deep=False) == ["missing file model/tokenizer.json"]
