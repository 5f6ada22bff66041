"""What each process of the production topology is given: no secret on a command line, workers without DB access."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmops.config import load_config
from llmops.stack import manager


@pytest.fixture()
def cfg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("LLMOPS_HOME", str(tmp_path))
    return load_config()


TOPOLOGY = manager.Topology(
    executor="CeleryExecutor",
    sql_alchemy_conn="postgresql+psycopg2://airflow:db-password@127.0.0.1:5432/airflow",
    celery_broker_url="redis://:redis-password@127.0.0.1:6379/0",
    celery_result_backend="redis://:redis-password@127.0.0.1:6379/1",
    worker_queues=("default", "training"),
    mlflow_backend_store_uri="postgresql://mlflow:mlflow-password@127.0.0.1:5432/mlflow",
    mlflow_artifacts_destination="file:///tmp/artifacts",
    mlflow_auth=True,
)


def test_no_secret_on_any_command_line(cfg) -> None:  # type: ignore[no-untyped-def]
    secrets = manager.airflow_secrets(cfg)
    values = [v for k, v in secrets.items() if k != "admin_user"] + ["db-password", "mlflow-password"]
    for svc in manager.services(cfg, TOPOLOGY):
        line = " ".join(svc.cmd)
        assert not [v for v in values if v in line], svc.name
    mlflow = next(s for s in manager.services(cfg, TOPOLOGY) if s.name == "mlflow")
    assert mlflow.env["MLFLOW_BACKEND_STORE_URI"] == TOPOLOGY.mlflow_backend_store_uri
    assert "--app-name" in mlflow.cmd and "basic-auth" in mlflow.cmd
    assert mlflow.env["MLFLOW_AUTH_ADMIN_PASSWORD"] == secrets["mlflow_service_password"]
    assert Path(mlflow.env["MLFLOW_AUTH_CONFIG_PATH"]).stat().st_mode & 0o777 == 0o600
    assert secrets["mlflow_service_password"] not in Path(mlflow.env["MLFLOW_AUTH_CONFIG_PATH"]).read_text()


def test_workers_get_no_database_dsn_fernet_key_or_jwt_secret(cfg) -> None:  # type: ignore[no-untyped-def]
    services = {s.name: s for s in manager.services(cfg, TOPOLOGY)}
    for queue in ("default", "training"):
        env = services[f"airflow-worker-{queue}"].env
        assert not set(manager.WORKER_WITHHELD) & set(env)
        assert env["AIRFLOW__API__SECRET_KEY"]  # the log server checks the api-server's requests with it
        assert env["MLFLOW_TRACKING_USERNAME"] == "llmops" and env["MLFLOW_TRACKING_PASSWORD"]
        assert env["MLFLOW_ALLOW_PICKLE_DESERIALIZATION"] == "false"
    scheduler = services["airflow-scheduler"].env
    assert set(manager.WORKER_WITHHELD) - {"AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"} <= set(scheduler)
