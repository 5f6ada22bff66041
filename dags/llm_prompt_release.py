"""
# llm_prompt_release

Changes the prompt the champion answers with, gated like a model promotion: the prompt is deployed code.

- **candidate**: register the new template in MLflow's prompt registry (alias `challenger`) → the champion's weights
  with the new prompt beside them → evaluated against the champion as it serves (same weights, current prompt) and
  the base model, with the pipeline's scorers and gate, safety and red-team included → registered as a model
  version of its own (the champion's data lineage, the weights' origin, a model card naming the change).
- **release**: an optional human approval → `decide_promotion` → `release_prompt`: a new Triton version folder
  (same weights, new `prompt.json`), loaded, ready and smoke-tested before alias `champion` moves; the prompt's
  `champion` alias follows. A refused release changes nothing that serves and says why.

Every answer logged after the release carries the new `prompt_version`. To undo a release, run `llm_rollback` with
`previous`; the monitoring's rollback watch treats a release like a promotion. Each release is one audit record.

**Inputs** (trigger form): `template` (the text) or `template_file` (relative to the data folder or `include/`),
`reason`, `require_approval`.

**Outputs**: a prompt version (alias `challenger`, then `champion`), a registered model version, an MLflow run with
the evaluation, a Triton version serving as `champion`, the `prompt_release` event in `promotions.jsonl` and the
audit log; the asset `llmops://models/support_assistant/champion`.

**Configuration**: as `llm_finetune_pipeline` (gate, scorers, evaluation, Triton). One run at a time; the
repository lock also excludes a concurrent promotion or rollback.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import TaskGroup, dag
from llmops_airflow import CHAMPION_MODEL, START_DATE, approval_task, default_args, prompt_release_params, step

from llmops.evaluation import steps as evaluation
from llmops.prompts import steps as prompts
from llmops.prompts.release import NO_DRIFT_CHECK
from llmops.serving import steps as serving


@dag(
    dag_id="llm_prompt_release",
    dag_display_name="Release a new prompt",
    description="Manual: register a prompt → evaluate the champion with it → gate → approve → serve on Triton",
    schedule=None,
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    tags=["llmops", "prompts", "serving"],
    doc_md=__doc__,
    params=prompt_release_params(),
    default_args=default_args(),
)
def llm_prompt_release() -> None:
    with TaskGroup("candidate", prefix_group_id=False, tooltip="register, evaluate, gate"):
        candidate = step(prompts.register_prompt_candidate)()
        tuned = step(prompts.prepare_prompt_candidate)(candidate)
        scored = step(evaluation.evaluate_model)(tuned)
        gate = step(evaluation.gate_model)(tuned, scored)
        registered = step(prompts.register_prompt_release)(candidate, tuned, scored, gate)

    with TaskGroup("release", prefix_group_id=False, tooltip="approve, decide, serve"):
        asked = step(serving.check_approval_required, short_circuit=True)(registered, scored, gate, NO_DRIFT_CHECK)
        decision = step(
            serving.decide_promotion, branch=("candidate_accepted", "candidate_refused"), trigger_rule="none_failed"
        )(registered, gate, NO_DRIFT_CHECK)
        asked >> approval_task() >> decision
        step(serving.candidate_refused)(decision["verdict"])
        accepted = step(serving.candidate_accepted)(decision["verdict"])
        released = step(prompts.release_prompt, outlets=[CHAMPION_MODEL], execution_timeout=timedelta(hours=1))(
            registered, tuned, decision["verdict"], scored
        )
        accepted >> released


llm_prompt_release()
