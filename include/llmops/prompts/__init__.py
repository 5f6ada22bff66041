"""The prompt as a versioned artifact: MLflow's prompt registry, and the copy that travels with the weights.

The instruction template lives in MLflow's prompt registry (``mlflow.genai.register_prompt``: immutable versions,
aliases). Its first version is registered on first use from ``mlflow.prompt_file`` (``include/prompts/``) and
aliased ``champion``. A pipeline run resolves the prompt once, at ``finetune_model``: the ``champion`` version, whose
name and version then travel by reference (``Finetune["prompt"]``, ``prompts:/<name>/<version>``), so training,
evaluation (candidate, base model and champion alike) and registration use the same immutable text.

The training process writes the text beside the weights (``prompt.json``: name, version, template, SHA-256), so
the registered artifact, the pyfunc model and the served Triton version carry the prompt they were trained with and
need no registry at run time. The served model writes the prompt's version in every production log line.

Templates are stored in the registry's double-brace form (``{{prompt}}``) and rendered by :meth:`Prompt.render`, a
plain substitution of the one variable (no other brace in the text is interpreted).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from llmops.config import LLMOpsConfig

log = logging.getLogger(__name__)

PROMPT_ALIAS = "champion"
CHALLENGER_ALIAS = "challenger"  # a released prompt version under evaluation (llm_prompt_release)
MAX_TEMPLATE_CHARS = 8000
RUN_KEY_TAG = "llmops.run_key"  # on a prompt version registered by a prompt release: the run that registered it
PROMPT_FILE = "prompt.json"  # beside the weights: what the model was trained with and is served with
VARIABLE = "{{prompt}}"
DEFAULT_PROMPT_FILE = Path(__file__).resolve().parents[2] / "prompts" / "support_assistant.json"


@dataclass(frozen=True)
class Prompt:
    """One immutable prompt version: ``template`` in the registry's double-brace form."""

    name: str
    version: str
    template: str

    @property
    def label(self) -> str:
        """``<name>/<version>``: what log lines, tags and audit records name."""
        return f"{self.name}/{self.version}"

    @property
    def uri(self) -> str:
        """``prompts:/<name>/<version>``."""
        return f"prompts:/{self.name}/{self.version}"

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.template.encode("utf-8")).hexdigest()

    def render(self, prompt: str) -> str:
        """The model's input for a user prompt (stripped), as in training."""
        return render(self.template, prompt)

    def to_file(self) -> dict[str, str]:
        """The ``prompt.json`` written beside the weights."""
        return {**asdict(self), "sha256": self.sha256}


def render(template: str, prompt: str) -> str:
    """Substitute the user prompt (stripped) for ``{{prompt}}``."""
    return template.replace(VARIABLE, prompt.strip())


@cache
def _file_prompt(path: str) -> dict[str, str]:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not isinstance(data.get("template"), str) or VARIABLE not in data["template"]:
        raise ValueError(f"{path} must hold a JSON object whose 'template' contains {VARIABLE}")
    if not isinstance(data.get("name"), str) or not data["name"]:
        raise ValueError(f"{path} must name the prompt ('name')")
    return {k: str(v) for k, v in data.items()}


def default_prompt(path: Path | None = None) -> Prompt:
    """The first version as the file states it (version ``"file"``: not registered); what code without a registry
    (a unit test, a folder written before prompts were versioned) falls back to."""
    data = _file_prompt(str(path or DEFAULT_PROMPT_FILE))
    return Prompt(data["name"], "file", data["template"])


def champion_prompt(cfg: LLMOpsConfig) -> Prompt:
    """The registry's ``champion`` prompt; registers the file's version (and aliases it) on first use.

    Registration is guarded by a lock in the state folder, so concurrent first runs register one version.
    """
    import fcntl

    import mlflow

    from llmops.registry.registry import client

    first = default_prompt(cfg.mlflow.prompt_file)
    client(cfg)  # sets the tracking and registry URIs
    found = mlflow.genai.load_prompt(f"prompts:/{first.name}@{PROMPT_ALIAS}", allow_missing=True, link_to_model=False)
    if found is None:
        lock = cfg.paths.home / ".prompt-registry.lock"
        lock.parent.mkdir(parents=True, exist_ok=True)
        with open(lock, "a") as fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            found = mlflow.genai.load_prompt(
                f"prompts:/{first.name}@{PROMPT_ALIAS}", allow_missing=True, link_to_model=False
            )
            if found is None:
                data = _file_prompt(str(cfg.mlflow.prompt_file))
                found = mlflow.genai.register_prompt(
                    name=first.name,
                    template=first.template,
                    commit_message=data.get("commit_message") or f"first version, from {cfg.mlflow.prompt_file.name}",
                    tags={"llmops.source": str(cfg.mlflow.prompt_file.name)},
                )
                mlflow.genai.set_prompt_alias(first.name, PROMPT_ALIAS, int(found.version))
                log.info("registered prompt %s version %s as %s", first.name, found.version, PROMPT_ALIAS)
    return Prompt(str(found.name), str(found.version), str(found.template))


def load_prompt(cfg: LLMOpsConfig, label: str) -> Prompt:
    """The prompt version ``<name>/<version>`` from the registry (``"<name>/file"``: the file's text)."""
    import mlflow

    from llmops.registry.registry import client

    name, _, version = label.rpartition("/")
    if not name or not version:
        raise ValueError(f"not a prompt reference: {label!r} (expected <name>/<version>)")
    if version == "file":
        return default_prompt(cfg.mlflow.prompt_file)
    client(cfg)
    found = mlflow.genai.load_prompt(f"prompts:/{name}/{version}", link_to_model=False)
    return Prompt(str(found.name), str(found.version), str(found.template))


def check_template(template: object) -> str:
    """A new template as a prompt release accepts it.

    Raises:
        ValueError: not a string, empty, longer than :data:`MAX_TEMPLATE_CHARS`, holding control characters other
            than newline and tab, or not holding ``{{prompt}}`` exactly once (the message says which).
    """
    if not isinstance(template, str) or not template.strip():
        raise ValueError("the template is empty: give the new template's text or a file holding it")
    if len(template) > MAX_TEMPLATE_CHARS:
        raise ValueError(f"the template has {len(template)} characters; at most {MAX_TEMPLATE_CHARS} are accepted")
    bad = sorted({f"U+{ord(c):04X}" for c in template if ord(c) < 32 and c not in "\n\t"})
    if bad:
        raise ValueError(f"the template holds control characters {bad}; only newlines and tabs are allowed")
    count = template.count(VARIABLE)
    if count != 1:
        raise ValueError(f"the template must hold {VARIABLE} exactly once (where the user's prompt goes); it holds it "
                         f"{count} times")  # fmt: skip
    return template


def read_template_file(path: Path) -> str:
    """The template held by ``path``: a JSON file's ``template`` (the shape of ``include/prompts/*.json``), or the
    whole text of any other file.

    Raises:
        ValueError: the file is missing, unreadable, not UTF-8 or a JSON file without a ``template`` string.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"template file {path} cannot be read: {exc}") from exc
    if Path(path).suffix.lower() != ".json":
        return text
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"template file {path} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("template"), str):
        raise ValueError(f"template file {path} must hold a JSON object with a 'template' string")
    return str(data["template"])


def register_release_version(cfg: LLMOpsConfig, name: str, template: str, run_key: str, message: str) -> Prompt:
    """Register ``template`` as a new version of prompt ``name`` for the prompt release ``run_key`` and alias it
    ``challenger``; a retry of the same run finds the version it registered (tag ``llmops.run_key``) instead of
    registering another."""
    import mlflow

    from llmops.registry.registry import client

    c = client(cfg)
    mine = [v for v in c.search_prompt_versions(name) if (v.tags or {}).get(RUN_KEY_TAG) == run_key]
    if mine:
        found = min(mine, key=lambda v: int(v.version))
    else:
        found = mlflow.genai.register_prompt(
            name=name, template=check_template(template), commit_message=message[:1000], tags={RUN_KEY_TAG: run_key}
        )
        log.info("registered prompt %s version %s for run %s", name, found.version, run_key)
    mlflow.genai.set_prompt_alias(name, CHALLENGER_ALIAS, int(found.version))
    return Prompt(str(found.name), str(found.version), str(found.template))


def align_champion_prompt(cfg: LLMOpsConfig, prompt: Prompt | None) -> bool:
    """Point the prompt registry's ``champion`` alias at ``prompt``, the prompt the champion model serves with, so
    the next training run uses it. Nothing to do for a folder without a registered prompt (``None``, version
    ``file``) or when the alias is there already.

    Returns:
        True when the alias moved.
    """
    import mlflow

    from llmops.registry.registry import client

    if prompt is None or not prompt.version.isdigit():
        return False
    client(cfg)
    current = mlflow.genai.load_prompt(f"prompts:/{prompt.name}@{PROMPT_ALIAS}", allow_missing=True,
                                       link_to_model=False)  # fmt: skip
    if current is not None and str(current.version) == prompt.version:
        return False
    mlflow.genai.set_prompt_alias(prompt.name, PROMPT_ALIAS, int(prompt.version))
    log.info("prompt %s: alias %s now on version %s", prompt.name, PROMPT_ALIAS, prompt.version)
    return True


def write_prompt_file(folder: Path, prompt: Prompt) -> Path:
    """Write ``prompt.json`` into a model folder (atomically)."""
    from llmops.fsutil import atomic_write_json

    return atomic_write_json(Path(folder) / PROMPT_FILE, prompt.to_file())


def read_prompt_file(folder: Path) -> Prompt | None:
    """The ``prompt.json`` of a model folder (``None`` when there is none).

    Raises:
        ValueError: the file is there but unreadable, or its text does not match its SHA-256.
    """
    path = Path(folder) / PROMPT_FILE
    try:
        data: Mapping[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path} is unreadable: {exc}") from exc
    prompt = Prompt(str(data.get("name", "")), str(data.get("version", "")), str(data.get("template", "")))
    if data.get("sha256") != prompt.sha256 or VARIABLE not in prompt.template:
        raise ValueError(f"{path} does not hold a prompt whose text matches its sha256")
    return prompt
