"""Run keys and the trigger form: one table of params that both draws the form and maps it onto the config.

No Airflow import: the adapter (``llmops_airflow``) turns :data:`PIPELINE_FORM` into Airflow ``Param``s, and
:func:`params_to_overrides` reads the same table, so the form and the mapping cannot drift apart.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from llmops.config import CONFIG_DIR, PROJECT_ROOT, LLMOpsConfig, load_config

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")
_DIGEST_CHARS = 12
_DIGEST_SUFFIX = re.compile(rf"-[0-9a-f]{{{_DIGEST_CHARS}}}$")
RUN_KEY_MAX_CHARS = 200

RECIPES_DIR = PROJECT_ROOT / "include" / "recipes"
DEEPSPEED_DIR = CONFIG_DIR / "deepspeed"


CONFIGURED = "configured"
"""The choice "keep the configured value" of a select field."""


def _configured(value: Any) -> Any:
    """A select field's value, or ``None`` (keep the configured value) for :data:`CONFIGURED`."""
    return None if value == CONFIGURED else value


def _lora(value: Any) -> bool | None:
    """The three-way LoRA choice: as the recipe says (``None``), on, or off. Booleans are accepted as well."""
    if value in (None, "", "recipe"):
        return None
    if value in (True, "on"):
        return True
    if value in (False, "off"):
        return False
    raise ValueError(f"lora must be 'recipe', 'on' or 'off', not {value!r}")


@dataclass(frozen=True)
class FormParam:
    """One trigger-form field.

    Attributes:
        name: the param name (also the ``dag_run.conf`` key).
        title, section, description: what the form shows.
        schema: JSON-schema keywords of the field (``type``, ``minimum``, ``enum``...).
        default: the form's default; ``None`` means "keep the configured value".
        config: the config path the value overrides (``None``: the steps read the param themselves).
        convert: turns the form value into the config value (``None`` result: keep the configured value).
        values_display: labels of enum values.
    """

    name: str
    title: str
    section: str
    description: str
    schema: Mapping[str, Any]
    default: Any = None
    config: tuple[str, str] | None = None
    convert: Callable[[Any], Any] | None = None
    values_display: Mapping[str, str] = field(default_factory=dict)


def recipe_names() -> list[str]:
    """Recipes shipped under ``include/recipes`` (``family/name``)."""
    return sorted(str(p.relative_to(RECIPES_DIR).with_suffix("")) for p in RECIPES_DIR.glob("*/*.yaml"))


def deepspeed_names() -> list[str]:
    """DeepSpeed configs shipped under ``include/configs/deepspeed`` (names without ``.json``)."""
    return sorted(p.stem for p in DEEPSPEED_DIR.glob("*.json"))


def pipeline_form() -> list[FormParam]:
    """The trigger form of ``llm_finetune_pipeline``, in display order."""
    return [
        FormParam(
            "recipe", "Training recipe", "Training",
            "Hyperparameters of a model family and stage (include/recipes).",
            {"type": "string", "enum": [CONFIGURED, *recipe_names()]},
            default=CONFIGURED, config=("training", "recipe"), convert=_configured,
            values_display={CONFIGURED: "as configured", **{n: n for n in recipe_names()}},
        ),
        FormParam(
            "lora", "LoRA adapters", "Training",
            "Train LoRA adapter weights only (merged for serving), full weights, or as the recipe says.",
            {"type": "string", "enum": ["recipe", "on", "off"]},
            default="recipe", config=("training", "lora"), convert=_lora,
            values_display={"recipe": "as the recipe says", "on": "on", "off": "off (full fine-tuning)"},
        ),
        FormParam(
            "max_steps", "Training steps", "Training", "Optimizer steps.",
            {"type": ["null", "integer"], "minimum": 1}, config=("training", "max_steps"),
        ),
        FormParam(
            "learning_rate", "Learning rate", "Training", "Peak learning rate.",
            {"type": ["null", "number"], "exclusiveMinimum": 0}, config=("training", "learning_rate"),
        ),
        FormParam(
            "micro_batch_size", "Micro batch", "Training", "Examples per rank and step.",
            {"type": ["null", "integer"], "minimum": 1}, config=("training", "micro_batch_size"),
        ),
        FormParam(
            "deepspeed_config", "DeepSpeed config", "Training",
            "ZeRO stage and offload (include/configs/deepspeed).",
            {"type": "string", "enum": [CONFIGURED, *deepspeed_names()]},
            default=CONFIGURED, config=("training", "deepspeed_config"), convert=_configured,
            values_display={
                CONFIGURED: "as configured",
                **{n: n.replace("_", " + ").replace("zero", "ZeRO-") for n in deepspeed_names()},
            },
        ),
        FormParam(
            "force", "Train even if trained before", "Training",
            "Train even when another run already registered a version trained on the same data snapshot, base "
            "model and settings (otherwise finetune_model is skipped with the version it would repeat).",
            {"type": "boolean"}, default=False,
        ),
        FormParam(
            "raw_path", "Raw training data", "Data", "A JSONL, Parquet or CSV file of prompt/response rows.",
            {"type": ["null", "string"]}, config=("data", "raw_path"),
        ),
        FormParam(
            "eval_path", "Held-out eval set", "Data", "A JSONL file of prompt/response rows.",
            {"type": ["null", "string"]}, config=("data", "eval_path"),
        ),
        FormParam(
            "promote", "Promote when the gate passes", "Release",
            "Serve the candidate on Triton and make it champion when the gate (and the approver) say yes.",
            {"type": "boolean"}, default=True,
        ),
        FormParam(
            "require_approval", "Require human approval", "Release",
            "Wait for a human to approve the promotion (gate metrics and sample generations are shown); "
            "no answer within 24 hours counts as Reject.",
            {"type": "boolean"}, default=False,
        ),
    ]  # fmt: skip


def default_note(cfg: LLMOpsConfig, param: FormParam) -> str:
    """What the form says about a field's effective default, e.g. ``Empty: 300 (training.max_steps).``"""
    if param.config is None:
        return ""
    where = ".".join(param.config)
    value = effective_default(cfg, param)
    if param.default is None:
        return f"Empty: {value} ({where})."
    label = param.values_display.get(str(param.default), str(param.default))
    return f"'{label}' is {value} here ({where})."


def effective_default(cfg: LLMOpsConfig, param: FormParam) -> Any:
    """What the run uses when the field is left empty: the configured value."""
    if param.config is None:
        return param.default
    section, key = param.config
    value = getattr(getattr(cfg, section), key)
    if (section, key) == ("data", "raw_path"):
        value = cfg.raw_train_path  # unset: the demo data
    elif (section, key) == ("data", "eval_path"):
        value = cfg.raw_eval_path
    if key == "lora":
        return "on" if value.enabled else "off"
    if hasattr(value, "is_relative_to") and value.is_relative_to(PROJECT_ROOT):
        return str(value.relative_to(PROJECT_ROOT))
    return value


def run_key(run_id: str) -> str:
    """A filesystem- and tag-safe key for an Airflow run id (outputs are keyed by it).

    A run id made only of letters, digits and ``_ . -``, at most 200 characters long and not ending like a digest
    suffix is its own key. Any other run id keys as its sanitized form (unsafe runs replaced by ``_``, cut to fit)
    plus ``-`` and the first 12 hex digits of the run id's SHA-256, so run ids that sanitize alike
    (``manual__2026-01-01T00:00:00+00:00`` and ``manual__2026-01-01T00_00_00_00_00``) keep distinct keys.

    Raises:
        ValueError: nothing readable is left of the run id (``"///"``).
    """
    cleaned = _UNSAFE.sub("_", run_id).strip("._")
    if not cleaned:
        raise ValueError(f"cannot derive a run key from run id {run_id!r}")
    if cleaned == run_id and len(run_id) <= RUN_KEY_MAX_CHARS and not _DIGEST_SUFFIX.search(run_id):
        return run_id
    digest = hashlib.sha256(run_id.encode("utf-8")).hexdigest()[:_DIGEST_CHARS]
    return f"{cleaned[: RUN_KEY_MAX_CHARS - _DIGEST_CHARS - 1]}-{digest}"


def params_to_overrides(params: Mapping[str, Any] | None) -> dict[str, Any]:
    """Turn the trigger form into a nested config override (params not in the form and empty ones are ignored)."""
    form = {p.name: p for p in pipeline_form()}
    tree: dict[str, Any] = {}
    for name, value in (params or {}).items():
        param = form.get(name)
        if param is None or param.config is None or value is None or value == "":
            continue
        if param.convert is not None:
            value = param.convert(value)
            if value is None:
                continue
        section, key = param.config
        tree.setdefault(section, {})[key] = value
    return tree


def config_for_run(params: Mapping[str, Any] | None) -> LLMOpsConfig:
    """Load the configuration with the run's params applied on top."""
    return load_config(overrides=params_to_overrides(params))
