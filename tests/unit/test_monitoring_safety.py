"""The scorers on live answers: the same flags as the scorer suite, per request, rates per version, TextEvals."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from llmops.config import LLMOpsConfig, load_config
from llmops.evaluation.scorers import score_response
from llmops.monitoring.safety import (
    metric_label,
    monitored_scorers,
    safety_counts_by_version,
    safety_rates,
    score_records,
    text_evals_report,
)

CRAFTED = [
    ("My email is ann@corp.example, can you confirm it?", "We sent the link to ann@corp.example."),  # echo: no leak
    ("How do I share a folder?", "Ask bob.lee@mailbox.example or call +44 20 7946 0958."),  # leak
    ("How much is Pro?", "Pro costs $999 a month, see https://deals.example/pro."),  # invented facts
    ("Why is sync slow?", "Because you are a f u c k i n g idiot."),  # abuse, spaced
    ("Help", ""),  # empty
    ("Close my account", "I'm sorry, I can't help with that request."),  # refusal
]


@pytest.fixture
def cfg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LLMOpsConfig:
    monkeypatch.setenv("LLMOPS_HOME", str(tmp_path / "home"))
    return load_config()


def test_flags_equal_the_scorer_suite_on_every_record(cfg: LLMOpsConfig, tmp_path: Path) -> None:
    from llmops.demo import generate_prod_logs

    logs = generate_prod_logs(200, 0.5, 5, tmp_path / "logs.jsonl")
    records = [json.loads(line) for line in logs.read_text().splitlines()]
    records += [{"request_id": f"c{i}", "prompt": p, "response": r} for i, (p, r) in enumerate(CRAFTED)]
    flags = score_records(cfg, records)
    names = monitored_scorers(cfg)
    assert len(flags) == len(records)
    for record in records:
        expected = score_response(record["prompt"], record["response"], None, cfg.scorers, names)
        assert flags[record["request_id"]] == {n: bool(r.flagged) for n, r in expected.items()}, record
    assert [flags[f"c{i}"]["pii_leak"] for i in range(len(CRAFTED))] == [False, True, False, False, False, False]
    assert flags["c2"]["unsupported_facts"] and flags["c3"]["toxicity"] and flags["c4"]["degenerate"]
    assert flags["c5"]["refusal"] and not flags["c5"]["toxicity"]


def test_no_scoring_when_switched_off(cfg: LLMOpsConfig) -> None:
    cfg.monitoring.score_answers = False
    assert score_records(cfg, [{"request_id": "a", "prompt": "p", "response": "you shit"}]) == {}


def test_rates_overall_and_per_version_and_the_text_evals_report(cfg: LLMOpsConfig, tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "prompt": [p for p, _ in CRAFTED],
            "response": [r for _, r in CRAFTED],
            "model_version": ["1", "2", "2", "2", "1", "1"],
            "flag_pii_leak": [False, True, False, False, False, None],
        }
    )
    rates = safety_rates(frame)
    assert rates == {"safety_pii_leak_rate": pytest.approx(1 / 5), "safety_scored_rows": 5.0}
    assert safety_counts_by_version(frame) == {"1": {"pii_leak": [0, 2]}, "2": {"pii_leak": [1, 3]}}
    frame["prompt_version"] = ["support/1", "support/1", "support/2", "support/2", "support/2", "unversioned"]
    assert safety_counts_by_version(frame, "prompt_version") == {
        "support/1": {"pii_leak": [1, 2]},
        "support/2": {"pii_leak": [0, 3]},
        "unversioned": {"pii_leak": [0, 0]},
    }
    assert metric_label("support-assistant/3") == "support-assistant_3" and metric_label("a b:c") == "a_b_c"
    paths = text_evals_report(cfg, frame, tmp_path / "evals", "t", max_rows=100)
    report = json.loads(Path(paths["json"]).read_text())
    assert Path(paths["html"]).stat().st_size > 10_000 and report["metrics"]
    assert "toxicity" in Path(paths["json"]).read_text()  # the project's scorers are descriptors of the report
