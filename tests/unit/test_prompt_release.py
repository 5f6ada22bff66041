"""The prompt release's pure parts: which template a run asks for, what the released version inherits, its card."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmops.config import LLMOpsConfig, load_config
from llmops.prompts import Prompt


@pytest.fixture
def cfg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LLMOpsConfig:
    monkeypatch.setenv("LLMOPS_HOME", str(tmp_path / "home"))
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
