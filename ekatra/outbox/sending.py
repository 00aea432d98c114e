"""The sending side of dispatch: sender threads that never touch the database.

`SendPool` is a worker's sender threads, kept for its life. `Pipeline` carries claimed
messages to them in per-learner lanes (one learner's messages go out one after another, in
claim order, across batches too) and hands each `Outcome` back to the dispatching thread.
`SendRules` is what every send checks before it starts: stop asked, lease long enough, a rate
slot.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from time import perf_counter

from ekatra.metrics import SEND_LATENCY
from ekatra.outbox.claims import ClaimedMessage
from ekatra.outbox.ratelimit import RateLimiter
from ekatra.outbox.twilio import ProviderError, SendResult

log = logging.getLogger(__name__)


@dataclass
class Outcome:
    message: ClaimedMessage
    result: SendResult | None = None
    error: ProviderError | None = None
    is_released: bool = False
    sent_at: datetime | None = None


@dataclass(frozen=True)
class SendRules:
    """What every send of one dispatch run checks before it starts."""

    sender: object
    limiter: RateLimiter
    now_fn: Callable[[], datetime]
    should_stop: Callable[[], bool]
    margin: timedelta  # the lease left that a send needs: twice the sender's timeout
    test_sender: object = None  # test learners' messages (`livemode` false): the test provider

    def sender_for(self, message: ClaimedMessage):
        """The live sender, or for a test learner's message the test one: never the live one."""
        if message.livemode:
            return self.sender
        if self.test_sender is None:
            raise ProviderError(None, None, "a test message, and no test provider (TWILIO_TEST_API_BASE_URL) "
                                "is configured", retryable=False)
        return self.test_sender

    @property
    def whatsapp_sender(self) -> str | None:
        """The sender's WhatsApp address, whose windows count (None: any of ours)."""
        return getattr(self.sender, "whatsapp_from", None) or None

    def lease_too_short(self, message: ClaimedMessage) -> bool:
        return self.now_fn() + self.margin >= message.lease_until

    def send(self, message: ClaimedMessage) -> Outcome:
        """Hand one message to the provider, or release it (stopping, lease too short)."""
        if self.should_stop() or self.lease_too_short(message):
            return Outcome(message, is_released=True)
        if not self.limiter.acquire(self.should_stop) or self.lease_too_short(message):
            return Outcome(message, is_released=True)  # a rate slot waited for past the margin
        started = perf_counter()
        try:
            sender = self.sender_for(message)
            if message.content_sid:
                result = sender.send(message.to_phone, message.body, message.channel,
                                          content_sid=message.content_sid,
                                          content_variables=message.content_variables)
            else:
                result = sender.send(message.to_phone, message.body, message.channel)
            return Outcome(message, result=result, sent_at=self.now_fn())
        except ProviderError as error:
            return Outcome(message, error=error)
        except Exception as error:  # a bug or an unexpected library error: ask before resending
            log.exception("sending message %s failed unexpectedly", message.id)
            return Outcome(message, error=ProviderError(
                None, None, f"{type(error).__name__}: {error}", retryable=True, may_have_been_accepted=True))
        finally:
            SEND_LATENCY.labels(message.channel).observe(perf_counter() - started)


class SendPool:
    """The sender threads of one worker, kept across batches and dispatch runs.

    `concurrency` threads take work in the order it was submitted; they never touch the
    database. `close()` lets the work already submitted finish, then ends the threads; a
    closed pool refuses work (RuntimeError). Usable as a context manager.
    """

    def __init__(self, concurrency: int):
        self.concurrency = max(1, concurrency)
        self._work: queue.SimpleQueue[tuple[Callable[..., object], tuple] | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self.closed = False
        self._threads = [threading.Thread(target=self._serve, name=f"outbox-send-{number}", daemon=True)
                         for number in range(self.concurrency)]
        for thread in self._threads:
            thread.start()

    def submit(self, work: Callable[..., object], *args) -> None:
        with self._lock:
            if self.closed:
                raise RuntimeError("the send pool is closed")
            self._work.put((work, args))

    def _serve(self) -> None:
        while (item := self._work.get()) is not None:
            work, args = item
            try:
                work(*args)
            except BaseException:  # the work handed in reports its own failures; keep serving
                log.exception("outbox sender thread: unexpected failure")

    def close(self) -> None:
        with self._lock:
            if self.closed:
                return
            self.closed = True
            for _ in self._threads:
                self._work.put(None)  # after all the work submitted before
        for thread in self._threads:
            thread.join()

    def __enter__(self) -> SendPool:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


@contextmanager
def pool_or_temporary(pool: SendPool | None, concurrency: int) -> Iterator[SendPool]:
    if pool is not None:
        yield pool
        return
    with SendPool(concurrency) as temporary:
        yield temporary


class Pipeline:
    """Claimed messages on their way to the provider, in per-learner lanes on a `SendPool`.

    A learner's messages queue in their lane in claim order; a lane is worked by one thread at
    a time, which takes its messages one after another until the lane is empty. Outcomes come
    back through a queue that only the dispatching thread reads (`collect`). `in_flight` counts
    the messages added whose outcome was not collected yet.
    """

    def __init__(self, pool: SendPool, rules: SendRules):
        self._pool, self._rules = pool, rules
        self._lanes: dict[tuple[str, str], deque[ClaimedMessage]] = {}
        self._lock = threading.Lock()
        self._done: queue.SimpleQueue[Outcome] = queue.SimpleQueue()
        self.in_flight = 0

    def add(self, messages: list[ClaimedMessage]) -> None:
        self.in_flight += len(messages)
        opened = []
        with self._lock:
            for message in messages:
                lane = self._lanes.get(message.learner)
                if lane is None:
                    self._lanes[message.learner] = deque([message])
                    opened.append(message.learner)
                else:
                    lane.append(message)
        for learner in opened:
            try:
                self._pool.submit(self._work_lane, learner)
            except RuntimeError:  # the pool was closed: nothing of this lane is handed over
                self._release_lane(learner)

    def _next_in_lane(self, learner: tuple[str, str]) -> ClaimedMessage | None:
        with self._lock:
            lane = self._lanes[learner]
            if lane:
                return lane.popleft()
            del self._lanes[learner]  # under the lock: a message added later opens a new lane
            return None

    def _work_lane(self, learner: tuple[str, str]) -> None:
        while (message := self._next_in_lane(learner)) is not None:
            try:
                outcome = self._rules.send(message)
            except BaseException as error:  # never lose an outcome: the dispatcher waits for each
                log.exception("outbox: message %s failed before or after its send", message.id)
                outcome = Outcome(message, error=ProviderError(
                    None, None, f"{type(error).__name__}: {error}", retryable=True,
                    may_have_been_accepted=True))
            self._done.put(outcome)

    def _release_lane(self, learner: tuple[str, str]) -> None:
        with self._lock:
            lane = self._lanes.pop(learner)
        for message in lane:
            self._done.put(Outcome(message, is_released=True))

    def collect(self, timeout: float) -> list[Outcome]:
        """The outcomes that came in, waiting up to `timeout` seconds for the first one."""
        outcomes = []
        try:
            outcomes.append(self._done.get(timeout=timeout) if timeout > 0 else self._done.get_nowait())
            while True:
                outcomes.append(self._done.get_nowait())
        except queue.Empty:
            pass
        self.in_flight -= len(outcomes)
        return outcomes
