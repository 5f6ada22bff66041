"""Registration in a REAL MLflow store (SQLite + local artifacts in a temporary state folder): the pyfunc flavor with
signature and input example, one version per Airflow run (check, then create), lineage tags, and a registry that
refuses hostile version strings before they reach a URI or a path."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_triton_serving import PAIRS, _quick_finetune

from llmops.config import ConfigError, LLMOpsConfig, TinyModelSpec, load_config

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

EVALUATION = {
    "metrics": {"eval_loss": 0.5, "perplexity": 1.65, "rouge_l": 0.7, "exact_match": 0.1, "base_eval_loss": 7.0},
    "gate": {"passed": True, "reason": "candidate eval loss 0.5 beats base 7.0; no champion yet", "metrics": {}},
}


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LLMOpsConfig, Path, Path]]:
    from llmops.training.base_model import build_tiny_base_model

    tmp = tmp_path_factory.mktemp("registry")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LLMOPS_HOME", str(tmp / "home"))
        cfg = load_config()
        corpus = [t for pair in PAIRS for t in pair]
        base = build_tiny_base_model(TinyModelSpec(vocab_size=300, n_embd=32, n_layer=2, n_head=2), corpus, tmp / "b")
        model_dir = _quick_finetune(base, tmp / "model", steps=20)
        snapshot = tmp / "train.parquet"
        snapshot.write_bytes(b"curated snapshot bytes")
        yield cfg, model_dir, snapshot


def _register(cfg: LLMOpsConfig, model_dir: Path, snapshot: Path, run_key: str) -> dict[str, Any]:
    from llmops.registry import tracking
    from llmops.registry.register import register_candidate

    run_id = tracking.get_or_create_run(cfg, run_key, f"finetune {run_key}")
    finetune = {"mlflow_run_id": run_id, "model_dir": str(model_dir), "base_model": "tiny-test"}
    data = {"train_path": str(snapshot), "rows_out": 48, "gx_passed": True}
    return register_candidate(cfg, run_key, finetune, EVALUATION["metrics"], EVALUATION["gate"], data)


def test_registration_is_idempotent_and_tagged(env: tuple[LLMOpsConfig, Path, Path]) -> None:
    from llmops.registry import registry, tracking

    cfg, model_dir, snapshot = env
    first = _register(cfg, model_dir, snapshot, "manual__run_a")
    again = _register(cfg, model_dir, snapshot, "manual__run_a")  # a retry of the same Airflow run
    assert first["created"] is True and again["created"] is False
    assert first["version"] == again["version"] == "1"

    c = tracking.client(cfg)
    versions = c.search_model_versions(f"name = '{cfg.mlflow.model_name}'")
    assert [str(v.version) for v in versions] == ["1"], "a re-run must not register a second version"
    tags = versions[0].tags
    assert tags[tracking.RUN_KEY_TAG] == "manual__run_a"
    assert tags["llmops.data_snapshot_hash"] == hashlib.sha256(snapshot.read_bytes()).hexdigest()
    assert tags["llmops.data_snapshot"] == str(snapshot)
    assert tags["llmops.gx_passed"] == "True"
    assert tags["llmops.gate.passed"] == "True" and "beats base" in tags["llmops.gate.reason"]
    assert tags["llmops.metric.eval_loss"] == "0.5" and tags["llmops.metric.rouge_l"] == "0.7"
    ds = json.dumps(json.loads(cfg.training.deepspeed_config.read_text()), sort_keys=True).encode()
    assert tags["llmops.deepspeed_config_hash"] == hashlib.sha256(ds).hexdigest()[:16]
    assert tags["llmops.code_version"]
    assert registry.alias_version(cfg, registry.CHALLENGER) == "1"


def test_logged_model_is_a_real_pyfunc_with_signature_and_example(
    env: tuple[LLMOpsConfig, Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Loads without pickle: the platform runs MLflow with MLFLOW_ALLOW_PICKLE_DESERIALIZATION=false (the default
    importing llmops sets), and the model is logged "from code"."""
    import mlflow
    import pandas as pd
    from mlflow.environment_variables import MLFLOW_ALLOW_PICKLE_DESERIALIZATION

    monkeypatch.setenv("MLFLOW_ALLOW_PICKLE_DESERIALIZATION", "false")
    assert MLFLOW_ALLOW_PICKLE_DESERIALIZATION.get() is False
    cfg, _, _ = env
    uri = f"models:/{cfg.mlflow.model_name}/1"
    info = mlflow.models.get_model_info(uri)
    assert "python_function" in info.flavors
    assert info.signature is not None
    assert info.signature.inputs.input_names() == ["prompt"]
    assert {p.name for p in info.signature.params.params} == {"max_new_tokens", "temperature"}
    assert info.saved_input_example_info is not None
    model = mlflow.pyfunc.load_model(uri)
    out = model.predict(pd.DataFrame({"prompt": ["How do I reset my password?"]}), params={"max_new_tokens": 4})
    assert isinstance(out, list) and len(out) == 1 and isinstance(out[0], str)


def test_another_run_gets_the_next_version_and_an_old_rerun_keeps_challenger(
    env: tuple[LLMOpsConfig, Path, Path],
) -> None:
    from llmops.registry import registry

    cfg, model_dir, snapshot = env
    second = _register(cfg, model_dir, snapshot, "manual__run_b")
    assert second["created"] is True and second["version"] == "2"
    assert registry.alias_version(cfg, registry.CHALLENGER) == "2"
    rerun = _register(cfg, model_dir, snapshot, "manual__run_a")
    assert rerun["version"] == "1" and rerun["created"] is False
    assert registry.alias_version(cfg, registry.CHALLENGER) == "2", "re-running an old run must not move challenger"


def test_model_dir_of_version_round_trip(env: tuple[LLMOpsConfig, Path, Path], tmp_path: Path) -> None:
    from llmops.registry import registry

    cfg, model_dir, _ = env
    local = registry.model_dir_of_version(cfg, "2", tmp_path / "download")
    assert local.is_relative_to((tmp_path / "download").resolve())
    for name in ("config.json", "model.safetensors", "tokenizer.json"):
        assert (local / name).read_bytes() == (model_dir / name).read_bytes()
    assert registry.get_version(cfg, 2) is not None
    assert registry.get_version(cfg, 99) is None


@pytest.mark.parametrize(
    "payload",
    ["../1", "..", "/etc/passwd", "1/../2", "%2e%2e%2f1", "%31", "1\\..", "C:\\x", "0", "-1", "01", "1 ", "", "1\x00"],
    ids=repr,
)
def test_registry_rejects_hostile_versions(env: tuple[LLMOpsConfig, Path, Path], tmp_path: Path, payload: str) -> None:
    from llmops.registry import registry

    cfg, _, _ = env
    with pytest.raises(ValueError, match="invalid model version"):
        registry.get_version(cfg, payload)
    with pytest.raises(ValueError, match="invalid model version"):
        registry.model_dir_of_version(cfg, payload, tmp_path / "dl")
    assert not (tmp_path / "dl").exists(), "nothing may be created before the version is validated"


@pytest.mark.parametrize("name", ["../evil", "a/b", "%2e%2e", "a\\b", "a.b", "..", "/abs"])
def test_config_rejects_hostile_model_names(name: str) -> None:
    with pytest.raises(ConfigError, match="model_name"):
        load_config(overrides={"mlflow": {"model_name": name}})
    with pytest.raises(ConfigError, match="model_name"):
        load_config(overrides={"triton": {"model_name": name}})
