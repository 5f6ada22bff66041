"""Alias moves that survive concurrent writers, on a real local MLflow registry (SQLite in a temporary home)."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from llmops.config import LLMOpsConfig, load_config
from llmops.registry import registry, tracking

UNIQUE_VIOLATION = (
    "BAD_REQUEST: (psycopg.errors.UniqueViolation) duplicate key value violates unique constraint "
    '"registered_model_alias_pk"'
)


@pytest.fixture
def cfg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LLMOpsConfig:
    monkeypatch.setenv("LLMOPS_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(registry.time, "sleep", lambda s: None)
    config = load_config()
    c = tracking.client(config)
    c.create_registered_model(config.mlflow.model_name)
    (tmp_path / "model").mkdir()
    for _ in range(6):  # versions 1..6 (sources are an empty folder: nothing loads them)
        c.create_model_version(config.mlflow.model_name, source=str(tmp_path / "model"))
    return config


def _patch_set_alias(monkeypatch: pytest.MonkeyPatch, wrapper: Callable[..., Any]) -> Callable[..., Any]:
    from mlflow.tracking import MlflowClient

    original = MlflowClient.set_registered_model_alias
    monkeypatch.setattr(MlflowClient, "set_registered_model_alias", wrapper)
    return original


def test_a_unique_violation_is_retried(cfg: LLMOpsConfig, monkeypatch: pytest.MonkeyPatch) -> None:
    from mlflow.exceptions import MlflowException

    calls: list[str] = []

    def flaky(self: Any, name: str, alias: str, version: str) -> None:
        calls.append(version)
        if len(calls) <= 2:
            raise MlflowException(UNIQUE_VIOLATION)
        original(self, name, alias, version)

    original = _patch_set_alias(monkeypatch, flaky)
    assert registry.set_alias(cfg, registry.CHALLENGER, "2") == "2"
    assert calls == ["2", "2", "2"]
    assert registry.alias_version(cfg, registry.CHALLENGER) == "2"


def test_other_errors_are_not_retried(cfg: LLMOpsConfig, monkeypatch: pytest.MonkeyPatch) -> None:
    from mlflow.exceptions import MlflowException

    calls: list[str] = []

    def broken(self: Any, name: str, alias: str, version: str) -> None:
        calls.append(version)
        raise MlflowException("RESOURCE_DOES_NOT_EXIST: no such model")

    _patch_set_alias(monkeypatch, broken)
    with pytest.raises(MlflowException, match="RESOURCE_DOES_NOT_EXIST"):
        registry.set_alias(cfg, registry.CHALLENGER, "2", only_forward=True)
    assert calls == ["2"]


def test_only_forward_never_moves_back(cfg: LLMOpsConfig) -> None:
    assert registry.set_alias(cfg, registry.CHALLENGER, "3", only_forward=True) == "3"
    assert registry.set_alias(cfg, registry.CHALLENGER, "2", only_forward=True) == "3"
    assert registry.set_alias(cfg, registry.CHALLENGER, "4", only_forward=True) == "4"
    assert registry.alias_version(cfg, registry.CHALLENGER) == "4"


def test_a_stale_write_after_ours_is_corrected(cfg: LLMOpsConfig, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another writer that read the alias before our move sets its older version right after our write."""
    stale: list[str] = []

    def racing(self: Any, name: str, alias: str, version: str) -> None:
        original(self, name, alias, version)
        if not stale:
            stale.append("2")
            original(self, name, alias, "2")

    original = _patch_set_alias(monkeypatch, racing)
    assert registry.set_alias(cfg, registry.CHALLENGER, "5", only_forward=True) == "5"
    assert registry.alias_version(cfg, registry.CHALLENGER) == "5"


def test_a_writer_that_read_before_a_newer_move_does_not_win(cfg: LLMOpsConfig) -> None:
    """Writer B moves the alias to 5 and returns; writer A (version 2) had read the alias before B's move and now
    sets it: A's check sees B's claim and puts the alias back on 5."""
    c = tracking.client(cfg)
    name = cfg.mlflow.model_name
    assert registry.set_alias(cfg, registry.CHALLENGER, "5", only_forward=True) == "5"  # B, start to end
    c.set_model_version_tag(name, "2", registry.ALIAS_CLAIM_TAG.format(alias=registry.CHALLENGER), "true")
    c.set_registered_model_alias(name, registry.CHALLENGER, "2")  # A's late write, from its stale read
    assert registry.set_alias(cfg, registry.CHALLENGER, "2", only_forward=True) == "5"  # A's check
    assert registry.alias_version(cfg, registry.CHALLENGER) == "5"


def test_an_explicit_move_back_withdraws_higher_claims(cfg: LLMOpsConfig) -> None:
    registry.set_alias(cfg, registry.CHALLENGER, "5", only_forward=True)
    assert registry.set_alias(cfg, registry.CHALLENGER, "1") == "1"
    assert registry.set_alias(cfg, registry.CHALLENGER, "2", only_forward=True) == "2"


def test_concurrent_forward_moves_end_on_the_highest(cfg: LLMOpsConfig) -> None:
    versions = [str(v) for v in range(1, 7)]
    random.Random(7).shuffle(versions)
    errors: list[BaseException] = []
    start = threading.Barrier(len(versions))

    def move(version: str) -> None:
        try:
            start.wait()
            registry.set_alias(cfg, registry.CHALLENGER, version, only_forward=True)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=move, args=(v,)) for v in versions]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    assert registry.alias_version(cfg, registry.CHALLENGER) == "6"


def test_set_alias_validates_the_version(cfg: LLMOpsConfig) -> None:
    with pytest.raises(ValueError, match="invalid model version"):
        registry.set_alias(cfg, registry.CHALLENGER, "../1")


def test_the_switch_time_of_a_serving_headline_is_kept_for_its_own_run() -> None:
    """The wall-clock time beside the logical date: written once per switch, kept when a retry rewrites the headline,
    new for another run's switch."""
    from datetime import UTC, datetime

    from llmops.registry.registry import serving_headline, switched_at

    first = datetime(2026, 3, 1, 12, 0, 5, tzinfo=UTC)
    later = datetime(2026, 3, 1, 12, 9, 0, tzinfo=UTC)
    assert switched_at("", "run-a", first) == "2026-03-01T12:00:05"
    described = serving_headline(
        "card", "**Serving** since x (logical date; switched at 2026-03-01T12:00:05 UTC; run `run-a`)"
    )
    assert switched_at(described, "run-a", later) == "2026-03-01T12:00:05"
    assert switched_at(described, "run-b", later) == "2026-03-01T12:09:00"
    assert (
        switched_at("card mentions `run-a`, switched at 2020-01-01T00:00:00 UTC", "run-a", later)
        == "2026-03-01T12:09:00"
    )
