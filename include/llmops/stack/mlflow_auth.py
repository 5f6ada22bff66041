"""MLflow behind its basic-auth app: the auth config, the platform's service account and a read-only account.

MLflow ships no default admin password: on first start against an empty user store it creates the admin named in
the config from ``MLFLOW_AUTH_ADMIN_PASSWORD`` and refuses to start without one. The platform's service account *is*
that admin (it moves aliases, writes tags, registers versions); people who only look get the read-only account
(``default_permission = READ``: every authenticated user reads, only the admin writes). No password is written to
the config file or to a command line: the server takes its admin password and backend-store URI from its
environment, clients take theirs from ``MLFLOW_TRACKING_USERNAME``/``MLFLOW_TRACKING_PASSWORD``.

``python -m llmops.stack.mlflow_auth --wait 300`` creates the read-only account once the server answers (the compose
one-shot ``mlflow-accounts``). Reads ``MLFLOW_TRACKING_URI``, ``MLFLOW_TRACKING_USERNAME``/``PASSWORD`` (the
service account) and ``MLFLOW_READONLY_USERNAME``/``PASSWORD``. ``--write-config PATH`` writes the server's auth
config from ``MLFLOW_AUTH_DATABASE_URI`` and ``MLFLOW_AUTH_ADMIN_USERNAME`` (the compose ``mlflow`` service, at start).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from llmops.fsutil import atomic_write_text

SERVICE_ACCOUNT = "llmops"
READONLY_ACCOUNT = "llmops-viewer"


def write_auth_config(path: Path, database_uri: str, admin_username: str = SERVICE_ACCOUNT) -> Path:
    """Write the basic-auth app's config (mode 0600: the user store's URI may hold that database's password; the
    admin password is never in it).

    Args:
        path: the ini file (``MLFLOW_AUTH_CONFIG_PATH``).
        database_uri: the auth app's user store (users, password hashes, grants).
        admin_username: the account MLflow bootstraps as admin: the platform's service account.
    """
    text = (
        "[mlflow]\n"
        "default_permission = READ\n"
        f"database_uri = {database_uri}\n"
        f"admin_username = {admin_username}\n"
        "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n"
        "grant_default_workspace_access = false\n"
    )
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    atomic_write_text(path, text, mode=0o600)
    return path


class AccountError(RuntimeError):
    """The MLflow server refused or could not be reached; the message names the account and the status."""


def _request(
    url: str, user: str, password: str, method: str = "GET", body: dict[str, str] | None = None
) -> tuple[int, str]:
    """``(HTTP status, the server's error message or "")`` of one authenticated call."""
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Authorization", f"Basic {token}")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return int(resp.status), ""
    except urllib.error.HTTPError as exc:
        try:
            message = str(json.loads(exc.read() or b"{}").get("message", ""))
        except ValueError:
            message = ""
        return int(exc.code), message


def ensure_account(tracking_uri: str, admin: tuple[str, str], account: tuple[str, str]) -> bool:
    """Create ``account`` (a non-admin user: reads only) unless it exists. Returns whether it was created.

    Raises:
        AccountError: the service account was refused (wrong password) or the server answered an error.
    """
    base = tracking_uri.rstrip("/")
    username, password = account
    if not password:
        raise AccountError(f"no password for the MLflow account {username!r}")
    status, _ = _request(f"{base}/api/2.0/mlflow/users/get?username={username}", *admin)
    if status == 200:
        return False
    if status in (401, 403):
        raise AccountError(f"the MLflow server refused the service account {admin[0]!r} (HTTP {status})")
    status, message = _request(
        f"{base}/api/2.0/mlflow/users/create", *admin, "POST", {"username": username, "password": password}
    )
    if status != 200:
        raise AccountError(f"creating the MLflow account {username!r} failed (HTTP {status}: {message})")
    return True


def wait_for_server(tracking_uri: str, timeout_s: float) -> None:
    """Wait until the MLflow server answers its health endpoint."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with urllib.request.urlopen(f"{tracking_uri.rstrip('/')}/health", timeout=5):
                return
        except (urllib.error.URLError, OSError) as exc:
            if time.monotonic() > deadline:
                raise AccountError(f"MLflow at {tracking_uri} did not answer within {timeout_s:.0f} s ({exc})") from exc
            time.sleep(2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m llmops.stack.mlflow_auth", description=__doc__)
    parser.add_argument("--wait", type=float, default=0.0, help="seconds to wait for the server")
    parser.add_argument("--write-config", type=Path, help="write the server's auth config here and exit")
    args = parser.parse_args(argv)
    env = os.environ
    if args.write_config is not None:
        if not env.get("MLFLOW_AUTH_DATABASE_URI"):
            print("missing environment variable MLFLOW_AUTH_DATABASE_URI", file=sys.stderr)
            return 2
        admin_name = env.get("MLFLOW_AUTH_ADMIN_USERNAME", SERVICE_ACCOUNT)
        write_auth_config(args.write_config, env["MLFLOW_AUTH_DATABASE_URI"], admin_name)
        return 0
    try:
        uri = env["MLFLOW_TRACKING_URI"]
        admin = (env["MLFLOW_TRACKING_USERNAME"], env["MLFLOW_TRACKING_PASSWORD"])
        viewer = (env.get("MLFLOW_READONLY_USERNAME", READONLY_ACCOUNT), env["MLFLOW_READONLY_PASSWORD"])
    except KeyError as exc:
        print(f"missing environment variable {exc.args[0]}", file=sys.stderr)
        return 2
    try:
        if args.wait:
            wait_for_server(uri, args.wait)
        created = ensure_account(uri, admin, viewer)
    except AccountError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    print(f"read-only MLflow account {viewer[0]!r} {'created' if created else 'exists'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
