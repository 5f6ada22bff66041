"""The webhook channel over real HTTP: no redirects followed, transient failures retried with backoff, and the URL
(whose path is the secret of an incoming webhook) never in an error or a log line."""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest

from llmops.monitoring.alerts import WebhookError, WebhookNotifier, notify, redact_url

SECRET_PATH = "/hooks/T000/B000/s3cr3t-token"


class Hook:
    """A local endpoint that answers each POST with the next status in ``script`` (then 200)."""

    def __init__(self) -> None:
        self.script: list[int] = []
        self.posts: list[tuple[str, dict[str, Any]]] = []
        self.lock = threading.Lock()
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with hook.lock:
                    hook.posts.append((self.path, body))
                    status = hook.script.pop(0) if hook.script else 200
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", f"http://127.0.0.1:{hook.port}/elsewhere")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_port
        self.url = f"http://127.0.0.1:{self.port}{SECRET_PATH}?token=abc"


@pytest.fixture
def hook() -> Iterator[Hook]:
    h = Hook()
    thread = threading.Thread(target=h.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield h
    finally:
        h.server.shutdown()
        h.server.server_close()


def _notifier(url: str, waits: list[float]) -> WebhookNotifier:
    return WebhookNotifier(url, timeout_s=5.0, sleep=waits.append)


def test_delivers_on_2xx(hook: Hook) -> None:
    waits: list[float] = []
    _notifier(hook.url, waits).send("subject", "body", {"interval": "x"})
    assert hook.posts == [(f"{SECRET_PATH}?token=abc", {"subject": "subject", "text": "body", "interval": "x"})]
    assert waits == []


def test_retries_5xx_and_429_with_exponential_backoff(hook: Hook, caplog: pytest.LogCaptureFixture) -> None:
    hook.script = [503, 429]
    waits: list[float] = []
    with caplog.at_level(logging.WARNING):
        _notifier(hook.url, waits).send("s", "b", {})
    assert len(hook.posts) == 3 and waits == [1.0, 2.0]
    assert "attempt 1 of 3" in caplog.text and "s3cr3t" not in caplog.text


def test_gives_up_after_the_attempts_without_showing_the_url(hook: Hook, caplog: pytest.LogCaptureFixture) -> None:
    hook.script = [500, 502, 500, 500]
    waits: list[float] = []
    with pytest.raises(WebhookError) as err, caplog.at_level(logging.DEBUG):
        _notifier(hook.url, waits).send("s", "b", {})
    assert len(hook.posts) == 3 and waits == [1.0, 2.0]
    message = str(err.value)
    assert message == f"webhook http://127.0.0.1:{hook.port}/… answered HTTP 500 after 3 attempts"
    assert "s3cr3t" not in caplog.text and "token=abc" not in caplog.text


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_redirect_is_a_failure_and_is_not_followed(hook: Hook, status: int) -> None:
    hook.script = [status]
    waits: list[float] = []
    with pytest.raises(WebhookError, match=f"HTTP {status} \\(a redirect, not followed\\)") as err:
        _notifier(hook.url, waits).send("s", "b", {})
    assert [path for path, _ in hook.posts] == [f"{SECRET_PATH}?token=abc"], "the Location was not visited"
    assert waits == [] and "s3cr3t" not in str(err.value)


def test_a_client_error_is_not_retried(hook: Hook) -> None:
    hook.script = [404]
    waits: list[float] = []
    with pytest.raises(WebhookError, match=r"answered HTTP 404$"):
        _notifier(hook.url, waits).send("s", "b", {})
    assert len(hook.posts) == 1 and waits == []


def test_connection_errors_are_retried_and_reported_without_the_url(caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}{SECRET_PATH}"
    waits: list[float] = []
    with caplog.at_level(logging.DEBUG):
        errors = notify([_notifier(url, waits)], "s", "b", {})
    assert waits == [1.0, 2.0]
    redacted = f"http://127.0.0.1:{port}/…"
    assert errors == [
        f"WebhookNotifier: webhook {redacted} connection failed (ConnectionRefusedError) after 3 attempts"
    ]
    assert "s3cr3t" not in caplog.text


def test_redaction_and_a_bad_scheme() -> None:
    assert redact_url("https://u:p@hooks.slack.com/services/T/B/X?k=v") == "https://hooks.slack.com/…"
    assert redact_url("http://h:8080/x") == "http://h:8080/…"
    with pytest.raises(ValueError, match="ftp://h/…") as err:
        WebhookNotifier("ftp://h/secret/path")
    assert "secret" not in str(err.value)
    assert "secret" not in repr(WebhookNotifier("https://h/secret"))
