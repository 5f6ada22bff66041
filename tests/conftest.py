"""Test-wide settings: offline hub, no analytics, and a private state folder so tests never touch `.llmops/`."""

from __future__ import annotations

import json
import os
import tempfile
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DS_ACCELERATOR", "cpu")
_SESSION_HOME = Path(tempfile.mkdtemp(prefix="llmops-test-home-"))
os.environ["LLMOPS_HOME"] = str(_SESSION_HOME)
os.environ["AIRFLOW_HOME"] = str(_SESSION_HOME / "airflow")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(Path(__file__).resolve().parents[1] / "dags")
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "False"
# The project's plugin, as a deployment loads it (its listener writes the run notes the DAG tests read).
os.environ["AIRFLOW__CORE__PLUGINS_FOLDER"] = str(Path(__file__).resolve().parents[1] / "plugins")
# Any LLMOPS__* override in the caller's shell would make results depend on it.
for _name in [n for n in os.environ if n.startswith("LLMOPS__")]:
    del os.environ[_name]


@pytest.fixture(scope="module")
def alert_webhook() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A local HTTP endpoint recording the JSON bodies POSTed to it: ``(url, received)``."""
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/alerts", received
    finally:
        server.shutdown()
        server.server_close()
