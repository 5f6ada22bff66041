"""Automatic rollback: the pure decision, and the watch that gathers per-version figures and calls the rollback."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from llmops.config import LLMOpsConfig, MonitoringConfig, load_config
from llmops.monitoring.interval import (
    SUMMARY_FILE,
    IntervalResult,
    interval_key,
    partition_path,
    read_interval_result,
)
from llmops.monitoring.rollback_watch import VersionFigures, decide_rollback, watch_champion

CFG = MonitoringConfig(rollback_min_requests=20, rollback_min_feedback=10)
GOOD = VersionFigures(
    requests=100, error_rate=0.01, empty_response_rate=0.0, latency_p95_ms=200.0, feedback_score=0.8, feedback_count=40
)


@pytest.mark.parametrize(
    ("new", "previous", "rollback", "breaches"),
    [
        (GOOD, GOOD, False, []),
        (VersionFigures(requests=5, empty_response_rate=1.0), GOOD, False, []),  # too few requests to judge
        (
            VersionFigures(requests=50, error_rate=0.2, empty_response_rate=0.0, latency_p95_ms=200.0),
            GOOD,
            True,
            ["error_rate"],
        ),
        (VersionFigures(requests=50, error_rate=0.05, empty_response_rate=0.0, latency_p95_ms=200.0), GOOD, False, []),
        (
            VersionFigures(requests=50, error_rate=0.0, empty_response_rate=0.3, latency_p95_ms=200.0),
            GOOD,
            True,
            ["empty_response_rate"],
        ),
        (
            VersionFigures(requests=50, error_rate=0.0, empty_response_rate=0.0, latency_p95_ms=301.0),
            GOOD,
            True,
            ["latency_p95_ms"],
        ),
        (VersionFigures(requests=50, error_rate=0.0, empty_response_rate=0.0, latency_p95_ms=299.0), GOOD, False, []),
        (
            VersionFigures(
                requests=50,
                error_rate=0.0,
                empty_response_rate=0.0,
                latency_p95_ms=100.0,
                feedback_score=0.5,
                feedback_count=20,
            ),
            GOOD,
            True,
            ["feedback_score"],
        ),
        (
            VersionFigures(
                requests=50,
                error_rate=0.0,
                empty_response_rate=0.0,
                latency_p95_ms=100.0,
                feedback_score=0.1,
                feedback_count=3,
            ),
            GOOD,
            False,
            [],
        ),  # too little feedback
        # No figures of the previous version: absolute bounds.
        (
            VersionFigures(requests=50, error_rate=0.2, empty_response_rate=0.0, latency_p95_ms=100.0),
            None,
            True,
            ["error_rate"],
        ),
        (
            VersionFigures(requests=50, empty_response_rate=0.5, latency_p95_ms=100.0),
            None,
            True,
            ["empty_response_rate"],
        ),
        (
            VersionFigures(requests=50, empty_response_rate=0.0, latency_p95_ms=9000.0),
            VersionFigures(),
            True,
            ["latency_p95_ms"],
        ),
    ],
)
def test_decide_rollback(
    new: VersionFigures, previous: VersionFigures | None, rollback: bool, breaches: list[str]
) -> None:
    decision = decide_rollback(new, previous, CFG)
    assert decision.rollback is rollback, decision.reason
    assert [b.split(" ", 1)[0] for b in decision.breaches] == breaches


START = datetime(2026, 4, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)


def _summary(cfg: LLMOpsConfig, hour: int, version: str, server_errors: int) -> None:
    """The interval summary curation leaves (also for a skipped interval), with failed requests of ``version``."""
    key = interval_key(START + hour * HOUR)
    path = partition_path(cfg, key).parent / SUMMARY_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    result = read_interval_result(path) or IntervalResult(key=key, skipped=True, reason="test")
    result.failed_requests += server_errors
    errors = result.server_errors_by_version
    errors[version] = errors.get(version, 0) + server_errors
    path.write_text(json.dumps(result.to_dict()))


def _partition(cfg: LLMOpsConfig, hour: int, version: str, n: int, empty: float, latency: float) -> None:
    _summary(cfg, hour, version, 0)
    n_empty = round(n * empty)
    frame = pd.DataFrame(
        {
            "request_id": [f"{hour}-{version}-{i}" for i in range(n)],
            "model_version": [version] * n,
            "response": [""] * n_empty + ["an answer"] * (n - n_empty),
            "latency_ms": [latency] * n,
        }
    )
    path = partition_path(cfg, interval_key(START + hour * HOUR))
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        frame = pd.concat([pd.read_parquet(path), frame], ignore_index=True)
    frame.to_parquet(path)


@pytest.fixture
def cfg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LLMOpsConfig:
    from llmops.registry import registry
    from llmops.serving.champion import promotion_log_path

    monkeypatch.setenv("LLMOPS_HOME", str(tmp_path / "home"))
    config = load_config()
    config.monitoring.rollback_watch_intervals = 2
    monkeypatch.setattr(registry, "alias_version", lambda _cfg, _alias: "2")
    registry.append_event(
        promotion_log_path(config),
        {"kind": "promotion", "from_version": "1", "to_version": "2", "at": (START + 3.5 * HOUR).isoformat()},
    )
    for hour in range(3):
        _partition(config, hour, "1", 40, 0.0, 100.0)
    _partition(config, 3, "1", 20, 0.0, 100.0)  # the promotion happened during hour 3
    return config


def test_watch_rolls_a_misbehaving_champion_back(cfg: LLMOpsConfig) -> None:
    calls: list[tuple[Any, ...]] = []

    def fake_rollback(*args: Any, **kwargs: Any) -> dict[str, Any]:
        calls.append((*args[1:], kwargs))
        return {"target_version": 1, "changed": True}

    _partition(cfg, 3, "2", 30, 0.5, 100.0)
    result = watch_champion(cfg, interval_key(START + 3 * HOUR), "run-1", START + 4 * HOUR, fake_rollback)
    assert result["watching"] and result["decision"]["breaches"][0].startswith("empty_response_rate")
    assert result["new"]["requests"] == 30 and result["old"]["requests"] == 140
    assert calls == [
        (
            "1",
            "run-1",
            (START + 4 * HOUR).isoformat(),
            f"automatic rollback from monitoring interval {interval_key(START + 3 * HOUR)}: {result['reason']}",
            {"expected_champion": "2"},
        )
    ]
    assert result["rollback"] == {"target_version": 1, "changed": True}


def test_a_prompt_release_is_watched_like_a_promotion(cfg: LLMOpsConfig) -> None:
    from llmops.registry import registry
    from llmops.serving.champion import promotion_log_path

    path = promotion_log_path(cfg)
    path.write_text(path.read_text().replace('"kind": "promotion"', '"kind": "prompt_release"'))
    targets: list[str] = []

    def record_rollback(_cfg: Any, target: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
        targets.append(target)
        return {"target_version": int(target), "changed": True}

    _partition(cfg, 3, "2", 30, 0.5, 100.0)
    result = watch_champion(cfg, interval_key(START + 3 * HOUR), "r", START + 4 * HOUR, record_rollback)
    assert [e["kind"] for e in registry.read_events(path)] == ["prompt_release"]
    assert result["watching"] and targets == ["1"], result


def test_watch_counts_failed_requests_of_an_interval_without_a_partition(cfg: LLMOpsConfig) -> None:
    """A champion that fails every request answers nothing: its interval is skipped, only its error count is left."""
    calls: list[str] = []

    def record_rollback(_cfg: Any, target: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
        calls.append(target)
        return {"target_version": int(target), "changed": True}

    _summary(cfg, 4, "2", 0)  # an hour without any request does not use up the watch
    _summary(cfg, 5, "2", 0)
    _summary(cfg, 6, "2", 25)
    cfg.monitoring.rollback_watch_intervals = 2  # hours 3 and 6
    result = watch_champion(cfg, interval_key(START + 6 * HOUR), "r", START + 7 * HOUR, record_rollback)
    assert result["new"]["requests"] == 25 and result["new"]["error_rate"] == 1.0
    assert result["old"]["error_rate"] == 0.0
    assert [b.split(" ", 1)[0] for b in result["decision"]["breaches"]] == ["error_rate"]
    assert calls == ["1"]


def test_watch_keeps_a_healthy_champion_and_ends(cfg: LLMOpsConfig) -> None:
    def no_rollback(*args: Any, **kwargs: Any) -> dict[str, Any]:
        raise AssertionError("must not roll back")

    for hour in (3, 4, 5):
        _partition(cfg, hour, "2", 30, 0.0, 110.0)
    inside = watch_champion(cfg, interval_key(START + 4 * HOUR), "r", START + 5 * HOUR, no_rollback)
    assert inside["watching"] and not inside["decision"]["rollback"] and inside["rollback"] is None
    past = watch_champion(cfg, interval_key(START + 5 * HOUR), "r", START + 6 * HOUR, no_rollback)
    assert not past["watching"] and "past its watch of 2 intervals" in past["reason"]


def test_no_watch_without_a_promotion(cfg: LLMOpsConfig, monkeypatch: pytest.MonkeyPatch) -> None:
    from llmops.registry import registry

    monkeypatch.setattr(registry, "alias_version", lambda _cfg, _alias: "7")
    result = watch_champion(cfg, interval_key(START + 3 * HOUR), "r", START + 4 * HOUR, lambda *a, **k: {})
    assert not result["watching"] and "no promotion" in result["reason"]


def _flood(path: Path, share: float) -> int:
    """Append copies of the file's request ids with other content, to ``share`` of the file's records after it."""
    records = [json.loads(line) for line in path.read_text().splitlines()]
    n = round(len(records) * share / (1.0 - share))
    forged = [r | {"response": "", "latency_ms": 60_000.0, "prompt": f"forged {i}"} for i, r in enumerate(records[:n])]
    with path.open("a") as handle:
        handle.writelines(json.dumps(r) + "\n" for r in forged)
    return n


@pytest.mark.parametrize("share", [0.10, 0.25])
def test_duplicate_request_id_flood_neither_fails_the_interval_nor_rolls_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, share: float
) -> None:
    """Records reusing request ids (forged: empty answers, huge latency) are set aside as ``duplicate_request_id``:
    not quarantined by the contract (whose ratio would fail the interval), not errors of the champion."""
    from llmops.demo import generate_prod_logs
    from llmops.monitoring.alerts import decide_alerts
    from llmops.monitoring.interval import curate_interval, duplicate_ids_path
    from llmops.registry import registry
    from llmops.serving.champion import promotion_log_path

    monkeypatch.setenv("LLMOPS_HOME", str(tmp_path / "home"))
    cfg = load_config()
    cfg.monitoring.rollback_watch_intervals = 3
    monkeypatch.setattr(registry, "alias_version", lambda _cfg, _alias: "2")
    registry.append_event(
        promotion_log_path(cfg),
        {"kind": "promotion", "from_version": "1", "to_version": "2", "at": (START + 1.5 * HOUR).isoformat()},
    )
    logs = cfg.paths.prod_log_dir
    generate_prod_logs(80, 0.0, 1, logs / "requests-0.jsonl", model_version="1", start=START)
    champion_logs = generate_prod_logs(80, 0.0, 2, logs / "requests-2.jsonl", model_version="2", start=START + 2 * HOUR)
    flooded = _flood(champion_logs, share)
    assert not curate_interval(cfg, START, START + HOUR).skipped
    result = curate_interval(cfg, START + 2 * HOUR, START + 3 * HOUR)  # no DataContractError

    assert not result.skipped and result.rows_quarantined == 0
    assert result.duplicate_request_ids == 2 * flooded  # every copy: the genuine one cannot be told apart
    assert result.rows == 80 - flooded and result.server_errors_by_version == {}
    assert len(pd.read_parquet(duplicate_ids_path(cfg, result.key))) == 2 * flooded
    figures = result.error_figures()
    assert figures["duplicate_request_id_rate"] == pytest.approx(2 * flooded / (80 + flooded))
    assert [a.name for a in decide_alerts(figures, None, cfg.monitoring)] == ["duplicate_request_id_rate"]

    def no_rollback(*args: Any, **kwargs: Any) -> dict[str, Any]:
        raise AssertionError("must not roll back")

    watched = watch_champion(cfg, result.key, "r", START + 3 * HOUR, no_rollback)
    assert watched["watching"] and not watched["decision"]["rollback"], watched["reason"]
    assert watched["new"]["error_rate"] == 0.0 and watched["new"]["empty_response_rate"] == 0.0
