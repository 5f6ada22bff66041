"""Command line of the embedded stack: ``python -m llmops.stack {prepare,up,down,status,demo}``."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from typing import Any

from llmops.config import LLMOpsConfig, load_config

DAG_ID = "llm_finetune_pipeline"
TASKS = (
    "validate_raw_data",
    "snapshot_dataset",
    "finetune_model",
    "evaluate_model",
    "gate_model",
    "register_model",
    "check_drift",
    "promote_to_triton",
)


def prepare(cfg: LLMOpsConfig) -> dict[str, str]:
    """Generate the demo data and demo production logs (idempotent, seeded)."""
    from llmops.demo import generate_demo_dataset, generate_prod_logs

    raw = cfg.paths.raw_dir
    out: dict[str, str] = {}
    if not (raw / "train.jsonl").is_file() or not (raw / "eval.jsonl").is_file():
        files = generate_demo_dataset(cfg.demo, raw)
        out.update({k: str(v) for k, v in files.items()})
    demo_logs = cfg.paths.prod_log_dir / "demo" / "requests-demo.jsonl"
    if not demo_logs.is_file():
        generate_prod_logs(cfg.demo.prod_requests, cfg.demo.prod_drift, cfg.demo.seed, demo_logs)
    out["prod_logs"] = str(demo_logs)
    return out


class AirflowApi:
    """A small client of Airflow's REST API (v2) with the SimpleAuthManager token flow."""

    def __init__(self, base_url: str, user: str, password: str) -> None:
        import requests

        self.base = base_url.rstrip("/")
        self.http = requests.Session()
        resp = self.http.post(f"{self.base}/auth/token", json={"username": user, "password": password}, timeout=30)
        resp.raise_for_status()
        self.http.headers["Authorization"] = f"Bearer {resp.json()['access_token']}"

    def get(self, path: str) -> Any:
        resp = self.http.get(f"{self.base}/api/v2{path}", timeout=30)
        resp.raise_for_status()
        return resp.json()

    def send(self, method: str, path: str, body: dict[str, Any]) -> Any:
        resp = self.http.request(method, f"{self.base}/api/v2{path}", json=body, timeout=30)
        if resp.status_code >= 400:
            raise RuntimeError(f"{method} {path} failed: {resp.status_code} {resp.text[:500]}")
        return resp.json()

    def wait_for_dag(self, dag_id: str, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            errors = self.get("/importErrors").get("import_errors", [])
            if errors:
                raise RuntimeError(f"DAG import errors: {json.dumps(errors)[:2000]}")
            try:
                self.get(f"/dags/{dag_id}")
                return
            except Exception:
                time.sleep(3)
        raise RuntimeError(f"DAG {dag_id} was not parsed within {timeout_s:.0f}s")

    def xcom(self, dag_id: str, run_id: str, task_id: str) -> Any:
        try:
            entry = self.get(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/return_value")
        except Exception:
            return None
        value = entry.get("value")
        if isinstance(value, str):
            try:
                return json.loads(value)
            except json.JSONDecodeError:
                return value
        return value


def run_demo(cfg: LLMOpsConfig, conf: dict[str, Any], timeout_s: float, production_loop: bool = True) -> int:
    """Trigger the pipeline through the running Airflow, wait for it and print the summary.

    The demo trains even when an earlier demo already trained on the same data (``force``, unless ``conf`` says
    otherwise): running ``make demo`` again shows the whole pipeline again. Then the production loop
    (:func:`run_production_loop`) monitors the demo's traffic, unless ``production_loop`` is off.
    """
    from llmops.stack import manager

    conf = {"force": True, **conf}

    s = manager.airflow_secrets(cfg)
    api = AirflowApi(f"http://127.0.0.1:{cfg.airflow.api_port}", s["admin_user"], s["admin_password"])
    api.wait_for_dag(DAG_ID, 300)
    api.send("PATCH", f"/dags/{DAG_ID}", {"is_paused": False})
    run = api.send("POST", f"/dags/{DAG_ID}/dagRuns", {"logical_date": None, "conf": conf})
    run_id = run["dag_run_id"]
    print(f"triggered {DAG_ID} run {run_id}", flush=True)
    deadline = time.monotonic() + timeout_s
    seen: dict[str, str] = {}
    state = run.get("state", "queued")
    while time.monotonic() < deadline:
        state = api.get(f"/dags/{DAG_ID}/dagRuns/{run_id}")["state"]
        tis = api.get(f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances").get("task_instances", [])
        for ti in tis:
            if ti.get("state") and seen.get(ti["task_id"]) != ti["state"]:
                seen[ti["task_id"]] = ti["state"]
                print(f"  {ti['task_id']:<20} {ti['state']}", flush=True)
        if state in ("success", "failed"):
            break
        time.sleep(5)
    results = {t: api.xcom(DAG_ID, run_id, t) for t in TASKS}
    print_summary(cfg, run_id, state, seen, results)
    if state != "success" or seen.get("promote_to_triton") != "success":
        return 1
    if not production_loop:
        return 0
    code = run_production_loop(cfg, api, timeout_s)
    print(f"\nLLMOps page        http://127.0.0.1:{cfg.airflow.api_port}/plugin/llmops  (Airflow login)")
    return code


MONITORING_DAG = "llm_production_monitoring"
# The demo's production traffic: the demo log file covers about 00:00-01:15 of this day; the loop adds one drifted
# hour after it (what users asked changed: a new product, other currencies, slang).
DEMO_TRAFFIC_DAY = "2026-01-01"
DEMO_DRIFTED_HOUR = 2


def run_production_loop(cfg: LLMOpsConfig, api: AirflowApi, timeout_s: float) -> int:
    """Monitor the demo's production traffic hour by hour through ``llm_production_monitoring`` (unpaused): each
    hour's logs are curated, compared with the champion's training data and scored, so drift, safety rates and latency
    over time show on the LLMOps page right away. One hour is drifted. Hours monitored by an earlier demo are not run
    again."""
    from datetime import UTC, datetime, timedelta

    from llmops.demo import generate_prod_logs

    day = datetime.fromisoformat(DEMO_TRAFFIC_DAY).replace(tzinfo=UTC)
    drifted = cfg.paths.prod_log_dir / "demo" / "requests-demo-drifted.jsonl"
    if not drifted.is_file():
        start = day + timedelta(hours=DEMO_DRIFTED_HOUR)
        generate_prod_logs(150, 0.7, cfg.demo.seed + 1, drifted, start=start)
    api.send("PATCH", f"/dags/{MONITORING_DAG}", {"is_paused": False})
    print(f"\n{MONITORING_DAG}: the demo's production traffic, hour by hour (unpaused: it runs every hour from now)")
    failures = 0
    for hour in range(DEMO_DRIFTED_HOUR + 1):
        start, end = day + timedelta(hours=hour), day + timedelta(hours=hour + 1)
        run_id = f"demo__{start:%Y%m%dT%H%M}"
        try:
            state = api.get(f"/dags/{MONITORING_DAG}/dagRuns/{run_id}")["state"]
        except Exception:  # not run yet
            body = {
                "dag_run_id": run_id,
                "logical_date": end.isoformat(),
                "data_interval_start": start.isoformat(),
                "data_interval_end": end.isoformat(),
                "conf": {},
                "note": "make demo: the demo's production traffic"
                + (" (drifted hour)" if hour == DEMO_DRIFTED_HOUR else ""),
            }
            api.send("POST", f"/dags/{MONITORING_DAG}/dagRuns", body)
            state = "queued"
        deadline = time.monotonic() + timeout_s
        while state not in ("success", "failed") and time.monotonic() < deadline:
            time.sleep(5)
            state = api.get(f"/dags/{MONITORING_DAG}/dagRuns/{run_id}")["state"]
        summary = api.xcom(MONITORING_DAG, run_id, "check_interval_drift") or {}
        metrics = summary.get("metrics") or {}
        alerts = ", ".join(a.get("name", "?") for a in summary.get("alerts") or []) or "none"
        share = metrics.get("drift_share")
        shown = "not assessed" if share is None else f"{share:.2f}"
        print(f"  {start:%Y-%m-%d %H:%M}  {state:<8} rows {int(metrics.get('rows', 0)):>4}  drift share {shown:<12}"
              f" alerts: {alerts}")  # fmt: skip
        failures += state != "success"
    return 1 if failures else 0


def send_demo_feedback(cfg: LLMOpsConfig, request_id: str) -> None:
    """Rate the demo's answer through the feedback endpoint, as an application would (the record is scrubbed on
    arrival: the correction's e-mail address is stored as a placeholder, and screening keeps it out of training)."""
    from llmops.monitoring.capture import CaptureError, send_feedback
    from llmops.stack import manager

    url = f"http://127.0.0.1:{cfg.airflow.api_port}/llmops/feedback"
    token = manager.feedback_token(cfg)
    ratings = [
        {"request_id": request_id, "rating": "up", "user": "demo-user-1"},
        {
            "request_id": request_id,
            "rating": "down",
            "user": "demo-user-2",
            "corrected_response": "Open Settings > Billing; for help write to jane.doe@example.org.",
        },
    ]
    print(f"\nPOST {url}")
    for record in ratings:
        try:
            answer = send_feedback(url, token, record)
            replaced = answer["pii_found"] or "none"
            print(f"  {record['rating']:<5} by {record['user']}: {answer['status']}, personal data: {replaced}")
        except CaptureError as exc:
            print(f"  {record['rating']:<5} by {record['user']}: refused ({exc.status}) {exc.message}")


# The question the demo asks the champion it just promoted: one the tiny demo model answers well (its answers to the
# smoke prompts and a few other support questions were compared after `make demo`; this one came back complete and on
# topic, where the smoke prompt's answer repeats itself).
DEMO_PROMPT = "How do I cancel my subscription?"


def print_summary(cfg: LLMOpsConfig, run_id: str, state: str, states: dict[str, str], r: dict[str, Any]) -> None:
    """Rows per stage, metrics base vs fine-tuned, MLflow run and version, Triton version and one answer."""
    from llmops.serving.client import TritonClient

    print("\n" + "=" * 78)
    print(f"{DAG_ID}  run {run_id}: {state.upper()}")
    print("=" * 78)
    v, d = r.get("validate_raw_data") or {}, r.get("snapshot_dataset") or {}
    if v:
        print(
            f"validate_raw_data  rows in {v.get('rows_in')}, valid {v.get('rows_valid')}, "
            f"quarantined {v.get('rows_quarantined')}  ({v.get('quarantine_path')})"
        )
    if d:
        print(
            f"dedup_dataset      exact duplicates {d.get('exact_duplicates')}, near-duplicates "
            f"{d.get('near_duplicates')}, eval-set overlap {d.get('contaminated')}"
        )
        pii = ", ".join(f"{k} {v}" for k, v in sorted((d.get("pii_counts") or {}).items()) if v) or "none"
        print(f"PII scrubbed       {pii}")
        print(
            f"snapshot_dataset   rows in {d.get('rows_in')}, kept {d.get('rows_out')}, quarantined "
            f"{d.get('rows_quarantined')}, duplicates {d.get('duplicates_removed')}, contaminated "
            f"{d.get('contaminated')} (reconciled)"
        )
        print(f"                   {d.get('snapshot_dir')}")
    ev = r.get("evaluate_model") or {}
    m = ev.get("metrics", {})
    if m:
        print("\nevaluation on the held-out set      base      fine-tuned")
        for key in ("eval_loss", "perplexity", "exact_match", "rouge_l"):
            if key in m:
                print(f"  {key:<32} {m.get('base_' + key, float('nan')):>9.4f}  {m[key]:>10.4f}")
        gate = r.get("gate_model") or {}
        print(f"  gate: {'PASSED' if gate.get('passed') else 'REJECTED'} - {gate.get('reason')}")
    ft, reg = r.get("finetune_model") or {}, r.get("register_model") or {}
    if ft:
        from llmops.registry.tracking import run_link

        print(f"\nMLflow run         {ft.get('mlflow_run_id')}  {run_link(cfg, ft['mlflow_run_id'])}")
        print_verdicts(cfg, ft["mlflow_run_id"])
    if reg:
        print(f"model version      {reg.get('name')} v{reg.get('version')}")
    dr = r.get("check_drift") or {}
    if dr:
        print(f"drift              share {dr.get('drift_share'):.2f}: {dr.get('reason')}")
        print(f"                   {dr.get('html_path') or '(no report: not enough production rows)'}")
    pr = r.get("promote_to_triton") or {}
    if pr:
        name = cfg.triton.model_name
        with TritonClient(cfg.triton.http_url) as client:
            ready = client.is_model_ready(name, str(pr.get("served_version")))
            print(f"Triton             {name} version {pr.get('served_version')} ready={ready} (champion)")
            prompt = DEMO_PROMPT
            served = client.generate_results(name, [prompt])[0]
        print(f"\nPOST http://{cfg.triton.http_url}/v2/models/{name}/infer")
        print(f"  prompt:   {prompt}\n  response: {served.text if served.ok else served.error}")
        if served.server_request_id:
            send_demo_feedback(cfg, served.server_request_id)
    failed = [t for t, s in states.items() if s not in ("success", "skipped")]
    if failed:
        print(f"\nfailed tasks: {', '.join(failed)}  (logs in the Airflow UI)")
    print("=" * 78)


def print_verdicts(cfg: LLMOpsConfig, mlflow_run_id: str) -> None:
    """Every decision the run took, as recorded on its MLflow run (``llmops.verdict.<gate>`` tags)."""
    from llmops.registry import tracking
    from llmops.verdict import TAG_PREFIX

    tags = tracking.client(cfg).get_run(mlflow_run_id).data.tags
    gates = sorted(k.removeprefix(TAG_PREFIX) for k in tags if k.startswith(TAG_PREFIX) and k.count(".") == 2)
    print(f"decisions          {len(gates)} verdicts on the run (tags {TAG_PREFIX}<gate>):")
    for gate in gates:
        reason = tags.get(f"{TAG_PREFIX}{gate}.reason", "")
        print(f"  {gate:<22} {tags[TAG_PREFIX + gate]:<7} {reason[:160]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="llmops", description=__doc__)
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("prepare", help="generate demo data and demo production logs")
    up = sub.add_parser("up", help="start Airflow, MLflow UI and Triton")
    up.add_argument("--no-airflow", action="store_true", help="start only MLflow UI and Triton")
    sub.add_parser("down", help="stop what `up` started")
    sub.add_parser("status", help="show which services run")
    demo = sub.add_parser("demo", help="trigger llm_finetune_pipeline through Airflow and print a summary")
    demo.add_argument("--conf", default="{}", help="JSON run conf (DAG params)")
    demo.add_argument("--timeout", type=float, default=3600)
    demo.add_argument("--no-production-loop", action="store_true", help="do not monitor the demo's traffic")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    cfg = load_config()

    from llmops.stack import manager as stack

    if args.cmd == "prepare":
        for k, v in prepare(cfg).items():
            print(f"{k:<10} {v}")
        return 0
    if args.cmd == "up":
        urls = stack.up(cfg, with_airflow=not args.no_airflow)
        s = stack.airflow_secrets(cfg)
        print("\nembedded stack is up:")
        for name, url in urls.items():
            print(f"  {name:<20} {url}")
        if "airflow-api-server" in urls:
            print(f"  Airflow login        user {s['admin_user']}  password {s['admin_password']}")
            print(f"  LLMOps page          {urls['airflow-api-server']}/plugin/llmops   (in the Airflow UI)")
            print(f"  feedback endpoint    {urls['airflow-api-server']}/llmops/feedback")
            print(f"  feedback token       {stack.feedback_token(cfg)}   (Authorization: Bearer <token>)")
        print(f"  reports              {cfg.paths.reports_dir}   (linked from the LLMOps page)")
        print(f"  state folder         {cfg.paths.home}   (stop with `make down`)")
        return 0
    if args.cmd == "down":
        stopped = stack.down(cfg)
        print("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))
        return 0
    if args.cmd == "status":
        for name, pid in stack.status(cfg).items():
            print(f"{name:<24} {'running pid ' + str(pid) if pid else 'stopped'}")
        return 0
    if args.cmd == "demo":
        return run_demo(cfg, json.loads(args.conf), args.timeout, not args.no_production_loop)
    return 2


if __name__ == "__main__":
    sys.exit(main())
