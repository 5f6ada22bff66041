"""Feedback → training candidates (join, contract, PII, dedup, decontamination) and the retrain decision/merge."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from llmops.config import LLMOpsConfig, load_config
from llmops.monitoring.feedback import curate_feedback, parse_rating
from llmops.monitoring.interval import curate_interval
from llmops.monitoring.retrain import merge_feedback, pending_candidates, retrain_decision

START = datetime(2026, 2, 1, 8, tzinfo=UTC)
HOUR = timedelta(hours=1)
EVAL_PROMPT = "How can I restore a deleted file from the recycle bin of my Nimbus Drive account?"
EVAL_RESPONSE = "Open the Recycle Bin in the web app, select the file and click Restore to put it back in place."
KNOWN = ("How do I change the language of the Nimbus Drive desktop app?", "Open Settings, then General, then Language.")


def _request(i: int, prompt: str, response: str) -> dict[str, Any]:
    return {
        "request_id": f"req-{i}",
        "client_request_id": f"client-{i}",
        "timestamp": (START + timedelta(minutes=i)).isoformat(),
        "model_name": "support_assistant",
        "model_version": "1",
        "prompt": prompt,
        "response": response,
        "latency_ms": 20.0 + i,
    }


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("up", True),
        ("Thumbs_Down", False),
        (1, True),
        (-1, False),
        (0, False),
        (True, True),
        ("meh", None),
        (None, None),
    ],
)
def test_parse_rating(value: Any, expected: bool | None) -> None:
    assert parse_rating(value) is expected


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LLMOpsConfig, Path]]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LLMOPS_HOME", str(tmp_path_factory.mktemp("home")))
        cfg = load_config()
        eval_rows = [{"id": "e1", "prompt": EVAL_PROMPT, "response": EVAL_RESPONSE, "category": "general"}]
        cfg.raw_eval_path.parent.mkdir(parents=True, exist_ok=True)
        cfg.raw_eval_path.write_text("".join(json.dumps(r) + "\n" for r in eval_rows))
        reference = cfg.paths.home / "snapshot" / "train.parquet"
        reference.parent.mkdir(parents=True)
        pd.DataFrame(
            [{"id": "t1", "prompt": KNOWN[0], "response": KNOWN[1], "category": "general", "source": "demo"}]
        ).to_parquet(reference)
        requests = [
            _request(i, f"Question number {i} about sharing folder {i} with my whole team at work?", f"Answer {i}.")
            for i in range(25)
        ]
        requests[1] = _request(1, "Why does the sync icon stay grey on my laptop all day long?", "Restart the app.")
        requests[3] = _request(3, *KNOWN)
        requests[4] = _request(4, EVAL_PROMPT, "I do not know.")
        requests[5] = _request(5, "Why does the sync icon stay grey on my laptop all day long?", "Restart the app.")
        logs = cfg.paths.prod_log_dir / "requests.jsonl"
        logs.parent.mkdir(parents=True)
        logs.write_text("".join(json.dumps(r) + "\n" for r in requests))
        assert not curate_interval(cfg, START, START + HOUR).skipped
        at = (START + 30 * timedelta(minutes=1)).isoformat()
        feedback = [
            {"request_id": "req-0", "timestamp": at, "rating": "up"},
            {"request_id": "req-1", "timestamp": at, "rating": "up", "user": "u-17"},  # accepted
            {  # personal data in a correction: screened out (its scrubbed text goes to screened_out.jsonl)
                "request_id": "req-2",
                "timestamp": at,
                "rating": "down",
                "corrected_response": "Write to jane.doe@example.com and share the folder from the web app.",
            },
            {
                "request_id": "req-9",
                "timestamp": at,
                "rating": "down",
                "corrected_response": "Share the folder from the web app and add your team as members.",
            },
            {"request_id": "req-3", "timestamp": at, "rating": "up"},  # already in the training data
            {"request_id": "req-4", "timestamp": at, "rating": "down", "corrected_response": EVAL_RESPONSE},
            {"request_id": "req-5", "timestamp": at, "rating": "up"},  # same text as req-1
            {"request_id": "req-6", "timestamp": at, "rating": "down"},  # rejected
            {"request_id": "req-0", "timestamp": (START + 31 * timedelta(minutes=1)).isoformat(), "rating": "up"},
            {"request_id": "client-9", "timestamp": at, "rating": "up"},  # a client's own id: unmatched
            {"request_id": "req-7", "timestamp": at, "rating": "sideways"},  # invalid
            {"request_id": "req-8", "timestamp": (START + 2 * HOUR).isoformat(), "rating": "up"},  # other interval
        ]
        fb = cfg.paths.home / "feedback" / "feedback.jsonl"
        fb.parent.mkdir(parents=True)
        fb.write_text("".join(json.dumps(r) + "\n" for r in feedback))
        yield cfg, reference


def test_curate_feedback_buckets_and_candidates(env: tuple[LLMOpsConfig, Path]) -> None:
    cfg, reference = env
    result = curate_feedback(cfg, START, START + HOUR, reference)
    assert result.feedback == 11
    assert (result.invalid, result.superseded, result.unmatched, result.rejected) == (1, 1, 1, 1)
    assert (result.known, result.contaminated, result.duplicates, result.quarantined) == (1, 1, 1, 0)
    assert (result.screened_out, result.screened_reasons) == (1, {"pii": 1})
    assert result.candidates == 3
    total = (
        result.invalid
        + result.superseded
        + result.unmatched
        + result.rejected
        + result.quarantined
        + result.screened_out
        + result.known
        + result.contaminated
        + result.duplicates
        + result.candidates
    )
    assert total == result.feedback
    assert result.feedback_score == pytest.approx(4 / 8)  # up: req-0, 1, 3, 5; down: req-2, 4, 6, 9
    frame = pd.read_parquet(result.candidates_path)
    assert sorted(frame["id"]) == ["fb-req-0", "fb-req-1", "fb-req-9"]
    assert frame.set_index("id").loc["fb-req-9"]["source"] == "feedback-corrected"
    # Provenance: the server's request id and who gave the feedback ("" when the record names no one).
    assert dict(zip(frame["id"], frame["feedback_by"], strict=True)) == {
        "fb-req-0": "",
        "fb-req-1": "u-17",
        "fb-req-9": "",
    }
    assert sorted(frame["request_id"]) == ["req-0", "req-1", "req-9"]
    assert result.pii_counts["EMAIL"] == 1
    screened = Path(result.candidates_path).with_name("screened_out.jsonl").read_text()
    assert "req-2" in screened and "<EMAIL>" in screened and "jane.doe" not in screened
    again = curate_feedback(cfg, START, START + HOUR, reference)
    assert again.to_dict() == result.to_dict()
    pd.testing.assert_frame_equal(pd.read_parquet(again.candidates_path), frame)


def test_retrain_decision_and_merge(env: tuple[LLMOpsConfig, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    import llmops.monitoring.retrain as retrain

    cfg, reference = env
    monkeypatch.setattr(cfg.monitoring, "feedback_max_share", 1.0)  # a one-row snapshot: no share cap here
    curate_feedback(cfg, START, START + HOUR, reference)
    assert len(pending_candidates(cfg, reference)) == 3
    monkeypatch.setattr(retrain, "champion_reference", lambda _cfg: ("1", reference, ""))
    cfg.monitoring.retrain_min_feedback_rows = 5
    nightly = retrain_decision(cfg, asset_triggered=False)
    assert nightly["retrain"] and "3 pending feedback candidates >= 1" in nightly["reason"]
    by_asset = retrain_decision(cfg, asset_triggered=True)
    assert not by_asset["retrain"] and "3 pending feedback candidates < 5" in by_asset["reason"]
    cfg.monitoring.retrain_min_feedback_rows = 3
    assert retrain_decision(cfg, asset_triggered=True)["retrain"]

    merged = merge_feedback(cfg, reference)
    assert (merged["base_rows"], merged["added_rows"], merged["rows"], merged["added_corrected"]) == (1, 3, 4, 1)
    assert merge_feedback(cfg, reference) == merged  # same inputs, same snapshot
    frame = pd.read_parquet(merged["path"])
    # Once the merged data is the champion's snapshot, nothing is pending any more.
    assert len(pending_candidates(cfg, Path(merged["path"]))) == 0
    assert list(frame.columns) == ["id", "prompt", "response", "category", "source"]

    monkeypatch.setattr(retrain, "champion_reference", lambda _cfg: (None, None, "no champion yet"))
    assert "no training snapshot" in retrain_decision(cfg, asset_triggered=False)["reason"]
