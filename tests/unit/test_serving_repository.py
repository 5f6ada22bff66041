"""Unit tests for the Triton model repository writer, the config renderer and the served model's pure parts."""

from __future__ import annotations

import importlib.util
import json
import os
import time
from pathlib import Path
from types import ModuleType

import pytest

from llmops.config import TritonConfig
from llmops.data.schema import CLIENT_ERROR, PROD_LOG_COLUMNS, PROMPT_TEMPLATE, SERVER_ERROR, format_prompt
from llmops.serving import repository as repo_mod
from llmops.serving.repository import (
    MANIFEST_FILE,
    RepositoryError,
    clean_staging,
    list_versions,
    parse_served_versions,
    prune_versions,
    read_manifest,
    remove_version,
    render_config_pbtxt,
    served_version,
    validate_model_name,
    verify_version,
    write_config,
    write_model_version,
)

MODEL_PY = Path(repo_mod.__file__).with_name("model.py")


@pytest.fixture
def cfg() -> TritonConfig:
    return TritonConfig(model_name="support_assistant", max_batch_size=8, preferred_batch_sizes=[4, 8, 16])


@pytest.fixture
def model_dir(tmp_path: Path) -> Path:
    """A stand-in Hugging Face model directory (the writer never parses the files)."""
    d = tmp_path / "hf_model"
    d.mkdir()
    (d / "config.json").write_text(json.dumps({"model_type": "gpt2"}))
    (d / "model.safetensors").write_bytes(os.urandom(4096))
    (d / "tokenizer.json").write_text("{}")
    (d / "tokenizer_config.json").write_text("{}")
    (d / "README.md").write_text("ignored")
    return d


# Validation ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["support_assistant", "a", "A-1_b", "9lives", "x" * 64])
def test_valid_model_names(name: str) -> None:
    assert validate_model_name(name) == name


@pytest.mark.parametrize(
    "name",
    [
        "",
        "..",
        "../etc",
        "../../etc/passwd",
        "a/../b",
        "a/b",
        "/abs/path",
        "a\\b",
        "..\\x",
        "%2e%2e",
        "%2E%2E%2Fetc",
        "a%2fb",
        "a%5cb",
        "-lead",
        "_lead",
        "a b",
        "a.b",
        "name\n",
        "x" * 65,
        "ünïcode",
        None,
        3,
    ],
)
def test_invalid_model_names(name: object) -> None:
    with pytest.raises(ValueError) as info:
        validate_model_name(name)
    assert repr(name) in str(info.value)


def test_traversal_hint_in_message() -> None:
    with pytest.raises(ValueError, match="path traversal"):
        validate_model_name("../x")
    with pytest.raises(ValueError, match="separators"):
        validate_model_name("a%2Fb")


@pytest.mark.parametrize(("name", "version"), [("../evil", 1), ("ok", "../1"), ("%2e%2e", 1), ("ok", 0)])
def test_write_rejects_before_touching_filesystem(
    tmp_path: Path, model_dir: Path, cfg: TritonConfig, name: str, version: object
) -> None:
    repo = tmp_path / "repo"
    with pytest.raises(ValueError):
        write_model_version(repo, name, version, model_dir, cfg, tmp_path / "logs")  # type: ignore[arg-type]
    assert not repo.exists()
    assert not (tmp_path / "evil").exists()


# config.pbtxt -------------------------------------------------------------------------------------------------


def test_render_config_pbtxt(cfg: TritonConfig, tmp_path: Path) -> None:
    text = render_config_pbtxt("support_assistant", cfg, tmp_path / "logs", served_version=3)
    assert 'name: "support_assistant"' in text
    assert 'backend: "python"' in text
    assert "max_batch_size: 8" in text
    assert "version_policy: { specific: { versions: [ 3 ] } }" in text
    assert '{ name: "prompt" data_type: TYPE_STRING dims: [ 1 ] }' in text
    assert '{ name: "max_new_tokens" data_type: TYPE_INT32 dims: [ 1 ] optional: true }' in text
    assert '{ name: "temperature" data_type: TYPE_FP32 dims: [ 1 ] optional: true }' in text
    assert '{ name: "response" data_type: TYPE_STRING dims: [ 1 ] },' in text
    assert '{ name: "request_id" data_type: TYPE_STRING dims: [ 1 ] }' in text
    assert "preferred_batch_size: [ 4, 8 ]" in text  # 16 > max_batch_size is dropped (Triton would refuse it)
    assert f"max_queue_delay_microseconds: {cfg.max_queue_delay_us}" in text
    assert "{ kind: KIND_CPU count: 1 }" in text
    assert f'{{ key: "log_dir" value: {{ string_value: "{(tmp_path / "logs").resolve()}" }} }}' in text
    for key in ("max_prompt_chars", "default_max_new_tokens", "log_rotate_bytes", "model_name"):
        assert f'key: "{key}"' in text
    assert parse_served_versions(text) == [3]


def test_render_config_without_version_uses_latest(cfg: TritonConfig, tmp_path: Path) -> None:
    text = render_config_pbtxt("m", cfg, tmp_path)
    assert "latest: { num_versions: 1 }" in text
    assert parse_served_versions(text) == []


def test_rendered_config_parses_as_model_config(cfg: TritonConfig, tmp_path: Path) -> None:
    model_config_pb2 = pytest.importorskip("tritonclient.grpc.model_config_pb2")
    text_format = pytest.importorskip("google.protobuf.text_format")
    log_dir = tmp_path / 'we"ird\\dir'
    parsed = text_format.Parse(render_config_pbtxt("m", cfg, log_dir, 7), model_config_pb2.ModelConfig())
    assert list(parsed.version_policy.specific.versions) == [7]
    assert parsed.parameters["log_dir"].string_value == str(log_dir.resolve())
    assert [i.optional for i in parsed.input] == [False, True, True]
    assert list(parsed.dynamic_batching.preferred_batch_size) == [4, 8]


def test_render_rejects_control_characters(cfg: TritonConfig, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="control characters"):
        render_config_pbtxt("m", cfg, tmp_path / "bad\nname")


def test_write_config_is_atomic_and_readable(cfg: TritonConfig, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    write_config(repo, "m", cfg, tmp_path / "logs", served_version=2)
    assert served_version(repo, "m") == 2
    write_config(repo, "m", cfg, tmp_path / "logs", served_version=5)
    assert served_version(repo, "m") == 5
    assert sorted(p.name for p in (repo / "m").iterdir() if not p.name.startswith(".repository")) == ["config.pbtxt"]


# Writing versions ---------------------------------------------------------------------------------------------


def test_write_model_version(tmp_path: Path, model_dir: Path, cfg: TritonConfig) -> None:
    repo = tmp_path / "repo"
    path = write_model_version(repo, "m", 1, model_dir, cfg, tmp_path / "logs")
    assert path == (repo / "m" / "1").resolve()
    assert (path / "model.py").read_bytes() == MODEL_PY.read_bytes()
    assert sorted(p.name for p in (path / "model").iterdir()) == [
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "tokenizer_config.json",
    ]
    assert (path / "model" / "model.safetensors").read_bytes() == (model_dir / "model.safetensors").read_bytes()
    manifest = read_manifest(path)
    assert manifest is not None and manifest["version"] == 1
    assert set(manifest["files"]) == {
        "model.py",
        "scrub/llmops/checksums.py",
        "scrub/llmops/data/pii.py",
        "scrub/en_stop_words.py",
        "model/config.json",
        "model/model.safetensors",
        "model/tokenizer.json",
        "model/tokenizer_config.json",
    }
    assert verify_version(path) == []
    assert list_versions(repo, "m") == [1]
    assert not [p for p in (repo / "m").iterdir() if p.name.startswith(".staging-")]


def test_rewrite_same_content_is_idempotent(tmp_path: Path, model_dir: Path, cfg: TritonConfig) -> None:
    repo = tmp_path / "repo"
    first = write_model_version(repo, "m", 1, model_dir, cfg, tmp_path / "logs")
    stamp = (first / MANIFEST_FILE).stat().st_mtime_ns
    time.sleep(0.01)
    second = write_model_version(repo, "m", 1, model_dir, cfg, tmp_path / "logs")
    assert second == first
    assert (first / MANIFEST_FILE).stat().st_mtime_ns == stamp


def test_rewrite_different_content_raises(tmp_path: Path, model_dir: Path, cfg: TritonConfig) -> None:
    repo = tmp_path / "repo"
    write_model_version(repo, "m", 1, model_dir, cfg, tmp_path / "logs")
    (model_dir / "model.safetensors").write_bytes(os.urandom(4096))
    with pytest.raises(RepositoryError, match="already exists with different content"):
        write_model_version(repo, "m", 1, model_dir, cfg, tmp_path / "logs")


def test_damaged_existing_version_is_detected(tmp_path: Path, model_dir: Path, cfg: TritonConfig) -> None:
    repo = tmp_path / "repo"
    path = write_model_version(repo, "m", 1, model_dir, cfg, tmp_path / "logs")
    weights = path / "model" / "model.safetensors"
    size = weights.stat().st_size
    weights.write_bytes(b"corrupt")
    assert verify_version(path) == verify_version(path, deep=False) == ["size mismatch for model/model.safetensors"]
    weights.write_bytes(b"\x00" * size)  # same size, other bytes: only the hash sees it
    assert verify_version(path) == ["checksum mismatch for model/model.safetensors"]
    assert verify_version(path, deep=False) == []
    with pytest.raises(RepositoryError, match="damaged"):
        write_model_version(repo, "m", 1, model_dir, cfg, tmp_path / "logs")


@pytest.mark.parametrize("bad_file", ["pytorch_model.bin", "weights.pt", "model.pth", "state.pkl", "x.ckpt"])
def test_pickle_weights_are_refused(tmp_path: Path, model_dir: Path, cfg: TritonConfig, bad_file: str) -> None:
    (model_dir / bad_file).write_bytes(b"\x80\x04pickle")
    with pytest.raises(ValueError, match="pickle"):
        write_model_version(tmp_path / "repo", "m", 1, model_dir, cfg, tmp_path / "logs")
    assert list_versions(tmp_path / "repo", "m", include_incomplete=True) == []


def test_model_dir_without_safetensors_or_config(tmp_path: Path, model_dir: Path, cfg: TritonConfig) -> None:
    (model_dir / "model.safetensors").unlink()
    with pytest.raises(ValueError, match="safetensors"):
        write_model_version(tmp_path / "repo", "m", 1, model_dir, cfg, tmp_path / "logs")
    with pytest.raises(ValueError, match="does not exist"):
        write_model_version(tmp_path / "repo", "m", 1, tmp_path / "missing", cfg, tmp_path / "logs")


def test_crash_leftovers_are_cleaned(tmp_path: Path, model_dir: Path, cfg: TritonConfig) -> None:
    repo = tmp_path / "repo"
    base = repo / "m"
    (base / ".staging-2-deadbeef" / "model").mkdir(parents=True)
    (base / ".staging-2-deadbeef" / "model" / "model.safetensors").write_bytes(b"half")
    (base / ".trash-1-cafe").mkdir()
    (base / ".config.pbtxt.tmp-1234").write_text("partial")
    (base / ".config.pbtxt.4321-0a1b2c3d.tmp").write_text("partial")  # llmops.fsutil's temporary name
    (base / "3").mkdir()  # a numeric directory without a manifest: not a complete version
    assert list_versions(repo, "m") == []
    assert list_versions(repo, "m", include_incomplete=True) == [3]

    write_model_version(repo, "m", 2, model_dir, cfg, tmp_path / "logs")
    leftovers = sorted(p.name for p in base.iterdir() if p.name.startswith((".staging-", ".trash-", ".config")))
    assert leftovers == []
    assert list_versions(repo, "m") == [2]
    with pytest.raises(RepositoryError, match=r"no MANIFEST\.json"):
        write_model_version(repo, "m", 3, model_dir, cfg, tmp_path / "logs")


def test_interrupted_write_leaves_no_version(
    tmp_path: Path, model_dir: Path, cfg: TritonConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = tmp_path / "repo"

    def boom(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(repo_mod, "_copy_file", boom)
    with pytest.raises(OSError, match="disk full"):
        write_model_version(repo, "m", 1, model_dir, cfg, tmp_path / "logs")
    assert list_versions(repo, "m", include_incomplete=True) == []
    assert clean_staging(repo, "m") == []


def test_remove_and_prune_versions(tmp_path: Path, model_dir: Path, cfg: TritonConfig) -> None:
    repo = tmp_path / "repo"
    for v in (1, 2, 3, 4):
        (model_dir / "config.json").write_text(json.dumps({"v": v}))
        write_model_version(repo, "m", v, model_dir, cfg, tmp_path / "logs")
    write_config(repo, "m", cfg, tmp_path / "logs", served_version=2)
    with pytest.raises(RepositoryError, match="served version"):
        remove_version(repo, "m", 2)
    assert remove_version(repo, "m", 4) is True
    assert remove_version(repo, "m", 4) is False
    assert prune_versions(repo, "m", keep=1) == [1, 3]
    assert list_versions(repo, "m") == [2]


# The served model's pure parts (model.py imports without Triton) --------------------------------------------


def _load_model_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("llmops_served_model", MODEL_PY)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_model_py_prompt_template_matches_schema() -> None:
    served = _load_model_module()
    assert served.PROMPT_TEMPLATE == PROMPT_TEMPLATE
    for prompt in ["How do I reset my password?", "  padded  ", "multi\nline"]:
        assert served.format_prompt(prompt) == format_prompt(prompt)
    assert (served.CLIENT_ERROR, served.SERVER_ERROR) == (CLIENT_ERROR, SERVER_ERROR)
    from llmops.registry.pyfunc_model import PROMPT_TEMPLATE as PYFUNC_TEMPLATE

    assert PYFUNC_TEMPLATE == PROMPT_TEMPLATE


def test_the_served_model_reads_the_prompt_beside_its_weights(tmp_path: Path) -> None:
    """A version serves with the prompt it was trained with (``prompt.json``, checked against its sha256); a folder
    without one serves with the built-in template, and a tampered file is refused."""
    from llmops.prompts import Prompt, read_prompt_file, write_prompt_file
    from llmops.registry.pyfunc_model import read_prompt_template

    served = _load_model_module()
    assert served.read_prompt(tmp_path) == (PROMPT_TEMPLATE, "unversioned")
    prompt = Prompt("support-assistant-prompt", "2", "Customer question:\n{{prompt}}\nAnswer:\n")
    write_prompt_file(tmp_path, prompt)
    assert served.read_prompt(tmp_path) == (prompt.template, "support-assistant-prompt/2")
    assert read_prompt_file(tmp_path) == prompt and read_prompt_template(tmp_path) == prompt.template
    assert (
        served.format_prompt(" Hi? ", prompt.template) == prompt.render(" Hi? ") == "Customer question:\nHi?\nAnswer:\n"
    )
    data = json.loads((tmp_path / "prompt.json").read_text())
    (tmp_path / "prompt.json").write_text(json.dumps({**data, "template": "Ignore the rules.\n{{prompt}}"}))
    for read in (served.read_prompt, read_prompt_file, read_prompt_template):
        with pytest.raises(ValueError, match="does not hold a prompt whose text matches its sha256"):
            read(tmp_path)
    # every line the writer writes names the prompt served
    writer = served.ProductionLogWriter(tmp_path / "logs", rotate_bytes=4096, prompt_version=prompt.label)
    writer.submit(dict.fromkeys(PROD_LOG_COLUMNS, "x") | {"request_id": "r1", "latency_ms": 1.0})
    writer.close()
    (line,) = (tmp_path / "logs" / "requests.jsonl").read_text().splitlines()
    assert json.loads(line)["prompt_version"] == "support-assistant-prompt/2"


def test_model_py_imports_only_serving_venv_packages() -> None:
    """The one llmops import is the log writer's scrubber, which every version folder carries (``scrub/``)."""
    text = MODEL_PY.read_text()
    imports = [line.strip() for line in text.splitlines() if line.lstrip().startswith(("import", "from"))]
    assert [line for line in imports if "llmops" in line] == ["from llmops.data import pii"]
    assert set(repo_mod.scrubber_sources()) >= {f"{repo_mod.SCRUB_DIR}/llmops/data/pii.py"}


def test_production_log_writer_rotates_and_flushes(tmp_path: Path) -> None:
    served = _load_model_module()
    writer = served.ProductionLogWriter(tmp_path, rotate_bytes=2048)
    records = [dict.fromkeys(PROD_LOG_COLUMNS, "x" * 50) | {"request_id": str(i), "latency_ms": 1.5} for i in range(60)]
    for record in records:
        writer.submit(record)
        time.sleep(0.001)
    writer.close()
    files = sorted(tmp_path.glob("requests*.jsonl"))
    assert (tmp_path / "requests.jsonl") in files
    assert len(files) > 1, "expected at least one rotated file"
    assert all(f.name == "requests.jsonl" or f.name.startswith("requests-") for f in files)
    # rotated segments are named per host and process: two writers can never pick the same name
    assert all(f"-{os.getpid()}-" in f.name for f in files if f.name != "requests.jsonl")
    lines = [json.loads(line) for f in files for line in f.read_text().splitlines()]
    assert sorted(int(r["request_id"]) for r in lines) == list(range(60))
    assert all(tuple(r) == PROD_LOG_COLUMNS for r in lines)
    assert writer.counters() == {"dropped": 0, "failed_writes": 0, "failed_records": 0, "retried_writes": 0}
    assert not (tmp_path / served.STATUS_DIR).exists(), "nothing lost: no status file"


def test_model_parameters_flattening() -> None:
    served = _load_model_module()
    config = {"parameters": {"log_dir": {"string_value": "/x"}, "max_prompt_chars": {"string_value": "10"}}}
    params = served.model_parameters(config)
    assert params == {"log_dir": "/x", "max_prompt_chars": "10"}
    assert served._int_param(params, "max_prompt_chars", 5) == 10
    assert served._int_param(params, "missing", 5) == 5
    with pytest.raises(ValueError, match="not an integer"):
        served._int_param({"k": "abc"}, "k", 1)


# Server helper errors -----------------------------------------------------------------------------------------


def test_missing_serving_venv_says_make_install(tmp_path: Path) -> None:
    from llmops.serving.server import ServingEnvError, find_install

    with pytest.raises(ServingEnvError, match="make install"):
        find_install(tmp_path / "no-such-venv")


def test_render_config_without_dynamic_batching(tmp_path: Path) -> None:
    cfg = TritonConfig(max_batch_size=8, dynamic_batching=False, torch_num_threads=3, instance_kind="KIND_GPU")
    text = render_config_pbtxt("m", cfg, tmp_path / "logs", served_version=1)
    assert "dynamic_batching" not in text
    assert "max_batch_size: 8" in text
    assert "{ kind: KIND_GPU count: 1 }" in text
    assert '{ key: "torch_num_threads" value: { string_value: "3" } }' in text
    with_batching = render_config_pbtxt(
        "m", TritonConfig(max_queue_delay_us=1500, preferred_batch_sizes=[4, 8]), tmp_path / "logs", 1
    )
    assert "dynamic_batching {\n  preferred_batch_size: [ 4, 8 ]\n  max_queue_delay_microseconds: 1500\n" in (
        with_batching
    )
    assert "torch_num_threads" not in with_batching, "0 means: let the model choose"


def test_symlinks_in_model_dir_are_refused(tmp_path: Path, model_dir: Path, cfg: TritonConfig) -> None:
    secret = tmp_path / "secret.json"
    secret.write_text('{"token": "do not copy"}')
    (model_dir / "special_tokens_map.json").symlink_to(secret)
    with pytest.raises(ValueError, match="symbolic links"):
        write_model_version(tmp_path / "repo", "m", 1, model_dir, cfg, tmp_path / "logs")
    assert list_versions(tmp_path / "repo", "m", include_incomplete=True) == []


# Queue policy ---------------------------------------------------------------------------------------------------


def test_dynamic_batching_has_a_bounded_rejecting_queue(tmp_path: Path) -> None:
    cfg = TritonConfig(max_queue_delay_us=1500, preferred_batch_sizes=[4, 8], max_queue_size=2, queue_timeout_ms=250)
    text = render_config_pbtxt("m", cfg, tmp_path / "logs", served_version=1)
    block = text[text.index("dynamic_batching {") : text.index("instance_group")]
    assert (
        "  default_queue_policy {\n"
        "    timeout_action: REJECT\n"
        "    default_timeout_microseconds: 250000\n"
        "    allow_timeout_override: false\n"
        "    max_queue_size: 2\n"
        "  }\n"
        "}\n"
    ) in block
    assert block.count("{") == block.count("}")
    defaults = TritonConfig()
    assert (defaults.max_queue_size, defaults.queue_timeout_ms) == (16, 30_000)
    assert "max_queue_size: 16" in render_config_pbtxt("m", defaults, tmp_path / "logs", 1)
    unbatched = render_config_pbtxt("m", TritonConfig(dynamic_batching=False), tmp_path / "logs", 1)
    assert "default_queue_policy" not in unbatched


@pytest.mark.parametrize(
    ("field", "value"),
    [("max_queue_size", 0), ("max_queue_size", -1), ("max_queue_size", 100_001), ("queue_timeout_ms", 0)],
)
def test_queue_policy_bounds_are_validated(field: str, value: int) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match=field):
        TritonConfig(**{field: value})


def test_queue_policy_defaults_come_from_the_yaml() -> None:
    from llmops.config import load_config

    triton = load_config(environ={}).triton
    assert (triton.max_queue_size, triton.queue_timeout_ms) == (16, 30_000)
    tight = load_config(environ={"LLMOPS__TRITON__MAX_QUEUE_SIZE": "2", "LLMOPS__TRITON__QUEUE_TIMEOUT_MS": "100"})
    assert (tight.triton.max_queue_size, tight.triton.queue_timeout_ms) == (2, 100)


def test_writer_status_dir_matches_monitoring() -> None:
    from llmops.monitoring.interval import WRITER_STATUS_DIR

    assert _load_model_module().STATUS_DIR == WRITER_STATUS_DIR
