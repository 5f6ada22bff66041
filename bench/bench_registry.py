"""Registry concurrency: N concurrent registrations of versions of one model on an MLflow server backed by Postgres.

Each worker does what `register_model` does for one pipeline run: create the run, log the model (pyfunc flavor,
real weights), register it (check, then create) and set `challenger`. Afterwards the registry is read back:

- `created`: versions that exist for the requested run keys;
- `lost`: requests whose run has no version;
- `duplicates`: extra versions for one run key;
- `errors`: requests that raised after the project's retries;
- `p95_ms`: 95th percentile latency of one registration.

Usage: `make bench-registry` (needs the PostgreSQL server on 127.0.0.1:5432). Writes bench/results/registry.json.
"""

from __future__ import annotations

import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "registry.json"
PG_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
CONCURRENCY = int(os.environ.get("BENCH_REGISTRY_CONCURRENCY", "32"))


def _admin(sql: str) -> None:
    import psycopg2

    conn = psycopg2.connect(PG_DSN)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
    finally:
        conn.close()


def _wait_http(url: str, proc: subprocess.Popen[bytes], timeout: float = 120) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"mlflow server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"{url} did not answer within {timeout}s")


def main() -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    work = Path(tempfile.mkdtemp(prefix="bench-registry-"))
    os.environ["LLMOPS_HOME"] = str(work / "home")
    db = f"llmops_bench_registry_{secrets.token_hex(4)}"
    _admin(f"CREATE DATABASE {db}")
    from llmops.ports import free_ports

    port = free_ports(1)[0]
    log = open(work / "mlflow.log", "wb")  # noqa: SIM115 - the server keeps it for its lifetime
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "mlflow"),
            "server",
            "--backend-store-uri",
            f"postgresql://postgres@127.0.0.1:5432/{db}",
            "--serve-artifacts",
            "--artifacts-destination",
            (work / "artifacts").as_uri(),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "4",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        _wait_http(f"http://127.0.0.1:{port}/health", server)
        result = run(f"http://127.0.0.1:{port}", work)
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
        _admin(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    print(f"\nregistry concurrency on an MLflow server with a Postgres backend ({CONCURRENCY} concurrent)")
    print(f"{'requested':>10} {'created':>8} {'lost':>5} {'duplicates':>11} {'errors':>7} {'p95_ms':>9} {'p50_ms':>9}")
    print(
        f"{result['requested']:>10} {result['created']:>8} {result['lost']:>5} {result['duplicates']:>11} "
        f"{result['errors']:>7} {result['p95_ms']:>9.0f} {result['p50_ms']:>9.0f}"
    )
    print(f"challenger {result['challenger']} (the newest version: {result['challenger_is_newest']})")
    print(f"wrote {RESULTS}")
    ok = result["lost"] == 0 and result["duplicates"] == 0 and result["errors"] == 0
    return 0 if ok and result["challenger_is_newest"] else 1


def run(tracking_uri: str, work: Path) -> dict[str, float | int | str]:
    from llmops.config import TinyModelSpec, load_config
    from llmops.registry import registry, tracking
    from llmops.training.base_model import build_tiny_base_model

    cfg = load_config(overrides={"mlflow": {"tracking_uri": tracking_uri, "model_name": "bench-registry"}})
    texts = [f"how do I share folder {i} with team {i % 7}" for i in range(200)]
    model_dir = build_tiny_base_model(
        TinyModelSpec(vocab_size=300, n_positions=64, n_embd=32, n_layer=1, n_head=2), texts, work / "model"
    )
    keys = [f"bench_run_{i:03d}" for i in range(CONCURRENCY)]
    tracking.ensure_experiment(cfg)

    def register(key: str) -> tuple[str, float, str | None]:
        started = time.perf_counter()
        try:
            run_id = tracking.get_or_create_run(cfg, key, run_name=key)
            rv = registry.log_and_register(cfg, run_id, model_dir, key, {"bench": "registry"})
            return key, (time.perf_counter() - started) * 1000, rv.version
        except Exception as exc:
            print(f"  {key}: {type(exc).__name__}: {str(exc)[:200]}", flush=True)
            return key, (time.perf_counter() - started) * 1000, None

    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=CONCURRENCY) as pool:
        outcomes = list(pool.map(register, keys))
    wall = time.perf_counter() - t0

    client = tracking.client(cfg)
    versions = client.search_model_versions(f"name = '{cfg.mlflow.model_name}'")
    per_key: dict[str, list[str]] = {}
    for v in versions:
        per_key.setdefault((v.tags or {}).get(tracking.RUN_KEY_TAG, ""), []).append(str(v.version))
    created = sum(len(per_key.get(k, [])) for k in keys)
    lost = sum(1 for k in keys if not per_key.get(k))
    duplicates = sum(max(0, len(per_key.get(k, [])) - 1) for k in keys)
    errors = sum(1 for _, _, version in outcomes if version is None)
    latencies = sorted(ms for _, ms, _ in outcomes)
    p95 = latencies[min(len(latencies) - 1, round(0.95 * (len(latencies) - 1)))]
    distinct_numbers = len({v.version for v in versions})
    # Concurrent forward-only moves of `challenger` must end on the newest version, never on an older one.
    challenger = registry.alias_version(cfg, registry.CHALLENGER)
    newest = max((int(v.version) for v in versions), default=0)
    return {
        "requested": len(keys),
        "created": created,
        "lost": lost,
        "duplicates": duplicates,
        "errors": errors,
        "p95_ms": round(p95, 1),
        "p50_ms": round(statistics.median(latencies), 1),
        "wall_s": round(wall, 2),
        "version_numbers_unique": distinct_numbers == len(versions),
        "challenger": challenger or "",
        "challenger_is_newest": challenger is not None and int(challenger) == newest,
        "backend": "mlflow server, postgresql backend store, proxied artifacts",
    }


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "include"))
    sys.exit(main())
