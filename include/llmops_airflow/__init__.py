"""The one Airflow adapter: the only code outside ``dags/`` that imports Airflow.

- :func:`step` turns a step function ``fn(run: Run, *inputs)`` into a task: it builds the run's :class:`~llmops.run.Run`
  from the task context, calls the function, maps :class:`~llmops.errors.Permanent` to "fail without retries" and
  :class:`~llmops.errors.Refused` to "skip with the reason", ends the log with a one-line summary, and uses the
  function's docstring as the task's UI doc. The task id is the function's name.
- The Assets, the default args, the trigger form (from :func:`llmops.config.runtime.pipeline_form`, the same table
  that maps the params onto the config) and the alert channels are defined here once.

Heavy libraries are imported inside the task, never at DAG parse time.
"""

from __future__ import annotations

import functools
import inspect
import json
import logging
import os
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from airflow.sdk import Asset, Param, get_current_context, task
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

from llmops.errors import Permanent, Refused

log = logging.getLogger("llmops")

START_DATE = datetime(2026, 1, 1, tzinfo=UTC)

# Each Asset is defined once, here.
CURATED_DATASET = Asset("llmops://datasets/curated_training")
FEEDBACK_CANDIDATES = Asset("llmops://datasets/feedback_candidates")
CHAMPION_MODEL = Asset("llmops://models/support_assistant/champion")

ASSET_EXTRA = "asset_extra"
"""A step may return ``{..., "asset_extra": {...}}``: the extra goes on the event of the task's outlets."""

PIPELINE_DAG = "llm_finetune_pipeline"
MONITORING_DAG = "llm_production_monitoring"
RETRAIN_DAG = "llm_nightly_retrain"

APPROVAL_TIMEOUT = timedelta(hours=24)

F = TypeVar("F", bound=Callable[..., Any])


def default_args(retry_delay: timedelta = timedelta(seconds=30), *, alert_on_failure: bool = False) -> dict[str, Any]:
    """Owner and retries of every task (a step raising ``Permanent`` is not retried); with ``alert_on_failure``, a
    task that fails for good (retries spent) alerts through the run's channels (:func:`alert_task_failure`)."""
    args: dict[str, Any] = {"owner": "llmops", "retries": 2, "retry_delay": retry_delay}
    if alert_on_failure:
        args["on_failure_callback"] = alert_task_failure
    return args


# --- the trigger form --------------------------------------------------------------------------------------------


def pipeline_params() -> dict[str, Param]:
    """The trigger form of ``llm_finetune_pipeline``, with each field's effective default in its description."""
    from llmops.config import ConfigError, load_config
    from llmops.config.runtime import default_note, pipeline_form

    try:
        cfg = load_config()
    except ConfigError:  # the form still renders; the run reports the broken config
        cfg = None
    params: dict[str, Param] = {}
    for p in pipeline_form():
        description = p.description
        if cfg is not None and p.config is not None:
            description += " " + default_note(cfg, p)
        extra: dict[str, Any] = {"values_display": dict(p.values_display)} if p.values_display else {}
        params[p.name] = Param(
            p.default, title=p.title, section=p.section, description=description, **dict(p.schema), **extra
        )
    return params


def rollback_params() -> dict[str, Param]:
    """The trigger form of ``llm_rollback``."""
    return {
        "target_version": Param(
            "previous",
            type="string",
            pattern=r"^(previous|[1-9][0-9]{0,8})$",
            title="Target version",
            description='"previous" (the version the champion replaced) or a registered version number.',
        ),
        "reason": Param(
            "manual rollback",
            type="string",
            minLength=1,
            maxLength=1000,
            title="Reason",
            description="Why (recorded with the event).",
        ),
    }


def prompt_release_params() -> dict[str, Param]:
    """The trigger form of ``llm_prompt_release``: the new template (text or a file) and why."""
    from llmops.config.runtime import RELATIVE_PATH_PATTERN
    from llmops.prompts import MAX_TEMPLATE_CHARS, VARIABLE

    return {
        "template": Param(
            "",
            type="string",
            maxLength=MAX_TEMPLATE_CHARS,
            format="multiline",
            title="New template",
            description=f"The whole template; {VARIABLE} marks where the user's prompt goes (exactly once). Leave "
            "empty when giving a file.",
        ),
        "template_file": Param(
            "",
            type="string",
            pattern=f"^$|{RELATIVE_PATH_PATTERN}",
            maxLength=1024,
            title="Template file",
            description="Or a file holding it, relative to the data folder ($LLMOPS_HOME/data) or include/...: a "
            "JSON file's 'template' (as include/prompts/*.json), or the whole text of any other file.",
        ),
        "reason": Param(
            "",
            type="string",
            minLength=1,
            maxLength=1000,
            title="Reason",
            description="Why the prompt changes (the prompt version's commit message; recorded with the release).",
        ),
        "require_approval": Param(
            False,
            type="boolean",
            title="Require human approval",
            description="Wait for a human to approve the release (the new prompt's answers beside the current "
            "ones are shown); no answer within 24 hours counts as Reject. promotion.require_approval applies too.",
        ),
    }


def erasure_params() -> dict[str, Param]:
    """The trigger form of ``llm_data_erasure``: the ids to erase (checked again by the step)."""
    item = {"type": "string", "minLength": 1, "maxLength": 200, "pattern": r'^[^\s"\\]+$'}
    return {
        "request_ids": Param(
            [],
            type="array",
            items=item,
            maxItems=1000,
            title="Request ids",
            description="Server-issued request ids (the request_id the served model logged and returned).",
        ),
        "user_ids": Param(
            [],
            type="array",
            items=item,
            maxItems=1000,
            title="User ids",
            description="User ids as the feedback endpoint knows them; the requests their feedback named go too.",
        ),
    }


# --- the run and its alert channels -------------------------------------------------------------------------------


class SmtpChannel:
    """E-mail through the SMTP provider's hook."""

    def __init__(self, conn_id: str, to: list[str]) -> None:
        self.conn_id, self.to = conn_id, to

    def send(self, subject: str, body: str, payload: Mapping[str, Any]) -> None:
        import html

        from airflow.providers.smtp.hooks.smtp import SmtpHook

        with SmtpHook(self.conn_id) as hook:
            hook.send_email_smtp(to=self.to, subject=subject, html_content=f"<pre>{html.escape(body)}</pre>")


def alert_channels(cfg: Any) -> list[Any]:
    """The task log, plus the webhook and SMTP channels whose Airflow connections exist."""
    from airflow.sdk import Connection
    from airflow.sdk.exceptions import AirflowNotFoundException

    from llmops.monitoring.alerts import LogNotifier, WebhookNotifier

    channels: list[Any] = [LogNotifier(log)]
    mcfg = cfg.monitoring
    try:
        conn = Connection.get(mcfg.notify_webhook_conn_id)
    except AirflowNotFoundException:
        conn = None
    if conn is not None:
        url = (conn.extra_dejson or {}).get("url") or conn.host or ""
        channels.append(WebhookNotifier(str(url)))
    if mcfg.notify_email_to:
        try:
            Connection.get(mcfg.notify_smtp_conn_id)
        except AirflowNotFoundException:
            log.info("no connection %s: e-mail alerts off", mcfg.notify_smtp_conn_id)
        else:
            channels.append(SmtpChannel(mcfg.notify_smtp_conn_id, list(mcfg.notify_email_to)))
    return channels


def failure_alert(context: Mapping[str, Any]) -> tuple[str, str, dict[str, Any]]:
    """``(subject, body, payload)`` of the alert that a task failed, from its context."""
    ti = context.get("ti") or context.get("task_instance")
    dag_id = str(getattr(context.get("dag"), "dag_id", "") or getattr(ti, "dag_id", ""))
    task_id = str(getattr(ti, "task_id", "") or getattr(context.get("task"), "task_id", ""))
    run_id = str(context.get("run_id") or getattr(ti, "run_id", ""))
    error = context.get("exception") or context.get("reason") or "unknown error"
    text = f"{type(error).__name__}: {error}" if isinstance(error, BaseException) else str(error)
    payload = {
        "kind": "task_failure",
        "dag_id": dag_id,
        "task_id": task_id,
        "run_id": run_id,
        "try_number": getattr(ti, "try_number", None),
        "error": text[:1000],
    }
    subject = f"[llmops] {dag_id}.{task_id} failed"
    body = f"Task {task_id} of {dag_id} (run {run_id}) failed and will not be retried:\n{text[:1000]}"
    return subject, body, payload


def alert_task_failure(context: Mapping[str, Any]) -> None:
    """``on_failure_callback``: send the failure through the run's alert channels (the task log, plus the webhook
    and e-mail whose connections exist). Never raises: a broken channel or config is logged."""
    from llmops.config.runtime import config_for_run
    from llmops.monitoring.alerts import notify

    subject, body, payload = failure_alert(context)
    try:
        channels = alert_channels(config_for_run(dict(context.get("params") or {})))
    except Exception as exc:  # a broken config must not hide the failure: the task log still says it
        log.error("failure alert without channels (%s): %s\n%s", exc, subject, body)
        return
    errors = notify(channels, subject, body, payload)
    if errors:
        log.error("failure alert %r: channels failed: %s", subject, "; ".join(errors))


class _LazyChannels(Sequence[Any]):
    """Alert channels looked up on first use (most tasks never alert, and lookups ask the API server)."""

    def __init__(self, cfg: Any) -> None:
        self._cfg = cfg
        self._channels: list[Any] | None = None

    def _get(self) -> list[Any]:
        if self._channels is None:
            self._channels = alert_channels(self._cfg)
        return list(self._channels)

    def __getitem__(self, i: Any) -> Any:
        return self._get()[i]

    def __len__(self) -> int:
        return len(self._get())

    def __iter__(self) -> Iterator[Any]:
        return iter(self._get())


def airflow_run_url(dag_id: str, run_id: str) -> str:
    """The Airflow UI page of a DAG run (``[api] base_url``, else the api-server's host and port)."""
    import urllib.parse

    from airflow.configuration import conf

    base = conf.get("api", "base_url", fallback="") or ""
    if not base.startswith("http"):
        host = conf.get("api", "host", fallback="127.0.0.1")
        base = f"http://{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{conf.get('api', 'port', fallback='8080')}"
    quote = urllib.parse.quote
    return f"{base.rstrip('/')}/dags/{quote(dag_id, safe='')}/runs/{quote(run_id, safe='')}"


def build_run(ctx: Mapping[str, Any]) -> Any:
    """The :class:`~llmops.run.Run` of the current task."""
    from types import MappingProxyType

    from llmops.config.runtime import check_conf_keys, config_for_run, run_key
    from llmops.run import Run

    dag_run = ctx.get("dag_run")
    # The declared params are the whole trigger surface: refuse anything else before reading anything.
    check_conf_keys(getattr(dag_run, "conf", None), set(getattr(ctx.get("dag"), "params", None) or {}))
    params = dict(ctx.get("params") or {})
    cfg = config_for_run(params)
    logical = ctx.get("logical_date") or getattr(dag_run, "run_after", None)
    start, end = ctx.get("data_interval_start"), ctx.get("data_interval_end")
    key = run_key(str(ctx["run_id"]))
    tracking_key, experiment = key, None
    dag_id = str(getattr(ctx.get("dag"), "dag_id", ""))
    # The MLflow run links back to the Airflow run that logged it.
    tags = {"llmops.dag": dag_id, "llmops.airflow_run": airflow_run_url(dag_id, str(ctx["run_id"]))}
    if dag_id == MONITORING_DAG and start is not None:
        from llmops.monitoring.interval import interval_key

        # Monitoring decisions join the interval's MLflow run, next to its drift report.
        interval = interval_key(start)
        tracking_key, experiment = f"monitor-{interval}", cfg.monitoring.experiment
        tags["llmops.interval"] = interval
    elif dag_id == RETRAIN_DAG:
        experiment = cfg.monitoring.experiment
    ti = ctx.get("ti")
    return Run(
        config=cfg,
        key=key,
        run_id=str(ctx["run_id"]),
        params=MappingProxyType(params),
        logical_date=logical,
        interval_start=start,
        interval_end=end,
        asset_triggered=bool(ctx.get("triggering_asset_events")),
        tracking_key=tracking_key,
        experiment=experiment,
        tracking_tags=MappingProxyType(tags),
        notifiers=_LazyChannels(cfg),
        upstream=(lambda task_id: ti.xcom_pull(task_ids=task_id)) if ti is not None else None,
        triggered_by=getattr(dag_run, "triggering_user_name", None) or None,
    )


# --- quiet logs ----------------------------------------------------------------------------------------------------


def quiet_libraries() -> None:
    """Silence harmless library output in task logs: progress bars, MLflow's INFO lines on stderr (shown as errors),
    Great Expectations' registration chatter, scikit-learn convergence warnings."""
    os.environ.setdefault("TQDM_DISABLE", "1")
    os.environ.setdefault("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    for name in ("mlflow", "great_expectations", "evidently", "alembic", "urllib3", "httpx", "datasets", "filelock"):
        logging.getLogger(name).setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", module=r"sklearn(\..*)?")
    # the served model takes a DataFrame of prompts; its signature is set explicitly
    warnings.filterwarnings("ignore", message=r".*Add type hints to the `predict` method")
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)


def summary_line(task_id: str, result: Any) -> str:
    """A short human summary of what a step returned, for the end of its log."""
    if isinstance(result, Mapping):
        if isinstance(result.get("summary"), str):
            return f"{task_id}: {result['summary']}"
        if {"gate", "passed", "reason"} <= set(result):
            return f"{task_id}: {result['gate']} {'passed' if result['passed'] else 'failed'}: {result['reason']}"
        items = {k: v for k, v in result.items() if isinstance(v, str | int | float | bool) or v is None}
        text = json.dumps(items, default=str)
    else:
        text = json.dumps(result, default=str)
    return f"{task_id}: {text if len(text) <= 400 else text[:397] + '...'}"


# --- the adapter ---------------------------------------------------------------------------------------------------


def _call(fn: Callable[..., Any], inputs: tuple[Any, ...], kwargs: Mapping[str, Any]) -> tuple[Any, Any]:
    """Run ``fn`` for the current task; translate the domain errors. Returns ``(result, context)``."""
    quiet_libraries()
    missing = [i for i, value in enumerate(inputs) if value is None]
    if missing:
        # Steps never return None: a None input is the output of a skipped upstream task, which a task whose
        # trigger rule tolerates skips (none_failed) still receives.
        reason = f"nothing to do: an upstream step was skipped (inputs {missing} of {fn.__name__} are missing)"
        log.info("%s skipped: %s", fn.__name__, reason)
        raise AirflowSkipException(reason)
    ctx = get_current_context()
    try:
        result = fn(build_run(ctx), *inputs, **kwargs)  # refused params fail the first task, without retries
    except Permanent as exc:
        log.error("%s failed (no retry): %s", fn.__name__, exc)
        raise AirflowFailException(str(exc)) from exc
    except Refused as exc:
        log.info("%s skipped: %s", fn.__name__, exc)
        raise AirflowSkipException(str(exc)) from exc
    if isinstance(result, Mapping) and ASSET_EXTRA in result:
        task_obj = ctx.get("task")
        for outlet in getattr(task_obj, "outlets", None) or ():
            ctx["outlet_events"][outlet].extra = dict(result[ASSET_EXTRA])
    log.info("summary: %s", summary_line(fn.__name__, result))
    return result, ctx


def step(
    fn: Callable[..., Any],
    *,
    branch: tuple[str, str] | None = None,
    short_circuit: bool = False,
    **task_kwargs: Any,
) -> Any:
    """Make a task of the step function ``fn(run, *inputs)`` (task id = function name, UI doc = docstring).

    Args:
        fn: the step function.
        branch: ``(if_passed, if_failed)`` task ids: ``fn`` returns a verdict, the task follows one of them, and
            the verdict is pushed as the XCom ``verdict`` (read it with ``task_output["verdict"]``).
        short_circuit: a falsy result skips the direct downstream tasks (others keep their trigger rules).
        **task_kwargs: passed to the task (``outlets``, ``queue``, ``trigger_rule``, ``execution_timeout``...).
    """
    sig = inspect.signature(fn)
    params = list(sig.parameters.values())
    if not params or params[0].name != "run":
        raise TypeError(f"step {fn.__name__} must take `run` as its first parameter")

    @functools.wraps(fn)
    def call(*inputs: Any, **kwargs: Any) -> Any:
        result, ctx = _call(fn, inputs, kwargs)
        if branch is None:
            return result
        ctx["ti"].xcom_push(key="verdict", value=result)
        return branch[0] if result["passed"] else branch[1]

    call.__signature__ = sig.replace(parameters=params[1:])  # type: ignore[attr-defined]
    doc = inspect.getdoc(fn)
    kwargs: dict[str, Any] = {"task_id": fn.__name__, "doc_md": doc, "multiple_outputs": False, **task_kwargs}
    if branch is not None:
        return task.branch(call, **kwargs)
    if short_circuit:
        return task.short_circuit(ignore_downstream_trigger_rules=False, **kwargs)(call)
    return task(call, **kwargs)


def approval_task(**kwargs: Any) -> Any:
    """The human-in-the-loop task ``approve_promotion``: shows what ``check_approval_required`` prepared, to the users
    in ``promotion.approvers`` (anyone allowed on the DAG when it is empty)."""
    from airflow.providers.standard.operators.hitl import HITLOperator

    from llmops.config import ConfigError, load_config
    from llmops.serving.approval import OPTIONS, REJECT

    try:
        approvers = load_config().promotion.approvers
    except ConfigError:  # the run reports the broken config at its first task
        approvers = []
    return HITLOperator(
        task_id="approve_promotion",
        # Only these users may answer (the auth manager's user ids); decide_promotion also refuses an approval by
        # the user who triggered the run.
        assigned_users=[{"id": a, "name": a} for a in approvers] or None,
        subject="{{ ti.xcom_pull(task_ids='check_approval_required')['subject'] }}",
        body="{{ ti.xcom_pull(task_ids='check_approval_required')['body'] }}",
        options=OPTIONS,
        defaults=[REJECT],  # also the answer on timeout
        response_timeout=APPROVAL_TIMEOUT,
        params={"comment": Param("", type="string", description="Why (recorded with the promotion event).")},
        doc_md="Approve or Reject the promotion (Airflow's *Required Actions*). No answer within 24 hours: Reject. "
        "Only `promotion.approvers` may answer when set; an approval by the user who triggered the run counts as "
        "Reject.",
        **kwargs,
    )


def trigger_finetune_task(**kwargs: Any) -> Any:
    """``trigger_finetune``: one ``llm_finetune_pipeline`` run per retrain run, on the merged data."""
    from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator

    return TriggerDagRunOperator(
        task_id="trigger_finetune",
        trigger_dag_id=PIPELINE_DAG,
        trigger_run_id="retrain__{{ run_id | replace(':', '-') | replace('+', '_') }}",
        conf={"raw_path": "{{ ti.xcom_pull(task_ids='merge_feedback') }}"},
        skip_when_already_exists=True,
        doc_md="Trigger `llm_finetune_pipeline` with `raw_path` = the merged file, relative to the data folder (a "
        "re-run does not trigger twice).",
        **kwargs,
    )


__all__ = [
    "CHAMPION_MODEL",
    "CURATED_DATASET",
    "FEEDBACK_CANDIDATES",
    "START_DATE",
    "approval_task",
    "build_run",
    "default_args",
    "pipeline_params",
    "prompt_release_params",
    "rollback_params",
    "step",
    "trigger_finetune_task",
]
