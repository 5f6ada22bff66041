"""The production auth manager's admin login: created and rotated from the environment, never from a command line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

FAB = "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager"

CHECK = """
import sys
from werkzeug.security import check_password_hash
from airflow.providers.fab.auth_manager.cli_commands.utils import get_application_builder
with get_application_builder() as ab:
    user = ab.sm.find_user(username=sys.argv[1])
    roles = [r.name for r in user.roles] if user is not None else []
    ok = user is not None and check_password_hash(user.password, sys.argv[2]) and "Admin" in roles
    print("LOGIN=" + ("ok" if ok else "refused"))
"""


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__AUTH_MANAGER=FAB,
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{home / 'airflow.db'}",
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__DAGS_FOLDER=str(home / "dags"),
        **extra,
    )
    return env


def _login(home: Path, password: str) -> str:
    out = _run([sys.executable, "-c", CHECK, "ops", password], _env(home))
    return next(line.removeprefix("LOGIN=") for line in out.stdout.splitlines() if line.startswith("LOGIN="))


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)


def test_admin_is_created_and_rotated_from_the_environment(tmp_path: Path) -> None:
    airflow = str(Path(sys.executable).parent / "airflow")
    migrated = _run([airflow, "db", "migrate"], _env(tmp_path))
    assert migrated.returncode == 0, migrated.stderr[-2000:]
    module = [sys.executable, "-m", "llmops_airflow.accounts"]

    missing = _run(module, _env(tmp_path, AIRFLOW_ADMIN_USER="ops"))
    assert missing.returncode == 2 and "AIRFLOW_ADMIN_PASSWORD" in missing.stderr
    short = _run(module, _env(tmp_path, AIRFLOW_ADMIN_USER="ops", AIRFLOW_ADMIN_PASSWORD="short"))
    assert short.returncode == 1 and "at least 12" in short.stderr

    first = _run(module, _env(tmp_path, AIRFLOW_ADMIN_USER="ops", AIRFLOW_ADMIN_PASSWORD="first-password-1"))
    assert first.returncode == 0 and "'ops' created" in first.stdout, first.stderr[-2000:]
    assert _login(tmp_path, "first-password-1") == "ok"

    second = _run(module, _env(tmp_path, AIRFLOW_ADMIN_USER="ops", AIRFLOW_ADMIN_PASSWORD="second-password-2"))
    assert second.returncode == 0 and "'ops' updated" in second.stdout, second.stderr[-2000:]
    assert _login(tmp_path, "second-password-2") == "ok"
    assert _login(tmp_path, "first-password-1") == "refused"
