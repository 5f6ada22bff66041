"""The demo generator: determinism, planted defects as the manifest says, learnable templates, prod-log layout."""

from __future__ import annotations

import hashlib
import json
import random
import re
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from llmops.checksums import luhn_valid
from llmops.config import DataConfig, DemoDataConfig, load_config
from llmops.data.dedup import normalize_text
from llmops.data.schema import PROD_LOG_COLUMNS, PROD_LOG_SERVING_COLUMNS, TRAIN_COLUMNS
from llmops.demo import generate_demo_dataset, generate_prod_logs
from llmops.demo.cli import main
from llmops.demo.intents import INTENTS, load_intents, parse_intents, template_fields
from llmops.demo.prodlogs import _DRIFT_RESPONSES, TEMPLATE_TOKENS
from llmops.demo.slots import SAMPLERS
from llmops.demo.synthetic import near_duplicate_corpus, planted_pii_corpus

SMALL = DemoDataConfig(
    seed=11,
    n_train=300,
    n_eval=40,
    exact_duplicates=12,
    near_duplicates=8,
    pii_rows=9,
    empty_fields=4,
    oversized_fields=2,
    malformed_lines=6,
)
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
PHONE = re.compile(r"(\+\d{1,2} )?\(?\d{2,3}\)?[ -]\d{3,4}[ -]\d{4}")
CARD = re.compile(r"\b(?:\d{4}[ -]?){3}\d{4}\b")


@pytest.fixture(scope="module")
def default_dataset(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return generate_demo_dataset(DemoDataConfig(), tmp_path_factory.mktemp("demo"))


def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().split(b"\n")[:-1]


def _parse(line: bytes) -> Any:
    try:
        return json.loads(line.decode("utf-8"))
    except ValueError:
        return None


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    first = generate_demo_dataset(SMALL, tmp_path / "a")
    second = generate_demo_dataset(SMALL, tmp_path / "b")
    for name in ("train", "eval", "manifest"):
        assert first[name].read_bytes() == second[name].read_bytes(), name
    third = generate_demo_dataset(SMALL.model_copy(update={"seed": 12}), tmp_path / "c")
    assert third["train"].read_bytes() != first["train"].read_bytes()
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["eval.jsonl", "manifest.json", "train.jsonl"]


# sha256 of the files the generators wrote before the demo code moved to llmops.demo (and its intents to
# intents.yaml): a refactoring must not change a single byte for the same seed.
PINNED = {
    "eval": "ee7c2e8b59419417192a26d1f40310d9b11baf4973bf780bae61629c06370e61",
    "manifest": "5530bce8bbba128468609eb5a6d1fb47ef82b1497123b885c29cb456c3a70780",
    "prod_logs": "bca003d30d44a11bcb10d32192a2287dbeefac12a6db98081c35b81bc52fb610",
    "train": "1dfca2e23a8b475d505b4accb2246316260f796cc091f0f27b5711e67c959658",
    "pii_corpus": "597a105f763d411ac1a1f5077a367b6d482d5fc2904ce478150c1bb70e883d48",
    "near_duplicate_corpus": "a2af4e6770837509185525d6291955c39709deea2a9ec53c28c72083523f52a6",
}


def test_generated_bytes_are_pinned(tmp_path: Path) -> None:
    cfg = DemoDataConfig(
        seed=3,
        n_train=50,
        n_eval=10,
        exact_duplicates=3,
        near_duplicates=4,
        pii_rows=5,
        empty_fields=4,
        oversized_fields=2,
        malformed_lines=6,
    )
    files = generate_demo_dataset(cfg, tmp_path)
    files["prod_logs"] = generate_prod_logs(40, 0.5, 3, tmp_path / "requests.jsonl")
    digests = {name: hashlib.sha256(path.read_bytes()).hexdigest() for name, path in files.items()}
    pii = [[r.text, r.spans, r.lookalikes] for r in planted_pii_corpus(200, seed=1)]
    digests["pii_corpus"] = hashlib.sha256(json.dumps(pii).encode()).hexdigest()
    corpus = near_duplicate_corpus(20, seed=1, vocabulary_size=500)
    payload = json.dumps([corpus.texts, corpus.labels, corpus.edit_rates]).encode()
    digests["near_duplicate_corpus"] = hashlib.sha256(payload).hexdigest()
    assert digests == PINNED


def test_manifest_counts_match_the_file(default_dataset: dict[str, Path]) -> None:
    cfg = DemoDataConfig()
    manifest = json.loads(default_dataset["manifest"].read_text())
    lines = _lines(default_dataset["train"])
    counts = manifest["counts"]
    assert counts == {
        "exact_duplicates": cfg.exact_duplicates,
        "near_duplicates": cfg.near_duplicates,
        "pii_rows": cfg.pii_rows,
        "empty_fields": cfg.empty_fields,
        "oversized_fields": cfg.oversized_fields,
        "malformed_lines": cfg.malformed_lines,
        "wrong_type_rows": 1,
    }
    assert len(lines) == manifest["train_lines"] == cfg.n_train + sum(counts.values())

    malformed = {e["line"] for e in manifest["planted"]["malformed_lines"]}
    for number, line in enumerate(lines, start=1):
        obj = _parse(line)
        if number in malformed:
            assert not isinstance(obj, dict), f"line {number} should not be a JSON object"
        else:
            assert isinstance(obj, dict) and tuple(obj) == TRAIN_COLUMNS
            assert obj["source"] == "demo" and obj["id"] == f"train-{number:05d}"
    kinds = {e["kind"] for e in manifest["planted"]["malformed_lines"]}
    assert {"truncated_json", "plain_text", "not_utf8"} <= kinds
    (wrong,) = manifest["planted"]["wrong_type_rows"]
    assert isinstance(_parse(lines[wrong["line"] - 1])["prompt"], int)


def test_planted_defects_are_what_the_manifest_says(default_dataset: dict[str, Path]) -> None:
    manifest = json.loads(default_dataset["manifest"].read_text())
    rows = {o["id"]: o for o in map(_parse, _lines(default_dataset["train"])) if isinstance(o, dict)}
    line_of = {o_id: int(o_id.split("-")[1]) for o_id in rows}
    planted = manifest["planted"]

    for entry in planted["exact_duplicates"]:
        dup, orig = rows[entry["id"]], rows[entry["duplicate_of"]]
        assert {k: v for k, v in dup.items() if k != "id"} == {k: v for k, v in orig.items() if k != "id"}
        assert line_of[entry["duplicate_of"]] < line_of[entry["id"]]
    for entry in planted["near_duplicates"]:
        dup, orig = rows[entry["id"]], rows[entry["duplicate_of"]]
        assert dup["prompt"] != orig["prompt"] and dup["response"] == orig["response"]
        assert line_of[entry["duplicate_of"]] < line_of[entry["id"]]
    for entry in planted["pii_rows"]:
        prompt = rows[entry["id"]]["prompt"]
        found = {
            "email": bool(EMAIL.search(prompt)),
            "phone": bool(PHONE.search(prompt)),
            "card": any(luhn_valid(m.group()) for m in CARD.finditer(prompt)),
        }
        for kind in entry["kind"].split("+"):
            assert found[kind], (kind, prompt)
    for entry in planted["empty_fields"]:
        row = rows[entry["id"]]
        assert any(row[f] is None or not row[f].strip() for f in ("prompt", "response"))
    data = DataConfig()
    for entry in planted["oversized_fields"]:
        row = rows[entry["id"]]
        assert len(row["prompt"]) > data.max_prompt_chars or len(row["response"]) > data.max_response_chars


def test_clean_rows_look_like_support_conversations(default_dataset: dict[str, Path]) -> None:
    manifest = json.loads(default_dataset["manifest"].read_text())
    planted_ids = {e["id"] for entries in manifest["planted"].values() for e in entries}
    rows = [o for o in map(_parse, _lines(default_dataset["train"])) if isinstance(o, dict)]
    clean = [r for r in rows if r["id"] not in planted_ids]
    assert len(clean) == DemoDataConfig().n_train
    allowed = set(DataConfig().allowed_categories)
    assert {r["category"] for r in clean} == allowed
    for row in clean:
        assert 8 <= len(row["prompt"].split()) <= 30, row["prompt"]
        assert 15 <= len(row["response"].split()) <= 60, row["response"]
    # No accidental duplicates among clean rows: dedup counts must come from planted defects only.
    assert len({normalize_text(r["prompt"]) for r in clean}) == len(clean)
    assert manifest["expected"]["exact_dedup_removed"] >= manifest["counts"]["exact_duplicates"]


def test_eval_set_is_clean_and_held_out(default_dataset: dict[str, Path]) -> None:
    train_prompts = {
        normalize_text(o["prompt"])
        for o in map(_parse, _lines(default_dataset["train"]))
        if isinstance(o, dict) and isinstance(o["prompt"], str)
    }
    rows = [json.loads(line) for line in _lines(default_dataset["eval"])]
    assert len(rows) == DemoDataConfig().n_eval
    assert all(tuple(r) == TRAIN_COLUMNS and r["prompt"] and r["response"] for r in rows)
    assert not train_prompts & {normalize_text(r["prompt"]) for r in rows}
    assert len({r["id"] for r in rows}) == len(rows)


def test_intents_are_learnable_from_the_prompt() -> None:
    assert 25 <= len(INTENTS) <= 40
    assert len({i.name for i in INTENTS}) == len(INTENTS)
    allowed = set(DataConfig().allowed_categories)
    for intent in INTENTS:
        assert intent.category in allowed
        assert len(intent.prompts) >= 3
        primary = {name for key in intent.samplers for name in SAMPLERS[key][0]}
        for template in intent.prompts:
            assert template_fields(template) == primary, (intent.name, template)
        # The response may only use slots the samplers fill (primary slots or facts derived from them).
        filled = set()
        for key in intent.samplers:
            filled |= set(SAMPLERS[key][1](random.Random(0)))
        assert template_fields(intent.response) <= filled, intent.name


def _table(*changes: dict[str, object]) -> dict[str, object]:
    """An intent table with one valid intent per argument, each changed as the argument says."""
    base: dict[str, object] = {
        "name": "plan_price",
        "category": "billing",
        "samplers": ["plan"],
        "prompts": ["How much is {plan}?"],
        "response": "{plan} costs {price}.",
    }
    return {"intents": [{**base, **change} for change in changes]}


def test_packaged_intent_table_loads() -> None:
    assert load_intents() == INTENTS
    (intent,) = parse_intents(_table({}))
    assert intent.samplers == ("plan",) and intent.prompts == ("How much is {plan}?",)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"intent": []}, "non-empty list under 'intents'"),
        ({"intents": [{"name": "x"}]}, "expected exactly the keys"),
        (_table({"samplers": ["planet"]}), "unknown samplers"),
        (_table({"samplers": []}), "samplers must be a non-empty list"),
        (_table({"prompts": ["How much is it?"]}), "must name exactly the slots"),
        (_table({"response": "{plan} has {colour}."}), "no sampler fills"),
        (_table({"category": ""}), "non-empty strings"),
        (_table({}, {}), "used twice"),
    ],
)
def test_intent_table_errors_say_what_is_expected(table: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_intents(table)


@pytest.mark.parametrize(("number", "valid"), [("4111 1111 1111 1111", True), ("4111-1111-1111-1112", False)])
def test_luhn(number: str, valid: bool) -> None:
    assert luhn_valid(number) is valid


def test_prod_logs_layout_drift_share_and_determinism(tmp_path: Path) -> None:
    path = generate_prod_logs(50, 0.4, 3, tmp_path / "logs" / "a.jsonl", model_version="7")
    again = generate_prod_logs(50, 0.4, 3, tmp_path / "b.jsonl", model_version="7")
    assert path.read_bytes() == again.read_bytes()
    records = [json.loads(line) for line in _lines(path)]
    assert len(records) == 50
    stamps = []
    for record in records:
        assert tuple(record) == PROD_LOG_COLUMNS + PROD_LOG_SERVING_COLUMNS  # the served model's layout
        assert record["prompt_tokens"] > TEMPLATE_TOKENS and record["completion_tokens"] > 0
        assert record["batch_size"] in (1, 2, 4) and 0 < record["compute_ms"] < record["latency_ms"]
        assert record["prompt_version"] == "support-assistant-prompt/1"
        assert uuid.UUID(record["request_id"]).version == 4
        assert record["timestamp"].endswith("Z")
        stamps.append(datetime.fromisoformat(record["timestamp"]))
        assert isinstance(record["latency_ms"], float) and record["latency_ms"] > 0
        assert record["model_name"] == "support_assistant" and record["model_version"] == "7"
    assert stamps == sorted(stamps) and stamps[0].isoformat().startswith("2026-01-01T00:0")
    assert sum(r["response"] in _DRIFT_RESPONSES for r in records) == 20
    assert len({r["request_id"] for r in records}) == 50

    none = [json.loads(x) for x in _lines(generate_prod_logs(30, 0.0, 3, tmp_path / "c.jsonl"))]
    assert not any(r["response"] in _DRIFT_RESPONSES for r in none)
    start = datetime(2026, 3, 1, 12, 0, 0)
    full = [json.loads(x) for x in _lines(generate_prod_logs(30, 1.0, 3, tmp_path / "d.jsonl", start=start))]
    assert all(r["response"] in _DRIFT_RESPONSES for r in full)
    assert full[0]["timestamp"].startswith("2026-03-01T12:0")
    with pytest.raises(ValueError):
        generate_prod_logs(5, 1.5, 0, tmp_path / "e.jsonl")


def test_cli_writes_dataset_and_logs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LLMOPS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("LLMOPS__DEMO__N_TRAIN", "120")
    monkeypatch.setenv("LLMOPS__DEMO__N_EVAL", "20")
    assert main(["--out", str(tmp_path / "raw"), "--prod-logs", "10", "--drift", "0.5"]) == 0
    written = json.loads(capsys.readouterr().out)
    assert set(written) == {"train", "eval", "manifest", "prod_logs"}
    cfg = load_config()
    assert Path(written["prod_logs"]) == cfg.paths.prod_log_dir / "demo" / "requests-demo.jsonl"
    assert len(_lines(Path(written["prod_logs"]))) == 10
    assert json.loads(Path(written["manifest"]).read_text())["clean_rows"] == 120
