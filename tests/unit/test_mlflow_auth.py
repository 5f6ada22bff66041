"""The MLflow auth config and account helper (the server side is exercised by the topology test)."""

from __future__ import annotations

import configparser
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from llmops.stack import mlflow_auth


def test_auth_config_names_the_service_account_and_no_password(tmp_path: Path) -> None:
    path = mlflow_auth.write_auth_config(tmp_path / "auth" / "basic_auth.ini", "sqlite:////tmp/users.db")
    assert path.stat().st_mode & 0o777 == 0o600
    parser = configparser.ConfigParser()
    parser.read(path)
    section = parser["mlflow"]
    assert section["admin_username"] == "llmops"
    assert section["default_permission"] == "READ"
    assert "admin_password" not in section


def test_write_config_cli_reads_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLFLOW_AUTH_DATABASE_URI", raising=False)
    assert mlflow_auth.main(["--write-config", str(tmp_path / "a.ini")]) == 2
    monkeypatch.setenv("MLFLOW_AUTH_DATABASE_URI", "postgresql://mlflow:pw@postgres:5432/mlflow_auth")
    assert mlflow_auth.main(["--write-config", str(tmp_path / "a.ini")]) == 0
    assert "mlflow_auth" in (tmp_path / "a.ini").read_text()


class _FakeAuthServer(BaseHTTPRequestHandler):
    users: ClassVar[dict[str, str]] = {}
    admin = ("llmops", "service-password-1")

    def _authorized(self) -> bool:
        import base64

        header = self.headers.get("Authorization", "")
        expected = "Basic " + base64.b64encode(":".join(self.admin).encode()).decode()
        if header != expected:
            self._reply(401, {"message": "You are not authenticated."})
            return False
        return True

    def _reply(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        if not self._authorized():
            return
        name = self.path.split("username=")[-1]
        if name in self.users:
            self._reply(200, {"user": {"username": name}})
        else:
            self._reply(404, {"message": f"User with username={name} not found"})

    def do_POST(self) -> None:
        if not self._authorized():
            return
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if len(body["password"]) < 12:
            self._reply(400, {"message": "Password must be at least 12 characters."})
            return
        self.users[body["username"]] = body["password"]
        self._reply(200, {"user": {"username": body["username"]}})

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture()
def server() -> Any:
    _FakeAuthServer.users = {}
    httpd = HTTPServer(("127.0.0.1", 0), _FakeAuthServer)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()


def test_ensure_account_is_idempotent_and_says_why_it_failed(server: str) -> None:
    admin = _FakeAuthServer.admin
    assert mlflow_auth.ensure_account(server, admin, ("viewer", "viewer-password-1")) is True
    assert mlflow_auth.ensure_account(server, admin, ("viewer", "viewer-password-1")) is False
    with pytest.raises(mlflow_auth.AccountError, match="at least 12"):
        mlflow_auth.ensure_account(server, admin, ("other", "short"))
    with pytest.raises(mlflow_auth.AccountError, match="refused the service account 'llmops'"):
        mlflow_auth.ensure_account(server, ("llmops", "wrong"), ("viewer", "viewer-password-1"))
