"""What a step knows about the run it belongs to: one frozen value with no orchestrator dependency.

Every step has the signature ``fn(run: Run, *inputs)``. The Airflow adapter (``llmops_airflow``) builds the
``Run`` from the task context; tests build one directly with :meth:`Run.for_test`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from llmops.config import LLMOpsConfig
    from llmops.monitoring.alerts import Notifier


@dataclass(frozen=True)
class Run:
    """The run a step belongs to.

    Attributes:
        config: the configuration with the run's trigger-form params applied.
        key: a filesystem- and tag-safe key of the run; outputs are keyed by it.
        run_id: the orchestrator's run id.
        params: the run's trigger-form params as given.
        logical_date: the run's logical date (or, for a manually triggered run without one, when it was queued).
        interval_start, interval_end: the run's data interval (``None`` for runs without one).
        asset_triggered: whether an asset event started the run.
        tracking_key, experiment, tracking_tags: the MLflow run that verdicts of this run are recorded to (created
            on first use, found again by ``tracking_key``; ``tracking_tags`` are set on it with every verdict).
        notifiers: the alert channels configured for this run (the task log is always one).
        upstream: reads a value another task of this run produced (``task_id -> value``); for operator outputs
            that are not step inputs, such as a human's answer.
        triggered_by: the user who triggered the run (``None`` for scheduled and asset-triggered runs); an approval
            of the run's promotion must come from someone else.
    """

    config: LLMOpsConfig
    key: str
    run_id: str = ""
    params: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    logical_date: datetime | None = None
    interval_start: datetime | None = None
    interval_end: datetime | None = None
    asset_triggered: bool = False
    tracking_key: str = ""
    experiment: str | None = None
    tracking_tags: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    notifiers: Sequence[Notifier] = ()
    upstream: Callable[[str], Any] | None = field(default=None, compare=False)
    triggered_by: str | None = None

    @property
    def mlflow_key(self) -> str:
        """The key of the MLflow run this run's verdicts go to."""
        return self.tracking_key or self.key

    @property
    def at(self) -> str:
        """The run's time (its logical date), for events: never the wall clock."""
        return (self.logical_date or datetime(1970, 1, 1, tzinfo=UTC)).isoformat()

    def interval(self) -> tuple[datetime, datetime]:
        """The data interval; a :class:`~llmops.errors.Permanent` error for a run without one."""
        from llmops.errors import Permanent

        if self.interval_start is None or self.interval_end is None:
            raise Permanent("this step needs a data interval (scheduled or backfilled runs)")
        return self.interval_start, self.interval_end

    def param(self, name: str, default: Any = None) -> Any:
        """A trigger-form param (``default`` when absent or empty)."""
        value = self.params.get(name)
        return default if value is None or value == "" else value

    def upstream_value(self, task_id: str) -> Any:
        """The value task ``task_id`` of this run returned (``None`` when it did not run or there is no reader)."""
        return None if self.upstream is None else self.upstream(task_id)

    def notify(self, subject: str, body: str, payload: Mapping[str, Any]) -> list[str]:
        """Send through every channel (the task log when none is set); a failing channel does not stop the others.
        Returns the errors."""
        from llmops.monitoring.alerts import LogNotifier, notify

        return notify(list(self.notifiers) or [LogNotifier()], subject, body, payload)

    @classmethod
    def for_test(cls, config: LLMOpsConfig, key: str = "test-run", **kwargs: Any) -> Run:
        """A run for tests and scripts: ``Run.for_test(cfg, "k", params={...})``."""
        params = kwargs.pop("params", None) or {}
        return cls(config=config, key=key, run_id=kwargs.pop("run_id", key), params=MappingProxyType(params), **kwargs)
