"""A REAL tritonserver (the serving venv's) as the local stack runs it: every API but health and inference needs the
control key, on HTTP and gRPC; and an overload is shed by the bounded queue instead of piling up latency."""

from __future__ import annotations

import json
import os
import re
import secrets
import statistics
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from test_triton_serving import _serving_venv

from llmops.config import TinyModelSpec, TritonConfig

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

MODEL = "tiny_llm"
HEADER = "triton-model-control-key"
CORPUS = [f"How do I {verb} my {thing}?" for verb in ("reset", "share", "sync") for thing in ("password", "folder")]


@dataclass
class Server:
    cfg: TritonConfig
    key: str
    grpc_url: str

    @property
    def base(self) -> str:
        return f"http://{self.cfg.http_url}"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """tritonserver on loopback with the stack's restrictions, serving a tiny random GPT-2 through a queue of 2."""
    from llmops.serving.client import TritonClient
    from llmops.serving.repository import write_config, write_model_version
    from llmops.serving.server import ServingEnvError, TritonPorts, TritonServer
    from llmops.training.base_model import build_tiny_base_model

    tmp = tmp_path_factory.mktemp("triton-access")
    try:
        triton = TritonServer(_serving_venv(), tmp / "work", exit_timeout_s=5)
    except ServingEnvError as exc:
        pytest.skip(f"serving venv unavailable, run `make install`: {exc}")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    model_dir = build_tiny_base_model(
        TinyModelSpec(vocab_size=300, n_embd=32, n_layer=2, n_head=2), CORPUS, tmp / "tiny_model"
    )
    ports = TritonPorts.free()
    cfg = TritonConfig(
        model_name=MODEL,
        http_port=ports.http,
        grpc_port=ports.grpc,
        metrics_port=ports.metrics,
        max_batch_size=4,
        preferred_batch_sizes=[4],
        max_queue_delay_us=1000,
        max_queue_size=2,
        queue_timeout_ms=2000,
        default_max_new_tokens=24,
        torch_num_threads=1,
    )
    repo, logs = tmp / "model_repository", tmp / "prod_logs"
    write_model_version(repo, MODEL, 1, model_dir, cfg, logs)
    write_config(repo, MODEL, cfg, logs, served_version=1)
    key = secrets.token_urlsafe(24)
    proc = triton.start(repo, ports, tmp / "tritonserver.log", load_models=[MODEL], control=(HEADER, key))
    try:
        triton.wait_ready(cfg.http_url, 120, proc)
        with TritonClient(cfg.http_url, timeout=60, control_key=key) as client:
            client.wait_model_ready(MODEL, "1", timeout_s=60)
        yield Server(cfg, key, f"127.0.0.1:{ports.grpc}")
    finally:
        triton.stop(proc)


def _http(server: Server, method: str, path: str, body: dict[str, Any] | None = None, key: str | None = None) -> int:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"{server.base}{path}", data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if key is not None:
        request.add_header(HEADER, key)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


# One call per restricted category (method, path, body); each answers 2xx with the key.
RESTRICTED_CALLS = {
    "model-repository": ("POST", "/v2/repository/index", {}),
    "model-config": ("GET", f"/v2/models/{MODEL}/config", None),
    "metadata (server)": ("GET", "/v2", None),
    "metadata (model)": ("GET", f"/v2/models/{MODEL}", None),
    "statistics": ("GET", f"/v2/models/{MODEL}/stats", None),
    "shared-memory (system)": ("GET", "/v2/systemsharedmemory/status", None),
    "shared-memory (cuda)": ("POST", "/v2/cudasharedmemory/region/none/unregister", {}),
    "trace": ("GET", "/v2/trace/setting", None),
    "logging": ("GET", "/v2/logging", None),
}


@pytest.mark.parametrize("category", list(RESTRICTED_CALLS))
def test_every_restricted_http_api_needs_the_key(server: Server, category: str) -> None:
    method, path, body = RESTRICTED_CALLS[category]
    assert _http(server, method, path, body) == 403, f"{category} without the key"
    assert _http(server, method, path, body, key="wrong-" + server.key) == 403, f"{category} with a wrong key"
    with_key = _http(server, method, path, body, key=server.key)
    if category == "shared-memory (cuda)":  # the CPU-only server has no CUDA shm: any answer but 403 shows access
        assert with_key != 403, with_key
    else:
        assert 200 <= with_key < 300, f"{category} with the key answered {with_key}"


def test_health_and_inference_stay_open(server: Server) -> None:
    from llmops.serving.client import TritonClient

    assert _http(server, "GET", "/v2/health/live") == 200
    assert _http(server, "GET", "/v2/health/ready") == 200
    assert _http(server, "GET", f"/v2/models/{MODEL}/versions/1/ready") == 200
    with TritonClient(server.cfg.http_url, timeout=60, control_key="") as anonymous:
        [result] = anonymous.generate_results(MODEL, ["How do I reset my password?"], max_new_tokens=4)
        assert result.ok, result.error
        with pytest.raises(Exception, match=r"403|restricted|forbidden|not allowed|unauthorized"):
            anonymous.repository_index()
        with pytest.raises(Exception, match=r"403|restricted|forbidden|not allowed|unauthorized"):
            anonymous.model_statistics(MODEL, "1")
    with TritonClient(server.cfg.http_url, timeout=60, control_key=server.key) as operator:
        assert operator.ready_versions(MODEL) == [1]
        assert operator.model_statistics(MODEL, "1")["inference_count"] >= 1


def test_grpc_restricts_the_same_apis(server: Server) -> None:
    import tritonclient.grpc as grpcclient
    from tritonclient.utils import InferenceServerException

    client = grpcclient.InferenceServerClient(server.grpc_url)
    try:
        assert client.is_server_live() and client.is_model_ready(MODEL, "1")
        anonymous_calls = {
            "model-repository": lambda h: client.get_model_repository_index(headers=h),
            "model-config": lambda h: client.get_model_config(MODEL, headers=h),
            "metadata": lambda h: client.get_model_metadata(MODEL, headers=h),
            "statistics": lambda h: client.get_inference_statistics(MODEL, headers=h),
            "shared-memory": lambda h: client.get_system_shared_memory_status(headers=h),
            "trace": lambda h: client.get_trace_settings(headers=h),
            "logging": lambda h: client.get_log_settings(headers=h),
        }
        for category, call in anonymous_calls.items():
            with pytest.raises(InferenceServerException) as info:
                call(None)
            assert "UNAVAILABLE" in str(info.value.status()) or "restricted" in info.value.message().lower(), (
                category,
                info.value.status(),
                info.value.message(),
            )
            # Triton's gRPC side expects the header name with the prefix "triton-grpc-protocol-".
            assert call({f"triton-grpc-protocol-{HEADER}": server.key}) is not None, category
    finally:
        client.close()


def _infer(server: Server, prompt: str) -> tuple[int, float, str]:
    """One JSON inference request: ``(HTTP status, latency in ms, error text)``."""
    body = {
        "inputs": [
            {"name": "prompt", "shape": [1, 1], "datatype": "BYTES", "data": [prompt]},
            {"name": "max_new_tokens", "shape": [1, 1], "datatype": "INT32", "data": [24]},
        ]
    }
    request = urllib.request.Request(
        f"{server.base}/v2/models/{MODEL}/infer",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            status, error = int(response.status), ""
            json.loads(response.read())
    except urllib.error.HTTPError as exc:
        status, error = int(exc.code), exc.read().decode(errors="replace")
    return status, (time.perf_counter() - started) * 1000.0, error


def test_overload_is_rejected_by_the_bounded_queue(server: Server) -> None:
    """64 requests at once against 4 per batch + 2 waiting: the rest are turned away at once (HTTP 503, "Exceeds
    maximum queue size"), the accepted ones complete."""
    import threading

    barrier = threading.Barrier(64)
    outcomes: list[tuple[int, float, str]] = []
    lock = threading.Lock()

    def user(i: int) -> None:
        barrier.wait()
        outcome = _infer(server, f"{CORPUS[i % len(CORPUS)]} ({i})")
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=user, args=(i,)) for i in range(64)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    wall_s = time.perf_counter() - started
    accepted = sorted(ms for status, ms, _ in outcomes if status == 200)
    rejected = [(status, ms, error) for status, ms, error in outcomes if status != 200]
    p50 = statistics.median(accepted) if accepted else float("nan")
    p95 = accepted[min(len(accepted) - 1, int(0.95 * len(accepted)))] if accepted else float("nan")
    rejected_p95 = sorted(ms for _, ms, _ in rejected)[int(0.95 * len(rejected))] if rejected else float("nan")
    kinds = sorted({(status, re.sub(r"\[request id: [^]]*\] ", "", error)[:80]) for status, _, error in rejected})
    print(
        f"\nconcurrency 64, max_queue_size 2, max_batch_size 4: accepted {len(accepted)} (p50 {p50:.0f} ms, "
        f"p95 {p95:.0f} ms), rejected {len(rejected)} (p95 {rejected_p95:.0f} ms), wall {wall_s:.1f} s; {kinds}"
    )
    assert len(outcomes) == 64
    assert rejected, "a queue of 2 must turn most of 64 simultaneous requests away"
    assert accepted, "the requests the queue took must be answered"
    assert all(status == 503 and "queue" in error.lower() for status, _, error in rejected), kinds
