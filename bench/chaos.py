"""Kill injection for promotion and rollback: the engine of ``make bench-chaos`` and of its test sample.

A real ``tritonserver`` (the serving venv's wheel), a real MLflow store (SQLite) and a tiny model built on the spot.
Each trial:

1. runs the same callable a task runs (:func:`llmops.serving.champion.serve_as_champion` for
   ``promote_to_triton``, :func:`llmops.serving.rollback.rollback` for ``rollback_model``) in a fresh worker process
   with ``LLMOPS_KILL_AT=<point>``, so the worker SIGKILLs itself at that step boundary (or, for random-time kills,
   the harness kills it after a random delay and buckets the kill by the last point the worker passed);
2. runs one next step: nothing but the hourly ``reconcile`` task, the task's retry (a new worker, as Airflow's retry
   is a new process), ``rollback previous``, the next promotion, a Triton restart (SIGKILL, then the stack's start
   path), or a rollback that was already waiting on the repository lock when the kill came;
3. checks the invariants (:func:`check_invariants`) and records the time from the kill until they held.

Candidates: ``good``; ``fails_load`` (``initialize`` raises); ``fails_smoke`` (loads, every request errors);
``slow_load`` (loads fine, but only after the client's load timeout).

Run ``python bench/chaos.py --worker`` only through :class:`Workers`.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

RAISING_MODEL_PY = """
class TritonPythonModel:
    def initialize(self, args):
        raise RuntimeError("planted failure: this version cannot load")

    def execute(self, requests):
        raise RuntimeError("unreachable")
"""

ERRORING_MODEL_PY = """
import triton_python_backend_utils as pb_utils

class TritonPythonModel:
    def initialize(self, args):
        pass

    def execute(self, requests):
        return [
            pb_utils.InferenceResponse(output_tensors=[], error=pb_utils.TritonError("planted: internal error"))
            for _ in requests
        ]
"""

SLOW_SUFFIX = """

_llmops_initialize = TritonPythonModel.initialize


def _slow_initialize(self, args):
    import time as _time

    _time.sleep({seconds})
    _llmops_initialize(self, args)


TritonPythonModel.initialize = _slow_initialize
"""

CANDIDATES = ("good", "fails_load", "fails_smoke", "slow_load")
NEXT_STEPS = ("nothing", "retry", "rollback_previous", "next_promotion", "triton_restart", "waiting_rollback")

# (operation, point): every step boundary of promotion and rollback, and the candidates that reach it.
_ALL = CANDIDATES
_LOADED = ("good", "fails_smoke")  # the load call returns
_FAILING = ("fails_load", "fails_smoke", "slow_load")
POINTS: dict[tuple[str, str], tuple[str, ...]] = {
    ("promote", "journal:started"): _ALL,
    ("promote", "version-rename:before"): _ALL,
    ("promote", "version-rename:after"): _ALL,
    ("promote", "config-write:before"): _ALL,
    ("promote", "config-write:after"): _ALL,
    ("promote", "load:before"): _ALL,
    ("promote", "load:after"): _LOADED,
    ("promote", "smoke:after"): ("good",),
    ("promote", "journal:switched"): ("good",),
    ("promote", "alias:after"): ("good",),
    ("promote", "event-append:before"): ("good",),
    ("promote", "journal:aliased"): ("good",),
    ("promote", "version-remove"): _ALL,  # pruning (good) or removing the failed version's folder (failing)
    ("promote", "undo:inside"): _FAILING,
    ("promote", "restore:inside"): _FAILING,
    ("rollback", "smoke:after"): ("good",),
    ("rollback", "alias:after"): ("good",),
    ("rollback", "version-copy"): ("good",),  # writing a pruned version back from the registry
}

LEFTOVER_PREFIXES = (".staging-", ".trash-")


def _model_sources(work: Path, slow_seconds: float) -> dict[str, Path]:
    from llmops.serving.repository import SERVING_MODEL_SOURCE

    work.mkdir(parents=True, exist_ok=True)
    sources = {"good": SERVING_MODEL_SOURCE}
    for kind, text in (
        ("fails_load", RAISING_MODEL_PY),
        ("fails_smoke", ERRORING_MODEL_PY),
        ("slow_load", SERVING_MODEL_SOURCE.read_text() + SLOW_SUFFIX.format(seconds=slow_seconds)),
    ):
        path = work / f"model_{kind}.py"
        path.write_text(text)
        sources[kind] = path
    return sources


# Worker processes -------------------------------------------------------------------------------------------------


def _worker_main() -> int:
    """One task from stdin, one JSON line to stdout; imports first so a spare worker is ready when needed."""
    from llmops.config import load_config
    from llmops.serving import champion, repository, rollback

    line = sys.stdin.readline()
    if not line:
        return 0
    task = json.loads(line)
    os.environ.update(task.get("env", {}))
    cfg = load_config()
    repository.SERVING_MODEL_SOURCE = Path(task["model_source"])
    try:
        if task["op"] == "promote":
            out = champion.serve_as_champion(
                cfg,
                task["run_key"],
                task["version"],
                task["model_dir"],
                "chaos candidate",
                task["at"],
                expected_champion=task["expected_champion"],
            )
        elif task["op"] == "rollback":
            out = rollback.rollback(cfg, task["target"], task["run_key"], task["at"], "chaos rollback")
        else:
            raise ValueError(f"unknown op {task['op']}")
        result = {"status": "ok", "out": out}
    except Exception as exc:
        result = {"status": "error", "error": f"{type(exc).__name__}: {exc}"}
    print("CHAOS_RESULT " + json.dumps(result, default=str), flush=True)
    return 0


class Workers:
    """Worker processes started ahead of use (imports take seconds), one spare at a time."""

    def __init__(self, env: dict[str, str], log_file: Path) -> None:
        self.env = env
        self.log_file = log_file
        self._spare: subprocess.Popen[str] | None = None

    def _start(self) -> subprocess.Popen[str]:
        with open(self.log_file, "ab") as log:
            return self._popen(log)

    def _popen(self, log: Any) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            env=self.env,
            cwd=str(ROOT),
            start_new_session=True,
        )

    def take(self) -> subprocess.Popen[str]:
        proc = self._spare or self._start()
        self._spare = self._start()
        return proc

    def close(self) -> None:
        if self._spare is not None:
            self._spare.kill()
            self._spare.wait()
            self._spare = None


def _send(proc: subprocess.Popen[str], task: dict[str, Any]) -> None:
    assert proc.stdin is not None
    proc.stdin.write(json.dumps(task) + "\n")
    proc.stdin.flush()
    proc.stdin.close()
    proc.stdin = None  # communicate() must not flush it again


def _collect(proc: subprocess.Popen[str], timeout: float) -> dict[str, Any]:
    try:
        stdout, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        stdout, _ = proc.communicate()
        return {"status": "hung", "returncode": proc.returncode}
    for line in (stdout or "").splitlines():
        if line.startswith("CHAOS_RESULT "):
            return {**json.loads(line.removeprefix("CHAOS_RESULT ")), "returncode": proc.returncode}
    return {"status": "killed" if proc.returncode == -signal.SIGKILL else "died", "returncode": proc.returncode}


# The environment --------------------------------------------------------------------------------------------------


def build_model(out: Path) -> Path:
    """A tiny GPT-2 trained a few steps so that it answers (a random one only emits newlines)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from llmops.config import TinyModelSpec
    from llmops.data.schema import format_prompt
    from llmops.training.base_model import build_tiny_base_model

    pairs = [
        (f"How do I {verb} my {thing}?", f"Open the {place} page and choose {verb} {thing}.")
        for verb in ("reset", "share", "sync", "delete")
        for thing in ("password", "folder", "invoice")
        for place in ("settings", "billing")
    ]
    corpus = [t for pair in pairs for t in pair]
    base = build_tiny_base_model(TinyModelSpec(vocab_size=300, n_embd=32, n_layer=1, n_head=2), corpus, out / "base")
    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(base)
    model = AutoModelForCausalLM.from_pretrained(base)
    texts = [format_prompt(p) + r + tokenizer.eos_token for p, r in pairs]
    batch = tokenizer(texts, return_tensors="pt", padding=True)
    labels = batch["input_ids"].masked_fill(batch["attention_mask"] == 0, -100)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-2)
    for _ in range(25):
        model(**batch, labels=labels).loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    model.save_pretrained(out / "model", safe_serialization=True)
    tokenizer.save_pretrained(out / "model")
    return out / "model"


@dataclass
class Trial:
    op: str
    point: str
    candidate: str
    next_step: str
    killed: bool = False
    consistent: bool = False
    converge_s: float = 0.0
    problems: list[str] = field(default_factory=list)
    bucket: str = ""  # random-time kills: the last point passed
    next_result: str = ""  # ok, or the error the next step ended with (a bad candidate's retry fails, rightly)

    def to_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


class Chaos:
    """One Triton server, one MLflow store, one model repository; trials run one after another."""

    def __init__(self, work: Path, *, slow_load_s: float = 20.0, ready_timeout_s: float = 15.0) -> None:
        from llmops.serving.server import TritonPorts, TritonServer

        self.work = Path(work)
        self.ports = TritonPorts.free()
        serving_venv = Path(os.environ.get("LLMOPS_SERVING_VENV", ROOT / ".venv-serving"))
        self.settings = {
            "LLMOPS_HOME": str(self.work / "home"),
            "LLMOPS__PATHS__MODEL_REPOSITORY": str(self.work / "triton_models"),
            "LLMOPS__PATHS__SERVING_VENV": str(serving_venv),
            "LLMOPS__TRITON__MODEL_NAME": "chaos_llm",
            "LLMOPS__TRITON__HTTP_PORT": str(self.ports.http),
            "LLMOPS__TRITON__GRPC_PORT": str(self.ports.grpc),
            "LLMOPS__TRITON__METRICS_PORT": str(self.ports.metrics),
            "LLMOPS__TRITON__DEFAULT_MAX_NEW_TOKENS": "4",
            "LLMOPS__TRITON__SMOKE_MAX_NEW_TOKENS": "4",
            "LLMOPS__TRITON__SMOKE_PROMPT": "How do I reset my password?",
            "LLMOPS__TRITON__SMOKE_PROMPTS": "[]",
            # The client's load timeout; a slow_load candidate takes longer than this to load.
            "LLMOPS__TRITON__READY_TIMEOUT_S": str(ready_timeout_s),
            "LLMOPS__TRITON__LOAD_SETTLE_TIMEOUT_S": "60",
            "LLMOPS__TRITON__LOCK_TIMEOUT_S": "120",
            "LLMOPS__TRITON__VERSIONS_TO_KEEP": "2",
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
            "TQDM_DISABLE": "1",
        }
        os.environ.update(self.settings)
        from llmops.config import load_config

        self.cfg = load_config()
        self.server = TritonServer(self.cfg.paths.serving_venv, self.work / "triton_work", exit_timeout_s=2)
        self.sources = _model_sources(self.work / "sources", slow_load_s)
        self.model_dir = build_model(self.work / "model")
        self.proc: subprocess.Popen[bytes] | None = None
        self.workers = Workers(dict(os.environ), self.work / "workers.log")
        self.kind_of: dict[str, str] = {}
        self._run_id = ""
        self._source = ""
        self._tick = 0
        self.start_triton()
        self._first_promotion()

    # -- plumbing --------------------------------------------------------------------------------------------------

    @property
    def name(self) -> str:
        return self.cfg.triton.model_name

    @property
    def repo(self) -> Path:
        return self.cfg.paths.model_repository

    def client(self) -> Any:
        from llmops.serving.client import client_for

        return client_for(self.cfg.triton, timeout=30)

    def start_triton(self) -> float:
        """The stack's start path: reconcile the repository, start Triton with the champion loaded, wait."""
        from llmops.stack.manager import reconcile_repository

        started = time.monotonic()
        reconcile_repository(self.cfg)
        loads = [self.name] if (self.repo / self.name / "config.pbtxt").is_file() else []
        self.proc = self.server.start(self.repo, self.ports, self.work / "tritonserver.log", load_models=loads)
        self.server.wait_ready(self.cfg.triton.http_url, 120, self.proc)
        return time.monotonic() - started

    def kill_triton(self) -> None:
        if self.proc is not None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
            self.proc = None

    def close(self) -> None:
        self.workers.close()
        if self.proc is not None:
            self.server.stop(self.proc)
            self.proc = None

    def _at(self) -> str:
        self._tick += 1
        return f"2026-06-01T{self._tick // 3600 % 24:02d}:{self._tick // 60 % 60:02d}:{self._tick % 60:02d}+00:00"

    def new_version(self, kind: str) -> str:
        """A registered version that the promotion writes with ``kind``'s model.py."""
        from llmops.registry import tracking

        c = tracking.client(self.cfg)
        mv = c.create_model_version(self.cfg.mlflow.model_name, self._source, run_id=self._run_id)
        self.kind_of[str(mv.version)] = kind
        return str(mv.version)

    def _first_promotion(self) -> None:
        import mlflow

        from llmops.registry import registry, tracking

        c = tracking.client(self.cfg)
        c.create_registered_model(self.cfg.mlflow.model_name)
        self._run_id = tracking.get_or_create_run(self.cfg, "chaos-setup", "chaos-setup")
        with mlflow.start_run(run_id=self._run_id):
            info = mlflow.pyfunc.log_model(
                name=registry.MODEL_ARTIFACT,
                python_model=str(registry.PYFUNC_FILE),
                artifacts={"model_dir": str(self.model_dir)},
            )
        self._source = str(info.model_uri)
        for _ in range(2):  # v1 then v2: "rollback previous" has a previous version from the start
            out = self.run_op(self.promote_task(self.new_version("good")), None)
            if out.get("status") != "ok":
                raise RuntimeError(f"setup promotion failed: {out}")

    def champion(self) -> str | None:
        from llmops.registry import registry

        return registry.alias_version(self.cfg, registry.CHAMPION)

    def promote_task(self, version: str, expected: str | object | None = "champion") -> dict[str, Any]:
        return {
            "op": "promote",
            "version": version,
            "run_key": f"chaos-promote-{version}",
            "model_dir": str(self.model_dir),
            "at": self._at(),
            "expected_champion": self.champion() if expected == "champion" else expected,
            "model_source": str(self.sources[self.kind_of.get(version, "good")]),
        }

    def rollback_task(self, target: str, key: str) -> dict[str, Any]:
        return {
            "op": "rollback",
            "target": target,
            "run_key": key,
            "at": self._at(),
            "model_source": str(self.sources["good"]),
        }

    def run_op(self, task: dict[str, Any], kill_at: str | None, timeout: float = 300) -> dict[str, Any]:
        proc = self.workers.take()
        _send(proc, {**task, "env": {"LLMOPS_KILL_AT": kill_at} if kill_at else {}})
        return _collect(proc, timeout)

    # -- invariants ------------------------------------------------------------------------------------------------

    def check_invariants(self, candidate: str | None = None, existed_before: bool = True) -> list[str]:
        """What is wrong now (empty: consistent).

        Triton serves exactly the champion and the config pins it; the champion is a good version whose folder
        verifies against its manifest and that answers; no staging, trash, half-written or orphan folder; no open
        journal; the promotion log is readable line by line and its last event names the champion; when that event
        is a promotion, the rollback watch finds it and the champion's tags record it.
        """
        from llmops.monitoring.rollback_watch import _last_promotion
        from llmops.registry import registry, tracking
        from llmops.serving.champion import promotion_log_path
        from llmops.serving.journal import read_journal
        from llmops.serving.repository import list_versions, served_version, verify_version, version_path

        problems: list[str] = []
        champion = self.champion()
        if champion is None:
            return ["no champion"]
        if self.kind_of.get(champion) != "good":
            problems.append(f"champion {champion} is a {self.kind_of.get(champion)} candidate")
        with self.client() as client:
            ready = client.ready_versions(self.name)
            if ready != [int(champion)]:
                problems.append(f"Triton serves {ready}, champion is {champion}")
            else:
                answers = client.generate_results(self.name, ["How do I sync my folder?"], max_new_tokens=3)
                if answers[0].error or not (answers[0].text or "").strip():
                    problems.append(f"champion {champion} does not answer: {answers[0].error or 'empty answer'}")
        if served_version(self.repo, self.name) != int(champion):
            problems.append(f"config pins {served_version(self.repo, self.name)}, champion is {champion}")
        bad = verify_version(version_path(self.repo, self.name, int(champion)))
        if bad:
            problems.append(f"champion folder: {bad[0]}")
        model_dir = self.repo / self.name
        leftovers = [
            p.name
            for p in model_dir.iterdir()
            if p.name.startswith(LEFTOVER_PREFIXES) or (p.name.startswith(".") and p.name.endswith(".tmp"))
        ]
        if leftovers:
            problems.append(f"leftovers {leftovers}")
        incomplete = set(list_versions(self.repo, self.name, include_incomplete=True)) - set(
            list_versions(self.repo, self.name)
        )
        if incomplete:
            problems.append(f"incomplete version folders {sorted(incomplete)}")
        events = registry.read_events(promotion_log_path(self.cfg))
        orphan = candidate is not None and not existed_before
        if orphan and version_path(self.repo, self.name, str(candidate)).exists():
            never_champion = not any(str(e.get("to_version")) == candidate for e in events)
            if never_champion:
                problems.append(f"orphan folder {candidate} (never champion)")
        op = read_journal(self.repo, self.name)
        if op is not None and op.open:
            problems.append(f"journal left open at {op.step} ({op.kind} of {op.to_version})")
        log_path = promotion_log_path(self.cfg)
        lines = log_path.read_text(encoding="utf-8").splitlines() if log_path.exists() else []
        for i, line in enumerate(lines, 1):
            try:
                json.loads(line)
            except json.JSONDecodeError:
                problems.append(f"promotion log line {i} is unreadable: {line[:80]!r}")
        if not events or str(events[-1].get("to_version")) != champion:
            last = events[-1] if events else None
            problems.append(f"last promotion-log event {last and (last['kind'], last['to_version'])} is not {champion}")
        elif events[-1].get("kind") == "promotion":
            if _last_promotion(self.cfg, champion) is None:
                problems.append("the rollback watch does not find the champion's promotion")
            tags = dict(tracking.client(self.cfg).get_model_version(self.cfg.mlflow.model_name, champion).tags)
            if tags.get("llmops.promotion.run_key") != events[-1].get("run_key"):
                problems.append(f"champion {champion} lacks the tags of its promotion")
        return problems

    # -- one trial -------------------------------------------------------------------------------------------------

    def _reconcile(self) -> None:
        from llmops.serving.reconcile import reconcile

        reconcile(self.cfg, purpose="chaos: hourly reconcile")

    def _ensure_previous(self) -> None:
        """``rollback previous`` needs a champion that replaced something: after rollbacks walked the chain back to
        the first promotion, promote a good version."""
        from llmops.serving.rollback import RollbackError, previous_version

        try:
            previous_version(self.cfg, self.champion())
        except RollbackError:
            out = self.run_op(self.promote_task(self.new_version("good")), None)
            if out.get("status") != "ok":
                raise RuntimeError(f"promotion between trials failed: {out}") from None

    def _prepare_rollback_target(self) -> str:
        """For a kill while a pruned version is written back: the oldest good version that served (the promotion
        log holds its weights digest, which the download must match) and is not in the repository (there always is
        one: two versions are kept, setup promoted two)."""
        from llmops.serving.repository import list_versions
        from llmops.serving.trust import recorded_weights_digest

        present = set(list_versions(self.repo, self.name))
        champion = self.champion()
        goods = [
            v
            for v, k in self.kind_of.items()
            if k == "good" and int(v) not in present and v != champion and recorded_weights_digest(self.cfg, v)
        ]
        return min(goods, key=int) if goods else "previous"

    def trial(
        self, op: str, point: str | None, candidate: str, next_step: str, random_kill_s: float | None = None
    ) -> Trial:
        """Kill ``op`` at ``point`` (or after ``random_kill_s``), run ``next_step``, check the invariants."""
        from llmops.serving.repository import version_path

        trial = Trial(op, point or "random", candidate, next_step)
        self._reconcile()  # every trial starts from a consistent state
        self._ensure_previous()
        if op == "promote":
            version = self.new_version(candidate)
            task = self.promote_task(version)
        else:
            version = self._prepare_rollback_target() if point == "version-copy" else "previous"
            task = self.rollback_task(version, f"chaos-rollback-{self._tick}")
        existed = op != "promote" or version_path(self.repo, self.name, version).exists()
        env: dict[str, str] = {}
        if point is not None:
            env["LLMOPS_KILL_AT"] = point
        phase_file = self.work / "phases.txt"
        phase_file.unlink(missing_ok=True)
        env["LLMOPS_PHASE_FILE"] = str(phase_file)
        waiter = None
        if next_step == "waiting_rollback":
            env["LLMOPS_PAUSE_AT"] = "lock:acquired=1.5"
        proc = self.workers.take()
        _send(proc, {**task, "env": env})
        if next_step == "waiting_rollback":
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and "lock:acquired" not in _phases(phase_file):
                time.sleep(0.05)
            waiter = self.workers.take()
            _send(waiter, {**self.rollback_task("previous", f"chaos-waiting-{self._tick}"), "env": {}})
        if random_kill_s is not None:
            time.sleep(random_kill_s)
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
        out = _collect(proc, 300)
        killed_at = time.monotonic()
        trial.killed = out["status"] == "killed"
        phases = _phases(phase_file)
        trial.bucket = phases[-1] if phases else "(none)"
        if not trial.killed and waiter is None and point is not None:
            trial.problems.append(f"point not reached: {out.get('status')} {out.get('error', '')[:200]}")
        after: dict[str, Any] = {"status": "ok"}
        if next_step == "retry":
            after = self.run_op(task, None)
        elif next_step == "rollback_previous":
            after = self.run_op(self.rollback_task("previous", f"chaos-after-{self._tick}"), None)
        elif next_step == "next_promotion":
            after = self.run_op(self.promote_task(self.new_version("good")), None)
        elif next_step == "triton_restart":
            self.kill_triton()
            self.start_triton()
        elif next_step == "waiting_rollback" and waiter is not None:
            after = _collect(waiter, 300)
        else:  # nothing: the hourly reconcile task
            self._reconcile()
        trial.next_result = str(after.get("error") or after.get("status"))[:300]
        trial.converge_s = round(time.monotonic() - killed_at, 2)
        problems = self.check_invariants(version if op == "promote" else None, existed)
        trial.problems += problems
        trial.consistent = not problems
        return trial


def _phases(path: Path) -> list[str]:
    try:
        return path.read_text().split()
    except FileNotFoundError:
        return []


def plan(kills_per_point: int, seed: int = 0) -> Iterator[tuple[str, str, str, str]]:
    """(op, point, candidate, next step) for every point, ``kills_per_point`` times, cycling through the
    candidate × next-step combinations in a shuffled (seeded) order so that every point sees different ones."""
    rng = random.Random(seed)
    for (op, point), candidates in POINTS.items():
        combos = [(c, n) for c in candidates for n in NEXT_STEPS]
        rng.shuffle(combos)
        for i in range(kills_per_point):
            candidate, next_step = combos[i % len(combos)]
            yield op, point, candidate, next_step


def summarize(trials: list[Trial]) -> dict[str, Any]:
    """Per point × candidate × next step: kills, consistent end states, largest time to converge; and totals."""
    cells: dict[str, dict[str, Any]] = {}
    for t in trials:
        key = f"{t.op}:{t.point}|{t.candidate}|{t.next_step}" + (f"|{t.bucket}" if t.point == "random" else "")
        cell = cells.setdefault(key, {"kills": 0, "consistent": 0, "max_converge_s": 0.0, "problems": []})
        cell["kills"] += int(t.killed)
        cell["consistent"] += int(t.consistent)
        cell["max_converge_s"] = max(cell["max_converge_s"], t.converge_s)
        cell["problems"] += t.problems[:2]
    per_point: dict[str, dict[str, int]] = {}
    for t in trials:
        entry = per_point.setdefault(f"{t.op}:{t.point}", {"trials": 0, "kills": 0, "inconsistent": 0})
        entry["trials"] += 1
        entry["kills"] += int(t.killed)
        entry["inconsistent"] += int(not t.consistent)
    return {
        "points": len({(t.op, t.point) for t in trials if t.point != "random"}),
        "trials": len(trials),
        "kills": sum(int(t.killed) for t in trials),
        "inconsistent": sum(int(not t.consistent) for t in trials),
        "max_converge_s": max((t.converge_s for t in trials), default=0.0),
        "per_point": per_point,
        "matrix": [{"cell": key, **cell} for key, cell in sorted(cells.items())],
    }


if __name__ == "__main__" and "--worker" in sys.argv:
    raise SystemExit(_worker_main())
