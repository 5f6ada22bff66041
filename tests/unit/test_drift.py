"""Unit tests for the Evidently drift check (``llmops.monitoring.drift``)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pandas as pd
import pytest

from llmops.config import DriftConfig
from llmops.monitoring.drift import DriftResult, load_prod_logs, run_drift_check, text_descriptors

# Third-party noise: Evidently's plots divide by the spread of constant descriptor columns (e.g. an OOV share of 0
# on both sides), and its domain classifier (SGD, max_iter=50) often stops before converging.
pytestmark = [
    pytest.mark.filterwarnings("ignore:invalid value encountered in divide:RuntimeWarning"),
    pytest.mark.filterwarnings("ignore:Maximum number of iteration reached:UserWarning"),
]

_FEATURES = [
    "shared folder",
    "desktop app",
    "mobile app",
    "photo backup",
    "file history",
    "public link",
    "two-factor login",
    "storage plan",
    "team workspace",
    "offline mode",
]
_DEVICES = ["laptop", "phone", "tablet", "work computer", "Chromebook", "Linux desktop", "iPad", "Android phone"]
_ACTIONS = ["reset", "restore", "share", "delete", "rename", "upgrade", "cancel", "recover", "move", "sync"]
_PROBLEMS = [
    "keeps failing",
    "is stuck at ninety percent",
    "shows an error",
    "will not open",
    "is very slow",
    "disappeared",
    "asks for my password again",
    "uses too much space",
]
_PROMPTS = [
    "How do I {action} my {feature} on my {device}?",
    "My {feature} {problem} on the {device}. What should I do?",
    "Can I {action} a {feature} without losing files?",
    "Why does the {feature} {problem} after the update?",
    "Is there a way to {action} the {feature} from my {device}?",
    "The {device} says my {feature} {problem}, please help.",
]
_RESPONSES = [
    "Open Settings, choose {feature} and select {action}. Changes reach your {device} within a minute.",
    "Sign out and back in on your {device}, then retry. If the {feature} still {problem}, contact support.",
    "Yes. Go to the {feature} page, pick the item and click {action}; nothing is deleted.",
    "Update the app on your {device} and restart it. The {feature} usually recovers after a resync.",
]


def _support_rows(n: int, seed: int) -> pd.DataFrame:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        slots = {
            "feature": rng.choice(_FEATURES),
            "device": rng.choice(_DEVICES),
            "action": rng.choice(_ACTIONS),
            "problem": rng.choice(_PROBLEMS),
        }
        rows.append(
            {
                "id": f"r{seed}-{i}",
                "prompt": rng.choice(_PROMPTS).format(**slots),
                "response": rng.choice(_RESPONSES).format(**slots),
            }
        )
    return pd.DataFrame(rows)


_OFF_TOPIC = [
    "mitochondria",
    "photosynthesis",
    "quantum",
    "entanglement",
    "derivative",
    "integral",
    "sonnet",
    "medieval",
    "cathedral",
    "volcano",
    "tectonic",
    "glacier",
    "enzyme",
    "protein",
    "galaxy",
    "nebula",
    "orbital",
    "renaissance",
    "baroque",
    "symphony",
    "algorithm",
    "compiler",
    "recursion",
    "theorem",
]


def _drifted_rows(n: int, seed: int) -> pd.DataFrame:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        words = " ".join(rng.choice(_OFF_TOPIC) for _ in range(rng.randint(40, 70)))
        rows.append(
            {
                "prompt": f"Write a detailed essay (500+ words, cite 3-5 sources #{i}) about: {words}?",
                "response": rng.choice(_RESPONSES).format(
                    feature=rng.choice(_FEATURES),
                    device=rng.choice(_DEVICES),
                    action=rng.choice(_ACTIONS),
                    problem=rng.choice(_PROBLEMS),
                ),
                "latency_ms": rng.uniform(50, 90),
            }
        )
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    return _support_rows(300, seed=1)


def _assert_report_files(result: DriftResult, out_dir: Path) -> None:
    html = Path(result.html_path)
    assert html.is_file() and html.stat().st_size > 10_000
    assert "<html" in html.read_text(encoding="utf-8")[:5000].lower()
    assert json.loads(Path(result.json_path).read_text())["metrics"]
    summary = json.loads((out_dir / "drift_summary.json").read_text())
    assert summary["passed"] == result.passed and summary["drift_share"] == result.drift_share
    assert not list(out_dir.glob(".*.tmp"))


@pytest.mark.slow  # Evidently's default text test: 1,000 bootstrap rounds x 3 evaluations per text column
def test_same_distribution_passes(reference: pd.DataFrame, tmp_path: Path) -> None:
    current = _support_rows(150, seed=2)
    result = run_drift_check(reference, current, tmp_path, DriftConfig())
    assert result.passed, result.reason
    assert result.drift_share <= 0.3
    assert result.metrics["text_drift_assessed"] == 1.0
    assert "drift_score.prompt" in result.metrics and "drift_score.prompt_oov_share" in result.metrics
    assert "latency_ms" not in result.reason  # training data has no latency: the column is skipped
    assert "drift_score.latency_ms" not in result.metrics
    _assert_report_files(result, tmp_path)


def test_different_prompts_drift(reference: pd.DataFrame, tmp_path: Path) -> None:
    current = _drifted_rows(150, seed=3)
    # Evidently's default text test for <= 1,000 reference rows runs 1,000 bootstrap rounds, three times per text
    # column (about 10 s here); test_same_distribution_passes covers it. The ROC AUC test takes about 1 s.
    result = run_drift_check(
        reference, current, tmp_path, DriftConfig(drift_share_threshold=0.3), text_method="abs_text_content_drift"
    )
    assert not result.passed, result.reason
    assert result.drift_share >= 0.3
    prompt_cols = {"prompt", "prompt_length", "prompt_words", "prompt_oov_share", "prompt_non_letter_share"}
    assert prompt_cols & set(result.drifted_columns)
    assert not {"response", "response_length"} & set(result.drifted_columns)
    assert result.metrics["prompt_length_mean_cur"] > 3 * result.metrics["prompt_length_mean_ref"]
    assert result.metrics["prompt_oov_share_cur"] > 0.5
    _assert_report_files(result, tmp_path)


def test_tiny_vocabulary_falls_back_to_descriptors(tmp_path: Path) -> None:
    rng = random.Random(5)
    reference = pd.DataFrame(
        {"prompt": ["hello"] * 60, "response": ["ok"] * 60, "latency_ms": [rng.uniform(5, 9) for _ in range(60)]}
    )
    current = pd.DataFrame(
        {"prompt": ["hello"] * 30, "response": ["ok"] * 30, "latency_ms": [rng.uniform(5, 9) for _ in range(30)]}
    )
    result = run_drift_check(reference, current, tmp_path, DriftConfig())
    assert result.metrics["text_drift_assessed"] == 0.0
    assert "drift_score.prompt" not in result.metrics
    assert "drift_score.latency_ms" in result.metrics  # both sides log latency: it is tested
    assert "text drift not assessed" in result.reason and "no terms remain" in result.reason
    assert result.passed and result.drifted_columns == []
    _assert_report_files(result, tmp_path)


def test_too_few_current_rows_not_assessed(reference: pd.DataFrame, tmp_path: Path) -> None:
    result = run_drift_check(reference, _support_rows(5, seed=4), tmp_path, DriftConfig(min_current_rows=20))
    assert result.passed and result.drift_share == 0.0
    assert result.reason == "not enough production rows (5 < 20): drift not assessed"
    assert result.html_path == "" and not (tmp_path / "drift_report.html").exists()
    assert json.loads(Path(result.json_path).read_text())["assessed"] is False
    assert json.loads((tmp_path / "drift_summary.json").read_text())["reason"] == result.reason


def test_text_descriptors_leave_one_out() -> None:
    df = pd.DataFrame({"prompt": ["Reset my password", "reset MY phone!", "", None, "123 ???"]})
    d = text_descriptors(df, "prompt")
    assert d["prompt_length"].tolist() == [17.0, 15.0, 0.0, 0.0, 7.0]
    assert d["prompt_words"].tolist() == [3.0, 3.0, 0.0, 0.0, 2.0]
    assert d["prompt_empty"].tolist() == [0.0, 0.0, 1.0, 1.0, 0.0]
    assert d["prompt_non_letter_share"].iloc[1] == pytest.approx(1 / 13)
    assert d["prompt_non_letter_share"].iloc[4] == 1.0
    # "password" and "phone" occur in one row only: out of vocabulary when that row is left out.
    assert d["prompt_oov_share"].tolist()[:2] == pytest.approx([1 / 3, 1 / 3])
    d2 = text_descriptors(pd.DataFrame({"prompt": ["reset my laptop"]}), "prompt", {"reset", "my"})
    assert d2["prompt_oov_share"].iloc[0] == pytest.approx(1 / 3)


def _write_jsonl(path: Path, rows: list[dict[str, object] | str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))


def _log(i: int, ts: str) -> dict[str, object]:
    return {
        "request_id": f"q{i}",
        "timestamp": ts,
        "model_name": "m",
        "model_version": "1",
        "prompt": f"p{i}",
        "response": f"r{i}",
        "latency_ms": 10.0 + i,
    }


def test_load_prod_logs_nested_and_bad_lines(tmp_path: Path) -> None:
    _write_jsonl(
        tmp_path / "2024-01-02" / "part-0.jsonl",
        [_log(3, "2024-01-02T10:00:00Z"), "{not json", _log(4, "2024-01-02T11:00:00Z")],
    )
    _write_jsonl(
        tmp_path / "2024-01-01" / "sub" / "part-0.jsonl",
        [_log(1, "2024-01-01T10:00:00Z"), "", _log(2, "2024-01-01T11:00:00+00:00"), '["a list"]'],
    )
    _write_jsonl(tmp_path / "notes.txt", ["{not a log}"])
    df = load_prod_logs(tmp_path, max_rows=10)
    assert df.attrs["bad_lines"] == 2 and df.attrs["files"] == 2
    assert df["request_id"].tolist() == ["q1", "q2", "q3", "q4"]
    assert str(df["timestamp"].dt.tz) == "UTC"

    recent = load_prod_logs(tmp_path, max_rows=3)
    assert recent["request_id"].tolist() == ["q2", "q3", "q4"]
    assert recent.attrs["bad_lines"] == 2

    single = load_prod_logs(tmp_path / "2024-01-02" / "part-0.jsonl", max_rows=10)
    assert len(single) == 2 and single.attrs["bad_lines"] == 1
    with pytest.raises(FileNotFoundError):
        load_prod_logs(tmp_path / "missing", max_rows=10)
