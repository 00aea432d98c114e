"""Waiting on another process: a condition checked until it holds or a bound runs out.

For what only a real process can tell (a server answering, a worker's rows or metrics): where
the test holds the thing that changes, wait on it instead (a threading.Condition, as the
sandbox receivers do), and where time itself matters, inject the clock."""

from __future__ import annotations

import time
from collections.abc import Callable

POLL_SECONDS = 0.1


def eventually(condition: Callable[[], bool], timeout: float, interval: float = POLL_SECONDS) -> bool:
    """Whether `condition()` held within `timeout` seconds (checked every `interval`, and once
    more at the bound)."""
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(min(interval, max(0.0, deadline - time.monotonic())))
