"""The production topology as processes on this machine: Airflow with the CeleryExecutor on a Postgres metadata
database, one Celery worker per queue (Redis broker), an MLflow server on a Postgres backend store that proxies
artifacts, and Triton with its model-control API restricted to a header key. The pipeline is triggered and
followed through Airflow's REST API, as a user or another system would.

Select with ``-m topology``; skipped with the reason when PostgreSQL or Redis is not reachable.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from llmops.config import LLMOpsConfig, load_config
from llmops.ports import free_ports

pytestmark = [pytest.mark.integration, pytest.mark.topology]

PG_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
PG_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/{db}"
REDIS = ("127.0.0.1", 6379)


def _reachable() -> str | None:
    try:
        import psycopg2

        psycopg2.connect(PG_DSN, connect_timeout=3).close()
    except Exception as exc:
        return f"PostgreSQL not reachable at 127.0.0.1:5432 ({exc})"
    try:
        with socket.create_connection(REDIS, timeout=3) as s:
            s.sendall(b"PING\r\n")
            if not s.recv(16).startswith(b"+PONG"):
                return "Redis at 127.0.0.1:6379 did not answer PING"
    except OSError as exc:
        return f"Redis not reachable at 127.0.0.1:6379 ({exc})"
    return None


def _admin(sql: str) -> None:
    import psycopg2

    conn = psycopg2.connect(PG_DSN)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
    finally:
        conn.close()


@pytest.fixture(scope="module")
def topology_stack(
    tmp_path_factory: pytest.TempPathFactory, tiny_pipeline_env: dict[str, str]
) -> Iterator[tuple[LLMOpsConfig, Any]]:
    reason = _reachable()
    if reason:
        pytest.skip(reason)
    from llmops.serving.server import ServingEnvError, find_install
    from llmops.stack import manager as stack
    from llmops.stack.cli import prepare

    home = tmp_path_factory.mktemp("topology-home")
    try:
        find_install(load_config().paths.serving_venv)
    except ServingEnvError as exc:
        pytest.skip(f"serving environment missing ({exc}); run `make install`")
    suffix = secrets.token_hex(4)
    af_db, ml_db = f"llmops_airflow_{suffix}", f"llmops_mlflow_{suffix}"
    _admin(f"CREATE DATABASE {af_db}")
    _admin(f"CREATE DATABASE {ml_db}")
    topology = stack.Topology(
        executor="CeleryExecutor",
        sql_alchemy_conn=PG_URL.format(db=af_db),
        celery_broker_url=f"redis://127.0.0.1:6379/{int(suffix, 16) % 15 + 1}",
        # Results in Redis too: the workers get no metadata-database DSN at all (see worker_env).
        celery_result_backend=f"redis://127.0.0.1:6379/{int(suffix, 16) % 15 + 1}",
        worker_queues=("default", "training"),
        mlflow_backend_store_uri=f"postgresql://postgres@127.0.0.1:5432/{ml_db}",
        mlflow_artifacts_destination=(home / "mlflow-artifacts").as_uri(),
        mlflow_auth=True,
        triton_control_key=secrets.token_urlsafe(16),
    )
    api_port, ui_port, http_port, grpc_port, metrics_port = free_ports(5)
    env = {
        **tiny_pipeline_env,
        "LLMOPS_HOME": str(home),
        "LLMOPS__PATHS__MODEL_REPOSITORY": str(home / "triton_models"),
        "LLMOPS__AIRFLOW__API_PORT": str(api_port),
        "LLMOPS__AIRFLOW__PARALLELISM": "4",
        # Every Celery task is a new process: the named-entity model would be loaded by each task that scrubs. The
        # topology is what this test is about; the model's scrubbing is covered in-process by the pipeline test.
        "LLMOPS__DATA__PII__ENTITIES": "[EMAIL, PHONE, CREDIT_CARD, IBAN, IP_ADDRESS, SECRET, US_SSN, NATIONAL_ID, "
        "DATE_OF_BIRTH, ADDRESS]",
        "LLMOPS__MLFLOW__UI_PORT": str(ui_port),
        "LLMOPS__TRITON__HTTP_PORT": str(http_port),
        "LLMOPS__TRITON__GRPC_PORT": str(grpc_port),
        "LLMOPS__TRITON__METRICS_PORT": str(metrics_port),
        # Test-only kill hook: the first try of promote_to_triton dies (SIGKILL) right after `champion` moved, so
        # the worker's supervisor, Airflow's retry and the retry's reconcile are exercised on the real scheduler.
        "LLMOPS_KILL_AT": "alias:after",
        "LLMOPS_KILL_ONCE_FILE": str(home / "killed-once"),
    }
    with pytest.MonkeyPatch.context() as mp:
        for k, v in env.items():
            mp.setenv(k, v)
        cfg = load_config()
        prepare(cfg)
        try:
            stack.up(cfg, topology=topology)
            # The pipeline's tasks (and this test's MLflow client) talk to the MLflow server, not to a file store.
            mp.setenv("LLMOPS__MLFLOW__TRACKING_URI", stack.mlflow_url(cfg))
            # ... behind MLflow's basic-auth app, as the platform's service account.
            mp.setenv("MLFLOW_TRACKING_USERNAME", "llmops")
            mp.setenv("MLFLOW_TRACKING_PASSWORD", stack.airflow_secrets(cfg)["mlflow_service_password"])
            yield load_config(), topology
        finally:
            stack.down(cfg)
            for db in (af_db, ml_db):
                _admin(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")


def test_pipeline_on_celery_postgres_mlflow_server(topology_stack: tuple[LLMOpsConfig, Any]) -> None:
    from llmops.registry import registry
    from llmops.serving.client import TritonClient
    from llmops.stack.cli import DAG_ID, AirflowApi
    from llmops.stack.manager import airflow_secrets, status

    cfg, topology = topology_stack
    s = airflow_secrets(cfg)
    api = AirflowApi(f"http://127.0.0.1:{cfg.airflow.api_port}", s["admin_user"], s["admin_password"])
    api.wait_for_dag(DAG_ID, 300)
    api.send("PATCH", f"/dags/{DAG_ID}", {"is_paused": False})
    run_id = api.send("POST", f"/dags/{DAG_ID}/dagRuns", {"logical_date": None, "conf": {}})["dag_run_id"]
    deadline = time.monotonic() + 1200
    state = "queued"
    while time.monotonic() < deadline and state not in ("success", "failed"):
        time.sleep(5)
        state = api.get(f"/dags/{DAG_ID}/dagRuns/{run_id}")["state"]
        dead = [name for name, pid in status(cfg).items() if pid is None]
        if dead:  # a crashed component never finishes the run: fail now, with its log
            logs = {n: (cfg.paths.run_state_dir / f"{n}.log").read_text(errors="replace")[-2000:] for n in dead}
            pytest.fail(f"stack components died: {dead}\n{logs}")
    tis = {ti["task_id"]: ti for ti in api.get(f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances")["task_instances"]}
    assert state == "success", {t: ti["state"] for t, ti in tis.items()}
    # the scheduler's listener wrote the run's summary as its note, committed with the state change (Postgres)
    note = api.get(f"/dags/{DAG_ID}/dagRuns/{run_id}")["note"]
    assert note and note.startswith("**Run summary**") and "on Triton as champion" in note, note

    # training ran on the training queue, on the training worker; everything else on the default worker
    assert tis["finetune_model"]["queue"] == "training"
    assert tis["finetune_model"]["hostname"] == "worker-training"
    ran = {task_id: ti for task_id, ti in tis.items() if ti["state"] == "success"}
    assert {"validate_raw_data", "finetune_model", "register_model", "promote_to_triton"} <= set(ran)
    for task_id, ti in ran.items():
        if task_id != "finetune_model":
            assert ti["queue"] == "default", task_id
            assert ti["hostname"] == "worker-default", task_id

    # promote_to_triton was killed after the alias moved; its retry completed the promotion (event, tags, journal)
    from llmops.monitoring.rollback_watch import _last_promotion
    from llmops.registry import tracking
    from llmops.serving.journal import read_journal

    assert (cfg.paths.home / "killed-once").exists()
    assert tis["promote_to_triton"]["try_number"] == 2, tis["promote_to_triton"]
    assert _last_promotion(cfg, "1") is not None
    tags = tracking.client(cfg).get_model_version(cfg.mlflow.model_name, "1").tags
    assert tags.get("llmops.promotion.run_key"), tags
    journal = read_journal(cfg.paths.model_repository, cfg.triton.model_name)
    assert journal is not None and not journal.open and journal.to_version == "1", journal

    # the model is in the MLflow server's registry (Postgres backend) with its artifacts proxied by the server
    assert cfg.tracking_uri.startswith("http://")
    assert registry.alias_version(cfg, registry.CHAMPION) == "1"
    assert any(Path(topology.mlflow_artifacts_destination.removeprefix("file://")).rglob("*.safetensors"))

    # Triton serves it; model control needs the key, inference does not
    with TritonClient(cfg.triton.http_url, control_key="") as anonymous:
        assert anonymous.is_model_ready(cfg.triton.model_name, "1")
        assert anonymous.generate(cfg.triton.model_name, ["How do I share a folder?"], max_new_tokens=8)[0]
        with pytest.raises(Exception, match=r"restricted|forbidden|not allowed|401|403"):
            anonymous.unload_model(cfg.triton.model_name)
    with TritonClient(cfg.triton.http_url, control_key=topology.triton_control_key) as operator:
        assert operator.repository_index()

    # The api-server mounts the llmops plugin: an application rates that answer through the feedback endpoint
    # (token of the stack, scrubbed on arrival, appended where monitoring reads); a caller without the token is not
    # heard, and no other process of the stack holds the token.
    from llmops.monitoring.capture import CaptureError, send_feedback
    from llmops.monitoring.feedback import feedback_dir
    from llmops.stack.manager import feedback_token, services

    with TritonClient(cfg.triton.http_url, control_key="") as app_client:
        (served,) = app_client.generate_results(cfg.triton.model_name, ["How do I share a folder?"], max_new_tokens=8)
    assert served.ok and served.server_request_id, served
    url = f"http://127.0.0.1:{cfg.airflow.api_port}/llmops/feedback"
    correction = "Open Share, then ask Dana Whitfield (dana.whitfield@mailbox-example.org) to add you."
    body = {"request_id": served.server_request_id, "rating": "down", "corrected_response": correction}
    answer = send_feedback(url, feedback_token(cfg), body)
    assert answer["status"] == "accepted" and answer["pii_found"].get("EMAIL") == 1, answer
    stored = "".join(p.read_text() for p in feedback_dir(cfg).glob("capture-*.jsonl"))
    assert served.server_request_id in stored and "dana.whitfield" not in stored and "<EMAIL>" in stored
    with pytest.raises(CaptureError) as refused:
        send_feedback(url, "not-the-token", body)
    assert refused.value.status == 401
    holders = {svc.name for svc in services(cfg, topology) if cfg.monitoring.feedback_token_env in svc.env}
    assert holders == {"airflow-api-server"}


def _chromium() -> str | None:
    return next((p for name in ("chromium", "chromium-browser") if (p := shutil.which(name))), None)


def test_llmops_page_in_a_browser(topology_stack: tuple[LLMOpsConfig, Any], tmp_path: Path) -> None:
    """A person opens the LLMOps page after the pipeline ran: Airflow sends them to its login page first, then the
    page shows the champion, the timeline and plots; the same page is the "LLMOps" entry of the Airflow UI.
    Screenshots go to ``$LLMOPS_SCREENSHOT_DIR`` (default: the test's temporary folder)."""
    chromium = _chromium()
    if chromium is None:
        pytest.skip("no Chromium found on PATH (apt-get install chromium): the browser test needs Debian's Chromium")
    from playwright.sync_api import expect, sync_playwright

    from llmops.stack.manager import airflow_secrets

    cfg, _ = topology_stack
    s = airflow_secrets(cfg)
    base = f"http://127.0.0.1:{cfg.airflow.api_port}"
    shots = Path(os.environ.get("LLMOPS_SCREENSHOT_DIR") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(60_000)
            page.goto(f"{base}/llmops/ui/")
            page.wait_for_url("**/auth/login**")  # no session: Airflow's own login
            page.locator("input[name=username]").fill(s["admin_user"])
            page.locator("input[type=password]").fill(s["admin_password"])
            page.locator("button[type=submit]").click()
            page.wait_for_url("**/llmops/ui/")
            expect(page.locator("[data-role=champion] h3")).to_contain_text(f"{cfg.mlflow.model_name} v1")
            expect(page.locator("#timeline tr.promotion").first).to_contain_text("v1")
            expect(page.locator("#versions")).to_contain_text("promotion_gate: passed")  # a verdict with its reason
            expect(page.locator("#plots .plot .main-svg").first).to_be_visible()  # drawn by Plotly in the browser
            page.screenshot(path=str(shots / "llmops_page.png"), full_page=True)
            # The same page inside the Airflow UI, under its navigation entry.
            page.goto(f"{base}/plugin/llmops")
            frame = page.frame_locator("iframe")
            expect(frame.locator("[data-role=champion] h3")).to_contain_text("v1")
            page.screenshot(path=str(shots / "airflow_llmops_nav.png"))
        finally:
            browser.close()
    print(f"screenshots: {shots / 'llmops_page.png'} {shots / 'airflow_llmops_nav.png'}")


def test_control_plane_is_closed(topology_stack: tuple[LLMOpsConfig, Any]) -> None:
    """MLflow answers only to accounts and the viewer cannot steer; Celery workers hold no metadata-DB DSN."""
    import base64
    import json
    import urllib.error
    import urllib.request

    from llmops.registry import registry
    from llmops.stack.manager import WORKER_WITHHELD, airflow_secrets, mlflow_url, running_pid, services

    cfg, topology = topology_stack
    secrets_ = airflow_secrets(cfg)
    base = mlflow_url(cfg)

    def call(path: str, account: tuple[str, str] | None, body: dict[str, Any] | None = None) -> int:
        req = urllib.request.Request(base + path, data=json.dumps(body).encode() if body else None)
        if body:
            req.add_header("Content-Type", "application/json")
        if account:
            req.add_header("Authorization", "Basic " + base64.b64encode(":".join(account).encode()).decode())
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return int(resp.status)
        except urllib.error.HTTPError as exc:
            return int(exc.code)

    name = cfg.mlflow.model_name
    viewer = ("llmops-viewer", secrets_["mlflow_readonly_password"])
    assert call(f"/api/2.0/mlflow/registered-models/get?name={name}", None) == 401
    assert call(f"/api/2.0/mlflow/registered-models/get?name={name}", ("llmops", "wrong-password")) == 401
    assert call(f"/api/2.0/mlflow/registered-models/get?name={name}", viewer) == 200
    champion = registry.alias_version(cfg, registry.CHAMPION)
    assert champion is not None
    moved = {"name": name, "alias": "champion", "version": champion}
    assert call("/api/2.0/mlflow/registered-models/alias", viewer, moved) == 403
    tag = {"name": name, "version": champion, "key": "llmops.promotion.from_version", "value": "1"}
    assert call("/api/2.0/mlflow/model-versions/set-tag", viewer, tag) == 403
    assert registry.alias_version(cfg, registry.CHAMPION) == champion

    # The workers that ran the pipeline above were started with this environment (setproctitle overwrites
    # /proc/<pid>/environ of a Celery worker, so it is read from the stack's service definitions).
    workers = [svc for svc in services(cfg, topology) if svc.name.startswith("airflow-worker-")]
    assert {svc.name for svc in workers} == {"airflow-worker-default", "airflow-worker-training"}
    for svc in workers:
        assert running_pid(cfg, svc.name) is not None, svc.name
        assert not set(WORKER_WITHHELD) & set(svc.env), (svc.name, set(WORKER_WITHHELD) & set(svc.env))
        assert svc.env["AIRFLOW__CELERY__RESULT_BACKEND"].startswith("redis://")
        assert svc.env["MLFLOW_TRACKING_USERNAME"] == "llmops"
