"""The prompt registry: the file's version is registered once (MLflow's prompt registry, alias ``champion``), runs
load it by reference, and the copy beside the weights is what training, the pyfunc model and Triton read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from llmops.config import LLMOpsConfig, load_config


@pytest.fixture
def cfg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LLMOpsConfig:
    monkeypatch.setenv("LLMOPS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("LLMOPS__MLFLOW__TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    return load_config()


def test_the_file_version_is_registered_once_and_loaded_by_reference(cfg: LLMOpsConfig) -> None:
    import mlflow

    from llmops.data.schema import PROMPT_TEMPLATE, format_prompt
    from llmops.prompts import champion_prompt, default_prompt, load_prompt

    first = champion_prompt(cfg)
    assert (first.name, first.version) == ("support-assistant-prompt", "1")
    assert first.template == default_prompt().template == PROMPT_TEMPLATE
    assert champion_prompt(cfg) == first, "a second run finds the registered version"
    assert load_prompt(cfg, first.label) == first
    # a release registers version 2 and moves the alias: runs from then on train with it; version 1 stays
    second = mlflow.genai.register_prompt(first.name, "Customer question:\n{{prompt}}\nAnswer:\n")
    mlflow.genai.set_prompt_alias(first.name, "champion", int(second.version))
    now = champion_prompt(cfg)
    assert now.label == "support-assistant-prompt/2" and now.render("  Hi?  ") == "Customer question:\nHi?\nAnswer:\n"
    assert load_prompt(cfg, first.label).template == PROMPT_TEMPLATE
    assert format_prompt("Hi?") == "### Instruction:\nHi?\n### Response:\n"
    with pytest.raises(ValueError, match="not a prompt reference"):
        load_prompt(cfg, "no-version")


def test_a_prompt_file_without_the_variable_is_refused(tmp_path: Path) -> None:
    from llmops.prompts import default_prompt

    bad = tmp_path / "prompt.json"
    bad.write_text(json.dumps({"name": "p", "template": "no variable here"}))
    with pytest.raises(ValueError, match=r"'template' contains \{\{prompt\}\}"):
        default_prompt(bad)


def test_the_training_job_renders_with_the_run_prompt_and_fingerprints_it(cfg: LLMOpsConfig) -> None:
    from llmops.prompts import Prompt, default_prompt
    from llmops.training.finetune import training_fingerprint
    from llmops.training.launch import build_job

    other = Prompt("support-assistant-prompt", "2", "Q: {{prompt}}\nA: ")
    job = build_job(cfg, "train.parquet", Path("out"), None, other)
    assert job.prompt_template == other.template and job.prompt == other.to_file()
    assert build_job(cfg, "train.parquet", Path("out"), None).prompt_template is None
    fingerprints = {training_fingerprint(cfg, "abc", p) for p in (None, default_prompt(), other)}
    assert len(fingerprints) == 3, "a model trained with another prompt is another model"


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("", "empty"),
        ("   \n", "empty"),
        ("Answer the customer.\n", "exactly once"),
        ("{{prompt}} and again {{prompt}}", "2 times"),
        ("Q: {{prompt}}\x00A:", "control characters"),
        ("Q: {{prompt}}\x1b[2JA:", r"U\+001B"),
        ("x" * 8001 + "{{prompt}}", "at most 8000"),
        (None, "empty"),
    ],
)
def test_a_release_template_that_cannot_serve_is_refused_with_the_reason(template: object, message: str) -> None:
    from llmops.prompts import check_template

    with pytest.raises(ValueError, match=message):
        check_template(template)


def test_a_release_template_keeps_newlines_tabs_and_other_braces() -> None:
    from llmops.prompts import check_template, render

    template = 'System: reply in JSON like {"answer": ...}.\n\tQ: {{prompt}}\nA:'
    assert check_template(template) == template
    assert render(template, " Hi ") == 'System: reply in JSON like {"answer": ...}.\n\tQ: Hi\nA:'


def test_a_template_file_is_a_json_prompt_file_or_plain_text(tmp_path: Path) -> None:
    from llmops.prompts import DEFAULT_PROMPT_FILE, read_template_file

    assert read_template_file(DEFAULT_PROMPT_FILE) == "### Instruction:\n{{prompt}}\n### Response:\n"
    (tmp_path / "v2.txt").write_text("Customer: {{prompt}}\nAgent:", encoding="utf-8")
    assert read_template_file(tmp_path / "v2.txt") == "Customer: {{prompt}}\nAgent:"
    (tmp_path / "bad.json").write_text('{"text": "{{prompt}}"}', encoding="utf-8")
    with pytest.raises(ValueError, match="'template' string"):
        read_template_file(tmp_path / "bad.json")
    (tmp_path / "latin1.txt").write_bytes("Kunde: {{prompt}} \xe4".encode("latin-1"))
    with pytest.raises(ValueError, match="cannot be read"):
        read_template_file(tmp_path / "latin1.txt")
    with pytest.raises(ValueError, match="cannot be read"):
        read_template_file(tmp_path / "missing.txt")


def test_a_release_registers_one_challenger_version_per_run_and_the_alias_follows_what_serves(
    cfg: LLMOpsConfig,
) -> None:
    import mlflow

    from llmops.prompts import align_champion_prompt, champion_prompt, default_prompt, register_release_version

    first = champion_prompt(cfg)
    new = register_release_version(cfg, first.name, "Customer: {{prompt}}\nAgent:", "manual__r1", "shorter")
    assert new.label == "support-assistant-prompt/2"
    again = register_release_version(cfg, first.name, "Customer: {{prompt}}\nAgent:", "manual__r1", "shorter")
    assert again == new, "a retry of the same run registers nothing new"
    assert mlflow.genai.load_prompt(f"prompts:/{first.name}@challenger").version == 2
    assert champion_prompt(cfg) == first, "registering a challenger does not change what trains"
    with pytest.raises(ValueError, match="exactly once"):
        register_release_version(cfg, first.name, "no variable", "manual__r2", "broken")
    assert align_champion_prompt(cfg, new) is True
    assert champion_prompt(cfg) == new
    assert align_champion_prompt(cfg, new) is False, "already there"
    assert align_champion_prompt(cfg, None) is False and align_champion_prompt(cfg, default_prompt()) is False
    assert align_champion_prompt(cfg, first) is True and champion_prompt(cfg) == first
