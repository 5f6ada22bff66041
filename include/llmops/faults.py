"""Kill points for the kill-injection harness (``make bench-chaos``) and its test sample.

The promotion and rollback code calls :func:`checkpoint` at every step boundary. Normally it costs one dictionary
lookup and does nothing. Two environment variables, set only by the harness and its tests, change that:

- ``LLMOPS_KILL_AT=<point>``: the process kills itself with SIGKILL (no cleanup, no ``finally``) the first time it
  reaches ``<point>``; ``<point>@<n>`` kills at the n-th time.
- ``LLMOPS_PHASE_FILE=<path>``: every point reached is appended to ``<path>`` (one line each, flushed), so that a kill
  at a random moment can be bucketed by the last point the process passed.
- ``LLMOPS_PAUSE_AT=<point>=<seconds>``: sleep there (to let another process start waiting on the lock).
- ``LLMOPS_KILL_ONCE_FILE=<path>``: kill only when ``<path>`` does not exist yet, creating it first, so that a task
  killed through the real scheduler is killed once and its retry (a new process) runs through.
"""

from __future__ import annotations

import os
import signal

KILL_AT_ENV = "LLMOPS_KILL_AT"
PHASE_FILE_ENV = "LLMOPS_PHASE_FILE"
PAUSE_AT_ENV = "LLMOPS_PAUSE_AT"
KILL_ONCE_FILE_ENV = "LLMOPS_KILL_ONCE_FILE"

_hits: dict[str, int] = {}


def checkpoint(point: str) -> None:
    """Mark that the current operation reached ``point``; the harness may kill the process here."""
    target = os.environ.get(KILL_AT_ENV)
    phase_file = os.environ.get(PHASE_FILE_ENV)
    pause = os.environ.get(PAUSE_AT_ENV)
    if not target and not phase_file and not pause:
        return
    _hits[point] = _hits.get(point, 0) + 1
    if phase_file:
        fd = os.open(phase_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, f"{point}\n".encode())
        finally:
            os.close(fd)
    if pause:
        name, _, seconds = pause.partition("=")
        if name == point:
            import time

            time.sleep(float(seconds or 0))
    if target:
        name, _, nth = target.partition("@")
        if name == point and _hits[point] == (int(nth) if nth else 1):
            once = os.environ.get(KILL_ONCE_FILE_ENV)
            if once:
                try:
                    os.close(os.open(once, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
                except FileExistsError:
                    return
            os.kill(os.getpid(), signal.SIGKILL)
