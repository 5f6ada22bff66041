"""The intents of the demo support assistant: loaded from ``intents.yaml``, rendered into (prompt, response) pairs.

Each *intent* has several prompt paraphrases and one canonical response template. Slots (plan, device, file type,
folder, ...) appear in every paraphrase of an intent, and the response is a function of the intent and those slots
(plus facts looked up from them, e.g. a plan's storage), so a tiny model can learn the mapping from the prompt alone.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llmops.data.dedup import normalize_text
from llmops.demo.slots import CLOSERS, OPENERS, SAMPLERS, Slots

INTENTS_FILE = Path(__file__).with_name("intents.yaml")
_MAX_DRAWS = 200
_INTENT_KEYS = ("name", "category", "samplers", "prompts", "response")


@dataclass(frozen=True)
class Intent:
    """One kind of support question.

    Attributes:
        name: intent id.
        category: one of the allowed categories.
        samplers: keys of :data:`llmops.demo.slots.SAMPLERS` that fill the slots.
        prompts: paraphrases; each names every primary slot of the samplers.
        response: the canonical answer template.
    """

    name: str
    category: str
    samplers: tuple[str, ...]
    prompts: tuple[str, ...]
    response: str


def _strings(value: Any, what: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise ValueError(f"{what} must be a non-empty list of non-empty strings, got {value!r}")
    return tuple(value)


def parse_intents(data: Any, source: str = "intents") -> tuple[Intent, ...]:
    """Check the intent table and build the :class:`Intent` objects.

    Args:
        data: the parsed YAML document, ``{"intents": [{name, category, samplers, prompts, response}, ...]}``.
        source: where ``data`` came from, for error messages.

    Returns:
        The intents, in file order (the order is part of the generator's output).

    Raises:
        ValueError: the table does not have that shape, an intent names an unknown sampler, a name repeats, a prompt
            does not name exactly the primary slots of the intent's samplers, or the response uses a slot they do
            not fill.
    """
    entries = data.get("intents") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not entries:
        raise ValueError(f"{source}: expected a mapping with a non-empty list under 'intents'")
    intents: list[Intent] = []
    for number, entry in enumerate(entries, start=1):
        where = f"{source}: intent #{number}"
        if not isinstance(entry, dict) or set(entry) != set(_INTENT_KEYS):
            got = sorted(entry) if isinstance(entry, dict) else type(entry).__name__
            raise ValueError(f"{where}: expected exactly the keys {list(_INTENT_KEYS)}, got {got}")
        name, category, response = entry["name"], entry["category"], entry["response"]
        if not all(isinstance(v, str) and v for v in (name, category, response)):
            raise ValueError(f"{where}: name, category and response must be non-empty strings")
        where = f"{source}: intent {name!r}"
        samplers = _strings(entry["samplers"], f"{where}: samplers")
        unknown = [key for key in samplers if key not in SAMPLERS]
        if unknown:
            raise ValueError(f"{where}: unknown samplers {unknown}; known: {sorted(SAMPLERS)}")
        prompts = _strings(entry["prompts"], f"{where}: prompts")
        primary = {slot for key in samplers for slot in SAMPLERS[key][0]}
        for prompt in prompts:
            if template_fields(prompt) != primary:
                raise ValueError(f"{where}: prompt {prompt!r} must name exactly the slots {sorted(primary)}")
        # The response may also use the facts the samplers derive from the primary slots.
        filled = {slot for key in samplers for slot in SAMPLERS[key][1](random.Random(0))}
        extra = template_fields(response) - filled
        if extra:
            raise ValueError(f"{where}: the response uses {sorted(extra)}, which no sampler fills: {sorted(filled)}")
        if any(i.name == name for i in intents):
            raise ValueError(f"{where}: the name is used twice")
        intents.append(Intent(name, category, samplers, prompts, response))
    return tuple(intents)


def load_intents(path: Path = INTENTS_FILE) -> tuple[Intent, ...]:
    """Read the intent table (see :func:`parse_intents`).

    Args:
        path: a YAML file; the packaged ``intents.yaml`` by default.

    Returns:
        The intents, in file order.
    """
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return parse_intents(yaml.load(Path(path).read_text(encoding="utf-8"), Loader=loader), str(path))


def template_fields(template: str) -> set[str]:
    """Placeholder names used in a ``str.format`` template.

    Args:
        template: the template.

    Returns:
        The set of field names.
    """
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


INTENTS: tuple[Intent, ...] = load_intents()


def _sample_slots(rng: random.Random, intent: Intent) -> Slots:
    slots: Slots = {}
    for key in intent.samplers:
        slots.update(SAMPLERS[key][1](rng))
    return slots


def _join_prompt(opener: str, core: str, closer: str) -> str:
    if opener:
        first = core.split(" ", 1)[0]
        keep_case = first == "I" or first.startswith(("I'", "Nimbus", "iPhone", "iPad"))
        if not keep_case:
            core = core[0].lower() + core[1:]
    return " ".join(part for part in (opener, core, closer) if part)


def render_example(rng: random.Random, intent: Intent | None = None) -> tuple[Intent, dict[str, str]]:
    """Draw one clean (prompt, response) pair.

    Args:
        rng: the random source.
        intent: a fixed intent; drawn uniformly when ``None``.

    Returns:
        The intent and ``{"prompt", "response", "category"}``.
    """
    chosen = intent or rng.choice(INTENTS)
    slots = _sample_slots(rng, chosen)
    core = rng.choice(chosen.prompts).format(**slots)
    prompt = _join_prompt(rng.choice(OPENERS), core, rng.choice(CLOSERS))
    return chosen, {"prompt": prompt, "response": chosen.response.format(**slots), "category": chosen.category}


def unique_examples(rng: random.Random, n: int, taken: set[str]) -> list[dict[str, str]]:
    """Draw ``n`` examples whose normalised prompt is not in ``taken`` (updated in place)."""
    out: list[dict[str, str]] = []
    for _ in range(n):
        for _attempt in range(_MAX_DRAWS):
            _, example = render_example(rng)
            key = normalize_text(example["prompt"])
            if key not in taken:
                taken.add(key)
                out.append(example)
                break
        else:
            raise RuntimeError(f"could not draw {n} distinct prompts; the intents are too small for this size")
    return out
