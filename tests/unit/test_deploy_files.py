"""The container deployment files: the services the topology needs, and no secret with a default."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

DOCKER = Path(__file__).resolve().parents[2] / "docker"
SECRETS = {
    "POSTGRES_PASSWORD",
    "AIRFLOW_DB_PASSWORD",
    "MLFLOW_DB_PASSWORD",
    "REDIS_PASSWORD",
    "AIRFLOW_ADMIN_USER",
    "AIRFLOW_ADMIN_PASSWORD",
    "AIRFLOW_FERNET_KEY",
    "AIRFLOW_API_SECRET_KEY",
    "AIRFLOW_JWT_SECRET",
    "TRITON_CONTROL_KEY",
    "MLFLOW_SERVICE_PASSWORD",
    "MLFLOW_READONLY_PASSWORD",
    "MLFLOW_FLASK_SECRET_KEY",
}


def _compose() -> dict:
    return yaml.safe_load((DOCKER / "docker-compose.yml").read_text())


def test_compose_has_the_topology() -> None:
    services = _compose()["services"]
    assert {
        "postgres",
        "redis",
        "airflow-init",
        "airflow-api-server",
        "airflow-scheduler",
        "airflow-dag-processor",
        "airflow-triggerer",
        "airflow-worker-default",
        "airflow-worker-training",
        "mlflow",
        "triton",
    } <= set(services)
    assert services["airflow-worker-training"]["command"][:4] == ["celery", "worker", "--queues", "training"]
    assert services["airflow-worker-default"]["command"][:4] == ["celery", "worker", "--queues", "default"]
    for name in ("airflow-scheduler", "airflow-worker-training"):
        assert services[name]["environment"]["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert services["airflow-scheduler"]["environment"]["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith(
        "postgresql+psycopg2://"
    )
    assert services["mlflow"]["environment"]["MLFLOW_BACKEND_STORE_URI"].startswith("postgresql://")
    assert "--serve-artifacts" in " ".join(services["mlflow"]["command"])
    assert "--model-control-mode=explicit" in services["triton"]["command"]
    # workers write the model repository, Triton reads it
    assert "triton-models:/models:ro" in services["triton"]["volumes"]
    assert "triton-models:/models" in services["airflow-worker-default"]["volumes"]


def test_no_secret_has_a_default() -> None:
    text = (DOCKER / "docker-compose.yml").read_text()
    for name in SECRETS:
        uses = re.findall(r"\$\{" + name + r"(:?[?-][^}]*)?\}", text)
        assert uses, f"{name} is not used"
        assert not any(u.startswith((":-", "-")) for u in uses), f"{name} has a default value"
        assert any(u.startswith(":?") for u in uses), f"{name} is not required"
    env_example = (DOCKER / ".env.example").read_text().splitlines()
    values = dict(line.split("=", 1) for line in env_example if line and not line.startswith("#"))
    assert set(values) == SECRETS
    assert all(v == "" for v in values.values()), "the example env file must not carry values"
    assert "admin:admin" not in text.lower()


def test_triton_restarts_healthy_with_the_champion_loaded(tmp_path: Path) -> None:
    import subprocess

    services = _compose()["services"]
    triton = services["triton"]
    assert triton["restart"] == "unless-stopped"
    assert "http://localhost:8000/v2/health/ready" in " ".join(triton["healthcheck"]["test"])
    assert triton["depends_on"]["serving-reconcile"] == {"condition": "service_completed_successfully"}
    reconcile = services["serving-reconcile"]
    assert reconcile["entrypoint"][:3] == ["python", "-m", "llmops.serving.reconcile"]
    assert "--repository-only" in reconcile["entrypoint"]
    assert "triton-start.sh" in triton["entrypoint"][0]
    assert "COPY docker/triton-start.sh" in (DOCKER / "triton.Dockerfile").read_text()

    # The entrypoint adds --load-model only when the model has a config (there is a champion to load).
    env = {"LLMOPS_TRITON_REPOSITORY": str(tmp_path), "LLMOPS_TRITON_MODEL": "support_assistant"}
    env["PATH"] = "/usr/bin:/bin"
    env["LLMOPS_TRITON_CONTROL_KEY"] = "k" * 32
    script = str(DOCKER / "triton-start.sh")
    first = subprocess.run(["sh", script, "echo", "tritonserver"], env=env, capture_output=True, text=True, check=True)
    assert first.stdout.split()[0] == "tritonserver"
    assert not any(a.startswith("--load-model") for a in first.stdout.split())
    (tmp_path / "support_assistant").mkdir()
    (tmp_path / "support_assistant" / "config.pbtxt").write_text("name: 'support_assistant'")
    later = subprocess.run(["sh", script, "echo", "tritonserver"], env=env, capture_output=True, text=True, check=True)
    assert later.stdout.split()[-1] == "--load-model=support_assistant"
    # every category a client does not need is behind the key, on HTTP and gRPC
    args = {a.split("=", 1)[0]: a.split("=", 1)[1] for a in later.stdout.split() if "restricted" in a}
    for flag in ("--http-restricted-api", "--grpc-restricted-protocol"):
        categories, _, key = args[flag].partition(":")
        assert {"model-repository", "model-config", "shared-memory", "statistics", "trace", "logging"} <= set(
            categories.split(",")
        )
        assert key == "triton-model-control-key=" + "k" * 32
    # no key: Triton does not start with its control plane open
    del env["LLMOPS_TRITON_CONTROL_KEY"]
    refused = subprocess.run(["sh", script, "echo", "tritonserver"], env=env, capture_output=True, text=True)
    assert refused.returncode != 0 and "no control key" in refused.stderr
    assert not refused.stdout


def _strings(node: object) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, list):
        return [s for item in node for s in _strings(item)]
    if isinstance(node, dict):
        return [s for item in node.values() for s in _strings(item)]
    return []


def test_only_two_ports_are_published_and_on_loopback_by_default() -> None:
    services = _compose()["services"]
    published = {name: svc["ports"] for name, svc in services.items() if svc.get("ports")}
    assert set(published) == {"airflow-api-server", "triton"}, published
    for name, ports in published.items():
        assert len(ports) == 1, (name, ports)
        assert re.fullmatch(r"\$\{[A-Z_]+_BIND:-127\.0\.0\.1\}:\$\{[A-Z_]+:-\d+\}:(8080|8000)", ports[0]), ports
    assert "expose" not in services["mlflow"] and "ports" not in services["mlflow"]


def test_no_secret_on_a_command_line() -> None:
    """Passwords and keys reach services through their environment, never through command or entrypoint."""
    services = _compose()["services"]
    for name, svc in services.items():
        for text in _strings([svc.get("command", []), svc.get("entrypoint", [])]):
            assert not re.search(r"://[^/\s@]*:[^/\s@]+@", text), (name, text)  # user:password@host
            assert not re.search(r"\$\{[A-Z_]*(PASSWORD|KEY|SECRET)", text), (name, text)
            assert "--password" not in text and "--requirepass" not in text, (name, text)
        for check in _strings(svc.get("healthcheck", {}).get("test", [])):
            assert not re.search(r"redis-cli\s+-a\b", check), (name, check)


def test_least_privilege() -> None:
    services = _compose()["services"]
    withheld = {"AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "AIRFLOW__CORE__FERNET_KEY", "AIRFLOW__API_AUTH__JWT_SECRET"}
    for name in ("airflow-worker-default", "airflow-worker-training", "serving-reconcile"):
        env = services[name]["environment"]
        assert not withheld & set(env), (name, withheld & set(env))
        assert env["AIRFLOW__CELERY__RESULT_BACKEND"].startswith("redis://"), name
    for name in ("airflow-scheduler", "airflow-api-server", "airflow-dag-processor", "airflow-triggerer"):
        assert withheld <= set(services[name]["environment"]), name
    # only the worker that promotes and rolls back holds the Triton key
    holders = {n for n, svc in services.items() if "LLMOPS_TRITON_CONTROL_KEY" in (svc.get("environment") or {})}
    assert holders == {"airflow-worker-default", "triton"}, holders
    # Triton: non-root, model repository read-only, only the production logs writable, no state volume
    triton = services["triton"]
    assert triton["user"].split(":")[0] not in ("0", "root")
    assert triton["read_only"] is True
    writable = [v for v in triton["volumes"] if not v.endswith(":ro")]
    assert writable == ["prod-logs:/var/lib/llmops/prod_logs"], triton["volumes"]
    assert not any(v.startswith("llmops-state") for v in triton["volumes"])
    for name, svc in services.items():
        if str(svc.get("image", "")).startswith("airflow-llmops") or ("build" in svc and "triton" not in name):
            assert svc.get("user", "50000:0").split(":")[0] not in ("0", "root"), name


def test_authentication_everywhere() -> None:
    services = _compose()["services"]
    core = services["airflow-api-server"]["environment"]
    assert core["AIRFLOW__CORE__AUTH_MANAGER"].endswith("fab_auth_manager.FabAuthManager")
    assert "SIMPLE_AUTH_MANAGER" not in (DOCKER / "docker-compose.yml").read_text()
    assert services["airflow-init"]["command"][-1].strip().endswith("python -m llmops_airflow.accounts")
    mlflow = services["mlflow"]
    assert "--app-name basic-auth" in " ".join(mlflow["command"])
    assert mlflow["environment"]["MLFLOW_AUTH_ADMIN_USERNAME"] == "llmops"
    for name, svc in services.items():
        env = svc.get("environment") or {}
        if "MLFLOW_TRACKING_URI" in env or name == "mlflow":
            if name != "mlflow-accounts":
                assert env.get("MLFLOW_ALLOW_PICKLE_DESERIALIZATION") == "false", name
            assert name == "mlflow" or env.get("MLFLOW_TRACKING_USERNAME"), name
    assert "MLFLOW_ALLOW_PICKLE_DESERIALIZATION=false" in (DOCKER / "Dockerfile").read_text()


def test_triton_image_has_the_published_fixes() -> None:
    """25.07 fixed the unauthenticated RCE chain in the HTTP frontend and the Python backend (docs/security.md)."""
    text = (DOCKER / "triton.Dockerfile").read_text()
    tag = re.search(r"nvcr\.io/nvidia/tritonserver:(\d+)\.(\d+)-py3", text)
    assert tag, text
    assert (int(tag.group(1)), int(tag.group(2))) >= (25, 7)
    assert re.search(r"^USER\s+(?!root\b|0\b)\S+", text, re.M), "Triton must not run as root"
    security = (DOCKER.parent / "docs" / "security.md").read_text()
    assert f"{tag.group(1)}.{tag.group(2)}" in security


def test_compose_config_is_valid(tmp_path: Path) -> None:
    """`docker compose config` accepts the file with every secret set (where a compose plugin exists)."""
    import shutil
    import subprocess

    import pytest

    docker = shutil.which("docker")
    if docker is None or subprocess.run([docker, "compose", "version"], capture_output=True).returncode != 0:
        pytest.skip("no docker compose plugin here; the structural tests above cover the file")
    env_file = tmp_path / ".env"
    env_file.write_text("".join(f"{name}=x{i:02d}-placeholder-value\n" for i, name in enumerate(sorted(SECRETS))))
    out = subprocess.run(
        [docker, "compose", "-f", str(DOCKER / "docker-compose.yml"), "--env-file", str(env_file), "config", "-q"],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
