"""Seeded demo and benchmark data: nothing here runs in the pipeline itself.

- :mod:`llmops.demo.generate`: the demo training and eval sets of a support assistant for "Nimbus Drive", a
  fictional cloud-storage product, with planted defects and a manifest of them (``make prepare``).
- :mod:`llmops.demo.prodlogs`: demo production request logs, optionally drifted.
- :mod:`llmops.demo.intents` (with ``intents.yaml``) and :mod:`llmops.demo.slots`: what the assistant is asked and
  answers; :mod:`llmops.demo.defects`: the defects planted in the training file.
- :mod:`llmops.demo.synthetic`: labeled corpora for the near-duplicate and PII benchmarks and tests.

Command line: ``python -m llmops.demo --out DIR [--prod-logs N --drift X]``.
"""

from __future__ import annotations

from llmops.demo.generate import generate_demo_dataset
from llmops.demo.prodlogs import generate_prod_logs

__all__ = ["generate_demo_dataset", "generate_prod_logs"]
