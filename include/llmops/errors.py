"""The two kinds of domain error every step may raise, and what the orchestrator does with them.

- :class:`Permanent`: the run cannot succeed by trying again (a broken data contract, diverged training, a bad
  rollback target, a version that does not load). The task fails without retries.
- :class:`Refused`: there is nothing to do, or the platform decided not to act (not better than the champion, too
  few rows in an interval). The task is skipped and its log says why.

Any other exception is transient (an unreachable service, a timeout) and is retried.
"""

from __future__ import annotations


class Permanent(Exception):
    """A failure that a retry cannot fix: fail the task without retries."""


class Refused(Exception):
    """Nothing to do, or the platform decided not to act: skip the task, with this message as the reason."""
