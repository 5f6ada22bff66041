"""The ``llmops`` Airflow plugin: mounts the project's HTTP app (:mod:`llmops_airflow.api`) in the api-server and
adds it to the Airflow UI.

* "LLMOps" in the navigation: the LLMOps page (champion and challenger, versions with verdict reasons, the audit
  timeline, plots per monitored interval, links), served under ``/llmops/ui/`` behind Airflow's own authentication.
* "MLflow run" on every DAG run: the MLflow run that Airflow run logged; "Report" on every task instance: the report
  the task wrote (Data Docs of ``validate_raw_data``, the drift report of ``check_drift``), else the MLflow run.
* The run note: a run of a project DAG that ends gets its summary (rows per stage, base vs candidate, verdicts,
  the version served; an interval's rows, drift and alerts) as its note (:mod:`llmops_airflow.notes`).
* ``POST /llmops/feedback`` takes an application's rating of an answer (see :mod:`llmops.monitoring.capture`); it
  checks its callers' token itself (Airflow does not authenticate plugin apps).
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin
from llmops_airflow import notes
from llmops_airflow.api import create_app


class LLMOpsPlugin(AirflowPlugin):
    """The LLMOps page, the per-run MLflow link, run notes and feedback capture."""

    name = "llmops"
    # AirflowPlugin declares these as plain class attributes (a ClassVar annotation would not type-check).
    fastapi_apps = [{"app": create_app(), "url_prefix": "/llmops", "name": "LLMOps"}]  # noqa: RUF012
    external_views = [  # noqa: RUF012
        {"name": "LLMOps", "href": "llmops/ui/", "destination": "nav", "url_route": "llmops", "nav_top_level": True},
        {
            "name": "MLflow run",
            "href": "llmops/ui/run/{DAG_ID}/{RUN_ID}",
            "destination": "dag_run",
            "url_route": "llmops_mlflow_run",
        },
        {
            "name": "Report",
            "href": "llmops/ui/task/{DAG_ID}/{RUN_ID}/{TASK_ID}",
            "destination": "task_instance",
            "url_route": "llmops_task_report",
        },
    ]
    listeners = [notes]  # noqa: RUF012
