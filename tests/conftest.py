"""Test-wide settings: offline hub, no analytics, and a private state folder so tests never touch `.llmops/`."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

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
# Any LLMOPS__* override in the caller's shell would make results depend on it.
for _name in [n for n in os.environ if n.startswith("LLMOPS__")]:
    del os.environ[_name]
