"""Shared settings of the integration tests: tiny but real pipeline runs."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest

from llmops.config import LLMOpsConfig, load_config

# Environment overrides that make a whole pipeline run take about a minute on 2 cores.
TINY_PIPELINE_ENV = {
    "LLMOPS__DEMO__N_TRAIN": "600",
    "LLMOPS__DEMO__N_EVAL": "60",
    "LLMOPS__DEMO__PROD_REQUESTS": "120",
    "LLMOPS__BASE_MODEL__TINY__VOCAB_SIZE": "800",
    "LLMOPS__BASE_MODEL__TINY__N_EMBD": "128",
    "LLMOPS__BASE_MODEL__TINY__N_LAYER": "2",
    "LLMOPS__BASE_MODEL__TINY__N_HEAD": "4",
    "LLMOPS__TRAINING__MAX_STEPS": "60",
    "LLMOPS__TRAINING__CHECKPOINT_EVERY": "30",
    "LLMOPS__TRAINING__MAX_SEQ_LEN": "96",
    "LLMOPS__EVALUATION__MAX_ROWS": "60",
    "LLMOPS__EVALUATION__GENERATION_ROWS": "8",
    "LLMOPS__EVALUATION__MAX_NEW_TOKENS": "24",
    "LLMOPS__TRITON__DEFAULT_MAX_NEW_TOKENS": "24",
    "LLMOPS__TRITON__READY_TIMEOUT_S": "150",
    "LLMOPS__DATA__MIN_ROWS": "50",
    # Models trained for 60 steps babble: most of their answers are truncated or repetitive and name invented
    # numbers, and two of them differ at random on those rates and on the canary probes. The gate's ceilings for those
    # two rates, its champion margin and its canary bound are off here; the PII-leak and toxicity ceilings stay
    # (the pipeline test's poisoned candidate is refused by them). Alerts on those two rates are off for the same
    # reason. MLflow's GenAI evaluation (a trace per answer) and the red-team and canary prompts run in the pipeline
    # test's first run only (the other runs' gates read the held-out answers).
    "LLMOPS__GATE__SAFETY_CEILINGS__DEGENERATE": "1.0",
    "LLMOPS__GATE__SAFETY_CEILINGS__UNSUPPORTED_FACTS": "1.0",
    "LLMOPS__GATE__SAFETY_MARGIN": "1.0",
    "LLMOPS__GATE__CANARY_MAX_SHIFT": "2.0",
    "LLMOPS__MONITORING__MAX_SAFETY_RATES__DEGENERATE": "1.0",
    "LLMOPS__MONITORING__MAX_SAFETY_RATES__UNSUPPORTED_FACTS": "1.0",
    "LLMOPS__EVALUATION__GENAI_EVALUATE": "false",
    "LLMOPS__EVALUATION__REDTEAM": "false",
}


@pytest.fixture(scope="session")
def tiny_pipeline_env() -> dict[str, str]:
    """A copy of :data:`TINY_PIPELINE_ENV` for fixtures to extend."""
    return dict(TINY_PIPELINE_ENV)


def _migrate_airflow_db() -> None:
    """Create the metadata database of the test session's Airflow home (tests/conftest.py sets AIRFLOW_HOME)."""
    out = subprocess.run(
        [str(Path(sys.executable).parent / "airflow"), "db", "migrate"],
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-3000:]


@pytest.fixture(scope="session")
def airflow_db_migrate() -> Callable[[], None]:
    """Call it (inside the test's environment) before `dag.test()`."""
    return _migrate_airflow_db


@pytest.fixture(scope="session")
def start_pipeline_stack(tiny_pipeline_env: dict[str, str]) -> Callable[[Path], AbstractContextManager[LLMOpsConfig]]:
    """A context manager factory: tiny settings under ``home``, the demo data, a migrated Airflow database and a real
    Triton server on free ports; yields the configuration and stops the server afterwards."""

    @contextmanager
    def start(home: Path) -> Iterator[LLMOpsConfig]:
        from llmops.serving.server import ServingEnvError, TritonPorts, TritonServer, stop, wait_ready
        from llmops.stack.cli import prepare

        ports = TritonPorts.free()
        env = {
            **tiny_pipeline_env,
            "LLMOPS_HOME": str(home),
            "LLMOPS__PATHS__MODEL_REPOSITORY": str(home / "triton_models"),
            "LLMOPS__TRITON__HTTP_PORT": str(ports.http),
            "LLMOPS__TRITON__GRPC_PORT": str(ports.grpc),
            "LLMOPS__TRITON__METRICS_PORT": str(ports.metrics),
            "LLMOPS__TRAINING__MASTER_PORT": str(ports.metrics + 17 if ports.metrics < 60000 else 29533),
        }
        with pytest.MonkeyPatch.context() as mp:
            for k, v in env.items():
                mp.setenv(k, v)
            cfg = load_config()
            try:
                server = TritonServer(cfg.paths.serving_venv, cfg.paths.triton_dir)
            except ServingEnvError as exc:
                pytest.skip(f"serving environment missing ({exc}); run `make install`")
            _migrate_airflow_db()
            prepare(cfg)
            proc = server.start(cfg.paths.model_repository, ports, home / "triton.log")
            try:
                wait_ready(cfg.triton.http_url, 120, proc=proc, log_file=home / "triton.log")
                yield cfg
            finally:
                stop(proc)

    return start
