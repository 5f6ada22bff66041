"""Shared settings of the integration tests: tiny but real pipeline runs."""

from __future__ import annotations

import pytest

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
}


@pytest.fixture(scope="session")
def tiny_pipeline_env() -> dict[str, str]:
    """A copy of :data:`TINY_PIPELINE_ENV` for fixtures to extend."""
    return dict(TINY_PIPELINE_ENV)
