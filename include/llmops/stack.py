"""The embedded local stack: Airflow (api-server, scheduler, DAG processor, triggerer), MLflow UI and Triton.

All state lives under ``paths.home``: the Airflow home with its SQLite database, the MLflow store, PID files and
service logs in ``<home>/stack``. ``up`` is idempotent (running services are left alone); ``down`` stops exactly
the process groups it started, recorded in PID files, and waits for them so the ports are free afterwards.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from llmops.config import PROJECT_ROOT, LLMOpsConfig
from llmops.fsutil import atomic_write_text

AIRFLOW_COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")


@dataclass(frozen=True)
class Service:
    """One long-running process of the stack."""

    name: str
    cmd: list[str]
    env: dict[str, str]
    health_url: str | None
    display_url: str | None = None


def _bin(name: str) -> str:
    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.exists() else name


def base_env(cfg: LLMOpsConfig) -> dict[str, str]:
    """Environment shared by every process of the stack and the tasks it runs."""
    env = dict(os.environ)
    env.update(
        {
            "LLMOPS_HOME": str(cfg.paths.home),
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "GX_ANALYTICS_ENABLED": "false",
            "MLFLOW_TRACKING_URI": cfg.tracking_uri,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        }
    )
    return env


def airflow_secrets(cfg: LLMOpsConfig) -> dict[str, str]:
    """Secrets shared by all Airflow components, generated once per state folder (never committed).

    The admin password is random, kept in the SimpleAuthManager password file and printed by ``make up``.
    """
    home = cfg.paths.airflow_home
    home.mkdir(parents=True, exist_ok=True)
    path = home / "llmops_secrets.json"
    if path.is_file():
        data: dict[str, str] = json.loads(path.read_text())
    else:
        from cryptography.fernet import Fernet

        data = {
            "jwt_secret": secrets.token_urlsafe(48),
            "api_secret_key": secrets.token_urlsafe(32),
            "fernet_key": Fernet.generate_key().decode(),
        }
        atomic_write_text(path, json.dumps(data), mode=0o600)
    passwords = home / "simple_auth_manager_passwords.json"
    user = os.environ.get("LLMOPS_ADMIN_USER", cfg.airflow.admin_user)
    existing = json.loads(passwords.read_text()) if passwords.is_file() else {}
    wanted = os.environ.get("LLMOPS_ADMIN_PASSWORD") or existing.get(user) or secrets.token_urlsafe(12)
    if existing.get(user) != wanted:
        atomic_write_text(passwords, json.dumps({**existing, user: wanted}), mode=0o600)
    data["admin_user"], data["admin_password"] = user, wanted
    return data


def airflow_env(cfg: LLMOpsConfig, *, executor: str = "LocalExecutor") -> dict[str, str]:
    """Airflow settings of the embedded stack: SQLite, LocalExecutor, this project's DAGs, no examples."""
    s = airflow_secrets(cfg)
    home = cfg.paths.airflow_home
    port = cfg.airflow.api_port
    env = base_env(cfg)
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_ROOT / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(PROJECT_ROOT / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": executor,
            "AIRFLOW__CORE__PARALLELISM": str(cfg.airflow.parallelism),
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
            "AIRFLOW__CORE__FERNET_KEY": s["fernet_key"],
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{s['admin_user']}:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "simple_auth_manager_passwords.json"),
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
            "AIRFLOW__API__PORT": str(port),
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__SECRET_KEY": s["api_secret_key"],
            "AIRFLOW__API_AUTH__JWT_SECRET": s["jwt_secret"],
            "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
            "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "True",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "30",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
        }
    )
    return env


def migrate_airflow_db(cfg: LLMOpsConfig) -> None:
    """Create or upgrade the Airflow metadata database (quick when it is current)."""
    env = airflow_env(cfg)
    marker = cfg.paths.airflow_home / ".migrated"
    import airflow

    if (
        marker.is_file()
        and marker.read_text() == airflow.__version__
        and (cfg.paths.airflow_home / "airflow.db").is_file()
    ):
        return
    subprocess.run([_bin("airflow"), "db", "migrate"], env=env, check=True, stdout=subprocess.DEVNULL)
    marker.write_text(airflow.__version__)


def services(cfg: LLMOpsConfig) -> list[Service]:
    """Every service of the embedded stack, in start order."""
    aenv = airflow_env(cfg)
    port = cfg.airflow.api_port
    out = [
        Service(
            f"airflow-{c}",
            [_bin("airflow"), c],
            aenv,
            f"http://127.0.0.1:{port}/api/v2/monitor/health" if c == "api-server" else None,
            f"http://127.0.0.1:{port}" if c == "api-server" else None,
        )
        for c in AIRFLOW_COMPONENTS
    ]
    cfg.artifact_root.mkdir(parents=True, exist_ok=True)
    out.append(
        Service(
            "mlflow",
            [
                _bin("mlflow"),
                "server",
                "--backend-store-uri",
                cfg.tracking_uri,
                "--default-artifact-root",
                cfg.artifact_root.as_uri(),
                "--host",
                "127.0.0.1",
                "--port",
                str(cfg.mlflow.ui_port),
                "--workers",
                "1",
            ],
            base_env(cfg),
            f"http://127.0.0.1:{cfg.mlflow.ui_port}/health",
            f"http://127.0.0.1:{cfg.mlflow.ui_port}",
        )
    )
    return out


def _pid_file(cfg: LLMOpsConfig, name: str) -> Path:
    return cfg.paths.run_state_dir / f"{name}.pid"


def _log_file(cfg: LLMOpsConfig, name: str) -> Path:
    return cfg.paths.run_state_dir / f"{name}.log"


def running_pid(cfg: LLMOpsConfig, name: str) -> int | None:
    """The PID recorded for a service, if that process is still alive."""
    path = _pid_file(cfg, name)
    if not path.is_file():
        return None
    try:
        pid = int(path.read_text().split()[0])
        os.kill(pid, 0)
    except (ValueError, ProcessLookupError, PermissionError, IndexError):
        return None
    return pid


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=3) as resp:
            return bool(200 <= resp.status < 500)
    except urllib.error.HTTPError as exc:
        return exc.code < 500
    except (urllib.error.URLError, OSError):
        return False


def _wait_http(url: str, timeout_s: float, pid: int | None, log_file: Path) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if _http_ok(url):
            return
        if pid is not None:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
        time.sleep(1.0)
    tail = log_file.read_text(errors="replace").splitlines()[-30:] if log_file.is_file() else []
    raise RuntimeError(f"{url} did not come up within {timeout_s:.0f}s; log tail ({log_file}):\n" + "\n".join(tail))


def start_service(cfg: LLMOpsConfig, svc: Service) -> int:
    """Start one service in its own process group unless it already runs; returns its PID."""
    pid = running_pid(cfg, svc.name)
    if pid is not None:
        return pid
    cfg.paths.run_state_dir.mkdir(parents=True, exist_ok=True)
    with open(_log_file(cfg, svc.name), "ab") as log:  # the child keeps its own descriptor
        proc = subprocess.Popen(
            svc.cmd,
            env=svc.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=str(PROJECT_ROOT),
            start_new_session=True,
        )
    _pid_file(cfg, svc.name).write_text(f"{proc.pid}\n")
    return proc.pid


def start_triton(cfg: LLMOpsConfig) -> int:
    """Start Triton on the model repository in explicit mode, loading the served model if there is one."""
    from llmops.serving.server import TritonPorts, TritonServer, wait_ready

    name = "triton"
    pid = running_pid(cfg, name)
    if pid is None:
        server = TritonServer(cfg.paths.serving_venv, cfg.paths.triton_dir)
        repo = cfg.paths.model_repository
        loads = [cfg.triton.model_name] if (repo / cfg.triton.model_name / "config.pbtxt").is_file() else []
        ports = TritonPorts(cfg.triton.http_port, cfg.triton.grpc_port, cfg.triton.metrics_port)
        proc = server.start(repo, ports, _log_file(cfg, name), load_models=loads, host=cfg.triton.host)
        cfg.paths.run_state_dir.mkdir(parents=True, exist_ok=True)
        _pid_file(cfg, name).write_text(f"{proc.pid}\n")
        pid = proc.pid
    wait_ready(cfg.triton.http_url, timeout=cfg.triton.ready_timeout_s, log_file=_log_file(cfg, name))
    return pid


def up(cfg: LLMOpsConfig, *, with_airflow: bool = True) -> dict[str, str]:
    """Start the stack (idempotent) and wait until each part answers. Returns name -> URL."""
    urls: dict[str, str] = {}
    start_triton(cfg)
    urls["triton"] = f"http://{cfg.triton.http_url}"
    if with_airflow:
        migrate_airflow_db(cfg)
    for svc in services(cfg):
        if svc.name.startswith("airflow") and not with_airflow:
            continue
        pid = start_service(cfg, svc)
        if svc.health_url:
            _wait_http(svc.health_url, 180, pid, _log_file(cfg, svc.name))
        if svc.display_url:
            urls[svc.name] = svc.display_url
    return urls


def stop_pid(pid: int, timeout_s: float = 60.0) -> None:
    """SIGTERM the process group of ``pid``, wait for it, SIGKILL what is left after ``timeout_s``."""
    try:
        pgid = os.getpgid(pid)
    except ProcessLookupError:
        return
    try:
        os.killpg(pgid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.5)
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        return
    time.sleep(1.0)


def down(cfg: LLMOpsConfig) -> list[str]:
    """Stop every service this stack started (and only those). Returns the names stopped."""
    stopped: list[str] = []
    names = [s for s in (f"airflow-{c}" for c in AIRFLOW_COMPONENTS)] + ["mlflow", "triton"]
    for name in names:
        pid = running_pid(cfg, name)
        if pid is not None:
            stop_pid(pid)
            stopped.append(name)
        _pid_file(cfg, name).unlink(missing_ok=True)
    return stopped


def status(cfg: LLMOpsConfig) -> dict[str, int | None]:
    """PID of each service (None when it is not running)."""
    names = [f"airflow-{c}" for c in AIRFLOW_COMPONENTS] + ["mlflow", "triton"]
    return {n: running_pid(cfg, n) for n in names}
