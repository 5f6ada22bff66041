"""Run the real ``tritonserver`` binary shipped in the ``nvidia-pytriton`` wheel of the serving venv.

No Docker and no GPU are needed. The serving venv (``paths.serving_venv``, built by ``make install``) has its own
numpy<2/protobuf pins, so it is separate from the main venv. Starting the server needs:

- a backend directory ``<dir>/python/`` with ``libtriton_python.so``, ``triton_python_backend_utils.py`` and the
  stub matching the venv's Python version copied in as ``triton_python_backend_stub``;
- ``LD_LIBRARY_PATH`` = the Python installation's ``lib/`` (the stub links ``libpython3.X.so``) + the wheel's
  ``nvidia_pytriton.libs/`` (bundled ``libcudart`` and friends);
- ``PATH`` starting with the serving venv's ``bin/``: the stub's embedded interpreter finds its site-packages
  through the ``python3`` on PATH (PYTHONPATH is not passed to it).

The wheel's tritonserver is Triton 2.51, older than every fix of NVIDIA's 2025-2026 Triton bulletins: it is for a
single-user workstation only. The local stack binds it to 127.0.0.1 (HTTP, gRPC and metrics) and restricts every
API but health and inference with a control key (:func:`restricted_api_args`); production runs the patched image
of ``docker/triton.Dockerfile``.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from llmops.ports import free_ports

STUB_NAME = "triton_python_backend_stub"
BACKEND_FILES = ("libtriton_python.so", "triton_python_backend_utils.py")
DEFAULT_STOP_TIMEOUT_S = 45.0

# Every API category a client of the served model does not need; health (probes) and inference stay open.
# shared-memory is the entry of the August 2025 Python-backend chain (CVE-2025-23319/23320/23334) and Triton has no
# switch to turn it off; metadata is restricted too since nothing of this platform reads it without the key.
# docker/triton-start.sh keeps the same list.
RESTRICTED_APIS = (
    "model-repository",
    "model-config",
    "metadata",
    "statistics",
    "shared-memory",
    "trace",
    "logging",
)
_CONTROL_KEY_RE = re.compile(r"^[A-Za-z0-9._~+/-]{16,256}$")
_HEADER_RE = re.compile(r"^[A-Za-z0-9-]{1,64}$")


class ServingEnvError(RuntimeError):
    """The serving venv or the tritonserver binary is missing or incomplete."""


class TritonStartError(RuntimeError):
    """tritonserver exited early or did not become ready in time."""


def validate_control_key(key: str) -> str:
    """Check a control key: 16-256 characters from ``[A-Za-z0-9._~+/-]`` (what ``secrets.token_urlsafe`` and
    base64 produce, minus ``=``; ``:``, ``,`` and ``=`` would break Triton's flag syntax).

    Raises:
        ValueError: the key is too short, too long or has other characters (the message never shows the key).
    """
    if not _CONTROL_KEY_RE.fullmatch(key or ""):
        raise ValueError(
            f"invalid Triton control key ({len(key or '')} characters): expected 16-256 characters from "
            "[A-Za-z0-9._~+/-], e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))'"
        )
    return key


def restricted_api_args(header: str, key: str) -> list[str]:
    """The flags that make every API in :data:`RESTRICTED_APIS` answer only requests whose ``header`` carries
    ``key``, on HTTP and gRPC.

    tritonserver takes the key only as a command-line argument, so any local user who can list processes can read
    it: the embedded stack is for single-user hosts (the Docker image keeps it inside its container).
    """
    if not _HEADER_RE.fullmatch(header):
        raise ValueError(f"invalid control header {header!r}: expected 1-64 characters from [A-Za-z0-9-]")
    rule = f"{','.join(RESTRICTED_APIS)}:{header}={validate_control_key(key)}"
    return [f"--http-restricted-api={rule}", f"--grpc-restricted-protocol={rule}"]


def is_loopback(host: str) -> bool:
    """Whether ``host`` is ``localhost`` or a loopback address."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class TritonPorts:
    """The three ports one tritonserver listens on."""

    http: int
    grpc: int
    metrics: int

    @classmethod
    def free(cls, host: str = "127.0.0.1") -> TritonPorts:
        """Three currently free TCP ports (for tests and side-by-side servers)."""
        http, grpc, metrics = free_ports(3, host)
        return cls(http, grpc, metrics)


@dataclass(frozen=True)
class TritonInstall:
    """Locations inside the serving venv that starting tritonserver needs."""

    serving_venv: Path
    python: Path
    python_version: str
    python_libdir: Path
    site_packages: Path
    binary: Path
    backend_src: Path
    stub: Path
    libs_dir: Path


def _missing(what: str, serving_venv: Path) -> ServingEnvError:
    return ServingEnvError(
        f"{what} (serving venv: {serving_venv}). Run `make install` to create the serving venv with "
        "nvidia-pytriton, torch, transformers and numpy<2."
    )


@lru_cache(maxsize=8)
def _python_info(python: str) -> tuple[str, str]:
    code = (
        "import sys, sysconfig; print(f'{sys.version_info[0]}.{sys.version_info[1]}'); "
        "print(sysconfig.get_config_var('LIBDIR'))"
    )
    out = subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=60, check=True).stdout
    version, libdir = out.strip().splitlines()[:2]
    return version, libdir


def find_install(serving_venv: Path) -> TritonInstall:
    """Locate the interpreter, tritonserver binary, Python backend and stub of the serving venv.

    Raises:
        ServingEnvError: anything is missing (the message says to run ``make install``).
    """
    venv = Path(serving_venv).expanduser().resolve()
    python = venv / "bin" / "python"
    if not python.exists():
        raise _missing(f"serving venv interpreter {python} not found", venv)
    try:
        version, libdir = _python_info(str(python))
    except (subprocess.SubprocessError, OSError, ValueError) as exc:
        raise _missing(f"cannot run the serving venv interpreter {python}: {exc}", venv) from exc
    site = venv / "lib" / f"python{version}" / "site-packages"
    pkg = site / "pytriton" / "tritonserver"
    binary = pkg / "bin" / "tritonserver"
    if not binary.is_file():
        raise _missing(f"tritonserver binary not found at {binary} (is nvidia-pytriton installed?)", venv)
    backend_src = pkg / "backends" / "python"
    for name in BACKEND_FILES:
        if not (backend_src / name).is_file():
            raise _missing(f"Python backend file {backend_src / name} not found", venv)
    stub = pkg / "python_backend_stubs" / version / STUB_NAME
    if not stub.is_file():
        raise _missing(f"no Python backend stub for Python {version} at {stub}", venv)
    libs = site / "nvidia_pytriton.libs"
    if not libs.is_dir():
        raise _missing(f"bundled libraries directory {libs} not found", venv)
    return TritonInstall(venv, python, version, Path(libdir), site, binary, backend_src, stub, libs)


def _install_file(src: Path, dst: Path) -> None:
    """Copy ``src`` to ``dst`` unless an identical-looking copy is there; atomic so a running server never sees a
    half-written library."""
    if dst.is_file():
        s, d = src.stat(), dst.stat()
        if s.st_size == d.st_size and int(s.st_mtime) == int(d.st_mtime):
            return
    tmp = dst.with_name(f".{dst.name}.tmp-{os.getpid()}")
    shutil.copy2(src, tmp)
    os.replace(tmp, dst)


def prepare_backend_dir(serving_venv: Path, dest: Path) -> Path:
    """Build ``<dest>/python/`` with the Python backend and the stub for the venv's Python version.

    Args:
        serving_venv: the serving venv.
        dest: the backend directory to pass as ``--backend-directory``.

    Returns:
        ``dest``.
    """
    install = find_install(serving_venv)
    target = Path(dest) / "python"
    target.mkdir(parents=True, exist_ok=True)
    for name in BACKEND_FILES:
        _install_file(install.backend_src / name, target / name)
    _install_file(install.stub, target / STUB_NAME)
    (target / STUB_NAME).chmod(0o755)
    return Path(dest)


def build_env(serving_venv: Path, backend_dir: Path, base: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for tritonserver and its Python stubs.

    Args:
        serving_venv: the serving venv.
        backend_dir: the directory from :func:`prepare_backend_dir` (kept for symmetry and checked to exist).
        base: environment to start from (defaults to ``os.environ``).

    Returns:
        A new environment dict.
    """
    install = find_install(serving_venv)
    if not (Path(backend_dir) / "python" / STUB_NAME).is_file():
        raise ServingEnvError(f"backend directory {backend_dir} is not prepared: call prepare_backend_dir first")
    env = dict(os.environ if base is None else base)
    for var in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "CONDA_PREFIX"):
        env.pop(var, None)
    venv_bin = str(install.serving_venv / "bin")
    path_rest = [p for p in env.get("PATH", "").split(os.pathsep) if p and p != venv_bin]
    env["PATH"] = os.pathsep.join([venv_bin, *path_rest])
    ld = [str(install.python_libdir), str(install.libs_dir)]
    ld += [p for p in env.get("LD_LIBRARY_PATH", "").split(os.pathsep) if p and p not in ld]
    env["LD_LIBRARY_PATH"] = os.pathsep.join(ld)
    env["VIRTUAL_ENV"] = str(install.serving_venv)
    env.setdefault("HF_HUB_OFFLINE", "1")
    env.setdefault("TRANSFORMERS_OFFLINE", "1")
    env.setdefault("TOKENIZERS_PARALLELISM", "false")
    env.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    env.setdefault("TRANSFORMERS_VERBOSITY", "error")
    return env


def _tail(path: Path | None, lines: int = 40) -> str:
    if path is None or not path.is_file():
        return ""
    text = path.read_text(errors="replace").splitlines()
    return "\n".join(text[-lines:])


class TritonServer:
    """Start and stop a tritonserver from the serving venv.

    Args:
        serving_venv: the serving venv (``paths.serving_venv``).
        work_dir: where the backend directory is built (``paths.triton_dir``).
        exit_timeout_s: tritonserver's ``--exit-timeout-secs`` (how long it waits for in-flight requests).
    """

    def __init__(self, serving_venv: Path, work_dir: Path, exit_timeout_s: int = 30) -> None:
        self.serving_venv = Path(serving_venv)
        self.work_dir = Path(work_dir)
        self.exit_timeout_s = exit_timeout_s
        self.install = find_install(self.serving_venv)
        self.backend_dir = prepare_backend_dir(self.serving_venv, self.work_dir / "backends")
        self.log_file: Path | None = None

    def command(
        self,
        repo: Path,
        ports: TritonPorts,
        load_models: Sequence[str] = (),
        extra_args: Iterable[str] = (),
        host: str = "127.0.0.1",
        control: tuple[str, str] | None = None,
    ) -> list[str]:
        """The tritonserver command line (explicit model control: only ``load_models`` load at start; HTTP, gRPC
        and metrics bound to ``host``; with ``control = (header, key)`` every non-inference API restricted to
        requests carrying the key, see :func:`restricted_api_args`)."""
        from llmops.serving.repository import validate_model_name

        args = [
            str(self.install.binary),
            f"--model-repository={Path(repo).resolve()}",
            f"--backend-directory={self.backend_dir.resolve()}",
            "--model-control-mode=explicit",
            f"--http-address={host}",
            f"--http-port={ports.http}",
            f"--grpc-address={host}",
            f"--grpc-port={ports.grpc}",
            f"--metrics-address={host}",
            f"--metrics-port={ports.metrics}",
            f"--exit-timeout-secs={self.exit_timeout_s}",
            "--strict-readiness=true",
            "--log-verbose=0",
            # Unique shared-memory names so several servers on one machine never collide.
            f"--backend-config=python,shm-region-prefix-name=llmops{ports.http}_",
        ]
        args += [f"--load-model={validate_model_name(m)}" for m in load_models]
        if control is not None:
            args += restricted_api_args(*control)
        args += list(extra_args)
        return args

    def start(
        self,
        repo: Path,
        ports: TritonPorts,
        log_file: Path,
        load_models: Sequence[str] = (),
        extra_args: Iterable[str] = (),
        host: str = "127.0.0.1",
        control: tuple[str, str] | None = None,
    ) -> subprocess.Popen[bytes]:
        """Launch tritonserver in its own process group, stdout and stderr appended to ``log_file``.

        Args:
            repo: model repository (``--model-repository``).
            ports: HTTP, gRPC and metrics ports.
            log_file: server log (appended).
            load_models: models to load at start (each needs its ``config.pbtxt``).
            extra_args: further tritonserver flags.
            host: address every endpoint binds to.
            control: ``(header, key)``: restrict every non-inference API to requests carrying the key.

        Returns:
            The process; pass it to :meth:`stop`.
        """
        Path(repo).mkdir(parents=True, exist_ok=True)
        log_path = Path(log_file)
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self.log_file = log_path
        env = build_env(self.serving_venv, self.backend_dir)
        with open(log_path, "ab") as log:  # the child keeps its own descriptor
            return subprocess.Popen(
                self.command(repo, ports, load_models, extra_args, host, control),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                cwd=str(self.work_dir),
                start_new_session=True,
            )

    def wait_ready(self, url: str, timeout: float, proc: subprocess.Popen[bytes] | None = None) -> None:
        """See :func:`wait_ready`; the error includes the tail of this server's log."""
        wait_ready(url, timeout, proc=proc, log_file=self.log_file)

    @staticmethod
    def stop(proc: subprocess.Popen[bytes], timeout: float = DEFAULT_STOP_TIMEOUT_S) -> int | None:
        """See :func:`stop`."""
        return stop(proc, timeout)


def _http_ok(url: str, path: str) -> bool:
    base = url if url.startswith(("http://", "https://")) else f"http://{url}"
    try:
        with urllib.request.urlopen(f"{base.rstrip('/')}{path}", timeout=2) as resp:
            return bool(resp.status == 200)
    except (urllib.error.URLError, OSError, ValueError):
        return False


def wait_ready(
    url: str,
    timeout: float,
    proc: subprocess.Popen[bytes] | None = None,
    log_file: Path | None = None,
    poll_s: float = 0.5,
) -> None:
    """Wait until ``GET /v2/health/ready`` answers 200.

    Args:
        url: ``host:port`` (or ``http://host:port``) of the HTTP endpoint.
        timeout: seconds to wait.
        proc: the server process; an early exit fails fast.
        log_file: server log, quoted in the error.

    Raises:
        TritonStartError: the server exited or did not become ready in time.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise TritonStartError(
                f"tritonserver exited with code {proc.returncode} before it was ready. Log tail:\n{_tail(log_file)}"
            )
        if _http_ok(url, "/v2/health/ready"):
            return
        time.sleep(poll_s)
    raise TritonStartError(f"tritonserver at {url} not ready after {timeout:.0f} s. Log tail:\n{_tail(log_file)}")


def stop(proc: subprocess.Popen[bytes], timeout: float = DEFAULT_STOP_TIMEOUT_S) -> int | None:
    """SIGTERM the server's process group, wait up to ``timeout`` s, then SIGKILL it.

    tritonserver waits up to its exit timeout for in-flight requests and unloads models (their stubs are in the
    same group) before exiting; its ports are free once this returns.

    Returns:
        The exit code (``None`` if it could not be reaped).
    """
    if proc.poll() is not None:
        return proc.returncode
    try:
        pgid = os.getpgid(proc.pid)
    except ProcessLookupError:
        pgid = None
    _signal(proc, pgid, signal.SIGTERM)
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        print(f"tritonserver (pid {proc.pid}) still running after {timeout:.0f} s: SIGKILL", file=sys.stderr)
        _signal(proc, pgid, signal.SIGKILL)
        try:
            return proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            return None
    finally:
        if pgid is not None and pgid == proc.pid:  # stubs left behind by a crashed server share its group
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pgid, signal.SIGKILL)


def _signal(proc: subprocess.Popen[bytes], pgid: int | None, sig: int) -> None:
    try:
        if pgid is not None and pgid == proc.pid:  # started with start_new_session: the group is ours alone
            os.killpg(pgid, sig)
        else:
            proc.send_signal(sig)
    except ProcessLookupError:
        pass
