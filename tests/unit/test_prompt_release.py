"""The prompt release's pure parts: which template a run asks for, what the released version inherits, its card."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmops.config import LLMOpsConfig, load_config
from llmops.prompts import Prompt


@pytest.fixture
def cfg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LLMOpsConfig:
    monkeypatch.setenv("LLMOPS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("LLMOPS__PATHS__MODEL_REPOSITORY", str(tmp_path / "triton_models"))
    return load_config()


def test_the_template_comes_from_the_text_or_from_a_file_inside_the_data_folder(cfg: LLMOpsConfig) -> None:
    from llmops.prompts.release import PromptReleaseError, new_template

    assert new_template(cfg, "Q: {{prompt}}\nA:", "") == "Q: {{prompt}}\nA:"
    (cfg.paths.data_dir / "prompts").mkdir(parents=True)
    (cfg.paths.data_dir / "prompts" / "v2.txt").write_text("Customer: {{prompt}}\nAgent:", encoding="utf-8")
    assert new_template(cfg, None, "prompts/v2.txt") == "Customer: {{prompt}}\nAgent:"
    assert new_template(cfg, "", "include/prompts/support_assistant.json").startswith("### Instruction:")
    for text, file, message in [
        ("Q: {{prompt}}", "prompts/v2.txt", "not both"),
        ("", "", "not neither"),
        ("  ", None, "not neither"),
        ("", "../outside.txt", "not usable"),
        ("", "/etc/hostname", "not usable"),
        ("", "prompts/missing.txt", "cannot be read"),
        ("Answer politely.", None, "exactly once"),
    ]:
        with pytest.raises(PromptReleaseError, match=message):
            new_template(cfg, text, file)


def test_a_release_inherits_the_champions_lineage_and_names_its_prompt_and_weights() -> None:
    from llmops.prompts.release import KIND_TAG, WEIGHTS_FROM_TAG, release_tags

    prompt = Prompt("support-assistant-prompt", "3", "Customer: {{prompt}}\nAgent:")
    champion = {
        "llmops.data_snapshot_hash": "abc",
        "llmops.base_model": "/models/base",
        "llmops.training_fingerprint": "fp",
        "llmops.gate.reason": "the champion's own gate",  # not inherited: the release is gated on its own
        "llmops.promotion.from_version": "1",
    }
    tags = release_tags(champion, "2", prompt)
    assert tags[KIND_TAG] == "prompt_release" and tags[WEIGHTS_FROM_TAG] == "2"
    assert tags["llmops.prompt"] == "support-assistant-prompt/3" and tags["llmops.prompt_sha256"] == prompt.sha256
    assert tags["llmops.data_snapshot_hash"] == "abc" and tags["llmops.training_fingerprint"] == "fp"
    assert "llmops.gate.reason" not in tags and "llmops.promotion.from_version" not in tags


def test_the_card_of_a_release_says_what_changed_before_the_rest() -> None:
    from llmops.prompts.release import release_card

    old = Prompt("p", "1", "### Instruction:\n{{prompt}}\n### Response:\n")
    new = Prompt("p", "2", "Customer: {{prompt}}\nAgent:")
    card = "# support-assistant version 3\n\n## Intended use\n\nAnswering.\n"
    out = release_card(card, "2", old, new, "shorter answers")
    assert out.index("## Prompt release") < out.index("## Intended use")
    assert "Same weights as version 2" in out and "`p/2`" in out and "Replaces `p/1`" in out
    assert "Reason: shorter answers" in out and out.endswith("Answering.\n")
    assert "the built-in template" in release_card(card, "2", None, new, "r")


def _with_champion(cfg: LLMOpsConfig, tmp_path: Path) -> LLMOpsConfig:
    """A registered version 1 aliased champion, served from a Triton folder whose weights carry prompt version 1."""
    from llmops.prompts import champion_prompt, write_prompt_file
    from llmops.registry import registry, tracking
    from llmops.serving.repository import WEIGHTS_DIR, version_path

    c = tracking.client(cfg)
    c.create_registered_model(cfg.mlflow.model_name)
    (tmp_path / "model").mkdir()
    c.create_model_version(cfg.mlflow.model_name, source=str(tmp_path / "model"))
    registry.set_alias(cfg, registry.CHAMPION, "1")
    folder = version_path(cfg.paths.model_repository, cfg.triton.model_name, 1) / WEIGHTS_DIR
    folder.mkdir(parents=True)
    write_prompt_file(folder, champion_prompt(cfg))
    return cfg


def _candidate_verdict(cfg: LLMOpsConfig, key: str) -> tuple[str, str]:
    from llmops.registry import tracking

    run_id = tracking.find_run(cfg, key)
    assert run_id is not None
    tags = tracking.client(cfg).get_run(run_id).data.tags
    return tags["llmops.verdict.prompt_candidate"], tags["llmops.verdict.prompt_candidate.reason"]


def test_a_release_without_a_champion_changes_nothing(cfg: LLMOpsConfig) -> None:
    from llmops.errors import Permanent
    from llmops.prompts.steps import register_prompt_candidate
    from llmops.run import Run

    params = {"template": "Customer: {{prompt}}\nAgent:", "reason": "shorter"}
    with pytest.raises(Permanent, match="has no champion"):
        register_prompt_candidate(Run.for_test(cfg, "no-champion", params=params))
    assert _candidate_verdict(cfg, "no-champion")[0] == "failed"


def test_the_serving_template_is_refused_and_a_new_one_registered_once_per_run(
    cfg: LLMOpsConfig, tmp_path: Path
) -> None:
    import mlflow

    from llmops.errors import Permanent
    from llmops.prompts import champion_prompt
    from llmops.prompts.steps import register_prompt_candidate
    from llmops.run import Run

    cfg = _with_champion(cfg, tmp_path)
    same = {"template": champion_prompt(cfg).template, "reason": "no change"}
    with pytest.raises(Permanent, match="serves with already"):
        register_prompt_candidate(Run.for_test(cfg, "same", params=same))
    assert _candidate_verdict(cfg, "same")[0] == "failed"

    params = {"template": "Customer: {{prompt}}\nAgent:", "reason": "shorter"}
    first = register_prompt_candidate(Run.for_test(cfg, "release-1", params=params))
    assert first == register_prompt_candidate(Run.for_test(cfg, "release-1", params=params)), "a retry"
    assert first["prompt"] == "support-assistant-prompt/2" and first["champion_version"] == "1"
    assert first["replaces"] == "support-assistant-prompt/1" and first["reason"] == "shorter"
    assert mlflow.genai.load_prompt("prompts:/support-assistant-prompt@challenger").version == 2
    assert champion_prompt(cfg).version == "1", "nothing serves the candidate yet"
    passed, reason = _candidate_verdict(cfg, "release-1")
    assert passed == "passed" and "champion version 1 in place of support-assistant-prompt/1: shorter" in reason
