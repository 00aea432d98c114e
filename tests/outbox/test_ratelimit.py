"""The send-rate limit: no one-second window holds more sends than the rate (virtual time)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ekatra.outbox.ratelimit import RateLimiter


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
