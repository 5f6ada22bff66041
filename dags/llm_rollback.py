"""
# llm_rollback

Puts an earlier version of the support-assistant model back in front of users, by hand, when the champion
misbehaves: Triton serves the target version, alias `champion` moves to it, and a `rollback` event is recorded.

`resolve_rollback_target` → `rollback_model`

An invalid target, or one that is not registered, fails the run at once without retries and changes nothing. The
version that served before may be broken: nothing is asked of it. If the target fails to load or answer, Triton is
put back as it was and `champion` does not move. Both decisions are verdicts in the task log and in MLflow.

**Inputs** (trigger form): `target_version` (`previous`, the version the champion replaced, or a number such as
`3`), `reason` (recorded). A prompt release (`llm_prompt_release`) is a version of its own, so `previous` undoes it:
the weights serve with the prompt they served with before, and the prompt's `champion` alias follows.

**Outputs**: Triton serving the target version; alias `champion` on it; the event in MLflow (`llmops.rollback.*`
tags) and in `$LLMOPS_HOME/promotions.jsonl`; the asset `llmops://models/support_assistant/champion`.

**Configuration**: as `llm_finetune_pipeline`; Triton's control key in `LLMOPS_TRITON_CONTROL_KEY` (or in the file
named by `LLMOPS_TRITON_CONTROL_KEY_FILE`).
One run at a time; the repository lock also excludes a concurrent promotion.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import dag
from llmops_airflow import CHAMPION_MODEL, START_DATE, default_args, rollback_params, step

from llmops.serving import steps as serving


@dag(
    dag_id="llm_rollback",
    dag_display_name="Roll back the champion",
    description="Manual: serve an earlier version on Triton and move alias champion back to it",
    schedule=None,
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    tags=["llmops", "serving", "rollback"],
    doc_md=__doc__,
    params=rollback_params(),
    default_args=default_args(),
)
def llm_rollback() -> None:
    rollback = step(serving.rollback_model, outlets=[CHAMPION_MODEL], execution_timeout=timedelta(hours=1))
    rollback(step(serving.resolve_rollback_target)())


llm_rollback()
