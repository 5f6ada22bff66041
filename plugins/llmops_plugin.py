"""The ``llmops`` Airflow plugin: mounts the project's HTTP app (:mod:`llmops_airflow.api`) in the api-server.

``POST /llmops/feedback`` takes an application's rating of an answer (see :mod:`llmops.monitoring.capture`).
Airflow's own authentication does not cover plugin apps: the feedback route checks its callers' token itself.
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin
from llmops_airflow.api import create_app


class LLMOpsPlugin(AirflowPlugin):
    """Feedback capture for the served model, served by the Airflow api-server under ``/llmops``."""

    name = "llmops"
    # AirflowPlugin declares it as a plain class attribute (a ClassVar annotation would not type-check).
    fastapi_apps = [{"app": create_app(), "url_prefix": "/llmops", "name": "LLMOps"}]  # noqa: RUF012
