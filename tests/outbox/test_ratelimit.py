"""The send-rate limit: no one-second window holds more sends than the rate (virtual time; real
threads share it in one test)."""

from __future__ import annotations

import random
import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ekatra.bench.report import max_in_window
from ekatra.outbox.ratelimit import WINDOW_SECONDS, RateLimiter


class VirtualTime:
    def __init__(self, start: float = 1000.0):
        self.now = start

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def busiest_second(times: list[float]) -> int:
    """The most events in any half-open window [t, t + 1 s)."""
    times = sorted(times)
    best, start = 0, 0
    for end, moment in enumerate(times):
        while moment - times[start] >= 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best


@given(rate=st.sampled_from([1, 3, 10, 50, 200]), idle=st.lists(st.floats(0, 2), max_size=30))
def test_no_one_second_window_exceeds_the_rate(rate, idle):
    time = VirtualTime()
    limiter = RateLimiter(rate, clock=time.clock, sleep=time.sleep)
    sends = []
    for pause in [0.0] * (3 * rate) + idle:
        time.sleep(pause)
        assert limiter.acquire()
        sends.append(time.now)
    assert busiest_second(sends) <= rate


def test_a_waiting_sender_gives_up_its_slot_when_asked_to_stop():
    time = VirtualTime()
    limiter = RateLimiter(1, clock=time.clock, sleep=time.sleep)
    assert limiter.acquire()
    assert limiter.acquire(should_stop=lambda: True) is False


def test_the_rate_must_be_positive():
    with pytest.raises(ValueError):
        RateLimiter(0)


def test_a_steady_stream_is_paced_to_the_limit_per_window():
    time = VirtualTime()
    limiter = RateLimiter(50, clock=time.clock, sleep=time.sleep)
    for _ in range(200):
        assert limiter.acquire()
    starts = list(limiter.granted)
    gaps = [later - earlier for earlier, later in zip(starts, starts[1:], strict=False)]
    assert min(gaps) >= WINDOW_SECONDS / 50, "evenly spaced, never bunched"
    assert max_in_window(starts, WINDOW_SECONDS) == 50


class LateWaker(VirtualTime):
    """Virtual time shared by simulated threads; `sleep` can overshoot, as a thread woken late does."""

    def __init__(self, lateness: list[float]):
        super().__init__()
        self.lateness = iter(lateness)

    def sleep(self, seconds: float) -> None:
        self.now += seconds + next(self.lateness, 0.0)


@given(rate=st.sampled_from([2, 7, 20, 100]),
       lateness=st.lists(st.sampled_from([0.0, 0.0, 0.001, 0.05, 0.4]), min_size=10, max_size=200))
def test_no_window_exceeds_the_limit_whatever_the_wake_ups(rate, lateness):
    time = LateWaker(lateness)
    limiter = RateLimiter(rate, clock=time.clock, sleep=time.sleep)
    for _ in range(len(lateness)):
        assert limiter.acquire()
    assert max_in_window(limiter.granted, WINDOW_SECONDS) <= rate


class SharedVirtualTime(VirtualTime):
    """Virtual time shared by real threads: any thread's sleep moves every thread's clock, and a
    third of the sleeps overshoot by 30 ms, as a thread that loses the GIL or the CPU wakes late."""

    def __init__(self):
        super().__init__()
        self.lock = threading.Lock()
        self.lateness = random.Random(40)

    def clock(self) -> float:
        with self.lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.now += seconds + self.lateness.choice([0, 0, 0.03])


def test_threads_sharing_a_limiter_never_start_more_than_the_limit_in_a_window():
    # Real threads contending for the limiter; time moves only when one of them sleeps (so other
    # threads' waits end early or late relative to their own). The guarantee is on the limiter's
    # own start times, whatever the interleaving.
    time = SharedVirtualTime()
    limiter = RateLimiter(40, clock=time.clock, sleep=time.sleep)
    threads = [threading.Thread(target=lambda: [limiter.acquire() for _ in range(6)]) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(limiter.granted) == 72
    assert max_in_window(limiter.granted, WINDOW_SECONDS) <= 40


def test_a_fractional_rate_allows_its_whole_part_per_window():
    time = VirtualTime()
    limiter = RateLimiter(2.5, clock=time.clock, sleep=time.sleep)
    for _ in range(10):
        assert limiter.acquire()
    assert limiter.limit == 2
    assert max_in_window(limiter.granted, WINDOW_SECONDS) == 2


def test_a_sender_waiting_for_the_window_gives_up_when_asked_to_stop():
    time = VirtualTime()
    limiter = RateLimiter(3, clock=time.clock, sleep=time.sleep)
    for _ in range(3):
        assert limiter.acquire()
    limiter._next_slot = None  # the pacer would let it go: only the window holds it back
    assert limiter.acquire(should_stop=lambda: True) is False
    assert len(limiter.granted) == 3, "a send given up is not counted"
