"""``python -m llmops.demo``: see :mod:`llmops.demo.cli`."""

from __future__ import annotations

from llmops.demo.cli import main

raise SystemExit(main())
