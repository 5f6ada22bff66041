"""Run keys and the trigger form: one table of params that both draws the form and maps it onto the config.

No Airflow import: the adapter (``llmops_airflow``) turns :func:`pipeline_form` into Airflow ``Param``s, and
:func:`params_to_overrides` reads the same table, so the form and the mapping cannot drift apart.

The form is the whole surface a trigger can reach (a closed control plane): a run whose ``dag_run.conf`` holds keys
the DAG does not declare is refused (:func:`check_conf_keys`), every value is checked against its field's schema
again when it is mapped (the UI and the API check it at trigger time, but a conf can bypass the form), numbers have
upper bounds (:data:`PARAM_LIMITS`), and file params name files under the data folder (``$LLMOPS_HOME/data``) or the
project's ``include/`` folder only (:func:`confined_path`). Deployment settings (world size, launcher, base model,
paths of the state folder) are not params and cannot come from a trigger.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from llmops.config import CONFIG_DIR, PROJECT_ROOT, ConfigError, LLMOpsConfig, load_config
from llmops.errors import Permanent

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")
_DIGEST_CHARS = 12
_DIGEST_SUFFIX = re.compile(rf"-[0-9a-f]{{{_DIGEST_CHARS}}}$")
RUN_KEY_MAX_CHARS = 200

RECIPES_DIR = PROJECT_ROOT / "include" / "recipes"
DEEPSPEED_DIR = CONFIG_DIR / "deepspeed"


CONFIGURED = "configured"
"""The choice "keep the configured value" of a select field."""

PARAM_LIMITS: Mapping[str, int | float] = {"max_steps": 100_000, "micro_batch_size": 1024, "learning_rate": 0.1}
"""Upper bounds of the numeric trigger params (the form's ``maximum``, checked again when a run maps its params).
The configuration itself may go higher: these bound what one trigger can ask for."""

INCLUDE_DIR = PROJECT_ROOT / "include"
RELATIVE_PATH_PATTERN = r"^(?![/~])(?!(?:.*/)?\.\.(?:/|$))[^\\\x00]+$"
"""A relative path without a ``..`` segment, a leading ``/`` or ``~``, backslashes or NUL (the form's ``pattern``)."""


class InvalidParams(Permanent):
    """The run's trigger params or conf are not acceptable: the run fails at its first task, without retries."""


def _configured(value: Any) -> Any:
    """A select field's value, or ``None`` (keep the configured value) for :data:`CONFIGURED`."""
    return None if value == CONFIGURED else value


def _lora(value: Any) -> bool | None:
    """The three-way LoRA choice: as the recipe says (``None``), on, or off."""
    if value in (None, "", "recipe"):
        return None
    if value == "on":
        return True
    if value == "off":
        return False
    raise InvalidParams(f"param lora: {value!r} is not one of 'recipe', 'on', 'off'")


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
        kind: ``"path"`` for a file param: confined to the data and include folders (:func:`confined_path`).
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
    kind: str = "value"


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
            {"type": ["null", "integer"], "minimum": 1, "maximum": PARAM_LIMITS["max_steps"]},
            config=("training", "max_steps"),
        ),
        FormParam(
            "learning_rate", "Learning rate", "Training", "Peak learning rate.",
            {"type": ["null", "number"], "exclusiveMinimum": 0, "maximum": PARAM_LIMITS["learning_rate"]},
            config=("training", "learning_rate"),
        ),
        FormParam(
            "micro_batch_size", "Micro batch", "Training", "Examples per rank and step.",
            {"type": ["null", "integer"], "minimum": 1, "maximum": PARAM_LIMITS["micro_batch_size"]},
            config=("training", "micro_batch_size"),
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
            "raw_path", "Raw training data", "Data",
            "A JSONL, Parquet or CSV file of prompt/response rows, relative to the data folder ($LLMOPS_HOME/data, "
            "e.g. raw/train.jsonl) or include/...",
            {"type": ["null", "string"], "pattern": RELATIVE_PATH_PATTERN, "maxLength": 1024},
            config=("data", "raw_path"), kind="path",
        ),
        FormParam(
            "eval_path", "Held-out eval set", "Data",
            "A JSONL file of prompt/response rows, relative to the data folder ($LLMOPS_HOME/data) or include/...",
            {"type": ["null", "string"], "pattern": RELATIVE_PATH_PATTERN, "maxLength": 1024},
            config=("data", "eval_path"), kind="path",
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
    if param.kind == "path" and value.is_relative_to(cfg.paths.data_dir):
        return str(value.relative_to(cfg.paths.data_dir))
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


def check_conf_keys(conf: Mapping[str, Any] | None, declared: Collection[str]) -> None:
    """Refuse a run conf that holds keys the DAG does not declare as params.

    Airflow passes any ``dag_run.conf`` key to the tasks as a param; only the declared ones are the trigger surface.

    Raises:
        InvalidParams: naming the undeclared keys and the declared ones.
    """
    unknown = sorted(str(k) for k in (conf or {}) if k not in declared)
    if unknown:
        allowed = ", ".join(sorted(declared)) or "none"
        raise InvalidParams(
            f"the run conf holds keys this DAG does not declare as params: {', '.join(unknown)} (declared: {allowed}); "
            "deployment settings (base model, world size, launcher, paths) come from the configuration, not a trigger"
        )


_JSON_TYPES: Mapping[str, Callable[[Any], bool]] = {
    "null": lambda v: v is None,
    "boolean": lambda v: isinstance(v, bool),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "string": lambda v: isinstance(v, str),
}
SCHEMA_KEYWORDS = frozenset(
    {"type", "enum", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "pattern", "minLength", "maxLength"}
)
"""The JSON-schema keywords the form uses, all of which :func:`check_param` enforces."""


def check_param(param: FormParam, value: Any) -> None:
    """Check one value against its field's JSON schema (the subset in :data:`SCHEMA_KEYWORDS`).

    Raises:
        InvalidParams: naming the param and the broken constraint.
    """
    schema = param.schema
    types = schema.get("type")
    names = [types] if isinstance(types, str) else list(types or [])
    if names and not any(_JSON_TYPES[t](value) for t in names):
        raise InvalidParams(f"param {param.name}: {value!r} is not of type {' or '.join(names)}")
    if value is None:
        return
    if "enum" in schema and value not in schema["enum"]:
        raise InvalidParams(f"param {param.name}: {value!r} is not one of {list(schema['enum'])}")
    if _JSON_TYPES["number"](value):
        if "minimum" in schema and value < schema["minimum"]:
            raise InvalidParams(f"param {param.name}: {value} is below its minimum {schema['minimum']}")
        if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
            raise InvalidParams(f"param {param.name}: {value} must be above {schema['exclusiveMinimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            raise InvalidParams(f"param {param.name}: {value} is above its maximum {schema['maximum']}")
        if "exclusiveMaximum" in schema and value >= schema["exclusiveMaximum"]:
            raise InvalidParams(f"param {param.name}: {value} must be below {schema['exclusiveMaximum']}")
    if isinstance(value, str):
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            raise InvalidParams(f"param {param.name}: longer than {schema['maxLength']} characters")
        if "minLength" in schema and len(value) < schema["minLength"]:
            raise InvalidParams(f"param {param.name}: shorter than {schema['minLength']} characters")
        if "pattern" in schema and re.search(schema["pattern"], value) is None:
            raise InvalidParams(f"param {param.name}: {value!r} does not match {schema['pattern']}")


def path_roots(data_dir: Path) -> dict[str, Path]:
    """The folders a file param may name a file in: the data folder, and the project's ``include/`` folder."""
    return {"data": data_dir, "include": INCLUDE_DIR}


def confined_path(name: str, value: str, data_dir: Path) -> Path:
    """Resolve a file param: a relative path under the data folder, or ``include/...`` under the project.

    ``raw/train.jsonl`` is ``<data_dir>/raw/train.jsonl``; ``include/x.jsonl`` is ``<project>/include/x.jsonl``.
    Absolute paths, ``~``, ``..`` segments, and paths that resolve (following symlinks) outside their folder are
    refused.

    Args:
        name: the param's name (for the message).
        value: the form value.
        data_dir: the data folder (``cfg.paths.data_dir``).

    Returns:
        The resolved absolute path.

    Raises:
        InvalidParams: naming the param and why.
    """
    rel = PurePosixPath(value)
    if rel.is_absolute() or value.startswith("~") or "\\" in value or "\x00" in value:
        raise InvalidParams(
            f"param {name}: {value!r} is not a relative path; name a file under the data folder ($LLMOPS_HOME/data, "
            "e.g. raw/train.jsonl) or include/..."
        )
    if ".." in rel.parts or not rel.parts or rel.parts == (".",):
        raise InvalidParams(f"param {name}: {value!r} must name a file without '..' segments")
    root, base = (INCLUDE_DIR, PROJECT_ROOT) if rel.parts[0] == "include" else (data_dir, data_dir)
    resolved = (base / rel).resolve()
    if not resolved.is_relative_to(root.resolve()):
        raise InvalidParams(f"param {name}: {value!r} resolves outside {root} (a symbolic link?)")
    return resolved


def param_path(cfg: LLMOpsConfig, path: str | Path) -> str:
    """The file-param value (relative to the data folder) that names ``path``, e.g. for a triggered run's conf.

    Raises:
        ValueError: ``path`` is not under the data folder.
    """
    return str(Path(path).resolve().relative_to(cfg.paths.data_dir.resolve()))


def params_to_overrides(params: Mapping[str, Any] | None, data_dir: Path | None = None) -> dict[str, Any]:
    """Turn the trigger form into a nested config override.

    Params that are not form fields (another DAG's params) and empty ones are ignored. Every form value is checked
    against its field's schema, select fields against their choices, and file params are confined
    (:func:`confined_path`) and turned into absolute paths.

    Args:
        params: the run's params.
        data_dir: the data folder file params are relative to (default: the configured one).

    Raises:
        InvalidParams: a value breaks its field's constraints (the message names the param).
    """
    form = {p.name: p for p in pipeline_form()}
    tree: dict[str, Any] = {}
    for name, value in (params or {}).items():
        param = form.get(name)
        if param is None or value is None or value == "":
            continue
        check_param(param, value)
        if param.config is None:
            continue
        if param.convert is not None:
            value = param.convert(value)
            if value is None:
                continue
        if param.kind == "path":
            value = confined_path(name, str(value), data_dir if data_dir is not None else load_config().paths.data_dir)
        section, key = param.config
        tree.setdefault(section, {})[key] = value
    return tree


def config_for_run(params: Mapping[str, Any] | None) -> LLMOpsConfig:
    """Load the configuration with the run's params applied on top.

    Raises:
        ConfigError: the configuration itself does not load.
        InvalidParams: a param breaks its field's constraints, or the config does not validate with it.
    """
    base = load_config()
    overrides = params_to_overrides(params, base.paths.data_dir)
    if not overrides:
        return base
    try:
        return load_config(overrides=overrides)
    except ConfigError as exc:
        raise InvalidParams(f"the run's params do not validate: {exc}") from exc
