"""Nothing of the platform leaves the machine unasked: MLflow 3 sends usage telemetry (after fetching its
configuration from its own server) unless told not to, and the ``llmops`` package tells it not to.

The check runs the real tracking calls in a fresh interpreter whose sockets refuse every connection and record the
address, with none of the CI markers MLflow itself reads (``CI``, ``PYTEST_CURRENT_TEST``...) that would switch it
off anyway.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import json, socket, sys, time

attempts = []


def refuse(self, address):
    attempts.append(repr(address))
    raise OSError("no network in this test")


socket.socket.connect = refuse
socket.socket.connect_ex = lambda self, address: refuse(self, address) or 1

from llmops.config import load_config
from llmops.registry import tracking
from mlflow.telemetry.utils import is_telemetry_disabled

cfg = load_config()
c = tracking.client(cfg)
run = c.create_run(tracking.ensure_experiment(cfg))
c.log_metric(run.info.run_id, "x", 1.0)
c.set_terminated(run.info.run_id)
time.sleep(3)  # MLflow's telemetry works from a background thread
print(json.dumps({"attempts": attempts, "disabled": is_telemetry_disabled()}))
"""

CI_MARKERS = ("PYTEST_CURRENT_TEST", "GITHUB_ACTIONS", "CI", "GITLAB_CI", "JENKINS_URL", "BUILDKITE", "TF_BUILD")


def test_mlflow_sends_no_telemetry_and_opens_no_connection(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in CI_MARKERS and k not in ("MLFLOW_DISABLE_TELEMETRY",)}
    env.pop("DO_NOT_TRACK", None)
    env.update({"LLMOPS_HOME": str(tmp_path), "PYTHONPATH": str(ROOT / "include")})
    for name in [n for n in env if n.startswith("LLMOPS__") or n == "MLFLOW_TRACKING_URI"]:
        del env[name]
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["disabled"] is True
    assert result["attempts"] == [], result["attempts"]
