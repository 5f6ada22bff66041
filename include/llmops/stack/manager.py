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
from llmops.ports import free_ports
from llmops.stack.mlflow_auth import READONLY_ACCOUNT, SERVICE_ACCOUNT, ensure_account, write_auth_config

AIRFLOW_COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
TRITON_KEY_FILE = "triton_control_key"


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
            "MLFLOW_DISABLE_TELEMETRY": "true",
            "MLFLOW_TRACKING_URI": cfg.tracking_uri,
            "MLFLOW_ALLOW_PICKLE_DESERIALIZATION": "false",  # registry content is not trusted with code execution
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
    if "feedback_token" not in data:  # the feedback endpoint's caller token (state folders made before it)
        data["feedback_token"] = secrets.token_urlsafe(32)
        atomic_write_text(path, json.dumps(data), mode=0o600)
    if "mlflow_service_password" not in data:  # state folders made before MLflow had accounts
        data["mlflow_service_password"] = secrets.token_urlsafe(24)
        data["mlflow_readonly_password"] = secrets.token_urlsafe(24)
        data["mlflow_flask_secret_key"] = secrets.token_urlsafe(32)
        atomic_write_text(path, json.dumps(data), mode=0o600)
    passwords = home / "simple_auth_manager_passwords.json"
    user = os.environ.get("LLMOPS_ADMIN_USER", cfg.airflow.admin_user)
    existing = json.loads(passwords.read_text()) if passwords.is_file() else {}
    wanted = os.environ.get("LLMOPS_ADMIN_PASSWORD") or existing.get(user) or secrets.token_urlsafe(12)
    if existing.get(user) != wanted:
        atomic_write_text(passwords, json.dumps({**existing, user: wanted}), mode=0o600)
    data["admin_user"], data["admin_password"] = user, wanted
    return data


@dataclass(frozen=True)
class Topology:
    """Which engines the stack runs on. The default is the embedded one: SQLite, LocalExecutor, MLflow on SQLite.

    The production topology swaps in a Postgres metadata database, the CeleryExecutor with one worker per queue
    (``training`` for training tasks, ``default`` for the rest), an MLflow server on a Postgres backend store that
    proxies artifacts. Triton's non-inference APIs always need a header key: ``triton_control_key`` when set,
    else a generated one (see :func:`triton_control_key`).
    """

    executor: str = "LocalExecutor"
    sql_alchemy_conn: str | None = None  # None: SQLite in the Airflow home
    celery_broker_url: str | None = None
    celery_result_backend: str | None = None
    worker_queues: tuple[str, ...] = ()  # one Celery worker per queue
    mlflow_backend_store_uri: str | None = None  # None: the configured tracking store (SQLite by default)
    mlflow_artifacts_destination: str | None = None  # set: the server proxies artifacts (mlflow-artifacts:/)
    mlflow_auth: bool = False  # set: MLflow's basic-auth app, the platform logs in as its service account
    triton_control_key: str | None = None  # None: $LLMOPS_TRITON_CONTROL_KEY or a generated key

    @property
    def distributed(self) -> bool:
        return self.executor == "CeleryExecutor"


EMBEDDED = Topology()


def triton_key_file(cfg: LLMOpsConfig) -> Path:
    """The 0600 file holding the key of the stack's Triton (read by clients through
    ``$LLMOPS_TRITON_CONTROL_KEY_FILE``)."""
    return cfg.paths.run_state_dir / TRITON_KEY_FILE


def triton_control_key(cfg: LLMOpsConfig, topology: Topology = EMBEDDED) -> str:
    """The key every non-inference Triton API of the stack asks for, kept in :func:`triton_key_file`.

    The topology's key when it has one, else ``$LLMOPS_TRITON_CONTROL_KEY``, else the key already in the file (a
    restart keeps it), else a new random one. The file is rewritten (0600) when the key differs from it.
    """
    from llmops.serving.server import validate_control_key

    path = triton_key_file(cfg)
    stored = path.read_text(encoding="utf-8").strip() if path.is_file() else ""
    key = topology.triton_control_key or os.environ.get("LLMOPS_TRITON_CONTROL_KEY") or stored
    key = validate_control_key(key) if key else secrets.token_urlsafe(32)
    if key != stored:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, key + "\n", mode=0o600)
    return key


def worker_hostname() -> str:
    """Hostname Airflow records for task instances: ``$LLMOPS_WORKER_NAME`` when set (one per worker process)."""
    import socket

    return os.environ.get("LLMOPS_WORKER_NAME") or socket.getfqdn()


def airflow_env(cfg: LLMOpsConfig, topology: Topology = EMBEDDED) -> dict[str, str]:
    """Airflow settings of the stack: this project's DAGs, no examples, shared secrets, the topology's engines."""
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
            "AIRFLOW__CORE__EXECUTOR": topology.executor,
            "AIRFLOW__CORE__PARALLELISM": str(cfg.airflow.parallelism),
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
            "AIRFLOW__CORE__FERNET_KEY": s["fernet_key"],
            "AIRFLOW__CORE__HOSTNAME_CALLABLE": "llmops.stack.manager.worker_hostname",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{s['admin_user']}:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "simple_auth_manager_passwords.json"),
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": topology.sql_alchemy_conn or f"sqlite:///{home / 'airflow.db'}",
            "AIRFLOW__API__PORT": str(port),
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__SECRET_KEY": s["api_secret_key"],
            "AIRFLOW__API_AUTH__JWT_SECRET": s["jwt_secret"],
            "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
            "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "True",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "30",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
            "AIRFLOW__OPERATORS__DEFAULT_QUEUE": "default",
        }
    )
    if topology.distributed:
        if not (topology.celery_broker_url and topology.celery_result_backend):
            raise ValueError("the CeleryExecutor needs celery_broker_url and celery_result_backend")
        env["AIRFLOW__CELERY__BROKER_URL"] = topology.celery_broker_url
        env["AIRFLOW__CELERY__RESULT_BACKEND"] = topology.celery_result_backend
        env["AIRFLOW__CELERY__WORKER_CONCURRENCY"] = "2"
    if topology.mlflow_backend_store_uri is not None:
        env["LLMOPS__MLFLOW__TRACKING_URI"] = mlflow_url(cfg)
        env["MLFLOW_TRACKING_URI"] = mlflow_url(cfg)
    if topology.mlflow_auth:
        env["MLFLOW_TRACKING_USERNAME"] = SERVICE_ACCOUNT
        env["MLFLOW_TRACKING_PASSWORD"] = s["mlflow_service_password"]
    # Tasks send Triton's control key read from the stack's 0600 key file: the key itself stays out of the
    # environment that every task and subprocess inherits.
    triton_control_key(cfg, topology)
    env.pop("LLMOPS_TRITON_CONTROL_KEY", None)
    env.pop(cfg.monitoring.feedback_token_env, None)  # the api-server's alone (feedback_env)
    env["LLMOPS_TRITON_CONTROL_KEY_FILE"] = str(triton_key_file(cfg))
    return env


WORKER_WITHHELD = (
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
    "AIRFLOW__CORE__FERNET_KEY",
    "AIRFLOW__API_AUTH__JWT_SECRET",
    "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE",
)
"""What a Celery worker does not get: Airflow 3 workers reach the metadata database only through the execution API
(connections and variables arrive decrypted, each task brings its own token). The worker keeps ``[api] secret_key``:
its log server checks the api-server's signed log requests with it."""


def worker_env(env: dict[str, str]) -> dict[str, str]:
    """A Celery worker's environment: the Airflow env without the metadata-DB DSN, the Fernet key, the JWT secret."""
    return {k: v for k, v in env.items() if k not in WORKER_WITHHELD}


def mlflow_url(cfg: LLMOpsConfig) -> str:
    """The MLflow server the stack starts."""
    return f"http://127.0.0.1:{cfg.mlflow.ui_port}"


def migrate_airflow_db(cfg: LLMOpsConfig, topology: Topology = EMBEDDED) -> None:
    """Create or upgrade the Airflow metadata database (skipped when the embedded database is current)."""
    env = airflow_env(cfg, topology)
    marker = cfg.paths.airflow_home / ".migrated"
    from importlib.metadata import version

    installed = version("apache-airflow")  # the package's metadata: this package never imports Airflow itself
    embedded = topology.sql_alchemy_conn is None
    if (
        embedded
        and marker.is_file()
        and marker.read_text() == installed
        and (cfg.paths.airflow_home / "airflow.db").is_file()
    ):
        return
    out = subprocess.run([_bin("airflow"), "db", "migrate"], env=env, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"airflow db migrate failed:\n{out.stderr[-3000:]}")
    if embedded:
        marker.write_text(installed)


def feedback_token(cfg: LLMOpsConfig) -> str:
    """The token applications present to the feedback endpoint: ``$<monitoring.feedback_token_env>`` when set,
    else the stack's generated one (kept with the other secrets, printed by ``make up``)."""
    return os.environ.get(cfg.monitoring.feedback_token_env) or airflow_secrets(cfg)["feedback_token"]


def feedback_env(cfg: LLMOpsConfig) -> dict[str, str]:
    """The api-server's extra environment: the feedback token(s), which no other process of the stack gets."""
    return {cfg.monitoring.feedback_token_env: feedback_token(cfg)}


def services(cfg: LLMOpsConfig, topology: Topology = EMBEDDED) -> list[Service]:
    """Every service of the stack except Triton, in start order."""
    aenv = airflow_env(cfg, topology)
    port = cfg.airflow.api_port
    out = [
        Service(
            f"airflow-{c}",
            [_bin("airflow"), c],
            {**aenv, **feedback_env(cfg)} if c == "api-server" else aenv,
            f"http://127.0.0.1:{port}/api/v2/monitor/health" if c == "api-server" else None,
            f"http://127.0.0.1:{port}" if c == "api-server" else None,
        )
        for c in AIRFLOW_COMPONENTS
    ]
    for queue in topology.worker_queues if topology.distributed else ():
        # Each worker serves its task logs to the UI on its own port (two workers on one host cannot share 8793).
        wenv = {
            **worker_env(aenv),
            "LLMOPS_WORKER_NAME": f"worker-{queue}",
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_ports(1)[0]),
        }
        out.append(
            Service(
                f"airflow-worker-{queue}",
                [
                    _bin("airflow"),
                    "celery",
                    "worker",
                    "--queues",
                    queue,
                    "--concurrency",
                    "1",
                    "--celery-hostname",
                    f"{queue}@%h",
                ],
                wenv,
                None,
            )
        )
    # The backend-store URI may hold a password: the server reads it from its environment, not its command line.
    menv = {**base_env(cfg), "MLFLOW_BACKEND_STORE_URI": topology.mlflow_backend_store_uri or cfg.tracking_uri}
    cmd = [
        _bin("mlflow"),
        "server",
        "--host",
        "127.0.0.1",
        "--port",
        str(cfg.mlflow.ui_port),
        "--workers",
        "1",
    ]
    if topology.mlflow_auth:
        s = airflow_secrets(cfg)
        auth_db = cfg.paths.run_state_dir / "mlflow-auth.db"
        ini = write_auth_config(cfg.paths.run_state_dir / "mlflow-auth.ini", f"sqlite:///{auth_db}")
        cmd += ["--app-name", "basic-auth"]
        menv.update(
            {
                "MLFLOW_AUTH_CONFIG_PATH": str(ini),
                "MLFLOW_AUTH_ADMIN_USERNAME": SERVICE_ACCOUNT,
                "MLFLOW_AUTH_ADMIN_PASSWORD": s["mlflow_service_password"],
                "MLFLOW_FLASK_SERVER_SECRET_KEY": s["mlflow_flask_secret_key"],  # signs the auth app's CSRF tokens
            }
        )
    if topology.mlflow_artifacts_destination:
        cmd += ["--serve-artifacts", "--artifacts-destination", topology.mlflow_artifacts_destination]
    else:
        cfg.artifact_root.mkdir(parents=True, exist_ok=True)
        cmd += ["--default-artifact-root", cfg.artifact_root.as_uri()]
    out.append(Service("mlflow", cmd, menv, f"{mlflow_url(cfg)}/health", mlflow_url(cfg)))
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


def reconcile_repository(cfg: LLMOpsConfig) -> str:
    """Before Triton starts: finish or undo an interrupted promotion or rollback and pin ``champion`` in the config,
    so that Triton never starts on a version that was not vetted. Returns a line for the console.

    When the registry cannot be read the repository is left as it is (Triton loads what the config pins) and the
    hourly ``reconcile_serving`` task corrects it later.
    """
    from llmops.serving.reconcile import reconcile

    try:
        result = reconcile(cfg, with_triton=False, purpose="start of Triton")
    except Exception as exc:
        return f"model repository not reconciled before Triton starts ({type(exc).__name__}: {exc})"
    return f"model repository: {result.summary()}"


def start_triton(cfg: LLMOpsConfig, topology: Topology = EMBEDDED) -> int:
    """Start Triton on the model repository in explicit mode, loading the champion (pinned by
    :func:`reconcile_repository` first) if there is one.

    The wheel's Triton (2.51) lacks the 2025-2026 security fixes: it binds HTTP, gRPC and metrics to the loopback
    address only, and every API but health and inference needs the stack's control key.

    Raises:
        ValueError: ``triton.host`` is not a loopback address.
    """
    from llmops.serving.server import TritonPorts, TritonServer, is_loopback, wait_ready

    if not is_loopback(cfg.triton.host):
        raise ValueError(
            f"triton.host={cfg.triton.host!r}: the local stack's Triton only listens on a loopback address "
            "(127.0.0.1); serve other hosts with the Docker deployment (docker/triton.Dockerfile)"
        )
    name = "triton"
    pid = running_pid(cfg, name)
    if pid is None:
        print(reconcile_repository(cfg), file=sys.stderr)
        server = TritonServer(cfg.paths.serving_venv, cfg.paths.triton_dir)
        repo = cfg.paths.model_repository
        loads = [cfg.triton.model_name] if (repo / cfg.triton.model_name / "config.pbtxt").is_file() else []
        ports = TritonPorts(cfg.triton.http_port, cfg.triton.grpc_port, cfg.triton.metrics_port)
        # tritonserver takes the key only on its command line (readable by local users who list processes).
        control = (cfg.triton.control_header, triton_control_key(cfg, topology))
        proc = server.start(repo, ports, _log_file(cfg, name), load_models=loads, host=cfg.triton.host, control=control)
        cfg.paths.run_state_dir.mkdir(parents=True, exist_ok=True)
        _pid_file(cfg, name).write_text(f"{proc.pid}\n")
        pid = proc.pid
    wait_ready(cfg.triton.http_url, timeout=cfg.triton.ready_timeout_s, log_file=_log_file(cfg, name))
    return pid


def up(cfg: LLMOpsConfig, *, with_airflow: bool = True, topology: Topology = EMBEDDED) -> dict[str, str]:
    """Start the stack (idempotent) and wait until each part answers. Returns name -> URL."""
    urls: dict[str, str] = {}
    start_triton(cfg, topology)
    urls["triton"] = f"http://{cfg.triton.http_url}"
    if with_airflow:
        migrate_airflow_db(cfg, topology)
    for svc in services(cfg, topology):
        if svc.name.startswith("airflow") and not with_airflow:
            continue
        pid = start_service(cfg, svc)
        if svc.health_url:
            _wait_http(svc.health_url, 180, pid, _log_file(cfg, svc.name))
        if svc.display_url:
            urls[svc.name] = svc.display_url
        if svc.name == "mlflow" and topology.mlflow_auth:
            s = airflow_secrets(cfg)
            ensure_account(
                mlflow_url(cfg),
                (SERVICE_ACCOUNT, s["mlflow_service_password"]),
                (READONLY_ACCOUNT, s["mlflow_readonly_password"]),
            )
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
        _reap(pgid)
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
    _reap(pgid)


def _reap(pgid: int) -> None:
    """Collect exited children of this process in the group: a zombie still counts as a member of its group."""
    try:
        while os.waitpid(-pgid, os.WNOHANG)[0] != 0:
            pass
    except ChildProcessError:  # none of the group's processes is our child (the usual case for `make down`)
        return


def down(cfg: LLMOpsConfig) -> list[str]:
    """Stop every service this stack started (and only those). Returns the names stopped."""
    stopped: list[str] = []
    for name in _service_names(cfg):
        pid = running_pid(cfg, name)
        if pid is not None:
            stop_pid(pid)
            stopped.append(name)
        _pid_file(cfg, name).unlink(missing_ok=True)
    return stopped


def status(cfg: LLMOpsConfig) -> dict[str, int | None]:
    """PID of each service (None when it is not running)."""
    return {n: running_pid(cfg, n) for n in _service_names(cfg)}


def _service_names(cfg: LLMOpsConfig) -> list[str]:
    """The fixed services plus any worker recorded in a PID file, in start order."""
    names = [f"airflow-{c}" for c in AIRFLOW_COMPONENTS]
    if cfg.paths.run_state_dir.is_dir():
        names += sorted(p.stem for p in cfg.paths.run_state_dir.glob("airflow-worker-*.pid"))
    return [*names, "mlflow", "triton"]
