"""Alert decisions of a monitoring interval, and the plain notification channels (log, webhook).

Deciding is pure: :func:`decide_alerts` turns an interval's figures and drift result into a list of :class:`Alert`.
Sending is behind the :class:`Notifier` protocol; the DAG picks the channels (the task log always, a webhook or SMTP
when their Airflow connections exist). No Airflow import here.
"""

from __future__ import annotations

import json
import logging
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from llmops.config import MonitoringConfig

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Alert:
    """One breached bound: ``name`` of the figure, its ``value``, the ``bound`` and a readable ``message``."""

    name: str
    value: float
    bound: float
    message: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return asdict(self)


def decide_alerts(figures: Mapping[str, float], drift_share: float | None, cfg: MonitoringConfig) -> list[Alert]:
    """The bounds an interval breaches.

    Args:
        figures: live figures of the interval (``empty_response_rate``, ``latency_p95_ms``,
            ``server_error_rate``; missing ones are not judged).
        drift_share: the interval's drift share, ``None`` when drift was not assessed.
        cfg: the bounds.

    Returns:
        One :class:`Alert` per breached bound, in a fixed order (drift, empty responses, latency, server errors).
    """
    alerts: list[Alert] = []
    if drift_share is not None and drift_share >= cfg.drift_score_threshold:
        alerts.append(
            Alert(
                "drift_share",
                drift_share,
                cfg.drift_score_threshold,
                f"drift share {drift_share:.2f} >= threshold {cfg.drift_score_threshold:.2f}",
            )
        )
    bounded = (
        ("empty_response_rate", cfg.max_empty_response_rate, "empty-response rate {value:.1%} > bound {bound:.1%}"),
        ("latency_p95_ms", cfg.max_latency_p95_ms, "latency p95 {value:.0f} ms > bound {bound:.0f} ms"),
        ("server_error_rate", cfg.max_error_rate, "server error rate {value:.1%} > bound {bound:.1%}"),
    )
    for name, bound, text in bounded:
        value = figures.get(name)
        if value is not None and value > bound:
            alerts.append(Alert(name, float(value), bound, text.format(value=value, bound=bound)))
    return alerts


def alert_message(title: str, alerts: Sequence[Alert | Mapping[str, Any]], context: Mapping[str, Any]) -> str:
    """A plain-text body naming every breached bound and the context (interval, champion, report paths)."""
    lines = [title, ""]
    for alert in alerts:
        message = alert.message if isinstance(alert, Alert) else str(alert.get("message", alert))
        lines.append(f"- {message}")
    lines.append("")
    lines.extend(f"{k}: {v}" for k, v in context.items())
    return "\n".join(lines)


class Notifier(Protocol):
    """A channel that delivers an alert."""

    def send(self, subject: str, body: str, payload: Mapping[str, Any]) -> None:
        """Deliver one alert; raise on failure."""


class LogNotifier:
    """Writes the alert to a logger (the Airflow task log when called from a task)."""

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self.logger = logger or log

    def send(self, subject: str, body: str, payload: Mapping[str, Any]) -> None:
        self.logger.warning("ALERT %s\n%s", subject, body)


class WebhookNotifier:
    """POSTs ``{"subject", "text", ...payload}`` as JSON to a URL (Slack/Teams-style incoming webhooks)."""

    def __init__(self, url: str, timeout_s: float = 10.0) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"webhook URL must start with http:// or https://, got {url!r}")
        self.url = url
        self.timeout_s = timeout_s

    def send(self, subject: str, body: str, payload: Mapping[str, Any]) -> None:
        data = json.dumps({"subject": subject, "text": body, **payload}, default=str).encode("utf-8")
        request = urllib.request.Request(
            self.url, data=data, headers={"Content-Type": "application/json"}, method="POST"
        )
        with urllib.request.urlopen(request, timeout=self.timeout_s) as response:  # scheme checked in __init__
            if response.status >= 300:
                raise RuntimeError(f"webhook {self.url} answered HTTP {response.status}")


def notify(notifiers: Sequence[Notifier], subject: str, body: str, payload: Mapping[str, Any]) -> list[str]:
    """Send through every channel; a failing channel does not stop the others.

    Returns:
        The error messages of the channels that failed (empty when all delivered).
    """
    errors: list[str] = []
    for notifier in notifiers:
        try:
            notifier.send(subject, body, payload)
        except Exception as exc:  # one broken channel must not hide the alert from the others
            errors.append(f"{type(notifier).__name__}: {exc}")
            log.error("notifier %s failed: %s", type(notifier).__name__, exc)
    return errors
