"""Demo production request logs in the serving layout, optionally drifted towards topics the training data lacks."""

from __future__ import annotations

import random
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from llmops.data.schema import PROD_LOG_COLUMNS
from llmops.demo.defects import RAMBLE, json_line
from llmops.demo.intents import render_example
from llmops.fsutil import atomic_write_bytes

DEFAULT_PROD_START = datetime(2026, 1, 1, tzinfo=UTC)
# The demo traffic's usage (what the served model records with each answer) is simulated like its latency: tokens
# counted as words and punctuation marks (a rough stand-in for a subword tokenizer), the instruction template's own
# tokens added to the prompt, a batch size drawn from what a busy server forms, and most of the latency spent
# computing. Drawn from a generator of their own, so the rest of a seeded log stays the same.
_TOKEN = re.compile(r"\w+|[^\w\s]")
TEMPLATE_TOKENS = 8
DEMO_PROMPT_VERSION = "support-assistant-prompt/1"


def simulated_usage(rng: random.Random, prompt: str, response: str, latency_ms: float) -> dict[str, float | int]:
    """``prompt_tokens``, ``completion_tokens``, ``batch_size`` and ``compute_ms`` of one simulated answer."""
    return {
        "prompt_tokens": len(_TOKEN.findall(prompt)) + TEMPLATE_TOKENS,
        "completion_tokens": len(_TOKEN.findall(response)),
        "batch_size": rng.choice((1, 1, 1, 2, 2, 4)),
        "compute_ms": round(latency_ms * rng.uniform(0.75, 0.95), 3),
    }


_CURRENCIES: tuple[tuple[str, str], ...] = (
    ("EUR", "euros"),
    ("GBP", "pounds"),
    ("JPY", "yen"),
    ("INR", "rupees"),
    ("BRL", "reais"),
    ("CHF", "francs"),
)


def _refund_prompt(rng: random.Random) -> str:
    code, word = rng.choice(_CURRENCIES)
    return (
        f"I paid {rng.randrange(20, 900)} {code} for the annual plan, can I get my refund back in {word} "
        "instead of dollars?"
    )


_DRIFT_TEMPLATES: tuple[Callable[[random.Random], str], ...] = (
    lambda rng: (
        f"How do I use the Nimbus Photos AI editor to remove the background from {rng.randrange(2, 40)} pictures "
        f"in my {rng.choice(('wedding', 'holiday', 'product', 'family', 'concert'))} album?"
    ),
    lambda rng: (
        f"Why does the AI editor in Nimbus Photos keep blurring faces when I apply the "
        f"{rng.choice(('vintage', 'portrait', 'cinematic', 'sketch'))} style?"
    ),
    lambda rng: (
        f"Can the Nimbus Photos AI editor upscale my old scans to {rng.choice(('4K', '8K', 'print quality'))} "
        "and how many credits does that use?"
    ),
    lambda rng: _refund_prompt(rng),
    lambda rng: (
        f"Your invoice shows {rng.choice(_CURRENCIES)[0]} but my bank charged a conversion fee, who refunds the "
        "difference and how long does it take?"
    ),
    lambda rng: (
        f"Does Nimbus Drive integrate with {rng.choice(('Slack', 'Figma', 'Notion', 'Jira', 'Trello'))} so my "
        "team gets notified automatically?"
    ),
    lambda rng: (
        f"yo my {rng.choice(('cloud thingy', 'nimbus', 'drive app'))} aint uploading my pics since the update, "
        f"wassup with that {rng.choice(('lol', 'fr', 'smh', 'ngl'))}"
    ),
    lambda rng: (
        f"ur app keeps crashing on my {rng.choice(('smart tv', 'car screen', 'watch', 'vr headset'))} fix it pls asap"
    ),
    lambda rng: " ".join(
        [
            "So basically",
            *rng.sample(RAMBLE, 4),
            f"Anyway my real question is whether the {rng.choice(('family', 'student', 'lifetime', 'travel'))} "
            "bundle is still available and if it includes the photo editor?",
        ]
    ),
)
_DRIFT_RESPONSES: tuple[str, ...] = (
    "I'm sorry, I don't have information about that yet. Please contact Nimbus support from the Help page.",
    "That feature is not covered by my knowledge of Nimbus Drive. A support agent can help you from the Help page.",
    "I can only answer questions about Nimbus Drive storage, sync, sharing, billing and security.",
)


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def generate_prod_logs(
    n: int,
    drift: float,
    seed: int,
    out_path: Path,
    model_name: str = "support_assistant",
    model_version: str = "1",
    start: datetime | None = None,
    prompt_version: str = DEMO_PROMPT_VERSION,
) -> Path:
    """Write ``n`` production request logs (JSONL, :data:`~llmops.data.schema.PROD_LOG_COLUMNS` layout).

    A share ``drift`` of the requests (exactly ``round(n * drift)``, at seeded positions) comes from a shifted
    distribution the training data never covers: the "Nimbus Photos AI editor", refunds in other currencies, third
    party integrations, slang, long rambling prompts. Those get canned answers; the others are drawn from the
    training intents with their canonical answers. Timestamps start at ``start`` and are spaced by seeded gaps.

    Args:
        n: number of requests.
        drift: share of drifted requests, in [0, 1].
        seed: random seed (same seed, same bytes).
        out_path: the JSONL file to write (atomically; parent created).
        model_name: ``model_name`` of every record.
        model_version: ``model_version`` of every record.
        start: timestamp of the first request (UTC; a naive datetime is taken as UTC). Defaults to
            2026-01-01T00:00:00Z.
        prompt_version: ``prompt_version`` of every record. Every record also carries simulated usage
            (:func:`simulated_usage`), as the served model's lines do.

    Returns:
        ``out_path``.

    Raises:
        ValueError: ``n`` is negative or ``drift`` is outside [0, 1].
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    if not 0.0 <= drift <= 1.0:
        raise ValueError(f"drift must be within [0, 1], got {drift}")
    moment = start or DEFAULT_PROD_START
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    rng = random.Random(seed)
    usage_rng = random.Random(f"{seed}:usage")
    drifted = set(rng.sample(range(n), round(n * drift)))
    lines: list[bytes] = []
    for index in range(n):
        moment += timedelta(milliseconds=rng.randrange(500, 30_000))
        if index in drifted:
            prompt = rng.choice(_DRIFT_TEMPLATES)(rng)
            response = rng.choice(_DRIFT_RESPONSES)
        else:
            _, example = render_example(rng)
            prompt, response = example["prompt"], example["response"]
        words = len(prompt.split()) + len(response.split())
        latency = 35.0 + 1.6 * words + rng.lognormvariate(2.5, 0.5)
        values = (
            str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "",  # client_request_id: the demo's clients send none
            _timestamp(moment),
            model_name,
            str(model_version),
            prompt,
            response,
            round(latency, 3),
        )
        record = dict(zip(PROD_LOG_COLUMNS, values, strict=True))
        record.update(simulated_usage(usage_rng, prompt, response, latency))
        record["prompt_version"] = prompt_version
        lines.append(json_line(record))
    return atomic_write_bytes(Path(out_path), b"".join(line + b"\n" for line in lines), fsync=False)
