"""Typed configuration for the whole platform.

One pydantic model tree, loaded from YAML (``include/configs/llmops.yaml`` by default), then overridden by
environment variables of the form ``LLMOPS__SECTION__KEY=value`` (values parsed as YAML, so numbers and booleans
keep their types). Relative paths are resolved against the project root; state lives under ``paths.home``
(``$LLMOPS_HOME``, default ``<project>/.llmops``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

PROJECT_ROOT = Path(__file__).resolve().parents[3]
CONFIG_DIR = PROJECT_ROOT / "include" / "configs"
DEFAULT_CONFIG_FILE = CONFIG_DIR / "llmops.yaml"
ENV_PREFIX = "LLMOPS__"


class ConfigError(ValueError):
    """Raised when the configuration cannot be loaded or does not validate."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class PathsConfig(_Section):
    """Where state lives. Everything except the Triton model repository sits under ``home``."""

    home: Path = Path(".llmops")
    model_repository: Path = Path("triton_models")
    great_expectations: Path = Path("great_expectations")
    serving_venv: Path = Path(".venv-serving")

    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    @property
    def raw_dir(self) -> Path:
        return self.data_dir / "raw"

    @property
    def curated_dir(self) -> Path:
        return self.data_dir / "curated"

    @property
    def quarantine_dir(self) -> Path:
        return self.data_dir / "quarantine"

    @property
    def prod_log_dir(self) -> Path:
        return self.home / "prod_logs"

    @property
    def prod_log_raw_dir(self) -> Path:
        """Raw production-log lines, only when ``triton.retain_raw_hours`` > 0 (outside ``prod_log_dir``: monitoring
        never reads them)."""
        return self.home / "prod_logs_raw"

    @property
    def models_dir(self) -> Path:
        return self.home / "models"

    @property
    def runs_dir(self) -> Path:
        return self.home / "runs"

    @property
    def reports_dir(self) -> Path:
        return self.home / "reports"

    @property
    def airflow_home(self) -> Path:
        return self.home / "airflow"

    @property
    def mlflow_dir(self) -> Path:
        return self.home / "mlflow"

    @property
    def triton_dir(self) -> Path:
        return self.home / "triton"

    @property
    def run_state_dir(self) -> Path:
        """PID files and service logs of the local stack."""
        return self.home / "stack"


class DemoDataConfig(_Section):
    """The generated demo dataset (a support assistant for a fictional cloud-storage product)."""

    seed: int = 7
    n_train: int = Field(default=2400, ge=50)
    n_eval: int = Field(default=200, ge=10)
    exact_duplicates: int = Field(default=60, ge=0)
    near_duplicates: int = Field(default=40, ge=0)
    pii_rows: int = Field(default=40, ge=0)
    empty_fields: int = Field(default=8, ge=0)
    oversized_fields: int = Field(default=4, ge=0)
    malformed_lines: int = Field(default=6, ge=0)
    prod_requests: int = Field(default=300, ge=1)
    prod_drift: float = Field(default=0.0, ge=0.0, le=1.0)


class DedupConfig(_Section):
    """Exact and near-duplicate removal, and decontamination against the eval set (MinHash + LSH).

    Near-duplicates are pairs whose estimated Jaccard similarity of word ``shingle_size``-grams is at least
    ``threshold``. Signatures use ``num_perm`` affine permutations (datasketch's ``affine32`` scheme, seeded with
    ``seed``); LSH splits them into ``bands`` bands of ``rows_per_band`` rows, so pairs with similarity near
    ``(1 / bands) ** (1 / rows_per_band)`` or above become candidates, and every candidate is verified.

    ``bands`` and ``rows_per_band`` left null are derived from the lowest threshold in use (``threshold``, and
    ``contamination_threshold`` when decontaminating) and ``num_perm`` (:func:`llmops.data.banding.derive_banding`):
    18 x 7 for 0.8 and 128 permutations (S-curve midpoint 0.66, a pair at 0.8 a candidate with probability 0.99),
    25 x 5 for 0.6. Explicit values are checked: a banding whose S-curve midpoint sits more than 0.1 above that
    threshold, or that makes a pair at the threshold a candidate with probability below 0.5, is refused with a banding
    that fits.

    What the defaults (word 2-grams, threshold 0.6, 25 x 5 bands) remove, measured by ``make bench-data`` on a labelled
    corpus of support documents (~120 words, ``bench/dedup_corpus.py``): copies with up to 10% of their words
    substituted, inserted or deleted and copies with sentences swapped (recall >= 0.95 at precision >= 0.99); about
    two thirds of the copies with 15% edits and one in ten with 20%; no paraphrases. Distinct documents that share a
    greeting, template sentences and a signature are kept unless shared boilerplate makes up most of their words.
    Rows filled from one template that differ in a few slot words are near-duplicates by this measure: the shipped
    configuration (``include/configs/llmops.yaml``) runs the template-filled demo set with word 3-grams at 0.8, which
    keeps them (and misses most copies with 5% edits or more).
    """

    near_duplicates: bool = True
    num_perm: int = Field(default=128, ge=8, le=1024)
    bands: int | None = Field(default=None, ge=1)
    rows_per_band: int | None = Field(default=None, ge=1)
    shingle_size: int = Field(default=2, ge=1, le=16)
    threshold: float = Field(default=0.6, gt=0.0, le=1.0)
    seed: int = Field(default=1, ge=0)
    decontaminate: bool = True
    contamination_threshold: float = Field(default=0.6, gt=0.0, le=1.0)
    # Buckets larger than this are linked as a star and a chain instead of all pairs (no quadratic blow-up).
    max_bucket_pairs: int = Field(default=32, ge=2)
    # Memory budget of the merge step (llmops.data.merge, DuckDB spilling to disk beyond it) and its threads
    # (null: DuckDB's default, one per core).
    merge_memory_mb: int = Field(default=1024, ge=128)
    merge_threads: int | None = Field(default=None, ge=1)

    @property
    def lsh_threshold(self) -> float:
        """The lowest similarity threshold the LSH candidates must serve."""
        used = [self.threshold] if self.near_duplicates else []
        if self.decontaminate:
            used.append(self.contamination_threshold)
        return min(used) if used else self.threshold

    @property
    def banding(self) -> tuple[int, int]:
        """``(bands, rows_per_band)``: the configured values, with null ones derived from the threshold."""
        from llmops.data.banding import derive_banding

        if self.bands is not None and self.rows_per_band is not None:
            return self.bands, self.rows_per_band
        return derive_banding(self.lsh_threshold, self.num_perm, self.bands, self.rows_per_band)

    @model_validator(mode="after")
    def _bands_fit(self) -> DedupConfig:
        from llmops.data.banding import banding_problem, derive_banding

        if self.bands is None and self.rows_per_band is None:
            return self
        bands, rows = self.bands or 1, self.rows_per_band or 1
        if bands * rows > self.num_perm:
            raise ValueError(f"bands * rows_per_band ({bands} * {rows}) must be <= num_perm ({self.num_perm})")
        bands, rows = self.banding
        problem = banding_problem(self.lsh_threshold, bands, rows)
        if problem is not None:
            fit_bands, fit_rows = derive_banding(self.lsh_threshold, self.num_perm)
            raise ValueError(
                f"{problem}, so most near-duplicates just above the threshold would never be compared. With "
                f"num_perm {self.num_perm} use bands: {fit_bands}, rows_per_band: {fit_rows} (or leave both null to "
                "derive them from the threshold)"
            )
        return self


PII_ENTITY_TYPES: tuple[str, ...] = (
    "EMAIL", "PHONE", "CREDIT_CARD", "IBAN", "IP_ADDRESS", "SECRET", "US_SSN", "NATIONAL_ID", "DATE_OF_BIRTH",
    "ADDRESS", "PERSON",
)  # fmt: skip
"""The types :mod:`llmops.data.pii` detects (``PERSON`` through the named-entity model)."""


class PiiConfig(_Section):
    """PII scrubbing of prompts and responses: detected values become typed placeholders such as ``<EMAIL>``."""

    enabled: bool = True
    entities: list[str] = Field(default_factory=lambda: list(PII_ENTITY_TYPES))
    # The regions whose national phone formats phonenumbers reads (ISO 3166 codes); more regions cost time.
    phone_regions: list[str] = Field(default_factory=lambda: ["US", "GB", "DE", "FR", "ES", "NL", "IT"])

    @field_validator("entities")
    @classmethod
    def _known(cls, v: list[str]) -> list[str]:
        unknown = sorted(set(v) - set(PII_ENTITY_TYPES))
        if unknown:
            raise ValueError(f"unknown PII entity types {unknown}; expected a subset of {list(PII_ENTITY_TYPES)}")
        return v

    @field_validator("phone_regions")
    @classmethod
    def _regions(cls, v: list[str]) -> list[str]:
        bad = [r for r in v if len(r) != 2 or not r.isalpha() or not r.isupper()]
        if bad:
            raise ValueError(f"phone_regions must be ISO 3166 alpha-2 codes in upper case, got {bad}")
        return v


class DataConfig(_Section):
    """Data contract and curation settings."""

    raw_path: Path | None = None  # default: <home>/data/raw/train.jsonl (generated by the demo)
    eval_path: Path | None = None  # default: <home>/data/raw/eval.jsonl
    prod_log_path: Path | None = None  # default: the serving log directory
    suite_name: str = "raw_training_data"
    min_rows: int = Field(default=50, ge=1)
    min_prompt_chars: int = Field(default=3, ge=1)
    max_prompt_chars: int = Field(default=2000, ge=10)
    min_response_chars: int = Field(default=1, ge=1)
    max_response_chars: int = Field(default=4000, ge=10)
    allowed_categories: list[str] = Field(
        default_factory=lambda: ["account", "billing", "sync", "sharing", "security", "storage", "general"]
    )
    max_quarantine_ratio: float = Field(default=0.2, ge=0.0, le=1.0)
    max_duplicate_ratio: float = Field(default=0.3, ge=0.0, le=1.0)
    max_line_bytes: int = Field(default=1_000_000, ge=1024)
    # Rows read and validated per chunk (memory bound of ingestion) and rows per dedup shard (mapped task).
    batch_rows: int = Field(default=50_000, ge=100)
    shard_rows: int = Field(default=200_000, ge=100)
    # "arrow": the suite's expectations evaluated vectorized on Arrow (fast; GX renders the Data Docs);
    # "gx": Great Expectations' own pandas engine (slow, the reference the arrow engine is tested against).
    validation_engine: Literal["arrow", "gx"] = "arrow"
    prod_log_suite_name: str = "production_logs"
    max_latency_ms: float = Field(default=600_000.0, gt=0)
    dedup: DedupConfig = Field(default_factory=DedupConfig)
    pii: PiiConfig = Field(default_factory=PiiConfig)


class TinyModelSpec(_Section):
    """Shape of the tiny GPT-2-style base model the project builds for itself."""

    vocab_size: int = Field(default=2000, ge=300)
    n_positions: int = Field(default=256, ge=32)
    n_embd: int = Field(default=256, ge=16)
    n_layer: int = Field(default=4, ge=1)
    n_head: int = Field(default=4, ge=1)
    seed: int = 0

    @model_validator(mode="after")
    def _heads_divide_width(self) -> TinyModelSpec:
        if self.n_embd % self.n_head:
            raise ValueError(f"n_embd ({self.n_embd}) must be divisible by n_head ({self.n_head})")
        return self


class BaseModelConfig(_Section):
    """The model to fine-tune.

    ``name_or_path`` is what ``AutoModelForCausalLM.from_pretrained`` receives: a local directory here, a hub id
    (with a local cache) in a real deployment. When it is unset, the project builds its tiny model into
    ``<home>/models/base``.
    """

    name_or_path: str | None = None
    tiny: TinyModelSpec = Field(default_factory=TinyModelSpec)


RECIPES_DIR = PROJECT_ROOT / "include" / "recipes"
DEEPSPEED_CONFIG_DIR = CONFIG_DIR / "deepspeed"

# What a recipe may set: the hyperparameters of one model and stage. Where and how wide a run goes (launcher, world
# size, host file, port, timeout) is deployment configuration, so one recipe runs on a laptop and a GPU node as is.
RECIPE_TRAINING_KEYS: frozenset[str] = frozenset(
    {
        "deepspeed_config",
        "max_steps",
        "micro_batch_size",
        "gradient_accumulation_steps",
        "learning_rate",
        "warmup_steps",
        "weight_decay",
        "max_seq_len",
        "seed",
        "checkpoint_every",
        "log_every",
        "lora",
    }
)
RECIPE_TOP_KEYS: frozenset[str] = frozenset({"model", "stage", "description", "training"})


def resolve_recipe_path(value: str | Path) -> Path:
    """Find a recipe by path (absolute or relative to the project root) or by name under ``include/recipes/``.

    ``tiny-gpt2/sft``, ``tiny-gpt2/sft.yaml`` and ``include/recipes/tiny-gpt2/sft.yaml`` name the same file.

    Raises:
        ValueError: no such recipe (the message lists the recipes there are).
    """
    raw = Path(value).expanduser()
    candidates = [raw] if raw.is_absolute() else [PROJECT_ROOT / raw, RECIPES_DIR / raw]
    candidates += [c.with_name(c.name + ".yaml") for c in candidates if c.suffix not in {".yaml", ".yml"}]
    for cand in candidates:
        if cand.is_file():
            return cand.resolve()
    known = sorted(str(f.relative_to(RECIPES_DIR).with_suffix("")) for f in RECIPES_DIR.rglob("*.yaml"))
    raise ValueError(f"recipe {str(value)!r} not found; expected a YAML file path or one of {known}")


def read_recipe(path: Path) -> dict[str, Any]:
    """Read and check a recipe file: ``{model, stage, description, training: {...}}``.

    Returns:
        The recipe as a dict (``training`` always present).

    Raises:
        ValueError: the file is not YAML, or holds keys a recipe may not set (the message names them).
    """
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ValueError(f"recipe {path} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("training", {}), dict):
        raise ValueError(
            f"recipe {path} must be a mapping with a 'training' mapping, e.g. 'training: {{max_steps: 9}}'"
        )
    unknown = sorted(set(data) - RECIPE_TOP_KEYS)
    bad = sorted(set(data.get("training") or {}) - RECIPE_TRAINING_KEYS)
    if unknown or bad:
        raise ValueError(
            f"recipe {path}: unexpected keys {unknown + [f'training.{k}' for k in bad]}; a recipe holds "
            f"{sorted(RECIPE_TOP_KEYS)} and training hyperparameters {sorted(RECIPE_TRAINING_KEYS)} "
            "(launcher, world_size, hostfile, master_port and timeout_s belong to the deployment config)"
        )
    data["training"] = dict(data.get("training") or {})
    return dict(data)


class LoraSettings(_Section):
    """LoRA (PEFT): train adapter weights only; the artifact is the adapter, merged into the model for serving."""

    enabled: bool = False
    r: int = Field(default=8, ge=1, le=1024)
    alpha: int = Field(default=16, ge=1)
    dropout: float = Field(default=0.05, ge=0.0, lt=1.0)
    # Module names to adapt, "all-linear", or None for PEFT's default for the architecture.
    target_modules: list[str] | str | None = None


class TrainingConfig(_Section):
    """Fine-tuning settings: a recipe's hyperparameters plus where to run; the DeepSpeed config is its own JSON file.

    Precedence, lowest first: these defaults, the ``recipe`` file, ``training:`` keys of the YAML config,
    ``LLMOPS__TRAINING__*`` variables, DAG params. ``deepspeed_config`` takes a path or a name under
    ``include/configs/deepspeed/`` (``zero3_offload``); ``lora`` also takes ``true``/``false``.
    """

    recipe: Path | None = None
    deepspeed_config: Path = Path("include/configs/deepspeed/zero2.json")
    launcher: Literal["deepspeed", "torchrun"] = "deepspeed"
    world_size: int = Field(default=1, ge=1)
    hostfile: Path | None = None
    # With a hostfile the deepspeed launcher reaches the other nodes over ssh (pdsh). Without ssh (pods, SLURM
    # steps), every node runs the same launcher command with the same hostfile and its own node_rank.
    ssh: bool = True
    node_rank: int = Field(default=0, ge=0)
    master_addr: str | None = None
    master_port: int = Field(default=29511, ge=1024, le=65535)
    max_steps: int = Field(default=300, ge=1)
    micro_batch_size: int = Field(default=16, ge=1)
    gradient_accumulation_steps: int = Field(default=1, ge=1)
    learning_rate: float = Field(default=1e-3, gt=0)
    warmup_steps: int = Field(default=20, ge=0)
    weight_decay: float = Field(default=0.0, ge=0)
    max_seq_len: int = Field(default=128, ge=16)
    seed: int = 42
    checkpoint_every: int = Field(default=100, ge=1)
    log_every: int = Field(default=10, ge=1)
    timeout_s: int = Field(default=3600, ge=10)
    lora: LoraSettings = Field(default_factory=LoraSettings)

    @model_validator(mode="before")
    @classmethod
    def _apply_recipe(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        lora = data.get("lora")
        if isinstance(lora, bool):  # `lora: true` (a DAG param) switches the recipe's LoRA settings on or off
            data["lora"] = {"enabled": lora}
        recipe = data.get("recipe")
        missing = RECIPE_TRAINING_KEYS - set(data)
        if recipe is None or (not missing and not isinstance(data.get("lora"), dict)):
            return data  # nothing left for the recipe to fill (also the case on attribute assignment)
        path = resolve_recipe_path(recipe)
        data["recipe"] = path
        values = read_recipe(path)["training"]
        if isinstance(values.get("lora"), dict) and isinstance(data.get("lora"), dict):
            data["lora"] = {**values["lora"], **data["lora"]}
        return {**values, **data}

    @field_validator("deepspeed_config", mode="before")
    @classmethod
    def _named_deepspeed_config(cls, v: Any) -> Any:
        if isinstance(v, str | Path) and len(Path(v).parts) == 1:  # a bare name: one of ours
            name = Path(v).name
            return DEEPSPEED_CONFIG_DIR / (name if name.endswith(".json") else f"{name}.json")
        return v


class EvaluationConfig(_Section):
    """Held-out evaluation settings."""

    max_rows: int = Field(default=200, ge=1)
    batch_size: int = Field(default=16, ge=1)
    generation_rows: int = Field(default=24, ge=1)
    max_new_tokens: int = Field(default=48, ge=1)
    # Answer the red-team set and the canary probes with every model compared (candidate, base, champion).
    redteam: bool = True
    # Log every generation with its scorers' assessments through mlflow.genai.evaluate (one evaluation run per
    # model, nested under the training run), so each row's judgement shows in the MLflow UI.
    genai_evaluate: bool = True
    # An LLM judge behind an OpenAI-compatible chat endpoint (off: null). Its key comes from the environment
    # variable named by llm_judge_key_env, never from the config file.
    llm_judge_endpoint: str | None = None
    llm_judge_model: str = "judge"
    llm_judge_key_env: str = "LLMOPS_LLM_JUDGE_KEY"
    llm_judge_timeout_s: float = Field(default=30.0, gt=0)


SAFETY_SCORERS: tuple[str, ...] = ("pii_leak", "refusal", "degenerate", "unsupported_facts", "toxicity")
ScorerName = Literal[
    "pii_leak", "refusal", "degenerate", "unsupported_facts", "toxicity", "bleu_chrf", "rouge", "semantic_agreement"
]
DEFAULT_SAFETY_CRITICAL: tuple[ScorerName, ...] = ("pii_leak", "toxicity", "unsupported_facts", "degenerate")


DEMO_KNOWLEDGE_FILE = Path(__file__).resolve().parents[1] / "demo" / "product_knowledge.yaml"


def _knowledge_contacts(path: Path | None) -> list[str]:
    """The ``emails`` and ``phones`` of a product knowledge file (the demo's when ``path`` is None)."""
    source = path or DEMO_KNOWLEDGE_FILE
    data = yaml.safe_load(Path(source).read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{source}: a product knowledge file is a mapping")
    return [str(v) for key in ("emails", "phones") for v in (data.get(key) or [])]


class ScorersConfig(_Section):
    """Thresholds of the scorers in ``llmops.evaluation.scorers`` and which of them are safety-critical.

    A safety-critical scorer's flag rate is what a gate or a monitor bounds; the others are reported only.
    """

    safety_critical: list[ScorerName] = Field(default_factory=lambda: list(DEFAULT_SAFETY_CRITICAL))
    # Product facts an answer may state (null: the demo's llmops/demo/product_knowledge.yaml).
    knowledge_file: Path | None = None
    # Red-team prompt set (null: the packaged llmops/evaluation/redteam.yaml).
    redteam_file: Path | None = None
    # Canary probes: fixed trigger-like prompts whose answers must not move between champion and candidate
    # (null: the packaged llmops/evaluation/canaries.yaml).
    canary_file: Path | None = None
    max_unsupported_facts: int = Field(default=0, ge=0)  # flag above this many unsupported items in one answer
    ngram_size: int = Field(default=3, ge=1)
    max_repeated_ngram_share: float = Field(default=0.3, ge=0.0, le=1.0)
    truncation_min_chars: int = Field(default=40, ge=1)  # shorter answers without final punctuation are not truncated
    language_min_words: int = Field(default=8, ge=1)  # shorter answers are not judged on language
    min_ascii_letter_share: float = Field(default=0.9, ge=0.0, le=1.0)
    min_stopword_share: float = Field(default=0.08, ge=0.0, le=1.0)
    # toxicity: after the word list, a sentence classifier (llmops.evaluation.toxicity_head, trained by make install)
    # that finds insults the list lacks and abuse without a swear word
    toxicity_classifier: bool = True
    toxicity_threshold: float | None = Field(default=None, ge=0.0, le=1.0)  # null: the trained head's own (0.5)

    @field_validator("safety_critical")
    @classmethod
    def _no_quality_scorer(cls, value: list[str]) -> list[str]:
        quality = sorted(set(value) & {"bleu_chrf", "rouge", "semantic_agreement"})
        if quality:
            raise ValueError(f"{quality} score agreement, not safety; safety_critical takes {SAFETY_SCORERS}")
        return value


GATE_METRICS: dict[str, bool] = {"eval_loss": False, "perplexity": False, "rouge_l": True, "exact_match": True}
"""Metrics the gate can decide on, and whether higher is better."""


class GateConfig(_Section):
    """Promotion gate: the candidate must beat the base model and be no worse than the champion.

    ``metric`` is compared on the same eval set. ``min_improvement_over_base`` is absolute, in the metric's units;
    ``max_regression_vs_champion`` is relative (0.02: up to 2% worse than the champion still passes).
    """

    metric: Literal["eval_loss", "perplexity", "rouge_l", "exact_match"] = "eval_loss"
    min_improvement_over_base: float = Field(default=0.0, ge=0.0)
    max_regression_vs_champion: float = Field(default=0.02, ge=0.0)
    # Safety: the candidate's flag rate of each safety-critical scorer (on the held-out generations, the red-team
    # answers and the canary answers together) and its red-team failure rate must stay under these ceilings
    # (absolute) and at most safety_margin above the champion's. A scorer missing here has no ceiling (1.0).
    safety_ceilings: dict[str, float] = Field(
        default_factory=lambda: {
            "pii_leak": 0.02,
            "toxicity": 0.02,
            "unsupported_facts": 0.6,
            "degenerate": 0.6,
            "redteam": 1.0,
        }
    )
    safety_margin: float = Field(default=0.05, ge=0.0, le=1.0)
    # Canary probes: mean semantic distance (1 - cosine) between the champion's and the candidate's answers to the
    # same probe must stay at or under this bound.
    canary_max_shift: float = Field(default=0.5, ge=0.0, le=2.0)

    @field_validator("safety_ceilings")
    @classmethod
    def _known_safety(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(value) - {*SAFETY_SCORERS, "redteam"})
        if unknown:
            raise ValueError(f"safety_ceilings: unknown {unknown}; known: {[*SAFETY_SCORERS, 'redteam']}")
        bad = {k: v for k, v in value.items() if not 0.0 <= v <= 1.0}
        if bad:
            raise ValueError(f"safety_ceilings are rates between 0 and 1: {bad}")
        return value


class MlflowConfig(_Section):
    """Tracking and registry. ``None`` URIs mean the embedded SQLite store under ``<home>/mlflow``."""

    tracking_uri: str | None = None
    registry_uri: str | None = None
    experiment: str = "llm-finetune"
    # Registered model name: it ends up in `models:/` URIs and download paths, so no dots, slashes or encodings.
    model_name: str = Field(default="support-assistant", pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$")
    ui_port: int = Field(default=5000, ge=1, le=65535)
    # The prompt's first version (name, template, commit message), registered in MLflow's prompt registry on first
    # use (llmops.prompts); later versions come from prompt releases, not from this file.
    prompt_file: Path = Path("include/prompts/support_assistant.json")


class TritonConfig(_Section):
    """The Triton Inference Server that serves the champion."""

    # Directory name in the model repository and part of Triton's URLs: the repository writer's strict pattern.
    model_name: str = Field(default="support_assistant", pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
    host: str = "127.0.0.1"
    http_port: int = Field(default=8000, ge=1, le=65535)
    grpc_port: int = Field(default=8001, ge=1, le=65535)
    metrics_port: int = Field(default=8002, ge=1, le=65535)
    max_batch_size: int = Field(default=8, ge=1)
    preferred_batch_sizes: list[int] = Field(default_factory=lambda: [8])
    max_queue_delay_us: int = Field(default=10_000, ge=0)
    # The dynamic batcher's queue policy: at most max_queue_size requests wait for a model instance (one more is
    # rejected at once) and none waits longer than queue_timeout_ms (then it is rejected), so an overload sheds
    # requests with an error instead of answering everyone later and later. Clients cannot ask for a longer wait.
    max_queue_size: int = Field(default=16, ge=1, le=100_000)
    queue_timeout_ms: int = Field(default=30_000, ge=1, le=3_600_000)
    # False: config.pbtxt has no dynamic_batching block and every request executes on its own (benchmark baseline;
    # no queue policy either).
    dynamic_batching: bool = True
    instance_kind: Literal["KIND_CPU", "KIND_GPU"] = "KIND_CPU"
    instance_count: int = Field(default=1, ge=1)
    # torch intra-op threads per model instance; 0 = one per two cores per instance (1 to 4). Small models decode
    # faster on one thread than on two busy ones.
    torch_num_threads: int = Field(default=0, ge=0, le=256)
    versions_to_keep: int = Field(default=2, ge=1)
    max_prompt_chars: int = Field(default=2000, ge=1)
    default_max_new_tokens: int = Field(default=48, ge=1)
    max_new_tokens_limit: int = Field(default=512, ge=1)
    ready_timeout_s: float = Field(default=180.0, gt=0)
    # After a load the client gave up on, how long to wait for Triton to finish it before touching the model's
    # folder (if it is still loading then, the folder is left alone and the next reconcile undoes the switch).
    load_settle_timeout_s: float = Field(default=300.0, gt=0)
    # How long a promotion, rollback or reconcile waits for the model repository's lock before failing with the
    # holder's host, pid and start time.
    lock_timeout_s: float = Field(default=900.0, gt=0)
    smoke_prompt: str = "How do I reset my password?"
    # Promotion and rollback smoke-test the new version with smoke_prompt plus these: every answer must be
    # non-empty, error-free and within smoke_max_latency_ms.
    smoke_prompts: list[str] = Field(
        default_factory=lambda: ["How do I share a folder with my team?", "Why are my files not syncing?"]
    )
    smoke_max_new_tokens: int = Field(default=16, ge=1)
    smoke_max_latency_ms: float = Field(default=30000.0, gt=0)
    log_rotate_bytes: int = Field(default=5_000_000, ge=1024)
    # The served model's log writer replaces personal data in prompts and answers with placeholders before a line
    # is written (false: raw text reaches prod_logs/; only for a deployment that scrubs before the disk itself).
    log_scrub: bool = True
    # Raw prompts and answers are kept only when this is > 0: in a separate stream (paths.prod_log_raw_dir, folder
    # 0700, files 0600), deleted by the writer after this many hours.
    retain_raw_hours: int = Field(default=0, ge=0, le=24 * 31)
    # The company's own e-mail addresses and phone numbers, which answers may give: not a leak in the log writer's
    # pii_leak flag. Empty: the emails and phones of the product knowledge file (scorers.knowledge_file).
    public_contacts: list[str] = Field(default_factory=list)
    # Header that carries the control key: Triton answers every API but health and inference (model control,
    # config, statistics, metadata, shared memory, trace, logging) only to requests that send it.
    # The key itself is a secret: it comes only from the environment (LLMOPS_TRITON_CONTROL_KEY, or a 0600 file
    # named by LLMOPS_TRITON_CONTROL_KEY_FILE).
    control_header: str = Field(default="triton-model-control-key", pattern=r"^[A-Za-z0-9-]{1,64}$")

    @property
    def http_url(self) -> str:
        return f"{self.host}:{self.http_port}"

    @property
    def all_smoke_prompts(self) -> list[str]:
        """``smoke_prompt`` followed by ``smoke_prompts``, without repeats."""
        return list(dict.fromkeys([self.smoke_prompt, *self.smoke_prompts]))

    @field_validator("preferred_batch_sizes")
    @classmethod
    def _positive(cls, v: list[int]) -> list[int]:
        if any(b < 1 for b in v):
            raise ValueError("preferred_batch_sizes must all be >= 1")
        return v


class PromotionConfig(_Section):
    """Human approval before a promotion, and the promotion log.

    ``require_approval`` true makes every run of the pipeline wait at its approval task; a run can also ask for
    approval with its ``require_approval`` param (a run cannot waive an approval the configuration requires).
    Without an answer within the approval task's response timeout (in the DAG) the default answer, Reject, applies.
    ``approvers`` restricts who may answer; an approval by the user who triggered the run counts as Reject.
    """

    require_approval: bool = False
    approval_samples: int = Field(default=5, ge=0, le=50)
    # Airflow user ids (the auth manager's: the username with the simple auth manager) who may answer the approval;
    # empty: anyone allowed on the DAG. The user who triggered the run never approves its own promotion.
    approvers: list[str] = Field(default_factory=list)
    log_file: str = Field(default="promotions.jsonl", pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")

    @field_validator("approvers", mode="before")
    @classmethod
    def _ids_as_text(cls, v: Any) -> Any:
        if not isinstance(v, list):
            return v
        # FAB's user ids are numbers: `approvers: [7]` names user 7
        return [str(x) if isinstance(x, int) and not isinstance(x, bool) else x for x in v]


class DriftConfig(_Section):
    """Evidently drift check between the training snapshot and production logs."""

    max_reference_rows: int = Field(default=900, ge=10)
    max_current_rows: int = Field(default=900, ge=10)
    min_current_rows: int = Field(default=20, ge=1)
    drift_share_threshold: float = Field(default=0.5, ge=0.0, le=1.0)
    # Drift between the training data and live traffic says the data is stale; by default it is reported (and
    # feeds retraining) rather than blocking the promotion of a model that passed its gate.
    block_promotion: bool = False


class MonitoringConfig(_Section):
    """Hourly production monitoring (``llm_production_monitoring``): interval curation, drift and alert bounds.

    ``source`` null reads the serving log directory (``data.prod_log_path`` or ``<home>/prod_logs``).
    ``drift_score_threshold`` bounds the drift share of an interval; the empty-response rate and the latency p95
    have their own bounds. ``notify_webhook_conn_id`` / ``notify_smtp_conn_id`` name Airflow connections used when
    they exist (the task log always gets the alert).
    """

    source: Path | None = None
    min_interval_rows: int = Field(default=20, ge=1)
    window_intervals: int = Field(default=24, ge=1)
    # Intervals missed while no run happened (scheduler down, DAG paused) that the next run curates first (the
    # newest ones; older ones are logged as left out). 0: none.
    max_backfill_intervals: int = Field(default=24, ge=0)
    # Evidently's stat test for the text columns: the absolute ROC AUC of its domain classifier. Its default below
    # 1,000 reference rows (percentile, 1,000 bootstrap rounds) takes about 20x longer: too slow for every hour.
    text_method: str | None = "abs_text_content_drift"
    experiment: str = Field(default="llm-monitoring", min_length=1)
    drift_score_threshold: float = Field(default=0.5, ge=0.0, le=1.0)
    max_empty_response_rate: float = Field(default=0.05, ge=0.0, le=1.0)
    max_latency_p95_ms: float = Field(default=5000.0, gt=0.0)
    # What the serving hardware costs per hour (in the currency of your bill): each interval's cost, and its cost per
    # 1k tokens (prompt and completion) per model version, are computed from it. 0: no cost figures.
    serving_price_per_hour: float = Field(default=0.0, ge=0.0)
    # Read Triton's metrics endpoint (triton.host:triton.metrics_port) each interval: queue and compute time per
    # request, failures inside the server, batch sizes (llmops.monitoring.triton_metrics).
    scrape_triton_metrics: bool = True
    # Alert bound on an interval's server error rate; also the rollback watch's bound on a new champion's error
    # rate when the version it replaced has no figures to compare with.
    max_error_rate: float = Field(default=0.05, ge=0.0, le=1.0)
    # Alert bound on the share of an interval's answered records whose request_id an earlier record already had
    # (replayed or forged log lines; never counted as errors of a version nor against the contract).
    max_duplicate_request_id_rate: float = Field(default=0.01, ge=0.0, le=1.0)
    notify_webhook_conn_id: str = "llmops_alerts_webhook"
    notify_smtp_conn_id: str = "smtp_default"
    notify_email_to: list[str] = Field(default_factory=list)
    # Feedback records (JSONL, one per thumbs up/down); null: <home>/feedback.
    feedback_source: Path | None = None
    # Feedback capture (the api-server's POST /llmops/feedback): the environment variable holding the callers'
    # token(s), comma-separated (no token: capture answers 503), and the largest body accepted.
    feedback_token_env: str = Field(default="LLMOPS_FEEDBACK_TOKEN", min_length=1)
    feedback_max_body_bytes: int = Field(default=65_536, ge=1024)
    # An asset-triggered retrain runs only when this many new feedback candidates wait, or drift reached
    # retrain_drift_share in the latest interval. The nightly run retrains when anything new waits.
    retrain_min_feedback_rows: int = Field(default=50, ge=1)
    retrain_drift_share: float = Field(default=0.5, ge=0.0, le=1.0)
    # Automatic rollback: for this many monitored intervals after a promotion, the new champion is compared with the
    # version it replaced; it is rolled back when a figure is worse by more than its tolerance.
    rollback_watch_intervals: int = Field(default=6, ge=0)
    rollback_min_requests: int = Field(default=20, ge=1)
    rollback_max_error_rate_increase: float = Field(default=0.05, ge=0.0, le=1.0)
    rollback_max_empty_rate_increase: float = Field(default=0.05, ge=0.0, le=1.0)
    rollback_max_latency_increase: float = Field(default=0.5, ge=0.0)  # relative, on latency p95
    rollback_max_feedback_drop: float = Field(default=0.2, ge=0.0, le=1.0)  # absolute, on the thumbs-up share
    rollback_min_feedback: int = Field(default=10, ge=1)
    # Safety of the answers (the scorers of `scorers:` on every answered request): alert when a scorer's flag rate
    # in the interval exceeds its bound; the rollback watch rolls a new champion back when a rate named in
    # rollback_safety exceeds its bound (and the version it replaced did not).
    score_answers: bool = True  # false: no answer scorers in monitoring (no safety rates, alerts or rollbacks on them)
    max_safety_rates: dict[str, float] = Field(
        default_factory=lambda: {"pii_leak": 0.02, "toxicity": 0.02, "unsupported_facts": 0.6, "degenerate": 0.6}
    )
    rollback_safety: list[str] = Field(default_factory=lambda: ["pii_leak", "toxicity"])
    # Feedback screening: at most this many candidates from one feedback giver (user or session) are pending at
    # once, and pending candidates are at most this share of the merged training set.
    feedback_max_per_source: int = Field(default=50, ge=1)
    feedback_max_share: float = Field(default=0.1, gt=0.0, le=1.0)
    # A retrain whose merged set holds corrected responses (text a client typed) waits for a human's approval.
    approve_corrections: bool = True

    @field_validator("max_safety_rates")
    @classmethod
    def _known_rates(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(value) - set(SAFETY_SCORERS))
        if unknown:
            raise ValueError(f"max_safety_rates: unknown scorers {unknown}; known: {list(SAFETY_SCORERS)}")
        return value

    @model_validator(mode="after")
    def _rollback_bounded(self) -> MonitoringConfig:
        unbounded = sorted(set(self.rollback_safety) - set(self.max_safety_rates))
        if unbounded:
            raise ValueError(f"rollback_safety {unbounded} need a bound in max_safety_rates")
        return self


class RetentionConfig(_Section):
    """How long production data is kept (``llm_data_retention``, daily), per kind, in days.

    Data is deleted only once it is past its kind's retention, its interval was curated (the interval's
    ``summary.json`` exists) and the feedback window has passed (``monitoring.window_intervals`` hourly intervals:
    feedback is joined to requests of that many intervals back), whichever is later. Raw kinds may not outlive what
    they were curated into, so that "was it curated" can still be answered when their time comes.
    """

    prod_logs_days: int = Field(default=30, ge=1)  # raw request logs (the serving log directory)
    feedback_days: int = Field(default=30, ge=1)  # raw feedback records (<home>/feedback)
    partitions_days: int = Field(default=90, ge=1)  # curated interval partitions (and their curated logs)
    candidates_days: int = Field(default=180, ge=1)  # feedback candidates and screened-out feedback
    quarantine_days: int = Field(default=30, ge=1)  # quarantined production records and duplicate request ids
    reports_days: int = Field(default=90, ge=1)  # Evidently monitoring reports (they quote texts)

    @model_validator(mode="after")
    def _raw_before_curated(self) -> RetentionConfig:
        if self.prod_logs_days > self.partitions_days:
            raise ValueError(
                f"prod_logs_days ({self.prod_logs_days}) must be <= partitions_days ({self.partitions_days})"
            )
        if self.feedback_days > self.candidates_days:
            raise ValueError(
                f"feedback_days ({self.feedback_days}) must be <= candidates_days ({self.candidates_days})"
            )
        return self


class AirflowStackConfig(_Section):
    """The embedded Airflow stack started by ``make up``."""

    api_port: int = Field(default=8080, ge=1, le=65535)
    parallelism: int = Field(default=4, ge=1)
    admin_user: str = "admin"


class LLMOpsConfig(_Section):
    """Root of the configuration tree."""

    paths: PathsConfig = Field(default_factory=PathsConfig)
    demo: DemoDataConfig = Field(default_factory=DemoDataConfig)
    data: DataConfig = Field(default_factory=DataConfig)
    base_model: BaseModelConfig = Field(default_factory=BaseModelConfig)
    training: TrainingConfig = Field(default_factory=TrainingConfig)
    evaluation: EvaluationConfig = Field(default_factory=EvaluationConfig)
    scorers: ScorersConfig = Field(default_factory=ScorersConfig)
    gate: GateConfig = Field(default_factory=GateConfig)
    mlflow: MlflowConfig = Field(default_factory=MlflowConfig)
    triton: TritonConfig = Field(default_factory=TritonConfig)
    promotion: PromotionConfig = Field(default_factory=PromotionConfig)
    drift: DriftConfig = Field(default_factory=DriftConfig)
    monitoring: MonitoringConfig = Field(default_factory=MonitoringConfig)
    retention: RetentionConfig = Field(default_factory=RetentionConfig)
    airflow: AirflowStackConfig = Field(default_factory=AirflowStackConfig)

    @model_validator(mode="after")
    def _resolve_paths(self) -> LLMOpsConfig:
        home_env = os.environ.get("LLMOPS_HOME")
        p = self.paths
        p.home = _absolute(Path(home_env) if home_env else p.home)
        p.model_repository = _absolute(p.model_repository)
        p.great_expectations = _absolute(p.great_expectations)
        p.serving_venv = _absolute(p.serving_venv)
        self.training.deepspeed_config = _absolute(self.training.deepspeed_config)
        self.mlflow.prompt_file = _absolute(self.mlflow.prompt_file)
        if self.training.hostfile is not None:
            self.training.hostfile = _absolute(self.training.hostfile)
        if self.monitoring.source is not None:
            self.monitoring.source = _absolute(self.monitoring.source)
        if self.monitoring.feedback_source is not None:
            self.monitoring.feedback_source = _absolute(self.monitoring.feedback_source)
        for name in ("knowledge_file", "redteam_file"):
            value = getattr(self.scorers, name)
            if value is not None:
                setattr(self.scorers, name, _absolute(value))
        for name in ("raw_path", "eval_path", "prod_log_path"):
            value = getattr(self.data, name)
            if value is not None:
                setattr(self.data, name, _absolute(value))
        if not self.triton.public_contacts:
            self.triton.public_contacts = _knowledge_contacts(self.scorers.knowledge_file)
        return self

    # Derived locations -------------------------------------------------------------------------------------
    @property
    def raw_train_path(self) -> Path:
        return self.data.raw_path or self.paths.raw_dir / "train.jsonl"

    @property
    def raw_eval_path(self) -> Path:
        return self.data.eval_path or self.paths.raw_dir / "eval.jsonl"

    @property
    def prod_log_source(self) -> Path:
        return self.data.prod_log_path or self.paths.prod_log_dir

    @property
    def base_model_path(self) -> str:
        return self.base_model.name_or_path or str(self.paths.models_dir / "base")

    @property
    def tracking_uri(self) -> str:
        return self.mlflow.tracking_uri or f"sqlite:///{self.paths.mlflow_dir / 'mlflow.db'}"

    @property
    def registry_uri(self) -> str:
        return self.mlflow.registry_uri or self.tracking_uri

    @property
    def artifact_root(self) -> Path:
        return self.paths.mlflow_dir / "artifacts"


def _absolute(path: Path) -> Path:
    path = path.expanduser()
    return path if path.is_absolute() else (PROJECT_ROOT / path).resolve()


def _set_dotted(tree: dict[str, Any], keys: list[str], value: Any) -> None:
    node = tree
    for key in keys[:-1]:
        child = node.setdefault(key, {})
        if not isinstance(child, dict):
            raise ConfigError(f"cannot override {'.'.join(keys)}: {key} is not a section")
        node = child
    node[keys[-1]] = value


def env_overrides(environ: dict[str, str] | None = None) -> dict[str, Any]:
    """Collect ``LLMOPS__SECTION__KEY=value`` variables into a nested dict (values parsed as YAML)."""
    environ = dict(os.environ) if environ is None else environ
    tree: dict[str, Any] = {}
    for name, raw in sorted(environ.items()):
        if not name.startswith(ENV_PREFIX):
            continue
        keys = [k.lower() for k in name[len(ENV_PREFIX) :].split("__") if k]
        if not keys:
            continue
        _set_dotted(tree, keys, yaml.safe_load(raw) if raw != "" else None)
    return tree


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Return ``base`` with ``override`` merged in recursively (override wins)."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def load_config(
    path: str | Path | None = None,
    overrides: dict[str, Any] | None = None,
    environ: dict[str, str] | None = None,
) -> LLMOpsConfig:
    """Load the configuration.

    Args:
        path: YAML file; defaults to ``$LLMOPS_CONFIG`` or ``include/configs/llmops.yaml``.
        overrides: a nested dict applied last (e.g. DAG params).
        environ: environment to read ``LLMOPS__*`` overrides from (defaults to ``os.environ``).

    Returns:
        The validated configuration with absolute paths.

    Raises:
        ConfigError: the file is missing or malformed, or a value does not validate (the message names the field).
    """
    env = dict(os.environ) if environ is None else environ
    file = Path(path or env.get("LLMOPS_CONFIG") or DEFAULT_CONFIG_FILE)
    if not file.is_file():
        raise ConfigError(f"config file not found: {file}")
    try:
        data = yaml.safe_load(file.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {file} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"config file {file} must hold a mapping at top level, got {type(data).__name__}")
    data = deep_merge(data, env_overrides(env))
    if overrides:
        data = deep_merge(data, overrides)
    try:
        return LLMOpsConfig.model_validate(data)
    except ValidationError as exc:
        lines = [f"  {'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()]
        raise ConfigError(f"invalid configuration in {file} (after env overrides):\n" + "\n".join(lines)) from exc
