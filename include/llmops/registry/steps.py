"""The registration step. Task functions only (task id = function name); the engine is ``register``."""

from __future__ import annotations

from typing import Any, TypedDict

from llmops.data.payloads import Curated, Validated
from llmops.evaluation.steps import Evaluation
from llmops.run import Run
from llmops.training.steps import Finetune
from llmops.verdict import Verdict, VerdictDict, tag_version


class Registration(TypedDict):
    name: str
    version: str
    model_uri: str
    created: bool
    gate_passed: bool


def register_model(
    run: Run,
    finetune: Finetune,
    evaluation: Evaluation,
    gate: VerdictDict,
    validated: Validated,
    curated: Curated,
) -> Registration:
    """Log the model (pyfunc flavor) and register one version per run (check, then create), alias `challenger`,
    tagged with its data snapshot, metrics and the gate's verdict."""
    from llmops.registry.register import register_candidate

    data: dict[str, Any] = {**curated, "gx_passed": validated["passed"]}
    out = register_candidate(run.config, run.key, finetune, evaluation["metrics"], gate, data)
    tag_version(run.config, Verdict.from_dict(gate), out["version"])  # gate_model recorded it; now the version
    return Registration(**out)  # type: ignore[typeddict-item]  # register.registered: these fields, typed
