"""Who may call which Triton API: the container entrypoint's restricted-API flags, the local stack's key and flags,
and the client's key header."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

from llmops.config import LLMOpsConfig, load_config
from llmops.serving.server import RESTRICTED_APIS, is_loopback, restricted_api_args, validate_control_key

SCRIPT = Path(__file__).resolve().parents[2] / "docker" / "triton-start.sh"
KEY = "k3y-0f-the_control.plane~ABC+/xyz"
FAKE_TRITONSERVER = """#!/bin/sh
# Stand-in for tritonserver: one argument per line, then what it sees of the key in its environment.
for arg in "$@"; do printf 'ARG %s\\n' "$arg"; done
printf 'ENV %s\\n' "${LLMOPS_TRITON_CONTROL_KEY:-unset}"
"""


def _run(tmp_path: Path, env: dict[str, str], *command: str) -> subprocess.CompletedProcess[str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    fake = bin_dir / "tritonserver"
    fake.write_text(FAKE_TRITONSERVER)
    fake.chmod(0o755)
    base = {"PATH": f"{bin_dir}:/usr/bin:/bin", "LLMOPS_TRITON_REPOSITORY": str(tmp_path / "models")}
    args = command or ("tritonserver", "--model-repository=/models", "--model-control-mode=explicit")
    return subprocess.run(["sh", str(SCRIPT), *args], env={**base, **env}, capture_output=True, text=True, timeout=30)


def _args(out: subprocess.CompletedProcess[str]) -> list[str]:
    return [line[4:] for line in out.stdout.splitlines() if line.startswith("ARG ")]


def test_entrypoint_restricts_every_non_inference_api_with_the_key_from_the_environment(tmp_path: Path) -> None:
    out = _run(tmp_path, {"LLMOPS_TRITON_CONTROL_KEY": KEY})
    assert out.returncode == 0, out.stderr
    args = _args(out)
    assert args[:2] == ["--model-repository=/models", "--model-control-mode=explicit"]
    rule = f"{','.join(RESTRICTED_APIS)}:triton-model-control-key={KEY}"
    assert f"--http-restricted-api={rule}" in args
    assert f"--grpc-restricted-protocol={rule}" in args
    restricted = set(rule.split(":")[0].split(","))
    assert restricted == {
        "model-repository",
        "model-config",
        "metadata",
        "statistics",
        "shared-memory",
        "trace",
        "logging",
    }
    assert not restricted & {"health", "inference"}, "probes and clients stay open"
    assert "ENV unset" in out.stdout, "tritonserver does not inherit the key variable"
    assert not any(a.startswith("--load-model") for a in args), "no config: no champion to load"


def test_entrypoint_reads_a_key_file_and_a_custom_header_and_loads_the_champion(tmp_path: Path) -> None:
    secret = tmp_path / "triton_control_key"
    secret.write_text(KEY + "\n")
    (tmp_path / "models" / "support_assistant").mkdir(parents=True)
    (tmp_path / "models" / "support_assistant" / "config.pbtxt").write_text('name: "support_assistant"')
    env = {"LLMOPS_TRITON_CONTROL_KEY_FILE": str(secret), "LLMOPS_TRITON_CONTROL_HEADER": "x-llmops-key"}
    out = _run(tmp_path, env)
    assert out.returncode == 0, out.stderr
    args = _args(out)
    assert f"--http-restricted-api={','.join(RESTRICTED_APIS)}:x-llmops-key={KEY}" in args
    assert args[-1] == "--load-model=support_assistant"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "no control key"),
        ({"LLMOPS_TRITON_CONTROL_KEY": ""}, "no control key"),
        ({"LLMOPS_TRITON_CONTROL_KEY_FILE": "/nonexistent/key"}, "not a readable file"),
        ({"LLMOPS_TRITON_CONTROL_KEY": "short"}, "at least 16"),
        ({"LLMOPS_TRITON_CONTROL_KEY": "a" * 20 + ":inference"}, "may only hold"),
        ({"LLMOPS_TRITON_CONTROL_KEY": "a" * 20 + ",x=y"}, "may only hold"),
        ({"LLMOPS_TRITON_CONTROL_KEY": KEY, "LLMOPS_TRITON_CONTROL_HEADER": "bad header"}, "CONTROL_HEADER"),
    ],
)
def test_entrypoint_refuses_to_start_without_a_usable_key(tmp_path: Path, env: dict[str, str], message: str) -> None:
    out = _run(tmp_path, env)
    assert out.returncode != 0
    assert message in out.stderr
    assert "ARG" not in out.stdout, "tritonserver must not run"


def test_entrypoint_refuses_restricted_api_flags_on_the_command_line(tmp_path: Path) -> None:
    out = _run(
        tmp_path,
        {"LLMOPS_TRITON_CONTROL_KEY": KEY},
        "tritonserver",
        "--http-restricted-api=model-repository:triton-model-control-key=in-the-compose-file",
    )
    assert out.returncode != 0 and "remove --http-restricted-api" in out.stderr
    assert "in-the-compose-file" not in out.stderr, "the key on the command line is not echoed"
    assert "ARG" not in out.stdout


def test_empty_key_file_is_refused(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.write_text("\n")
    out = _run(tmp_path, {"LLMOPS_TRITON_CONTROL_KEY_FILE": str(empty)})
    assert out.returncode != 0 and "no control key" in out.stderr


# The local stack --------------------------------------------------------------------------------------------------


def test_restricted_api_args_cover_http_and_grpc() -> None:
    http, grpc = restricted_api_args("triton-model-control-key", KEY)
    assert http == f"--http-restricted-api={','.join(RESTRICTED_APIS)}:triton-model-control-key={KEY}"
    assert grpc == f"--grpc-restricted-protocol={','.join(RESTRICTED_APIS)}:triton-model-control-key={KEY}"
    for bad in ("", "short", "x" * 15, "a" * 20 + "=", "a" * 20 + ":", "a" * 20 + " ", "a" * 257):
        with pytest.raises(ValueError, match="invalid Triton control key") as info:
            validate_control_key(bad)
        assert not bad or bad not in str(info.value), "the message never shows the key"
    with pytest.raises(ValueError, match="control header"):
        restricted_api_args("bad header", KEY)


def test_local_triton_command_binds_loopback_and_restricts_with_the_key(tmp_path: Path) -> None:
    from llmops.serving.server import TritonPorts, TritonServer

    server = TritonServer.__new__(TritonServer)
    server.install = type("Install", (), {"binary": Path("/x/tritonserver")})()  # type: ignore[assignment]
    server.backend_dir, server.exit_timeout_s = tmp_path / "backends", 5
    cmd = server.command(tmp_path / "repo", TritonPorts(1, 2, 3), control=("triton-model-control-key", KEY))
    assert {"--http-address=127.0.0.1", "--grpc-address=127.0.0.1", "--metrics-address=127.0.0.1"} <= set(cmd)
    assert restricted_api_args("triton-model-control-key", KEY) == [
        a for a in cmd if a.startswith(("--http-restricted", "--grpc-restricted"))
    ]
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1")
    assert not is_loopback("0.0.0.0") and not is_loopback("10.0.0.5") and not is_loopback("triton")


@pytest.fixture
def cfg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LLMOpsConfig:
    monkeypatch.setenv("LLMOPS_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("LLMOPS_TRITON_CONTROL_KEY", raising=False)
    monkeypatch.delenv("LLMOPS_TRITON_CONTROL_KEY_FILE", raising=False)
    return load_config()


def test_stack_generates_one_key_in_a_private_file_and_keeps_it(
    cfg: LLMOpsConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    from llmops.stack import manager

    key = manager.triton_control_key(cfg)
    path = manager.triton_key_file(cfg)
    assert validate_control_key(key) == key and len(key) >= 32
    assert path.read_text().strip() == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert manager.triton_control_key(cfg) == key, "a restart keeps the key"
    topology = manager.Topology(triton_control_key=KEY)
    assert manager.triton_control_key(cfg, topology) == KEY and path.read_text().strip() == KEY
    monkeypatch.setenv("LLMOPS_TRITON_CONTROL_KEY", "x" * 8)
    with pytest.raises(ValueError, match="invalid Triton control key"):
        manager.triton_control_key(cfg)


def test_stack_gives_tasks_the_key_file_not_the_key(cfg: LLMOpsConfig, monkeypatch: pytest.MonkeyPatch) -> None:
    from llmops.serving.client import control_key_from_env
    from llmops.stack import manager

    monkeypatch.setenv("LLMOPS_TRITON_CONTROL_KEY", KEY)
    env = manager.airflow_env(cfg)
    assert "LLMOPS_TRITON_CONTROL_KEY" not in env
    assert env["LLMOPS_TRITON_CONTROL_KEY_FILE"] == str(manager.triton_key_file(cfg))
    assert control_key_from_env({"LLMOPS_TRITON_CONTROL_KEY_FILE": env["LLMOPS_TRITON_CONTROL_KEY_FILE"]}) == KEY
    assert KEY not in " ".join(f"{k}={v}" for k, v in env.items())


def test_stack_refuses_a_non_loopback_triton_host(cfg: LLMOpsConfig) -> None:
    from llmops.stack import manager

    cfg.triton.host = "0.0.0.0"
    with pytest.raises(ValueError, match="loopback"):
        manager.start_triton(cfg)


# The client -------------------------------------------------------------------------------------------------------


def test_client_key_comes_from_the_variable_or_the_file(tmp_path: Path) -> None:
    from llmops.serving.client import TritonClientError, control_key_from_env

    key_file = tmp_path / "key"
    key_file.write_text(KEY + "\n")
    os.chmod(key_file, 0o600)
    assert control_key_from_env({}) is None
    assert control_key_from_env({"LLMOPS_TRITON_CONTROL_KEY_FILE": str(key_file)}) == KEY
    both = {"LLMOPS_TRITON_CONTROL_KEY": "from-env-" + "x" * 10, "LLMOPS_TRITON_CONTROL_KEY_FILE": str(key_file)}
    assert control_key_from_env(both) == both["LLMOPS_TRITON_CONTROL_KEY"]
    with pytest.raises(TritonClientError, match="control key file"):
        control_key_from_env({"LLMOPS_TRITON_CONTROL_KEY_FILE": str(tmp_path / "missing")})


def test_client_sends_the_key_on_restricted_calls_only(monkeypatch: pytest.MonkeyPatch) -> None:
    from llmops.serving.client import TritonClient

    seen: dict[str, object] = {}

    class Recorder:
        def __getattr__(self, name: str) -> object:
            def call(*args: object, **kwargs: object) -> object:
                seen[name] = kwargs.get("headers")
                if name == "get_inference_statistics":
                    return {"model_stats": [{"inference_count": 1, "execution_count": 1}]}
                if name == "get_model_repository_index":
                    return []
                return True

            return call

    client = TritonClient("127.0.0.1:1", control_key=KEY)
    client._client = Recorder()  # type: ignore[assignment]
    client.repository_index()
    client.load_model("m")
    client.unload_model("m")
    client.model_statistics("m", "1")
    client.is_model_ready("m", "1")
    client.server_ready()
    header = {"triton-model-control-key": KEY}
    for restricted in ("get_model_repository_index", "load_model", "unload_model", "get_inference_statistics"):
        assert seen[restricted] == header, restricted
    for open_call in ("is_model_ready", "is_server_ready"):
        assert seen[open_call] is None, open_call
    anonymous = TritonClient("127.0.0.1:1", control_key="")
    assert anonymous._control_headers is None
