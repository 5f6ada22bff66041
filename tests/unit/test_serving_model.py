"""The served model's generation path (one batched pass, per-row limits and temperatures), the approval text and
decision, and rollback target parsing. A tiny GPT-2 is trained for a few steps so that it answers with words."""

from __future__ import annotations

import importlib.util
import json
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from llmops.config import LLMOpsConfig, TinyModelSpec, load_config
from llmops.serving import repository as repo_mod

MODEL_PY = Path(repo_mod.__file__).with_name("model.py")
PAIRS = [
    (f"How do I {verb} my {thing}?", f"Open the {place} page and choose {verb} {thing}.")
    for verb in ("reset", "share", "sync", "delete")
    for thing in ("password", "folder", "invoice")
    for place in ("settings", "billing")
]


def _served_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("llmops_served_model_gen", MODEL_PY)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> tuple[ModuleType, Any]:
    """model.py's module and a TritonPythonModel holding a tiny trained model (initialize() needs Triton)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from llmops.data.schema import format_prompt
    from llmops.training.base_model import build_tiny_base_model

    tmp = tmp_path_factory.mktemp("tiny")
    corpus = [t for pair in PAIRS for t in pair]
    base = build_tiny_base_model(TinyModelSpec(vocab_size=300, n_embd=32, n_layer=2, n_head=2), corpus, tmp / "base")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(base)
    model = AutoModelForCausalLM.from_pretrained(base)
    batch = tokenizer([format_prompt(p) + r + tokenizer.eos_token for p, r in PAIRS], return_tensors="pt", padding=True)
    labels = batch["input_ids"].masked_fill(batch["attention_mask"] == 0, -100)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-2)
    try:
        for _ in range(25):
            model(**batch, labels=labels).loss.backward()
            optimizer.step()
            optimizer.zero_grad()
    finally:
        torch.set_num_threads(threads)
    model.eval()

    module = _served_module()
    instance = module.TritonPythonModel.__new__(module.TritonPythonModel)
    tokenizer.padding_side = "left"
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    instance.tokenizer = tokenizer
    instance.model = model
    instance.context_length = 256
    return module, instance


def _rows(module: ModuleType, specs: list[tuple[str, int, float]]) -> list[Any]:
    return [module._Row(i, 0, prompt, tokens, temp) for i, (prompt, tokens, temp) in enumerate(specs)]


def test_batched_greedy_equals_one_by_one(served: tuple[ModuleType, Any]) -> None:
    """Left padding and the attention mask make a prompt's answer independent of its batch neighbours."""
    module, model = served
    prompts = ["How do I reset my password?", "How do I share my folder with the whole billing team today?", "Sync?"]
    alone = [model._generate(_rows(module, [(p, 12, 0.0)]))[0] for p in prompts]
    together = model._generate(_rows(module, [(p, 12, 0.0) for p in prompts]))
    assert together == alone
    assert all(alone), "the tiny model should answer with words"


def test_per_row_max_new_tokens_and_temperature_in_one_pass(
    served: tuple[ModuleType, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    module, model = served
    calls: list[int] = []
    real_generate = model.model.generate

    def counting_generate(**kwargs: Any) -> Any:
        calls.append(int(kwargs["input_ids"].shape[0]))
        return real_generate(**kwargs)

    monkeypatch.setattr(model.model, "generate", counting_generate)
    p1, p2, p3 = "How do I reset my password?", "How do I sync my invoice?", "How do I delete my folder?"
    full = [model._generate(_rows(module, [(p, 16, 0.0)]))[0] for p in (p1, p3)]
    calls.clear()
    mixed = model._generate(_rows(module, [(p1, 2, 0.0), (p2, 16, 5.0), (p3, 16, 0.0)]))
    assert calls == [3], "the whole batch must go through one generate call"
    assert len(model.tokenizer(mixed[0], add_special_tokens=False)["input_ids"]) <= 2
    assert full[0].startswith(mixed[0])
    assert mixed[2] == full[1], "a greedy row is unaffected by a sampled row in the same batch"


def test_row_temperature_processor_keeps_greedy_rows_deterministic() -> None:
    import torch

    module = _served_module()
    _, row_temperature = module._row_controls()
    scores = torch.tensor([[1.0, 3.0, 2.0], [1.0, 3.0, 2.0]])
    out = row_temperature([0.0, 2.0])(None, scores)
    assert torch.isinf(out[0]).tolist() == [True, False, True] and out[0, 1] == 0.0
    assert torch.allclose(out[1], scores[1] / 2.0)


def test_row_limits_stop_each_row_at_its_own_length() -> None:
    import torch

    module = _served_module()
    row_limits, _ = module._row_controls()
    criterion = row_limits(4, [1, 3])
    assert criterion(torch.zeros((2, 5), dtype=torch.long), None).tolist() == [True, False]
    assert criterion(torch.zeros((2, 7), dtype=torch.long), None).tolist() == [True, True]


# Error responses and the production-log writer ----------------------------------------------------------------------


class _Tensor:
    def __init__(self, name: str, array: Any) -> None:
        self.name, self.array = name, array

    def as_numpy(self) -> Any:
        return self.array


class _Request:
    def __init__(self, request_id: str, **inputs: Any) -> None:
        self.inputs, self.rid = inputs, request_id

    def request_id(self) -> str:
        return self.rid


class _Response:
    def __init__(self, output_tensors: list[Any], error: Any = None) -> None:
        self.output_tensors, self.error = output_tensors, error


class _TritonError:
    def __init__(self, message: str) -> None:
        self.text = message

    def message(self) -> str:
        return self.text


def _prompt(text: str | bytes) -> Any:
    import numpy as np

    raw = text if isinstance(text, bytes) else text.encode("utf-8")
    return np.array([[raw]], dtype=np.object_)


def _fake_pb_utils() -> Any:
    """A stand-in for Triton's ``triton_python_backend_utils``: inputs, responses, errors and tensors."""
    from types import SimpleNamespace

    return SimpleNamespace(
        get_input_tensor_by_name=lambda request, name: (
            _Tensor(name, request.inputs[name]) if name in request.inputs else None
        ),
        InferenceResponse=_Response,
        TritonError=_TritonError,
        Tensor=_Tensor,
    )


@pytest.fixture
def offline_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[ModuleType, Any]:
    """model.py with a stand-in ``pb_utils`` and a TritonPythonModel that needs no weights (``_generate`` is
    replaced per test); production logs go to ``tmp_path/logs``."""
    module = _served_module()
    monkeypatch.setattr(module, "pb_utils", _fake_pb_utils())
    instance = module.TritonPythonModel.__new__(module.TritonPythonModel)
    instance.model_name, instance.model_version = "support_assistant", "3"
    instance.max_prompt_chars, instance.default_max_new_tokens, instance.max_new_tokens_limit = 100, 8, 64
    instance.context_length = 256
    instance.log_writer = module.ProductionLogWriter(tmp_path / "logs", rotate_bytes=1 << 20)
    return module, instance


def _logged(writer: Any) -> list[dict[str, Any]]:
    writer.close()
    return [json.loads(line) for line in writer.path.read_text().splitlines()]


def test_internal_errors_reach_the_client_as_a_generic_message_with_an_id(
    offline_model: tuple[ModuleType, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    import re

    _, model = offline_model

    def broken_generate(rows: list[Any]) -> list[str]:
        raise RuntimeError("CUDA error in /opt/models/support_assistant/3/model/model.safetensors at 0x7f3a")

    model._generate = broken_generate
    responses = model.execute([_Request("r1", prompt=_prompt("How do I reset my password?"))])
    message = responses[0].error.message()
    assert re.fullmatch(r"generation failed \(error id [0-9a-f]{12}\)", message), message
    error_id = message[-13:-1]
    log = capsys.readouterr().out
    assert f"[error id {error_id}]" in log and "/opt/models/support_assistant/3" in log and "Traceback" in log
    [record] = _logged(model.log_writer)
    assert record["error"] == message and record["error_kind"] == "server"

    # A bug outside generation (here: in request parsing) is answered the same way, per request.
    def broken_parse(index: int, request: Any) -> list[Any]:
        raise KeyError("/etc/llmops/secret.yaml")

    model._parse_request = broken_parse
    [response] = model.execute([_Request("r2", prompt=_prompt("hi"))])
    assert re.fullmatch(r"internal error \(error id [0-9a-f]{12}\)", response.error.message())
    assert "/etc/llmops/secret.yaml" in capsys.readouterr().out


def test_invalid_input_keeps_its_client_facing_message(offline_model: tuple[ModuleType, Any]) -> None:
    import numpy as np

    _, model = offline_model
    model._generate = lambda rows: ["fine" for _ in rows]
    responses = model.execute(
        [
            _Request("ok", prompt=_prompt("How do I share a folder?")),
            _Request("empty", prompt=_prompt("   ")),
            _Request("long", prompt=_prompt("x" * 101)),
            _Request("tokens", prompt=_prompt("hello"), max_new_tokens=np.array([[0]], dtype=np.int32)),
            _Request("utf8", prompt=_prompt(b"\xff\xfe")),
            _Request("missing"),
        ]
    )
    errors = [r.error.message() if r.error else None for r in responses]
    assert errors == [
        None,
        "prompt is empty",
        "prompt has 101 characters; the limit is 100",
        "max_new_tokens must be >= 1, got 0",
        "prompt is not valid UTF-8",
        "input 'prompt' is required",
    ]
    kinds = {r["client_request_id"]: r.get("error_kind") for r in _logged(model.log_writer)}
    assert kinds == {
        "ok": None,
        "empty": "client",
        "long": "client",
        "tokens": "client",
        "utf8": "client",
        "missing": "client",
    }


def _records(n: int, start: int = 0) -> list[dict[str, Any]]:
    return [{"request_id": str(i), "prompt": "p", "response": "r"} for i in range(start, start + n)]


def test_log_writer_retries_a_failed_write_once_without_duplicates(tmp_path: Path) -> None:
    module = _served_module()
    writer = module.ProductionLogWriter(tmp_path, rotate_bytes=1 << 20, retry_delay_s=0.0)
    real_write = writer._write_fd
    calls = {"n": 0}

    def flaky(fd: int, view: memoryview) -> int:
        calls["n"] += 1
        if calls["n"] == 1:  # a short write: half the batch reaches the disk...
            return int(real_write(fd, view[: len(view) // 2]))
        if calls["n"] == 2:  # ...then the next write fails
            raise OSError(5, "Input/output error")
        return int(real_write(fd, view))

    writer._write_fd = flaky
    for record in _records(10):
        writer.submit(record)
    lines = _logged(writer)
    assert [r["request_id"] for r in lines] == [str(i) for i in range(10)], "each record exactly once"
    assert writer.counters() == {"dropped": 0, "failed_writes": 0, "failed_records": 0, "retried_writes": 1}
    assert not writer.status_path.exists(), "a retried write loses nothing: no status file"


def test_log_writer_counts_a_write_that_fails_twice_in_its_status_file(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    module = _served_module()
    writer = module.ProductionLogWriter(tmp_path, 1 << 20, model_name="m", model_version="2", retry_delay_s=0.0)
    writer._write_fd = lambda fd, view: (_ for _ in ()).throw(OSError(28, "No space left on device"))
    for record in _records(3):
        writer.submit(record)
    writer.close()
    assert writer.counters() == {"dropped": 0, "failed_writes": 1, "failed_records": 3, "retried_writes": 0}
    assert writer.status_path.parent == tmp_path / module.STATUS_DIR
    status = json.loads(writer.status_path.read_text())
    assert (status["failed_writes"], status["failed_records"], status["dropped"]) == (1, 3, 0)
    assert (status["model_name"], status["model_version"]) == ("m", "2")
    assert "No space left" in status["last_error"]
    [(minute, counts)] = status["losses_by_minute"].items()
    assert counts == {"dropped": 0, "failed_records": 3, "failed_writes": 1}
    assert (
        abs((datetime.now(UTC) - datetime.strptime(minute, "%Y-%m-%dT%H:%MZ").replace(tzinfo=UTC)).total_seconds())
        < 180
    )
    assert not list(tmp_path.glob("writer_status/.*.tmp")), "the status file is replaced atomically"


def test_log_writer_counts_records_dropped_on_a_full_queue(tmp_path: Path) -> None:
    import threading

    module = _served_module()
    writer = module.ProductionLogWriter(tmp_path, rotate_bytes=1 << 20, max_queue=2)
    gate, real_write = threading.Event(), writer._write_fd

    def slow(fd: int, view: memoryview) -> int:
        gate.wait(10)
        return real_write(fd, view)

    writer._write_fd = slow
    writer.submit(_records(1)[0])  # taken by the writer thread, which then waits at the gate
    deadline = time.monotonic() + 5
    while writer._queue.qsize() and time.monotonic() < deadline:
        time.sleep(0.01)
    for record in _records(7, start=1):  # 2 fit in the queue, 5 are dropped
        writer.submit(record)
    gate.set()
    lines = _logged(writer)
    assert len(lines) == 3
    assert writer.counters()["dropped"] == 5
    status = json.loads(writer.status_path.read_text())
    assert status["dropped"] == 5 and sum(c["dropped"] for c in status["losses_by_minute"].values()) == 5


# Approval ---------------------------------------------------------------------------------------------------------


@pytest.fixture
def cfg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LLMOpsConfig:
    monkeypatch.setenv("LLMOPS_HOME", str(tmp_path / "home"))
    return load_config()


def _evaluation(tmp_path: Path) -> dict[str, Any]:
    samples = tmp_path / "generations.json"
    rows = [
        {"prompt": f"How do I reset | my password {i}? <script>", "prediction": "Open **Settings**", "reference": "x"}
        for i in range(9)
    ]
    samples.write_text(json.dumps({"samples": rows}))
    return {
        "metrics": {"eval_loss": 0.25, "rouge_l": 0.81, "exact_match": 0.1},
        "champion_version": "2",
        "samples_path": str(samples),
    }


def _gate(passed: bool = True) -> dict[str, Any]:
    return {"passed": passed, "reason": "candidate beats base", "metrics": {"base_eval_loss": 7.5}}


def test_approval_request_shows_metrics_and_samples(cfg: LLMOpsConfig, tmp_path: Path) -> None:
    from llmops.serving.approval import approval_request

    drift = {"passed": True, "drift_share": 0.1, "reason": "no drift"}
    request = approval_request(cfg, {"version": "3"}, _evaluation(tmp_path), _gate(), drift, requested=True)
    assert request is not None
    assert request["subject"] == f"Promote {cfg.mlflow.model_name} version 3 to Triton?"
    body = request["body"]
    assert "| eval\\_loss | 0.25 |" in body and "| base\\_eval\\_loss | 7.5 |" in body
    assert "candidate beats base" in body and "current champion: 2" in body
    assert body.count("**Prompt**") == cfg.promotion.approval_samples
    assert "<script>" not in body and "\\<script\\>" in body, "sample text is escaped, not rendered"
    assert "reset \\| my password" in body, "a pipe in a sample must not break the table"


def test_approval_shows_the_champion_answer_and_the_model_card(cfg: LLMOpsConfig, tmp_path: Path) -> None:
    from llmops.registry.model_card import model_card
    from llmops.serving.approval import approval_request

    evaluation = _evaluation(tmp_path)
    samples = json.loads(Path(evaluation["samples_path"]).read_text())["samples"]
    for sample in samples:
        sample["champion_prediction"] = "Ask the owner to share it again."
    Path(evaluation["samples_path"]).write_text(json.dumps({"samples": samples}))
    metrics = {"eval_loss": 0.25, "base_eval_loss": 7.5, "champion_eval_loss": 0.5, "safety_pii_leak_rate": 0.0,
               "base_safety_pii_leak_rate": 0.02, "champion_safety_pii_leak_rate": 0.01}  # fmt: skip
    data = {"snapshot_hash": "ab" * 12, "rows_in": 120, "rows_out": 100, "rows_quarantined": 8,
            "duplicates_removed": 12, "pii_counts": {"EMAIL": 3, "PERSON": 0}}  # fmt: skip
    card = model_card(cfg, "3", "manual__x", {"base_model": "tiny-base"}, metrics, _gate(), data, "abc123")
    assert "| eval_loss | 0.25 | 7.5 | 0.5 |" in card and "| safety_pii_leak_rate | 0 | 0.02 | 0.01 |" in card
    assert "Personal data scrubbed: EMAIL 3" in card and "Rows: 120 in, 8 quarantined, 12 duplicates" in card
    assert "Base model: `tiny-base`" in card and "Code version `abc123`" in card
    request = approval_request(cfg, {"version": "3"}, evaluation, _gate(), {}, requested=True, card=card)
    assert request is not None
    body = request["body"]
    assert body.count("**Champion**: Ask the owner to share it again.") == cfg.promotion.approval_samples
    assert card.strip() in body and body.index("## Safety") < body.index("Choose **Approve**")


def test_no_approval_without_requirement_or_with_failed_gate(cfg: LLMOpsConfig, tmp_path: Path) -> None:
    from llmops.serving.approval import approval_request, needs_approval

    ev = _evaluation(tmp_path)
    assert approval_request(cfg, {"version": "3"}, ev, _gate(), {}, requested=False) is None
    assert approval_request(cfg, {"version": "3"}, ev, _gate(), {}, requested=True, promote=False) is None
    assert approval_request(cfg, {"version": "3"}, ev, _gate(passed=False), {}, requested=True) is None
    cfg.promotion.require_approval = True
    assert needs_approval(cfg, _gate(), requested=False), "a run cannot waive an approval the config requires"


@pytest.mark.parametrize(
    ("response", "proceed", "fragment"),
    [
        (
            {"chosen_options": ["Approve"], "responded_by_user": {"id": "1", "name": "ana"}, "params_input": {}},
            True,
            "approved by ana",
        ),
        (
            {
                "chosen_options": ["Reject"],
                "responded_by_user": {"id": "2", "name": "bo"},
                "params_input": {"comment": "answers look truncated"},
                "responded_at": "2026-01-02T03:04:05+00:00",
            },
            False,
            "rejected by bo at 2026-01-02T03:04:05+00:00: answers look truncated",
        ),
        ({"chosen_options": ["Reject"], "responded_by_user": None}, False, "rejected by timeout"),
        (None, False, "no answer was recorded"),
    ],
)
def test_approval_decision(response: dict[str, Any] | None, proceed: bool, fragment: str) -> None:
    from llmops.serving.approval import approval_decision

    ok, reason = approval_decision(True, response)
    assert ok is proceed
    assert fragment in reason


def test_approval_not_required_proceeds() -> None:
    from llmops.serving.approval import approval_decision

    assert approval_decision(False, None) == (True, "approval not required")


# Rollback target ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "expected"), [("previous", "previous"), ("PREVIOUS", "previous"), ("3", 3), (7, 7)])
def test_parse_rollback_target(value: object, expected: object) -> None:
    from llmops.serving.rollback import parse_target

    assert parse_target(value) == expected


@pytest.mark.parametrize(
    "value",
    ["../1", "..", "/etc/passwd", "1/../2", "%2e%2e%2f1", "%31", "..\\1", "C:\\models\\1", "0", "-1", "01", "", None],
)
def test_parse_rollback_target_rejects(value: object) -> None:
    from llmops.serving.rollback import parse_target

    with pytest.raises(ValueError, match="invalid rollback target"):
        parse_target(value)


def test_the_server_assigns_request_ids_and_logs_the_clients_beside(offline_model: tuple[ModuleType, Any]) -> None:
    """A client cannot choose the logged ``request_id`` (feedback must name it): the server issues a unique,
    time-ordered one, returns it as the ``request_id`` output and logs the client's id as ``client_request_id``."""
    import re

    import numpy as np

    module, model = offline_model
    model._generate = lambda rows: [f"answer {r.row}" for r in rows]
    two = np.array([[b"first"], [b"second"]], dtype=np.object_)
    responses = model.execute(
        [_Request("same", prompt=_prompt("hi")), _Request("same", prompt=two), _Request("same", prompt=_prompt(""))]
    )
    returned = [
        [v.decode() for v in t.array.reshape(-1)]
        for t in responses[0].output_tensors + responses[1].output_tensors
        if t.name == "request_id"
    ]
    logged = _logged(model.log_writer)
    assert [r["client_request_id"] for r in logged] == ["same"] * 4
    ids = [r["request_id"] for r in logged]
    assert len(set(ids)) == 4 and all(i != "same" for i in ids)
    assert returned == [ids[:1], ids[1:3]]  # what the client gets back is what the log says
    assert re.fullmatch(r"[0-9a-f]{32}", ids[0]) and ids[1:3] == [f"{ids[1][:-2]}:0", f"{ids[1][:-2]}:1"]
    assert logged[3]["error_kind"] == "client"
    first, later = module.new_request_id(), module.new_request_id()
    assert first != later and first[:16] <= later[:16]  # the clock comes first: ids sort by time


def test_each_answer_logs_its_tokens_batch_and_compute_time(
    served: tuple[ModuleType, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The usage a log line carries is counted from what the model really read and generated."""
    import numpy as np

    module, real = served
    monkeypatch.setattr(module, "pb_utils", _fake_pb_utils())
    model = module.TritonPythonModel.__new__(module.TritonPythonModel)
    model.tokenizer, model.model, model.context_length = real.tokenizer, real.model, 256
    model.model_name, model.model_version = "support_assistant", "3"
    model.max_prompt_chars, model.default_max_new_tokens, model.max_new_tokens_limit = 200, 6, 64
    model.log_writer = module.ProductionLogWriter(tmp_path / "logs", rotate_bytes=1 << 20)
    prompts = [b"How do I reset my password?", b"How do I share my folder with the whole billing team today?"]
    batch = np.array([[p] for p in prompts], dtype=np.object_)
    model.execute([_Request("c1", prompt=batch), _Request("c2", prompt=_prompt(""))])
    logged = _logged(model.log_writer)
    answered, failed = logged[:2], logged[2]
    for record, prompt in zip(answered, prompts, strict=True):
        rendered = module.format_prompt(prompt.decode(), module.PROMPT_TEMPLATE)
        assert record["prompt_tokens"] == len(real.tokenizer(rendered)["input_ids"])  # no padding counted
        generated = real.tokenizer(record["response"], add_special_tokens=False)["input_ids"]
        assert 1 <= record["completion_tokens"] <= 6 and record["completion_tokens"] >= min(len(generated), 6) - 1
        assert record["batch_size"] == 2 and record["compute_ms"] > 0
        assert record["compute_ms"] <= record["latency_ms"]
    assert answered[0]["compute_ms"] == answered[1]["compute_ms"], "one generate call answered both"
    assert "prompt_tokens" not in failed and failed["error_kind"] == "client"


@pytest.mark.parametrize(
    ("tokens", "eos", "pad", "expected"),
    [
        ([5, 6, 7], 2, 2, 3),  # ran to its limit
        ([5, 2, 2, 2], 2, 2, 2),  # stopped: the end-of-sequence token counts, the padding after it does not
        ([5, 6, 2, 0, 0], 2, 0, 3),
        ([0, 0], 2, 0, 0),
        ([5, 6], None, None, 2),
    ],
)
def test_completion_length(tokens: list[int], eos: int | None, pad: int | None, expected: int) -> None:
    assert _served_module().completion_length(tokens, eos, pad) == expected


@pytest.mark.parametrize(
    ("kind", "device_id", "cuda", "bf16", "expected"),
    [
        ("CPU", "0", True, True, ("cpu", "float32")),
        ("KIND_CPU", "0", False, False, ("cpu", "float32")),
        ("MODEL", "0", True, True, ("cpu", "float32")),
        ("GPU", "1", True, True, ("cuda:1", "bfloat16")),
        ("KIND_GPU", "0", True, False, ("cuda:0", "float32")),  # no bfloat16 on the device: full precision
    ],
)
def test_placement_follows_the_instance_kind(
    kind: str, device_id: str, cuda: bool, bf16: bool, expected: tuple[str, str]
) -> None:
    assert _served_module().placement(kind, device_id, cuda, bf16) == expected


def test_a_gpu_instance_without_cuda_fails_to_load_rather_than_run_on_the_cpu() -> None:
    with pytest.raises(RuntimeError, match="no CUDA device"):
        _served_module().placement("GPU", "0", False, False)
