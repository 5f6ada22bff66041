"""Alert decisions of a monitoring interval, and the plain notification channels (log, webhook).

Deciding is pure: :func:`decide_alerts` turns an interval's figures and drift result into a list of :class:`Alert`.
Sending is behind the :class:`Notifier` protocol; the DAG picks the channels (the task log always, a webhook or SMTP
when their Airflow connections exist). No Airflow import here.
"""

from __future__ import annotations

import http.client
import json
import logging
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping, Sequence
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
            ``server_error_rate``, ``duplicate_request_id_rate``, ``safety_<scorer>_rate``; missing ones are not
            judged).
        drift_share: the interval's drift share, ``None`` when drift was not assessed.
        cfg: the bounds.

    Returns:
        One :class:`Alert` per breached bound, in a fixed order (drift, empty responses, latency, server errors,
        duplicate request ids, then the safety rates of ``max_safety_rates``).
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
        (
            "duplicate_request_id_rate",
            cfg.max_duplicate_request_id_rate,
            "duplicate request ids {value:.1%} of the records > bound {bound:.1%} (replayed or forged log lines)",
        ),
    )
    safety = tuple(
        (f"safety_{scorer}_rate", bound, f"{scorer} rate {{value:.1%}} of the answers > bound {{bound:.1%}}")
        for scorer, bound in cfg.max_safety_rates.items()
    )
    for name, bound, text in (*bounded, *safety):
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


def redact_url(url: str) -> str:
    """``scheme://host[:port]/…``: what logs and errors may show of a webhook URL (its path and query are often the
    secret, and user info in it always is)."""
    parts = urllib.parse.urlsplit(url)
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        port = ""
    return f"{parts.scheme or '?'}://{parts.hostname or '?'}{port}/…"


class WebhookError(RuntimeError):
    """A webhook did not accept the alert (the message names the redacted URL, never the URL)."""


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Never follow a redirect: the alert (and the URL's secret) would go where the answer says."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class WebhookNotifier:
    """POSTs ``{"subject", "text", ...payload}`` as JSON to a URL (Slack/Teams-style incoming webhooks).

    A 2xx answer delivers. Redirects are not followed (a 3xx is a failure); connection errors, 429 and 5xx answers
    are retried with exponential backoff (``attempts`` in all, waiting ``backoff_s``, then twice that...); other
    answers fail at once. The URL never appears in errors or logs, only :func:`redact_url` of it.
    """

    def __init__(
        self,
        url: str,
        timeout_s: float = 10.0,
        *,
        attempts: int = 3,
        backoff_s: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.redacted = redact_url(url)
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"webhook URL must start with http:// or https://, got {self.redacted}")
        if attempts < 1:
            raise ValueError("attempts must be >= 1")
        self._url = url
        self.timeout_s = timeout_s
        self.attempts = attempts
        self.backoff_s = backoff_s
        self._sleep = sleep
        self._opener = urllib.request.build_opener(_NoRedirect)

    def __repr__(self) -> str:
        return f"WebhookNotifier({self.redacted})"

    def _post(self, data: bytes) -> tuple[str, bool]:
        """One attempt: ``("", False)`` when delivered, else ``(what went wrong, whether to retry)``."""
        request = urllib.request.Request(
            self._url, data=data, headers={"Content-Type": "application/json"}, method="POST"
        )
        try:
            with self._opener.open(request, timeout=self.timeout_s) as response:  # scheme checked in __init__
                status = int(response.status)
        except urllib.error.HTTPError as exc:  # 3xx (not followed), 4xx, 5xx
            status = int(exc.code)
            exc.close()
        except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
            reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
            return f"connection failed ({type(reason).__name__})", True
        if 200 <= status < 300:
            return "", False
        if 300 <= status < 400:
            return f"answered HTTP {status} (a redirect, not followed)", False
        return f"answered HTTP {status}", status in RETRY_STATUSES

    def send(self, subject: str, body: str, payload: Mapping[str, Any]) -> None:
        """Deliver one alert, retrying transient failures.

        Raises:
            WebhookError: the webhook did not take it (after the retries, for a transient failure).
        """
        data = json.dumps({"subject": subject, "text": body, **payload}, default=str).encode("utf-8")
        for attempt in range(1, self.attempts + 1):
            problem, retry = self._post(data)
            if not problem:
                return
            if not retry or attempt == self.attempts:
                tries = f" after {attempt} attempts" if attempt > 1 else ""
                raise WebhookError(f"webhook {self.redacted} {problem}{tries}")
            wait = self.backoff_s * 2 ** (attempt - 1)
            log.warning(
                "webhook %s %s (attempt %d of %d); retrying in %.1fs", self.redacted, problem, attempt,
                self.attempts, wait,
            )  # fmt: skip
            self._sleep(wait)


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
