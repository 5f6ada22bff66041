"""The served model's log writer scrubs before anything reaches the disk, in the serving environment itself.

The scrubber files a promotion copies into every version folder (``scrub/``) are copied into a temporary version
folder and ``model.py``'s writer runs in the serving venv's interpreter (numpy<2, no llmops, no spaCy), as Triton's
Python stub would run it.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import pytest

from llmops.config import LLMOpsConfig, TritonConfig, load_config
from llmops.serving import repository as repo_mod

MODEL_PY = Path(repo_mod.__file__).with_name("model.py")
CONTACTS = ["support@nimbusdrive.example", "+1 800 555 0199"]

# (prompt, response): personal data a user writes, an answer that leaks new data, one that repeats the user's own,
# one that gives the company's contacts, one with nothing.
RECORDS: list[tuple[str, str]] = [
    (
        "Hi, I'm Sarah Connor, my email is sarah.connor77@mailbox.example and my card is 4111 1111 1111 1111.",
        "Thanks Sarah, I have updated the card on file.",
    ),
    (
        "Who else uses this workspace?",
        "The owner is reachable at j.barnes@corp-mail.example or on 020 7946 0123.",
    ),
    (
        "Please send the invoice to billing.team@acme-widgets.example",
        "Done: the invoice goes to billing.team@acme-widgets.example from now on.",
    ),
    ("How do I reach support?", "Write to support@nimbusdrive.example or call +1 800 555 0199."),
    ("How do I reset my password?", "Click Forgot password on the sign-in page."),
]
PLANTED = [
    "Sarah Connor",
    "sarah.connor77@mailbox.example",
    "4111 1111 1111 1111",
    "j.barnes@corp-mail.example",
    "020 7946 0123",
    "billing.team@acme-widgets.example",
]


def _serving_python(cfg: LLMOpsConfig) -> Path:
    python = cfg.paths.serving_venv / "bin" / "python"
    if not python.exists():
        pytest.fail(f"no serving environment at {cfg.paths.serving_venv}: run `make install`")
    return python


def _version_folder(tmp_path: Path) -> Path:
    """model.py and the scrubber as a promotion lays them out (without weights: only the writer runs)."""
    version = tmp_path / "repo" / "m" / "1"
    sources = {repo_mod.MODEL_PY: repo_mod.SERVING_MODEL_SOURCE, **repo_mod.scrubber_sources()}
    for rel, src in sources.items():
        (version / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, version / rel)
    return version


def _run_writer(python: Path, version: Path, log_dir: Path, raw_hours: int = 0, contacts: list[str] = CONTACTS) -> Any:
    script = textwrap.dedent(
        """
        import importlib.util, json, sys
        from pathlib import Path
        version, log_dir, raw_hours, contacts, records = sys.argv[1], sys.argv[2], int(sys.argv[3]), \\
            json.loads(sys.argv[4]), json.loads(sys.argv[5])
        for name in ("llmops", "spacy"):
            assert importlib.util.find_spec(name) is None, f"{name} must not be installed in the serving venv"
        spec = importlib.util.spec_from_file_location("served", Path(version) / "model.py")
        served = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(served)
        scrubber = served.LogScrubber(contacts, Path(version) / served.SCRUB_DIR)
        raw = served.RawLogStream(Path(log_dir + "_raw"), raw_hours) if raw_hours else None
        writer = served.ProductionLogWriter(Path(log_dir), 1 << 20, scrubber=scrubber, raw=raw)
        for i, (prompt, response) in enumerate(records):
            writer.submit({"request_id": str(i), "prompt": prompt, "response": response, "latency_ms": 1.0})
        writer.close()
        print(json.dumps(writer.counters()))
        """
    )
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    done = subprocess.run(
        [str(python), "-I", "-c", script, str(version), str(log_dir), str(raw_hours), json.dumps(contacts),
         json.dumps(RECORDS)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def cfg() -> LLMOpsConfig:
    return load_config(environ={})


def test_log_lines_are_scrubbed_in_the_serving_environment_and_flag_leaks(cfg: LLMOpsConfig, tmp_path: Path) -> None:
    version = _version_folder(tmp_path)
    log_dir = tmp_path / "prod_logs"
    counters = _run_writer(_serving_python(cfg), version, log_dir)
    assert counters["failed_records"] == 0 and counters["dropped"] == 0
    text = (log_dir / "requests.jsonl").read_text(encoding="utf-8")
    for value in PLANTED:
        assert value not in text, f"{value!r} reached the log in clear"
    lines = [json.loads(line) for line in text.splitlines()]
    assert [r["request_id"] for r in lines] == [str(i) for i in range(len(RECORDS))]
    by_id = {r["request_id"]: r for r in lines}
    assert by_id["0"]["prompt"] == "Hi, I'm <PERSON>, my email is <EMAIL> and my card is <CREDIT_CARD>."
    assert by_id["1"]["response"] == "The owner is reachable at <EMAIL> or on <PHONE>."
    leaks = {rid: r["pii_leak"] for rid, r in by_id.items()}
    # new data in the answer leaks; the user's own address and the company's contacts do not
    assert leaks == {"0": False, "1": True, "2": False, "3": False, "4": False}
    assert by_id["4"]["prompt"] == RECORDS[4][0] and by_id["4"]["pii_found"] == 0
    assert stat.S_IMODE((log_dir / "requests.jsonl").stat().st_mode) & 0o007 == 0, "not readable by others"
    assert not (tmp_path / "prod_logs_raw").exists(), "no raw stream unless retain_raw_hours > 0"


def test_without_public_contacts_the_companys_own_number_is_a_leak(cfg: LLMOpsConfig, tmp_path: Path) -> None:
    """The allow-list is what keeps support@... from counting: without it the same answer is flagged."""
    version = _version_folder(tmp_path)
    log_dir = tmp_path / "prod_logs"
    _run_writer(_serving_python(cfg), version, log_dir, contacts=[])
    lines = [json.loads(line) for line in (log_dir / "requests.jsonl").read_text().splitlines()]
    assert [r["pii_leak"] for r in lines] == [False, True, False, True, False]


def test_raw_stream_is_private_and_pruned_after_its_hours(cfg: LLMOpsConfig, tmp_path: Path) -> None:
    version = _version_folder(tmp_path)
    log_dir = tmp_path / "prod_logs"
    raw_dir = tmp_path / "prod_logs_raw"
    raw_dir.mkdir(mode=0o755)
    stale = raw_dir / "requests-20200101T00-host-1.jsonl"
    stale.write_text('{"prompt": "old"}\n')
    _run_writer(_serving_python(cfg), version, log_dir, raw_hours=2)
    files = sorted(raw_dir.glob("requests-*.jsonl"))
    assert stale not in files, "an hour older than retain_raw_hours is deleted"
    [current] = files
    assert "sarah.connor77@mailbox.example" in current.read_text(), "the raw stream keeps the text as it was"
    assert stat.S_IMODE(current.stat().st_mode) == 0o600
    assert stat.S_IMODE(raw_dir.stat().st_mode) == 0o700
    assert "sarah.connor77@mailbox.example" not in (log_dir / "requests.jsonl").read_text()


def test_a_record_the_scrubber_fails_on_is_counted_never_written_raw(tmp_path: Path) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("served_scrub", MODEL_PY)
    assert spec is not None and spec.loader is not None
    served = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(served)

    def broken(record: dict[str, Any]) -> dict[str, Any]:
        if record["request_id"] == "1":
            raise RuntimeError("boom")
        return {**record, "prompt": "<scrubbed>"}

    writer = served.ProductionLogWriter(tmp_path, 1 << 20, scrubber=broken)
    for i in range(3):
        writer.submit({"request_id": str(i), "prompt": f"secret {i}", "response": "r"})
    writer.close()
    lines = [json.loads(line) for line in (tmp_path / "requests.jsonl").read_text().splitlines()]
    assert [(r["request_id"], r["prompt"]) for r in lines] == [("0", "<scrubbed>"), ("2", "<scrubbed>")]
    assert writer.counters()["failed_records"] == 1
    assert "boom" in json.loads(writer.status_path.read_text())["last_error"]


def test_config_pbtxt_carries_scrubbing_contacts_and_raw_retention(cfg: LLMOpsConfig, tmp_path: Path) -> None:
    import re

    quoted = r'"(?:[^"\\]|\\.)*"'  # pbtxt escapes quotes and backslashes as JSON does

    def params(tcfg: TritonConfig) -> dict[str, str]:
        text = repo_mod.render_config_pbtxt("m", tcfg, tmp_path / "prod_logs", served_version=1)
        pairs = re.findall(rf"{{ key: ({quoted}) value: {{ string_value: ({quoted}) }} }}", text)
        return {json.loads(k): json.loads(v) for k, v in pairs}

    default = params(cfg.triton)
    assert default["log_scrub"] == "true"
    assert set(json.loads(default["public_contacts"])) >= {"support@nimbusdrive.example", "+1 800 555 0199"}
    assert "retain_raw_hours" not in default and "raw_log_dir" not in default
    kept = params(cfg.triton.model_copy(update={"retain_raw_hours": 6, "log_scrub": False}))
    assert (kept["log_scrub"], kept["retain_raw_hours"]) == ("false", "6")
    assert kept["raw_log_dir"] == str((tmp_path / "prod_logs_raw").resolve())
    assert cfg.paths.prod_log_raw_dir == repo_mod.raw_log_dir(cfg.paths.prod_log_dir)


def test_monitoring_counts_the_writers_leak_flag_on_scrubbed_lines(cfg: LLMOpsConfig) -> None:
    from llmops.monitoring.safety import score_records

    scrubbed = {"prompt": "Who owns this?", "response": "Reach them at <EMAIL>.", "model_version": "1"}
    word_list_only = cfg.model_copy(deep=True)
    word_list_only.scorers.toxicity_classifier = False
    flags = score_records(
        word_list_only,
        [
            {**scrubbed, "request_id": "a", "pii_leak": True},
            {**scrubbed, "request_id": "b", "pii_leak": False},
            {**scrubbed, "request_id": "c"},
        ],
    )
    assert [flags[r]["pii_leak"] for r in "abc"] == [True, False, False]
