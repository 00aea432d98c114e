"""A send-rate limit shared by the threads of one sender: no one-second window exceeds the rate.

A token bucket holding at most one token (a pacer): sends are spaced at least 1/rate seconds
apart, so any second holds at most `rate` of them and the provider sees a smooth stream
rather than bursts. Each caller reserves the next free slot under a lock and waits for it
outside the lock, so many threads share one limit without serialising their HTTP.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

WAIT_SLICE_SECONDS = 0.1  # how often a waiting sender looks at `should_stop`


class RateLimiter:
    def __init__(self, rate_per_second: float, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        if rate_per_second <= 0:
            raise ValueError("rate_per_second must be positive")
        self.rate_per_second = rate_per_second
        # A hair over 1/rate, so that float rounding never fits rate + 1 slots into one second.
        self.interval_seconds = (1.0 / rate_per_second) * (1 + 1e-6)
        self._clock, self._sleep = clock, sleep
        self._next_slot: float | None = None
        self._lock = threading.Lock()
        self.granted: list[float] = []  # slot times handed out (bounded), for benchmarks and tests

    def acquire(self, should_stop: Callable[[], bool] = lambda: False) -> bool:
        """Wait for a slot; False (the slot unused) if `should_stop` turns true while waiting."""
        with self._lock:
            now = self._clock()
            slot = now if self._next_slot is None else max(now, self._next_slot)
            self._next_slot = slot + self.interval_seconds
            self.granted.append(slot)
            if len(self.granted) > 100_000:
                del self.granted[:50_000]
        while (remaining := slot - self._clock()) > 0:
            if should_stop():
                return False
            self._sleep(min(remaining, WAIT_SLICE_SECONDS))
        return True
