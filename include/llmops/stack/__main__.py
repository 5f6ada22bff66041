"""``python -m llmops.stack``: see :mod:`llmops.stack.cli`."""

from __future__ import annotations

import sys

from llmops.stack.cli import main

sys.exit(main())
