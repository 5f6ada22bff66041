"""Promotion, batching, validation, production logging and rollback against a REAL tritonserver.

The server is the binary of the ``nvidia-pytriton`` wheel in the serving venv (``paths.serving_venv``, or
``$LLMOPS_SERVING_VENV``), started on free ports with a temporary model repository and a tiny GPT-2 model built
for the test. Tests run in file order and share one server: the first promotion is done by the fixture.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from llmops.config import LLMOpsConfig, TinyModelSpec, TritonConfig
from llmops.data.schema import PROD_LOG_COLUMNS, PROD_LOG_SCRUB_COLUMNS, PROD_LOG_SERVING_COLUMNS

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

MODEL = "tiny_llm"
PAIRS = [
    (f"How do I {verb} my {thing}?", f"Open the {place} page and choose {verb} {thing}.")
    for verb in ("reset", "share", "sync", "delete", "restore")
    for thing in ("password", "folder", "invoice", "account")
    for place in ("settings", "billing", "security")
]


def _quick_finetune(base_dir: Path, out_dir: Path, steps: int = 30) -> Path:
    """A few optimizer steps on prompt/response pairs: a randomly initialised model only emits newlines, which
    the served model strips to an empty answer (and the smoke test rightly rejects)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from llmops.data.schema import format_prompt

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # on a small shared machine one thread is several times faster than two
    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(base_dir)
    model = AutoModelForCausalLM.from_pretrained(base_dir)
    texts = [format_prompt(p) + r + tokenizer.eos_token for p, r in PAIRS]
    batch = tokenizer(texts, return_tensors="pt", padding=True)
    labels = batch["input_ids"].masked_fill(batch["attention_mask"] == 0, -100)
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-2)
    model.train()
    try:
        for _ in range(steps):
            model(**batch, labels=labels).loss.backward()
            optimizer.step()
            optimizer.zero_grad()
    finally:
        torch.set_num_threads(threads)
    model.eval()
    model.save_pretrained(out_dir, safe_serialization=True)
    tokenizer.save_pretrained(out_dir)
    return out_dir


def _serving_venv() -> Path:
    if os.environ.get("LLMOPS_SERVING_VENV"):
        return Path(os.environ["LLMOPS_SERVING_VENV"])
    from llmops.config import PROJECT_ROOT, load_config

    try:
        return load_config().paths.serving_venv
    except Exception:
        return PROJECT_ROOT / ".venv-serving"


@contextmanager
def served_state(tmp: Path, **triton_settings: str) -> Iterator[tuple[LLMOpsConfig, Path, Any]]:
    """A state folder and a model repository under ``tmp``, a REAL tritonserver on it (explicit model control, free
    ports) and a tiny fine-tuned model to promote: ``(cfg, model_dir, client)``. ``triton_settings`` are
    ``LLMOPS__TRITON__<NAME>`` overrides; the config and its environment hold until the block ends."""
    from llmops.config import load_config
    from llmops.serving.client import client_for
    from llmops.serving.server import ServingEnvError, TritonPorts, TritonServer
    from llmops.training.base_model import build_tiny_base_model

    ports = TritonPorts.free()
    settings = {
        "LLMOPS_HOME": str(tmp / "home"),
        "LLMOPS__PATHS__MODEL_REPOSITORY": str(tmp / "triton_models"),
        "LLMOPS__PATHS__SERVING_VENV": str(_serving_venv()),
        "LLMOPS__TRITON__HTTP_PORT": str(ports.http),
        "LLMOPS__TRITON__GRPC_PORT": str(ports.grpc),
        "LLMOPS__TRITON__METRICS_PORT": str(ports.metrics),
        "LLMOPS__TRITON__DEFAULT_MAX_NEW_TOKENS": "8",
        "LLMOPS__TRITON__SMOKE_MAX_NEW_TOKENS": "8",
        "LLMOPS__TRITON__READY_TIMEOUT_S": "60",
        **{f"LLMOPS__TRITON__{name.upper()}": value for name, value in triton_settings.items()},
    }
    with pytest.MonkeyPatch.context() as mp:
        for key, value in settings.items():
            mp.setenv(key, value)
        cfg = load_config()
        try:
            server = TritonServer(cfg.paths.serving_venv, tmp / "work", exit_timeout_s=5)
        except ServingEnvError as exc:
            pytest.skip(f"serving venv unavailable, run `make install`: {exc}")
        corpus = [t for pair in PAIRS for t in pair]
        base = build_tiny_base_model(TinyModelSpec(vocab_size=400, n_embd=64, n_layer=2, n_head=2), corpus, tmp / "b")
        model_dir = _quick_finetune(base, tmp / "model")
        proc = server.start(cfg.paths.model_repository, ports, tmp / "tritonserver.log")
        client = None
        try:
            server.wait_ready(cfg.triton.http_url, 60, proc)
            client = client_for(cfg.triton, timeout=60)
            yield cfg, model_dir, client
        finally:
            if client is not None:
                client.close()
            server.stop(proc)


@dataclass
class Stack:
    repo: Path
    log_dir: Path
    model_dir: Path
    tmp: Path
    cfg: TritonConfig
    url: str
    client: Any
    first: Any  # PromotionResult of version 1


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    from llmops.serving.server import ServingEnvError, TritonPorts, TritonServer

    venv = _serving_venv()
    tmp = tmp_path_factory.mktemp("triton")
    try:
        server = TritonServer(venv, tmp / "work", exit_timeout_s=5)
    except ServingEnvError as exc:
        pytest.skip(f"serving venv unavailable, run `make install`: {exc}")

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from llmops.serving.client import TritonClient
    from llmops.serving.promote import promote_version
    from llmops.training.base_model import build_tiny_base_model

    corpus = [text for pair in PAIRS for text in pair]
    base_dir = build_tiny_base_model(
        TinyModelSpec(vocab_size=400, n_embd=64, n_layer=2, n_head=2), corpus, tmp / "tiny_base"
    )
    model_dir = _quick_finetune(base_dir, tmp / "tiny_model")
    repo, log_dir = tmp / "model_repository", tmp / "prod_logs"
    ports = TritonPorts.free()
    cfg = TritonConfig(
        model_name=MODEL,
        http_port=ports.http,
        grpc_port=ports.grpc,
        metrics_port=ports.metrics,
        max_batch_size=8,
        preferred_batch_sizes=[4, 8],
        max_queue_delay_us=20_000,  # wide enough for the test's concurrent requests to share a batch
        default_max_new_tokens=16,
        max_prompt_chars=200,
        ready_timeout_s=60,
        smoke_prompt="How do I reset my password?",
        smoke_prompts=["How do I share my folder?", "How do I sync my invoice?"],
        smoke_max_latency_ms=20_000,
        log_rotate_bytes=1_000_000,
    )
    proc = server.start(repo, ports, tmp / "tritonserver.log")
    client = None
    try:
        server.wait_ready(cfg.http_url, 60, proc)
        client = TritonClient(cfg.http_url, timeout=60)
        first = promote_version(repo, MODEL, 1, model_dir, cfg, log_dir, client)
        yield Stack(repo, log_dir, model_dir, tmp, cfg, cfg.http_url, client, first)
    finally:
        if client is not None:
            client.close()  # open keep-alive connections would hold the server's shutdown for its exit timeout
        server.stop(proc)


def test_first_promotion_serves_version_1(stack: Stack) -> None:
    result = stack.first
    assert result.passed, result.reason
    assert (result.served_version, result.previous_version) == (1, None)
    assert result.smoke_response and result.smoke_latency_ms is not None
    assert stack.client.is_model_ready(MODEL, "1")
    assert stack.client.ready_versions(MODEL) == [1]
    texts = stack.client.generate(MODEL, ["How do I reset my password?"], max_new_tokens=8)
    assert len(texts) == 1 and texts[0].strip()


def test_batch_with_different_max_new_tokens(stack: Stack) -> None:
    from transformers import AutoTokenizer

    from llmops.serving.client import TritonClient

    before = stack.client.model_statistics(MODEL, "1")
    prompts = ["How do I share my folder?", "How do I sync my invoice?", "How do I delete my account?"]
    results: dict[int, list[Any]] = {}
    barrier = threading.Barrier(3)

    def send(tokens: int) -> None:
        # tritonclient.http pools are bound to their thread: one client per thread.
        with TritonClient(stack.url, timeout=60) as client:
            barrier.wait()
            results[tokens] = client.generate_results(MODEL, prompts, max_new_tokens=tokens)

    threads = [threading.Thread(target=send, args=(n,)) for n in (1, 6, 24)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)

    assert sorted(results) == [1, 6, 24]
    for tokens, outcome in results.items():
        assert [r.error for r in outcome] == [None] * len(prompts), tokens
    tokenizer = AutoTokenizer.from_pretrained(stack.model_dir)
    longest_token = max(len(tokenizer.decode([i])) for i in range(len(tokenizer)))
    assert all(len(r.text) <= longest_token for r in results[1])
    assert max(len(r.text) for r in results[24]) > max(len(r.text) for r in results[1])

    after = stack.client.model_statistics(MODEL, "1")
    requests = after["inference_count"] - before["inference_count"]
    executions = after["execution_count"] - before["execution_count"]
    assert requests == 9
    assert executions < requests, "the dynamic batcher should have grouped concurrent requests"


def test_invalid_prompts_get_errors_while_others_succeed(stack: Stack) -> None:
    from llmops.serving.client import TritonClientError

    prompts = ["How do I restore my folder?", "", "   \n ", "x" * 201, "How do I share my invoice?"]
    results = stack.client.generate_results(MODEL, prompts, max_new_tokens=4)
    assert results[0].ok and results[0].text
    assert results[4].ok and results[4].text
    assert "prompt is empty" in (results[1].error or "")
    assert "prompt is empty" in (results[2].error or "")
    assert "201 characters" in (results[3].error or "")
    with pytest.raises(TritonClientError, match="prompt is empty"):
        stack.client.generate(MODEL, ["fine", ""], max_new_tokens=2)
    with pytest.raises(TritonClientError, match="max_new_tokens"):
        stack.client.generate(MODEL, ["fine"], max_new_tokens=0)


def _logged_line(log_file: Path, request_id: str | None) -> dict[str, Any] | None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if log_file.is_file():
            for line in log_file.read_text().splitlines():
                row = json.loads(line)
                if row["request_id"] == request_id:
                    return dict(row)
        time.sleep(0.1)
    return None


def test_production_log_lines(stack: Stack) -> None:
    prompt = "  How do I reset my invoice?  "
    [result] = stack.client.generate_results(MODEL, [prompt], max_new_tokens=5)
    assert result.ok, result.error
    log_file = stack.log_dir / "requests.jsonl"
    record = _logged_line(log_file, result.server_request_id)
    assert record is not None, "no production log line for the request"
    assert tuple(record) == PROD_LOG_COLUMNS + PROD_LOG_SERVING_COLUMNS + PROD_LOG_SCRUB_COLUMNS
    assert record["prompt_version"] == "unversioned"  # these weights carry no prompt.json: the built-in template
    assert record["pii_found"] == 0 and isinstance(record["pii_leak"], bool)
    # The server chose the logged id and returned it; the client's own id is only logged beside it.
    assert result.server_request_id != result.request_id and record["client_request_id"] == result.request_id
    assert record["prompt"] == prompt  # raw, not templated
    assert record["response"] == result.text
    assert record["model_name"] == MODEL and record["model_version"] == "1"
    assert datetime.fromisoformat(record["timestamp"]).utcoffset().total_seconds() == 0
    assert isinstance(record["latency_ms"], float) and record["latency_ms"] >= 0
    # What the answer cost: the rendered prompt's tokens, the generated ones (at most max_new_tokens), the batch.
    assert record["prompt_tokens"] > len(prompt.split()) and 1 <= record["completion_tokens"] <= 5
    assert record["batch_size"] >= 1 and 0 < record["compute_ms"] <= record["latency_ms"]
    # Every line written so far has the full layout; the invalid requests of the test before were logged as
    # failed (client errors, no answer), the answered ones without an error.
    rows = [json.loads(line) for line in log_file.read_text().splitlines()]
    answered = [r for r in rows if "error" not in r]
    failed = [r for r in rows if "error" in r]
    columns = PROD_LOG_COLUMNS + PROD_LOG_SERVING_COLUMNS + PROD_LOG_SCRUB_COLUMNS
    assert all(tuple(r) == columns and r["prompt"].strip() for r in answered)
    assert len(failed) == 5, failed
    failed_columns = (*PROD_LOG_COLUMNS, "error", "error_kind", "prompt_version", *PROD_LOG_SCRUB_COLUMNS)
    assert all(tuple(r) == failed_columns for r in failed)
    assert {r["error_kind"] for r in failed} == {"client"} and {r["response"] for r in failed} == {""}
    assert sum("prompt is empty" in r["error"] for r in failed) == 3
    # Personal data never reaches the log in clear: the writer scrubs with the copy in the version folder.
    pii_prompt = "My e-mail is dana.whitfield@mailhost.example and my card 4111 1111 1111 1111, why was I charged?"
    [answer] = stack.client.generate_results(MODEL, [pii_prompt], max_new_tokens=3)
    assert answer.ok, answer.error
    logged = _logged_line(log_file, answer.server_request_id)
    assert logged is not None
    assert logged["prompt"] == "My e-mail is <EMAIL> and my card <CREDIT_CARD>, why was I charged?"
    assert logged["pii_found"] >= 2
    text = log_file.read_text()
    assert "dana.whitfield" not in text and "4111 1111" not in text


def test_broken_version_is_rejected_and_version_1_keeps_serving(stack: Stack) -> None:
    from llmops.serving.promote import PromotionError, promote_version
    from llmops.serving.repository import list_versions, served_version

    broken = stack.tmp / "broken_model"
    shutil.copytree(stack.model_dir, broken)
    (broken / "model.safetensors").write_bytes(b"\x00" * 64)

    with pytest.raises(PromotionError) as info:
        promote_version(stack.repo, MODEL, 2, broken, stack.cfg, stack.log_dir, stack.client)
    result = info.value.result
    assert not result.passed
    assert result.served_version == 1 and result.previous_version == 1
    assert "version 2" in result.reason and "restore:" not in result.reason

    assert list_versions(stack.repo, MODEL, include_incomplete=True) == [1]
    assert served_version(stack.repo, MODEL) == 1
    assert not [p for p in (stack.repo / MODEL).iterdir() if p.name.startswith((".staging-", ".trash-"))]
    assert stack.client.is_model_ready(MODEL, "1")
    assert not stack.client.is_model_ready(MODEL, "2")
    assert stack.client.generate(MODEL, ["How do I sync my folder?"], max_new_tokens=4)[0]


def test_promote_then_roll_back(stack: Stack) -> None:
    from llmops.serving.promote import promote_version, serve_version

    result = promote_version(stack.repo, MODEL, 3, stack.model_dir, stack.cfg, stack.log_dir, stack.client)
    assert result.passed and (result.served_version, result.previous_version) == (3, 1)
    assert stack.client.ready_versions(MODEL) == [3]

    rolled = serve_version(stack.repo, MODEL, 1, stack.cfg, stack.log_dir, stack.client)
    assert rolled.passed and (rolled.served_version, rolled.previous_version) == (1, 3)
    assert stack.client.ready_versions(MODEL) == [1]
    assert stack.client.generate(MODEL, ["How do I share my account?"], max_new_tokens=3, version="1")


# Broken versions, crashes and hostile names --------------------------------------------------------------------------

RAISING_MODEL_PY = """
class TritonPythonModel:
    def initialize(self, args):
        raise RuntimeError("planted failure: this version cannot load")

    def execute(self, requests):
        raise RuntimeError("unreachable")
"""


def _tree(root: Path) -> dict[str, tuple[int, int]]:
    """Every path under ``root`` with its size and mtime: proof that nothing was touched."""
    return {
        str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(root.rglob("*"))
        if p.name != ".repository.lock"
    }


def test_version_whose_model_py_raises_on_load_keeps_old_version(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    from llmops.serving import repository
    from llmops.serving.promote import PromotionError, promote_version

    before = stack.client.ready_versions(MODEL)
    assert len(before) == 1
    raising = stack.tmp / "raising_model.py"
    raising.write_text(RAISING_MODEL_PY)
    monkeypatch.setattr(repository, "SERVING_MODEL_SOURCE", raising)

    with pytest.raises(PromotionError) as info:
        promote_version(stack.repo, MODEL, 5, stack.model_dir, stack.cfg, stack.log_dir, stack.client)
    assert "planted failure" in info.value.result.reason
    assert info.value.result.served_version == before[0]
    assert "restore:" not in info.value.result.reason

    assert stack.client.ready_versions(MODEL) == before
    assert repository.served_version(stack.repo, MODEL) == before[0]
    assert not (stack.repo / MODEL / "5").exists(), "the failed version's directory is removed"
    assert not [p for p in (stack.repo / MODEL).iterdir() if p.name.startswith((".staging-", ".trash-"))]
    assert stack.client.generate(MODEL, ["How do I delete my folder?"], max_new_tokens=4)[0]


CRASH_SCRIPT = """
import os, signal, sys
from pathlib import Path
from llmops.config import TritonConfig
from llmops.serving import repository, promote
from llmops.serving.client import TritonClient

repo, name, version, model_dir, log_dir, url, crash_at = sys.argv[1:8]
real_replace = os.replace

def replace(src, dst):
    # Die the hard way (no cleanup, no finally) exactly where a power cut hurts most.
    if crash_at == "version-rename" and Path(src).name.startswith(".staging-"):
        os.kill(os.getpid(), signal.SIGKILL)
    if crash_at == "config-rename" and str(dst).endswith("config.pbtxt"):
        os.kill(os.getpid(), signal.SIGKILL)
    return real_replace(src, dst)

os.replace = replace
cfg = TritonConfig.model_validate_json(os.environ["CRASH_CFG"])
with TritonClient(url) as client:
    promote.promote_version(Path(repo), name, int(version), Path(model_dir), cfg, Path(log_dir), client)
print("not killed")
"""


@pytest.mark.parametrize(("crash_at", "version"), [("version-rename", 6), ("config-rename", 7)])
def test_crash_during_promotion_leaves_a_consistent_repository(stack: Stack, crash_at: str, version: int) -> None:
    import subprocess
    import sys

    from llmops.serving.promote import promote_version
    from llmops.serving.repository import list_versions, served_version, verify_version

    served_before = served_version(stack.repo, MODEL)
    config_before = (stack.repo / MODEL / "config.pbtxt").read_text()
    complete_before = list_versions(stack.repo, MODEL)
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            CRASH_SCRIPT,
            str(stack.repo),
            MODEL,
            str(version),
            str(stack.model_dir),
            str(stack.log_dir),
            stack.url,
            crash_at,
        ],
        env={**os.environ, "CRASH_CFG": stack.cfg.model_dump_json()},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == -9, (proc.returncode, proc.stdout, proc.stderr[-2000:])

    # Either no <version>/ at all, or a complete one: never a half-written version Triton could pick up.
    present = list_versions(stack.repo, MODEL, include_incomplete=True)
    if crash_at == "version-rename":
        assert version not in present
        assert [p for p in (stack.repo / MODEL).iterdir() if p.name.startswith(f".staging-{version}-")]
    else:
        assert version in present and verify_version(stack.repo / MODEL / str(version)) == []
    assert sorted(set(present) - {version}) == complete_before
    # The config still pins the version that serves, and it still answers.
    assert (stack.repo / MODEL / "config.pbtxt").read_text() == config_before
    assert served_version(stack.repo, MODEL) == served_before
    assert stack.client.ready_versions(MODEL) == [served_before]
    assert stack.client.generate(MODEL, ["How do I share my invoice?"], max_new_tokens=4)[0]

    # The next run cleans the leftovers and completes the promotion.
    result = promote_version(stack.repo, MODEL, version, stack.model_dir, stack.cfg, stack.log_dir, stack.client)
    assert result.passed and result.served_version == version
    leftovers = [p.name for p in (stack.repo / MODEL).iterdir() if p.name.startswith((".staging-", ".trash-", "."))]
    assert leftovers == [".repository.lock"]
    assert stack.client.ready_versions(MODEL) == [version]


TRAVERSAL = [
    "..",
    "../x",
    "../../etc/passwd",
    "a/../../b",
    "/etc/passwd",
    "/tmp",
    "a\\b",
    "..\\..\\windows",
    "C:\\models",
    "%2e%2e",
    "%2E%2E%2Fetc",
    "..%2f..%2f",
    "%252e%252e%252f",
    "..%5c",
    "a%00b",
    "a\x00b",
    "．．／etc",
    "~/x",
    "x/",
    " x",
    "x\n",
]


@pytest.mark.parametrize("payload", TRAVERSAL, ids=repr)
def test_path_traversal_payloads_are_rejected_before_any_effect(stack: Stack, payload: str) -> None:
    from llmops.serving.promote import promote_version, serve_version
    from llmops.serving.repository import remove_version, version_path, write_config, write_model_version
    from llmops.serving.rollback import parse_target

    tree_before = _tree(stack.repo)
    outside_before = sorted(p.name for p in stack.tmp.iterdir())
    # An unload an earlier test started may still be going on in the server: compared once it has settled.
    assert stack.client.wait_not_loading(MODEL, 120)
    index_before = stack.client.repository_index()
    repo, cfg, logs, c = stack.repo, stack.cfg, stack.log_dir, stack.client
    calls = [
        # hostile model names
        lambda: promote_version(repo, payload, 9, stack.model_dir, cfg, logs, c),
        lambda: serve_version(repo, payload, 1, cfg, logs, c),
        lambda: write_model_version(repo, payload, 9, stack.model_dir, cfg, logs),
        lambda: write_config(repo, payload, cfg, logs, served_version=1),
        lambda: remove_version(repo, payload, 1),
        lambda: c.load_model(payload),
        lambda: c.unload_model(payload),
        lambda: c.generate(payload, ["hello"]),
        # hostile versions
        lambda: promote_version(repo, MODEL, payload, stack.model_dir, cfg, logs, c),  # type: ignore[arg-type]
        lambda: serve_version(repo, MODEL, payload, cfg, logs, c),  # type: ignore[arg-type]
        lambda: version_path(repo, MODEL, payload),
        lambda: remove_version(repo, MODEL, payload),  # type: ignore[arg-type]
        lambda: c.generate(MODEL, ["hello"], version=payload),
        lambda: c.is_model_ready(payload),
        lambda: c.model_statistics(MODEL, payload),
        lambda: parse_target(payload),
    ]
    for i, call in enumerate(calls):
        with pytest.raises(ValueError, match="invalid"):
            call()
        assert _tree(stack.repo) == tree_before, f"call {i} touched the model repository"
        assert sorted(p.name for p in stack.tmp.iterdir()) == outside_before, f"call {i} wrote next to it"
    assert stack.client.repository_index() == index_before


def test_triton_metrics_give_an_interval_its_queue_compute_and_failure_figures(stack: Stack, tmp_path: Path) -> None:
    """Monitoring reads Triton's own counters from its metrics endpoint: an interval's figures are the differences
    from the scrape stored with the interval before; a re-run of an interval reuses its stored scrape."""
    from llmops.monitoring.triton_metrics import SCRAPE_FILE, scrape, triton_figures

    url = f"http://{stack.cfg.host}:{stack.cfg.metrics_port}/metrics"
    monitoring = tmp_path / "monitoring"
    before = scrape(url, MODEL)
    # a version that answered has its timing counters; one unloaded long ago may keep only its failure counters
    assert before and all("queue_us" in c for c in before.values() if "success" in c), before
    triton_figures(url, MODEL, monitoring, "20261201T000000Z")
    good = stack.client.generate_results(MODEL, [f"How do I share folder {i}?" for i in range(6)], max_new_tokens=3)
    bad = stack.client.generate_results(MODEL, ["fine", "x" * 201], max_new_tokens=3)
    assert all(r.ok for r in good) and not bad[1].ok
    figures, note = triton_figures(url, MODEL, monitoring, "20261201T010000Z")
    assert "since the previous monitored interval" in note, note
    assert figures["triton.requests"] >= 2 and figures["triton.queue_ms_per_request"] >= 0.0
    assert figures["triton.compute_ms_per_request"] > 0.0 and figures["triton.batch_size_mean"] >= 1.0
    per_version = {k: v for k, v in figures.items() if k.startswith("triton.requests.v")}
    assert per_version and all(v > 0 for v in per_version.values()), figures
    assert sum(per_version.values()) == figures["triton.requests"], figures
    again, _ = triton_figures(url, MODEL, monitoring, "20261201T010000Z")  # a re-run: the same scrape
    assert again == figures and (monitoring / "20261201T010000Z" / SCRAPE_FILE).is_file()
    unreachable, why = triton_figures("http://127.0.0.1:9/metrics", MODEL, monitoring, "20261201T020000Z")
    assert unreachable == {} and "not read" in why
