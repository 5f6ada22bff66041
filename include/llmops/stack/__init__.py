"""The local stack: run the platform's services on this machine and drive the demo through them.

- :mod:`llmops.stack.manager`: start, stop and inspect Airflow, the MLflow UI and Triton (embedded or production
  topology), with their settings and secrets.
- :mod:`llmops.stack.cli`: ``python -m llmops.stack {prepare,up,down,status,demo}``, what the Makefile calls.
"""

from __future__ import annotations
