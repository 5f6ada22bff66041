"""
# llm_rollback

Puts an earlier version of the support-assistant model back in front of users, by hand, when the champion
misbehaves: Triton serves the target version, alias `champion` moves to it, and a `rollback` event is recorded.

`resolve_rollback_target` → `rollback_model`

- `resolve_rollback_target`: turns the `target_version` param into a registered version number. **previous** is
  the version the current champion replaced when it was last promoted (its `llmops.promotion.from_version` tag,
  else its last promotion event in the promotion log, else the highest earlier version that was ever promoted), so
  two rollbacks in a row walk back the promotion chain. An invalid target or one that is not registered fails the
  run at once, without retries, and changes nothing.
- `rollback_model`: under the model repository's lock, checks that `champion` has not moved since the plan, writes
  the target's directory again from the MLflow registry if it was pruned or is damaged (atomic writer), pins it in
  `config.pbtxt`, loads it, waits until ready and smoke-tests it. Only then does it move `champion` and record the
  event (MLflow tags `llmops.rollback.*` on the target version, a line in the promotion log). The version that
  served before may be broken (fails to load, answers errors): nothing is asked of it. If the target fails, Triton
  is put back as it was and `champion` does not move.

**Inputs** (trigger form): `target_version` (`previous` or a number such as `3`), `reason` (recorded).

**Outputs**: Triton serving the target version; alias `champion` on it; the event in MLflow and in
`$LLMOPS_HOME/promotions.jsonl`. Updates the asset `llmops://models/support_assistant/champion`.

**Configuration**: as `llm_finetune_pipeline`: `LLMOPS_CONFIG` / `LLMOPS__SECTION__KEY`; MLflow via
`LLMOPS__MLFLOW__TRACKING_URI`; Triton via `LLMOPS__TRITON__HOST`/`HTTP_PORT` and, when the server restricts model
control, `LLMOPS_TRITON_CONTROL_KEY`. One run at a time (`max_active_runs=1`); it also excludes a concurrent
promotion through the repository lock.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from airflow.sdk import Asset, Param, dag, get_current_context, task
from airflow.sdk.exceptions import AirflowFailException

log = logging.getLogger(__name__)

CHAMPION_MODEL = Asset("llmops://models/support_assistant/champion")

PARAMS = {
    "target_version": Param(
        "previous",
        type="string",
        pattern=r"^(previous|[1-9][0-9]{0,8})$",
        description='"previous" (the version the champion replaced) or a registered version number.',
    ),
    "reason": Param(
        "manual rollback", type="string", minLength=1, maxLength=1000, description="Why (recorded with the event)."
    ),
}


def _run() -> tuple[Any, str, dict[str, Any]]:
    """The run's config, run key and context."""
    from llmops.config.runtime import config_for_run, run_key

    ctx = get_current_context()
    return config_for_run(None), run_key(ctx["run_id"]), dict(ctx)


@dag(
    dag_id="llm_rollback",
    schedule=None,
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    tags=["llmops", "serving", "rollback"],
    doc_md=__doc__,
    params=PARAMS,
    default_args={"owner": "llmops", "retries": 2, "retry_delay": timedelta(seconds=30)},
)
def llm_rollback() -> None:
    @task
    def resolve_rollback_target() -> dict[str, Any]:
        from llmops.serving.rollback import RollbackError, resolve_target

        cfg, _, ctx = _run()
        try:
            return resolve_target(cfg, ctx["params"]["target_version"])
        except (ValueError, RollbackError) as exc:  # a wrong target stays wrong on retry
            raise AirflowFailException(str(exc)) from exc

    @task(outlets=[CHAMPION_MODEL])
    def rollback_model(plan: dict[str, Any]) -> dict[str, Any]:
        from llmops.serving.rollback import RollbackError, rollback

        cfg, key, ctx = _run()
        at = (ctx.get("logical_date") or ctx["dag_run"].run_after).isoformat()
        try:
            return rollback(
                cfg, plan["target_version"], key, at, ctx["params"]["reason"], expected_champion=plan["champion"]
            )
        except (ValueError, RollbackError) as exc:
            raise AirflowFailException(str(exc)) from exc

    rollback_model(resolve_rollback_target())


llm_rollback()
