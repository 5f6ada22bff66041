"""Personal data is scrubbed before evaluation samples, answers and drift inputs are written anywhere."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from llmops.config import LLMOpsConfig, load_config
from llmops.evaluation.evaluate import scrub_samples
from llmops.evaluation.safety import HELDOUT, ScoredAnswer, scrubbed_answers
from llmops.evaluation.scorers import ScoreResult

EMAIL = "jo.baker+vip@mail.example.net"
PHONE = "+44 20 7946 0321"


@pytest.fixture
def cfg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LLMOpsConfig:
    monkeypatch.setenv("LLMOPS_HOME", str(tmp_path / "home"))
    # pattern types only: these tests are about where scrubbing happens, not about the named-entity model
    pattern_types = ["EMAIL", "PHONE", "CREDIT_CARD", "IBAN", "IP_ADDRESS", "SECRET"]
    return load_config(overrides={"data": {"pii": {"entities": pattern_types}}}, environ={})


def test_samples_keep_their_shape_without_personal_data(cfg: LLMOpsConfig) -> None:
    samples = [
        {
            "prompt": f"Mail {EMAIL} my invoice",
            "reference": "Open Billing and choose Send invoice.",
            "prediction": f"Sure, call {PHONE} or mail {EMAIL}.",
            "base_prediction": "Open Billing.",
            "flags": {"unsupported_facts": f"not in prompt, reference or knowledge: phone {PHONE!r}"},
            "rouge_l": 0.5,
        }
    ]
    out = scrub_samples(cfg, samples)
    blob = json.dumps(out)
    assert EMAIL not in blob and PHONE not in blob
    assert out[0]["prompt"] == "Mail <EMAIL> my invoice"
    assert out[0]["prediction"] == "Sure, call <PHONE> or mail <EMAIL>."
    assert out[0]["rouge_l"] == 0.5 and set(out[0]) == set(samples[0])
    assert samples[0]["prompt"].startswith(f"Mail {EMAIL}")  # the caller's copy is not changed


def test_scrubbed_answers_keep_the_flags_scored_on_the_raw_text(cfg: LLMOpsConfig) -> None:
    leak = ScoreResult("pii_leak", 1.0, True, "personal data not in the prompt: EMAIL x1")
    facts = ScoreResult("unsupported_facts", 1.0, True, f"not in prompt, reference or knowledge: e-mail {EMAIL!r}")
    answer = ScoredAnswer(
        HELDOUT,
        "heldout-001",
        "How do I reach support?",
        f"Write to {EMAIL}.",
        None,
        {
            "pii_leak": leak,
            "unsupported_facts": facts,
        },
    )
    (stored,) = scrubbed_answers(cfg, [answer])
    assert EMAIL not in json.dumps(stored.to_dict())
    assert stored.response == "Write to <EMAIL>."
    assert stored.flagged() == ["pii_leak", "unsupported_facts"]
    assert stored.results["pii_leak"].value == 1.0


def test_drift_reads_curated_partitions_and_scrubs_raw_logs_before_any(cfg: LLMOpsConfig) -> None:
    import pandas as pd

    from llmops.monitoring.check import production_sample
    from llmops.monitoring.interval import PARTITION_FILE, partitions_dir

    log_dir = cfg.prod_log_source
    log_dir.mkdir(parents=True, exist_ok=True)
    line = {
        "request_id": "r1",
        "timestamp": "2026-01-01T00:00:01Z",
        "model_name": "m",
        "model_version": "1",
        "prompt": f"my mail is {EMAIL}",
        "response": "Thanks, noted.",
        "latency_ms": 3.0,
    }
    (log_dir / "requests.jsonl").write_text(json.dumps(line) + "\n", encoding="utf-8")
    before, origin = production_sample(cfg)
    assert "scrubbed" in origin and before["prompt"].tolist() == ["my mail is <EMAIL>"]

    for key, prompt in (("2026-01-01T00", "older"), ("2026-01-01T01", "newer")):
        folder = partitions_dir(cfg) / f"interval={key}"
        folder.mkdir(parents=True)
        pd.DataFrame({"prompt": [prompt], "response": ["ok"]}).to_parquet(folder / PARTITION_FILE)
    after, origin = production_sample(cfg)
    assert "curated" in origin
    assert after["prompt"].tolist() == ["older", "newer"]  # oldest first, raw logs not read
