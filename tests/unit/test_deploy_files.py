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
        env = services[name]["environment"]
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
        assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg2://")
    mlflow = " ".join(services["mlflow"]["command"])
    assert "--backend-store-uri=postgresql://" in mlflow and "--serve-artifacts" in mlflow
    triton = services["triton"]["command"]
    assert "--model-control-mode=explicit" in triton
    assert any(a.startswith("--http-restricted-api=model-repository:") for a in triton)
    # workers and Triton share the model repository volume
    assert "triton-models:/models" in services["triton"]["volumes"]
    assert "triton-models:/models" in services["airflow-worker-training"]["volumes"]


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
    script = str(DOCKER / "triton-start.sh")
    first = subprocess.run(["sh", script, "echo", "tritonserver"], env=env, capture_output=True, text=True, check=True)
    assert first.stdout.split() == ["tritonserver"]
    (tmp_path / "support_assistant").mkdir()
    (tmp_path / "support_assistant" / "config.pbtxt").write_text("name: 'support_assistant'")
    later = subprocess.run(["sh", script, "echo", "tritonserver"], env=env, capture_output=True, text=True, check=True)
    assert later.stdout.split() == ["tritonserver", "--load-model=support_assistant"]
