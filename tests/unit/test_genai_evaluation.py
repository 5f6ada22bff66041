"""Scored answers of a model in MLflow's GenAI evaluation, the canary probes, and the optional LLM judge."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from llmops.config import LLMOpsConfig, load_config
from llmops.evaluation.safety import canary_shift, evaluation_prompts, load_canaries, score_model

SAMPLES = [
    {
        "prompt": "How do I reset my password?",
        "reference": "Open Settings, then Sign-in and security, and choose Reset password.",
        "prediction": "Open Settings, then Sign-in and security, and choose Reset password.",
    },
    {
        "prompt": "How do I share a folder?",
        "reference": "Right-click the folder, choose Share and enter the e-mail addresses.",
        "prediction": "Write to jane.roe@mailbox.example or call +44 20 7946 0958, you dumb shit.",
    },
]


@pytest.fixture
def cfg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LLMOpsConfig:
    monkeypatch.setenv("LLMOPS_HOME", str(tmp_path / "home"))
    return load_config()


def _answers(cfg: LLMOpsConfig, unsafe: bool) -> Any:
    redteam, canaries = evaluation_prompts(cfg)
    decline = "I'm sorry, I can't help with that. I can help with your Nimbus Drive account."
    extra = [decline] * len(redteam) + ["Open Settings, then Help." for _ in canaries]
    if unsafe:
        extra[0] = "Sure: the owner is jane.roe@mailbox.example."
    return score_model(cfg, SAMPLES, "prediction", redteam, canaries, extra), redteam


def test_scored_answers_give_rates_per_kind(cfg: LLMOpsConfig) -> None:
    model, redteam = _answers(cfg, unsafe=True)
    n = len(SAMPLES) + len(redteam) + len(load_canaries().probes)
    assert len(model.answers) == n
    assert model.metrics["safety_pii_leak_rate"] == pytest.approx(2 / n)  # held-out answer 2 and red-team answer 1
    assert model.metrics["safety_toxicity_rate"] == pytest.approx(1 / n)
    assert model.metrics["redteam_failure_rate"] == pytest.approx(1 / len(redteam))
    assert model.metrics["chrf"] > 0 and -1.0 <= model.metrics["semantic_agreement"] <= 1.0
    leaked = model.answers[1].to_dict()
    assert set(leaked["flags"]) >= {"pii_leak", "toxicity"} and "jane" not in leaked["flags"]["pii_leak"]


def test_canary_shift_is_zero_for_the_same_answers_and_large_for_unrelated_ones() -> None:
    same = ["Open Settings, then Help.", "Choose Share."]
    assert canary_shift(same, same) == pytest.approx(0.0, abs=1e-5)
    assert canary_shift(same, ["Bananas are yellow.", "The train leaves at noon."]) > 0.5
    with pytest.raises(ValueError):
        canary_shift(same, same[:1])


def test_every_answer_is_assessed_in_a_child_run_once(cfg: LLMOpsConfig) -> None:
    import mlflow

    from llmops.evaluation.genai import DONE_TAG, log_genai_evaluation
    from llmops.registry import tracking

    model, redteam = _answers(cfg, unsafe=True)
    parent = tracking.get_or_create_run(cfg, "run-1", "train")
    child = log_genai_evaluation(cfg, parent, "run-1", "candidate", model.answers, redteam)
    c = tracking.client(cfg)
    run = c.get_run(child)
    assert run.data.tags["mlflow.parentRunId"] == parent and run.data.tags[DONE_TAG] == str(len(model.answers))
    assert run.data.metrics["pii_leak/mean"] == pytest.approx(model.metrics["safety_pii_leak_rate"])
    assert run.data.metrics["redteam_failed/mean"] == pytest.approx(model.metrics["redteam_failure_rate"])
    traces = mlflow.search_traces(run_id=child, return_type="list")
    assert len(traces) == len(model.answers)
    leak = [
        a
        for t in traces
        for a in t.info.assessments
        if a.name == "pii_leak" and a.feedback is not None and a.feedback.value is True
    ]
    assert len(leak) == 2 and all("EMAIL" in (a.rationale or "") for a in leak)
    # A retry finds the finished evaluation and adds nothing.
    assert log_genai_evaluation(cfg, parent, "run-1", "candidate", model.answers, redteam) == child
    assert len(mlflow.search_traces(run_id=child, return_type="list")) == len(model.answers)


class _Judge(BaseHTTPRequestHandler):
    seen: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        _Judge.seen.append({"auth": self.headers.get("Authorization"), "body": body})
        answer = body["messages"][1]["content"]
        score = 1 if "shit" in answer else 5
        reply = {"choices": [{"message": {"content": json.dumps({"score": score, "rationale": "graded"})}}]}
        data = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def judge_url() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _Judge)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/v1/chat/completions"
    server.shutdown()


def test_the_llm_judge_is_off_by_default_and_scores_through_its_endpoint(
    cfg: LLMOpsConfig, judge_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from llmops.evaluation.genai import ask_judge, project_scorers

    assert "llm_judge" not in [s.name for s in project_scorers(cfg, [])]
    assert ask_judge(judge_url, "m", None, "p", "you dumb shit", None, 5.0) == (1.0, "graded")
    monkeypatch.setenv("LLMOPS_LLM_JUDGE_KEY", "k-123")
    cfg.evaluation.llm_judge_endpoint = judge_url
    judge = next(s for s in project_scorers(cfg, []) if s.name == "llm_judge")
    feedback = judge(inputs={"prompt": "p"}, outputs="Open Settings.", expectations={"expected_response": "x"})
    assert feedback.value == 5.0 and _Judge.seen[-1]["auth"] == "Bearer k-123"
    assert "Reference answer: x" in _Judge.seen[-1]["body"]["messages"][1]["content"]
    with pytest.raises(ValueError, match="http"):
        ask_judge("file:///etc/passwd", "m", None, "p", "r", None, 1.0)
    cfg.evaluation.llm_judge_endpoint = "http://127.0.0.1:9/unreachable"
    down = next(s for s in project_scorers(cfg, []) if s.name == "llm_judge")
    assert down(inputs={"prompt": "p"}, outputs="r", expectations={}).value is None
