"""Alert decisions and notification channels (log, webhook) of the monitoring DAG."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import pytest

from llmops.config import MonitoringConfig
from llmops.monitoring.alerts import Alert, LogNotifier, WebhookNotifier, alert_message, decide_alerts, notify

BOUNDS = MonitoringConfig(
    drift_score_threshold=0.5, max_empty_response_rate=0.05, max_latency_p95_ms=1000.0, max_error_rate=0.05
)


@pytest.mark.parametrize(
    ("figures", "drift_share", "expected"),
    [
        ({"empty_response_rate": 0.0, "latency_p95_ms": 100.0}, 0.1, []),
        ({"empty_response_rate": 0.0, "latency_p95_ms": 100.0}, 0.5, ["drift_share"]),  # at the threshold
        ({"empty_response_rate": 0.05, "latency_p95_ms": 1000.0}, 0.49, []),  # at the bounds: not above
        ({"empty_response_rate": 0.2, "latency_p95_ms": 100.0}, None, ["empty_response_rate"]),
        ({"empty_response_rate": 0.0, "latency_p95_ms": 2500.0}, 0.0, ["latency_p95_ms"]),
        (
            {"empty_response_rate": 0.3, "latency_p95_ms": 2500.0},
            0.9,
            ["drift_share", "empty_response_rate", "latency_p95_ms"],
        ),
        ({"server_error_rate": 0.05}, None, []),
        ({"server_error_rate": 0.4, "latency_p95_ms": 2500.0}, None, ["latency_p95_ms", "server_error_rate"]),
        ({}, None, []),  # nothing measured, nothing judged
    ],
)
def test_decide_alerts(figures: dict[str, float], drift_share: float | None, expected: list[str]) -> None:
    alerts = decide_alerts(figures, drift_share, BOUNDS)
    assert [a.name for a in alerts] == expected
    for alert in alerts:
        assert alert.value > alert.bound or (alert.name == "drift_share" and alert.value >= alert.bound)


def test_alert_message_names_every_breach_and_the_context() -> None:
    alerts = decide_alerts({"empty_response_rate": 0.5, "latency_p95_ms": 5000.0}, 0.8, BOUNDS)
    body = alert_message("subject", [a.to_dict() for a in alerts], {"interval": "20260101T000000Z", "champion": "2"})
    assert "drift share 0.80 >= threshold 0.50" in body
    assert "empty-response rate 50.0% > bound 5.0%" in body
    assert "latency p95 5000 ms > bound 1000 ms" in body
    assert "interval: 20260101T000000Z" in body and "champion: 2" in body


class _Broken:
    def send(self, subject: str, body: str, payload: Mapping[str, Any]) -> None:
        raise ConnectionError("mail server down")


def test_notify_delivers_to_every_channel_even_when_one_fails(
    alert_webhook: tuple[str, list[dict[str, Any]]], caplog: pytest.LogCaptureFixture
) -> None:
    url, received = alert_webhook
    alert = Alert("drift_share", 0.9, 0.5, "drift share 0.90 >= threshold 0.50")
    with caplog.at_level(logging.WARNING):
        errors = notify(
            [_Broken(), LogNotifier(), WebhookNotifier(url)], "subj", "body text", {"alerts": [alert.to_dict()]}
        )
    assert errors == ["_Broken: mail server down"]
    assert "ALERT subj" in caplog.text
    assert received == [{"subject": "subj", "text": "body text", "alerts": [alert.to_dict()]}]


def test_webhook_rejects_a_non_http_url() -> None:
    with pytest.raises(ValueError, match="http:// or https://"):
        WebhookNotifier("file:///etc/passwd")
