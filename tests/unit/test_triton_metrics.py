"""Triton's counters turned into an interval's figures: parsing the Prometheus text, differences between scrapes,
a restarted server, versions that took no request (the real server is exercised in the integration tests)."""

from __future__ import annotations

from llmops.monitoring.triton_metrics import interval_figures, parse_counters

TEXT = """\
# HELP nv_inference_request_success Number of successful inference requests, all batch sizes
# TYPE nv_inference_request_success counter
nv_inference_request_success{model="llm",version="2"} 10
nv_inference_request_success{model="other",version="1"} 99
# HELP nv_inference_request_failure Number of failed inference requests, all batch sizes
# TYPE nv_inference_request_failure counter
nv_inference_request_failure{model="llm",reason="REJECTED",version="2"} 1
nv_inference_request_failure{model="llm",reason="BACKEND",version="2"} 1
nv_inference_request_failure{model="llm",reason="BACKEND",version="1"} 0
# HELP nv_inference_count Number of inferences performed
# TYPE nv_inference_count counter
nv_inference_count{model="llm",version="2"} 10
# HELP nv_inference_exec_count Number of model executions performed
# TYPE nv_inference_exec_count counter
nv_inference_exec_count{model="llm",version="2"} 4
# HELP nv_inference_queue_duration_us Cumulative inference queuing duration in microseconds
# TYPE nv_inference_queue_duration_us counter
nv_inference_queue_duration_us{model="llm",version="2"} 5000
# HELP nv_inference_compute_infer_duration_us Cumulative compute inference duration in microseconds
# TYPE nv_inference_compute_infer_duration_us counter
nv_inference_compute_infer_duration_us{model="llm",version="2"} 200000
"""


def test_counters_of_one_model_summed_over_failure_reasons() -> None:
    counters = parse_counters(TEXT, "llm")
    assert counters == {
        "2": {
            "success": 10.0,
            "failure": 2.0,
            "inferences": 10.0,
            "executions": 4.0,
            "queue_us": 5000.0,
            "compute_infer_us": 200000.0,
        },
        "1": {"failure": 0.0},
    }


def test_an_interval_is_the_difference_from_the_scrape_before() -> None:
    before = parse_counters(TEXT, "llm")
    now = {
        "2": {**before["2"], "success": 20.0, "queue_us": 15000.0, "compute_infer_us": 300000.0},
        "1": {"failure": 0},
    }
    figures = interval_figures(now, before)
    assert figures["triton.requests"] == 10.0 and figures["triton.failures"] == 0.0
    assert figures["triton.queue_ms_per_request"] == 1.0 and figures["triton.compute_ms_per_request"] == 10.0
    # version 1 took no request in the interval: no per-version figures for it
    assert figures["triton.requests.v2"] == 10.0 and not any(k.endswith(".v1") for k in figures), figures


def test_a_counter_that_went_down_means_a_restart() -> None:
    before = {"2": {"success": 100.0, "failure": 5.0}}
    now = {"2": {"success": 3.0, "failure": 1.0}}
    figures = interval_figures(now, before)
    assert figures["triton.requests"] == 4.0 and figures["triton.failure_rate"] == 0.25


def test_the_first_scrape_counts_since_the_server_started() -> None:
    figures = interval_figures(parse_counters(TEXT, "llm"), None)
    assert figures["triton.requests"] == 12.0 and figures["triton.batch_size_mean"] == 2.5
    assert interval_figures({}, None) == {}
