"""A send-rate limit shared by the threads of one sender: no one-second window exceeds the rate.

Two layers, both under one lock and with every wait outside it, so that many threads share
one limit without serialising their HTTP:

- pacing: each caller reserves the next free slot, slots spaced WINDOW_SECONDS / limit apart,
  so the provider sees a smooth stream rather than bursts;
- a sliding window on the actual send starts: a thread that wakes late for its slot (the GIL,
  the OS scheduler, a garbage collection) would start together with the threads woken on
  time. Before a send starts, the limiter checks that fewer than `limit` sends started in the
  last WINDOW_SECONDS, and waits otherwise.

Guarantee: no window of WINDOW_SECONDS holds more than `limit` = max(1, floor(rate)) starts.
WINDOW_SECONDS is one second plus TRANSIT_ALLOWANCE_SECONDS, so that the provider, which
sees each request a little after it started and not always equally late, still counts at
most `limit` arrivals in any one second as long as that lateness varies by less than the
allowance. The price is a steady rate of limit / WINDOW_SECONDS, 3% under the limit.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

from ekatra.metrics import RATE_LIMIT_WAIT_SECONDS, RATE_LIMIT_WAITS

WAIT_SLICE_SECONDS = 0.25  # how often a waiting sender looks at `should_stop`
TRANSIT_ALLOWANCE_SECONDS = 0.03  # how unevenly requests may travel from start to the provider
WINDOW_SECONDS = 1.0 + TRANSIT_ALLOWANCE_SECONDS
MAX_WINDOWED_RATE = 10_000  # above this no process can send enough for the window to matter
HISTORY = 10_000  # start times kept in `granted`
EDGE_SECONDS = 1e-6
COUNTED_WAIT_SECONDS = 0.001  # a shorter wait is the time the limiter itself took, not the limit


class RateLimiter:
    def __init__(self, rate_per_second: float, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        if rate_per_second <= 0:
            raise ValueError("rate_per_second must be positive")
        self.rate_per_second = rate_per_second
        self.limit = max(1, math.floor(rate_per_second))
        # A hair over WINDOW / limit, so that float rounding never fits limit + 1 slots in a window.
        self.interval_seconds = (WINDOW_SECONDS / self.limit) * (1 + 1e-6)
        self._clock, self._sleep = clock, sleep
        self._next_slot: float | None = None
        self._windowed = rate_per_second <= MAX_WINDOWED_RATE
        self._recent: deque[float] = deque(maxlen=self.limit if self._windowed else 1)
        self._lock = threading.Lock()
        self.granted: deque[float] = deque(maxlen=HISTORY)  # recent send starts, for benchmarks and tests

    def acquire(self, should_stop: Callable[[], bool] = lambda: False) -> bool:
        """Wait until a send may start, and count it as started.

        False (nothing counted) if `should_stop` turns true while waiting.
        """
        started = self._clock()
        try:
            if not self._wait_until(self._reserve_slot(), should_stop):
                return False
            while (opens_at := self._try_start()) is not None:
                if not self._wait_until(opens_at, should_stop):
                    return False
            return True
        finally:
            if (waited := self._clock() - started) >= COUNTED_WAIT_SECONDS:
                RATE_LIMIT_WAITS.inc()
                RATE_LIMIT_WAIT_SECONDS.inc(waited)

    def _reserve_slot(self) -> float:
        with self._lock:
            now = self._clock()
            slot = now if self._next_slot is None else max(now, self._next_slot)
            self._next_slot = slot + self.interval_seconds
            return slot

    def _try_start(self) -> float | None:
        """Count a start now if the window has room (None); otherwise when it will have room.

        Compared by difference, as the window is measured (`now - oldest >= window`); the wait
        ends a microsecond past the edge, so that rounding never puts a start on it."""
        with self._lock:
            now = self._clock()
            if self._windowed and len(self._recent) == self.limit:
                oldest = self._recent[0]
                if now - oldest < WINDOW_SECONDS:
                    return oldest + WINDOW_SECONDS + EDGE_SECONDS
            self._recent.append(now)
            self.granted.append(now)
            return None

    def _wait_until(self, moment: float, should_stop: Callable[[], bool]) -> bool:
        while (remaining := moment - self._clock()) > 0:
            if should_stop():
                return False
            self._sleep(min(remaining, WAIT_SLICE_SECONDS))
        return True
