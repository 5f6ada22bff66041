"""Column names and record layouts shared by every stage.

Training/eval records (JSONL, Parquet or CSV)::

    {"id": str, "prompt": str, "response": str, "category": str, "source": str}

Production log records, one JSON line per request, written by the served model (``serving/model.py``) and by the
demo generator in exactly the same layout::

    {"request_id": str, "client_request_id": str, "timestamp": ISO-8601 UTC str, "model_name": str,
     "model_version": str, "prompt": str, "response": str, "latency_ms": float}

``request_id`` is assigned by the server, unique per request (feedback must name it); ``client_request_id`` is the id
the client sent, if any, kept for the client's own matching. It is optional (logs written before it existed lack it;
a reader fills in null).

The served model scrubs ``prompt`` and ``response`` before writing (personal data replaced with ``<EMAIL>``-style
placeholders) and adds ``"pii_leak": bool`` (the answer held personal data the prompt did not, judged on the raw text)
and ``"pii_found": int`` (values replaced): :data:`PROD_LOG_SCRUB_COLUMNS`; and ``"prompt_version": str`` (the
prompt the version serves with, ``<name>/<version>``) and the answer's usage (:data:`PROD_LOG_USAGE_COLUMNS`):
:data:`PROD_LOG_SERVING_COLUMNS`.

A request the served model failed is logged in the same layout with an empty ``response`` plus ``"error": str`` and
``"error_kind": "client" | "server"`` (:func:`is_failed_request`); it counts in error rates, never as an answer.
"""

from __future__ import annotations

from llmops.prompts import default_prompt, render

TRAIN_COLUMNS: tuple[str, ...] = ("id", "prompt", "response", "category", "source")
REQUIRED_TRAIN_COLUMNS: tuple[str, ...] = ("prompt", "response")

PROD_LOG_COLUMNS: tuple[str, ...] = (
    "request_id",
    "client_request_id",
    "timestamp",
    "model_name",
    "model_version",
    "prompt",
    "response",
    "latency_ms",
)
# Added by the served model's log writer (``serving/model.py``): optional, logs of other writers lack them.
PROD_LOG_SCRUB_COLUMNS: tuple[str, ...] = ("pii_leak", "pii_found")
# What an answer cost, as the served model records it (optional like the serving columns): token counts and the batch
# size are integers >= 0, ``compute_ms`` a number >= 0 (the generate call's time, shared by the batch).
PROD_LOG_USAGE_COLUMNS: dict[str, type] = {
    "prompt_tokens": int,
    "completion_tokens": int,
    "batch_size": int,
    "compute_ms": float,
}
# In the order the served model writes them (an answered line; a failed one has prompt_version only).
PROD_LOG_SERVING_COLUMNS: tuple[str, ...] = (*PROD_LOG_USAGE_COLUMNS, "prompt_version")
# Columns a production log record must have (``client_request_id`` may be missing: null).
OPTIONAL_PROD_LOG_COLUMNS: tuple[str, ...] = ("client_request_id",)
REQUIRED_PROD_LOG_COLUMNS: tuple[str, ...] = tuple(c for c in PROD_LOG_COLUMNS if c not in OPTIONAL_PROD_LOG_COLUMNS)

# ``error_kind`` values of failed requests: the request was invalid / the model failed.
CLIENT_ERROR, SERVER_ERROR = "client", "server"


def is_failed_request(record: object) -> bool:
    """Whether a production log record is a failed request (a non-empty ``error``), not an answer."""
    return isinstance(record, dict) and bool(record.get("error"))


# Columns added to quarantined rows.
QUARANTINE_COLUMNS: tuple[str, ...] = ("source_file", "line_number", "reason", "raw")

# The prompt file's template (``include/prompts/``, the registry's first version): the fallback where no prompt
# version is given. Runs use the registry's version (llmops.prompts), which travels with the weights.
PROMPT_TEMPLATE = default_prompt().template


def format_prompt(prompt: str, template: str | None = None) -> str:
    """Render the instruction part of a training example (what the served model receives) with ``template`` (the
    prompt file's when ``None``)."""
    return render(template if template is not None else PROMPT_TEMPLATE, prompt)
