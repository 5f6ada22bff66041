"""The run note: a pipeline run's outcome, data counts, base vs candidate table and verdicts; an interval's rows,
drift and alerts; within Airflow's 1000-character note column; a person's note is kept."""

from __future__ import annotations

from typing import Any

from llmops.run_note import HEADER, NOTE_LIMIT, may_replace, run_note


def _verdict(gate: str, passed: bool, reason: str) -> dict[str, Any]:
    return {"gate": gate, "passed": passed, "reason": reason, "metrics": {}, "on_fail": "fail"}


PIPELINE: dict[str, Any] = {
    "validate_raw_data": {"rows_in": 240, "rows_valid": 236, "rows_quarantined": 4},
    "snapshot_dataset": {"rows_out": 220, "duplicates_removed": 12, "contaminated": 4},
    "finetune_model": {"mlflow_run_id": "abc123"},
    "evaluate_model": {
        "metrics": {"eval_loss": 0.2918, "base_eval_loss": 7.6157, "rouge_l": 0.83, "base_rouge_l": 0.1}
    },
    "gate_model": _verdict("promotion_gate", True, "eval_loss 0.2918 beats base 7.6157 by 96%"),
    "register_model": {"name": "support-assistant", "version": "3"},
    "check_drift": {"passed": True, "reason": "drift share 0.10 <= 0.5", "drift_share": 0.1},
    "candidate_accepted": _verdict("promotion_decision", True, "every check passed"),
    "promote_to_triton": {"served_version": "3", "previous_version": "2", "reason": "version 3 ready, smoke passed"},
}


def test_a_promoted_run_says_what_serves_on_which_data_and_why() -> None:
    note = run_note(PIPELINE)
    assert note is not None and note.startswith(HEADER)
    lines = note.splitlines()
    assert lines[2] == "Serving **v3** on Triton as champion, replaced v2."
    assert "240 rows in, 236 valid, 4 quarantined; 12 duplicates, 4 eval overlap removed; 220 trained on." in note
    assert "| eval_loss | 7.616 | 0.2918 |" in lines and "| rouge_l | 0.1 | 0.83 |" in lines
    assert "- gate: **passed**, eval_loss 0.2918 beats base 7.6157 by 96%" in lines
    assert "- drift: **passed**, drift share 0.10 <= 0.5" in lines
    assert "- promotion decision: **passed**, every check passed" in lines
    assert "MLflow run `abc123`; model version support-assistant v3." in lines


def test_a_refused_candidate_leads_with_the_reason_and_long_reasons_stay_within_the_column() -> None:
    results = {k: v for k, v in PIPELINE.items() if k not in ("candidate_accepted", "promote_to_triton")}
    long = "toxicity 0.232 above the champion's 0.134 + 0.05 | " * 40
    results["candidate_refused"] = _verdict("promotion_decision", False, long)
    results["gate_model"] = _verdict("promotion_gate", False, long)
    note = run_note(results)
    assert note is not None and len(note) <= NOTE_LIMIT
    assert note.splitlines()[2].startswith("Candidate **refused**: toxicity 0.232")
    assert "- gate: **refused**" in note and "Serving" not in note
    # a reason's "|" would break the table the note renders as
    assert all(line.count("|") in (0, 4) for line in note.splitlines()), note


def test_a_monitored_interval_gives_rows_drift_and_alerts() -> None:
    summary = {
        "key": "20260101T020000Z",
        "metrics": {"rows": 150.0, "drift_share": 1.0},
        "alerts": [{"name": "drift_share", "message": "drift share 1.00 above 0.5"}],
        "champion_version": "1",
        "drift_reason": "10 of 10 columns drifted",
    }
    note = run_note({"check_interval_drift": summary, "notify_alerts": ["drift_share"]})
    assert note is not None
    assert "Interval 20260101T020000Z: 150 rows, drift share 1, champion v1." in note
    assert "Alerts: **drift_share**." in note
    assert run_note({}) is None and run_note({"notify_alerts": []}) is None


def test_only_the_projects_own_note_is_rewritten() -> None:
    assert may_replace(None) and may_replace("") and may_replace(f"{HEADER}\n\nold")
    assert not may_replace("re-run after the data fix, ask Ana before promoting")
