"""Sending the outbox: claim due messages, send them concurrently under a rate limit, write back.

Guarantees, whatever the pace:

- no database transaction is open while a request is with the provider: claims commit before
  their messages are handed to the sender threads, which never touch the database, and the
  results are written back by the dispatching thread in transactions of their own;
- one learner's messages (one address on one channel) go out one after another, in claim
  order: they queue in the learner's lane and one thread at a time works a lane, across
  batches too;
- a send starts only while its lease has at least twice the sender's timeout left, so no
  request outlives its lease and the recovery never races a live worker; what is not handed
  over in time, or when a stop is asked, is released;
- each result is written back guarded by the claim it belongs to (`claims.record_outcomes`).

`dispatch_until_idle` pipelines: it claims more while the sender threads work, keeping more
messages in flight than there are threads, and writes results back a few hundred at a time as
sends complete, so neither claims nor write-backs leave the threads idle. `dispatch_once`
sends one batch and writes it back in one transaction when all of it is done. Both run on a
`SendPool`, which a worker keeps for its whole life.
"""

from __future__ import annotations

import logging
import random
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ekatra.config import (
    DEFAULT_OUTBOX_LEASE_SECONDS,
    DEFAULT_SEND_CONCURRENCY,
    DEFAULT_SEND_RATE_PER_SECOND,
    DEFAULT_SEND_TIMEOUT_SECONDS,
)
from ekatra.metrics import count_outcomes
from ekatra.outbox import claims
from ekatra.outbox.ratelimit import RateLimiter
from ekatra.outbox.sending import Outcome, Pipeline, SendPool, SendRules, pool_or_temporary
from ekatra.outbox.twilio import UNSUBSCRIBED
from ekatra.outbox.whatsapp import WINDOW_CLOSED

log = logging.getLogger(__name__)

BATCH_SIZE = 500
MAX_ATTEMPTS = 6
BACKOFF_BASE_SECONDS = 2.0
BACKOFF_CAP_SECONDS = 300.0  # 5 minutes
TICK_BUDGET_SECONDS = 50.0  # dispatch_until_idle returns after this, so that other jobs get a turn
WRITE_BACK_ROWS = 250  # results written back together, at most …
WRITE_BACK_SECONDS = 0.2  # … and at the latest this long after the first of them came in
CLAIM_POLL_SECONDS = 0.1  # after a claim found fewer due messages than it could take, wait this long


def _never() -> bool:
    return False


@dataclass(frozen=True)
class DispatchSettings:
    """How a worker dispatches: built once from the configuration (`from_config`)."""

    concurrency: int = DEFAULT_SEND_CONCURRENCY  # sends in flight at once (SEND_CONCURRENCY)
    rate_per_second: float = DEFAULT_SEND_RATE_PER_SECOND  # SEND_RATE_PER_SECOND
    lease_seconds: float = DEFAULT_OUTBOX_LEASE_SECONDS  # OUTBOX_LEASE_SECONDS
    batch_size: int = BATCH_SIZE  # the most messages one claim takes
    max_attempts: int = MAX_ATTEMPTS  # claims of one message before a retryable error fails it
    budget_seconds: float = TICK_BUDGET_SECONDS  # dispatch_until_idle claims no more after this

    @classmethod
    def from_config(cls, config: Mapping) -> DispatchSettings:
        return cls(concurrency=config["SEND_CONCURRENCY"], rate_per_second=config["SEND_RATE_PER_SECOND"],
                   lease_seconds=config["OUTBOX_LEASE_SECONDS"])


DEFAULT_SETTINGS = DispatchSettings()


@dataclass
class DispatchStats:
    """What one batch (or several) did. `opted_out`: (to, channel) answered with 21610 by the live
    provider; `test_opted_out`: by the test provider (test learners' messages)."""

    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    released: int = 0
    held: int = 0  # WhatsApp 63016: held until the learner's window opens
    opted_out: list[tuple[str, str]] = field(default_factory=list)
    test_opted_out: list[tuple[str, str]] = field(default_factory=list)

    def add(self, other: DispatchStats) -> None:
        self.claimed += other.claimed
        self.sent += other.sent
        self.retried += other.retried
        self.failed += other.failed
        self.released += other.released
        self.held += other.held
        self.opted_out.extend(other.opted_out)
        self.test_opted_out.extend(other.test_opted_out)


def backoff_seconds(attempts: int, rng: random.Random | None = None) -> float:
    """Exponential backoff with full jitter: uniform in [0, min(cap, base * 2^(attempts-1))]."""
    ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0))
    return (rng or random).uniform(0, ceiling)


def _write_outcomes(outcomes: list[Outcome], now: datetime, max_attempts: int,
                    rng: random.Random | None, stats: DispatchStats) -> None:
    written: list[claims.Written] = []
    tally: Counter = Counter()  # (outcome, channel, error code): the metrics, once per batch
    for outcome in outcomes:
        message, error = outcome.message, outcome.error
        claim = (message.id, message.claimed_at)
        if outcome.is_released:
            written.append(claims.Released(*claim))
            stats.released += 1
            tally["released", message.channel, None] += 1
        elif outcome.result is not None:
            result = outcome.result
            written.append(claims.Sent(*claim, provider_sid=result.sid, sent_at=outcome.sent_at,
                                       provider_status=result.status, segments=result.segments))
            stats.sent += 1
            tally["sent", message.channel, None] += 1
        elif error.code == WINDOW_CLOSED and message.content_sid is None:  # not lost: held for the window
            written.append(claims.WindowClosed(*claim, to_phone=message.to_phone, error_code=error.code,
                                               error_message=error.message))
            stats.held += 1
            tally["held", message.channel, error.code] += 1
        elif error.retryable and error.may_have_been_accepted:
            retry_at = now + timedelta(seconds=backoff_seconds(message.attempts, rng))
            written.append(claims.Unresolved(*claim, lease_until=retry_at, error_code=error.code,
                                             error_message=error.message))
            stats.retried += 1
            tally["retried", message.channel, error.code] += 1
        elif error.retryable and message.attempts < max_attempts:
            retry_at = now + timedelta(seconds=backoff_seconds(message.attempts, rng))
            written.append(claims.Retry(*claim, next_attempt_at=retry_at, error_code=error.code,
                                        error_message=error.message))
            stats.retried += 1
            tally["retried", message.channel, error.code] += 1
        else:
            written.append(claims.Failed(*claim, error_code=error.code, error_message=error.message))
            stats.failed += 1
            tally["failed", message.channel, error.code] += 1
            if error.code == UNSUBSCRIBED:
                unsubscribed = stats.opted_out if message.livemode else stats.test_opted_out
                unsubscribed.append((message.to_phone, message.channel))
    claims.record_outcomes(now, written)
    count_outcomes(tally)  # after the write: what a scrape counts is in the table


def _send_rules(sender, now_fn, should_stop, limiter: RateLimiter | None,
                settings: DispatchSettings, test_sender=None) -> SendRules:
    lease_seconds = settings.lease_seconds
    margin = timedelta(seconds=2 * getattr(sender, "timeout_seconds", DEFAULT_SEND_TIMEOUT_SECONDS))
    if timedelta(seconds=lease_seconds) <= margin:
        raise ValueError(f"lease_seconds must exceed twice the send timeout ({margin.total_seconds():g} s)")
    # Without the worker's own limiter (kept across runs), the rate holds within this run.
    limiter = limiter or RateLimiter(settings.rate_per_second)
    return SendRules(sender, limiter, now_fn, should_stop, margin, test_sender)


def _affordable(rules: SendRules, lease_seconds: float) -> int:
    """The most messages to hold at once: no more than can be sent well inside the lease at this rate."""
    affordable = rules.limiter.rate_per_second * (lease_seconds - rules.margin.total_seconds()) / 2
    return max(int(affordable), 1)


def dispatch_once(sender, now_fn: Callable[[], datetime], settings: DispatchSettings = DEFAULT_SETTINGS, *,
                  should_stop: Callable[[], bool] = _never, rate_limiter: RateLimiter | None = None,
                  rng: random.Random | None = None, pool: SendPool | None = None,
                  test_sender=None) -> DispatchStats:
    """Claim one batch of due messages, send it, write back what happened (one transaction).

    - success: `sent`, with the provider's sid, status and segment count;
    - 429, 5xx, connection errors: back to `pending` after exponential backoff with full
      jitter, or `failed` once `settings.max_attempts` claims were made; when the request may have
      reached the provider (a read timeout), the row stays `sending` until the backoff ends
      and the lease recovery asks the provider before sending again;
    - other provider errors: `failed` with the provider's code and text (21610 is also
      reported in `opted_out`);
    - not handed to the provider (`should_stop()` turned true, the lease is too short for
      another request): released back to `pending`, the attempt not counted.

    A send starts only while the lease has at least twice the sender's timeout left, so a
    request never outlives its lease and the recovery never races a live worker. Sends run on
    `pool`, or on `settings.concurrency` threads of a pool made for this batch, paced by
    `rate_limiter` (the worker's), or by one at `settings.rate_per_second` made for this batch.
    A test learner's message goes to `test_sender` (the test provider), never to `sender`.
    """
    rules = _send_rules(sender, now_fn, should_stop, rate_limiter, settings, test_sender)
    lease_seconds = settings.lease_seconds
    stats = DispatchStats()
    if should_stop():
        return stats
    claimed = claims.claim_batch(now_fn(), min(settings.batch_size, _affordable(rules, lease_seconds)),
                                 lease_seconds, whatsapp_sender=rules.whatsapp_sender)
    stats.claimed = len(claimed)
    if not claimed:
        return stats
    outcomes: list[Outcome] = []
    with pool_or_temporary(pool, min(settings.concurrency, len(claimed))) as send_pool:
        pipeline = Pipeline(send_pool, rules)
        pipeline.add(claimed)
        while pipeline.in_flight:
            outcomes.extend(pipeline.collect(timeout=WRITE_BACK_SECONDS))
    _write_outcomes(outcomes, now_fn(), settings.max_attempts, rng, stats)
    return stats


class _Dispatcher:
    """One pipelined dispatch run: claims, the pipeline, and the results not yet written back."""

    def __init__(self, pipeline: Pipeline, rules: SendRules, *, batch_size: int, concurrency: int,
                 lease_seconds: float, max_attempts: int, rng: random.Random | None,
                 monotonic: Callable[[], float]):
        self.pipeline, self.rules = pipeline, rules
        self.batch_size, self.lease_seconds = batch_size, lease_seconds
        self.max_attempts, self.rng, self.monotonic = max_attempts, rng, monotonic
        self.affordable = _affordable(rules, lease_seconds)
        # Every thread busy, as many messages queued, and a batch more: the sends go on while a
        # claim takes its time (half a second on a large PostgreSQL backlog).
        self.holding = min(self.affordable, 2 * concurrency + batch_size)
        self.stats = DispatchStats()
        self.unreported = DispatchStats()  # written back since the last log line
        self.unwritten: list[Outcome] = []
        self.first_unwritten_at = 0.0
        self.next_claim_at = monotonic()
        self.found_nothing = False  # the last claim found nothing, and nothing was written since

    def claim(self) -> None:
        """Claim more when fewer than `holding` messages are in flight and a claim is due."""
        if self.pipeline.in_flight >= self.holding or self.monotonic() < self.next_claim_at:
            return
        room = min(self.batch_size, self.affordable - self.pipeline.in_flight)
        claimed = claims.claim_batch(self.rules.now_fn(), room, self.lease_seconds,
                                     whatsapp_sender=self.rules.whatsapp_sender)
        self.stats.claimed += len(claimed)
        self.pipeline.add(claimed)
        self.found_nothing = not claimed
        if len(claimed) < room:  # all that is due now was taken: give new work time to fall due
            self.next_claim_at = self.monotonic() + CLAIM_POLL_SECONDS
        if claimed:
            self.report(len(claimed))

    def report(self, claimed: int) -> None:
        """One log line per claim, and one at the end: what this claim took, and what was written
        back since the previous line (so the lines of a run add up to its totals)."""
        done = self.unreported
        log.info("outbox batch: claimed %d, sent %d, retried %d, failed %d, released %d (%d in flight)",
                 claimed, done.sent, done.retried, done.failed, done.released, self.pipeline.in_flight)
        self.unreported = DispatchStats()

    def collect(self, claiming: bool) -> None:
        """Wait for outcomes, no longer than until a claim or a write-back is due, and keep them."""
        outcomes = self.pipeline.collect(timeout=self._wait(claiming))
        if outcomes and not self.unwritten:
            self.first_unwritten_at = self.monotonic()
        self.unwritten.extend(outcomes)

    def _wait(self, claiming: bool) -> float:
        if self.unwritten and (not self.pipeline.in_flight or len(self.unwritten) >= WRITE_BACK_ROWS):
            return 0.0
        now, wait = self.monotonic(), WRITE_BACK_SECONDS
        if self.unwritten:
            wait = min(wait, self.first_unwritten_at + WRITE_BACK_SECONDS - now)
        if claiming and not self.found_nothing and self.pipeline.in_flight < self.holding:
            wait = min(wait, self.next_claim_at - now)
        return max(wait, 0.0)

    def write_back(self) -> None:
        """Write back what came in, once there is enough of it, it waited long enough, or
        nothing else is in flight."""
        if not self.unwritten:
            return
        if (len(self.unwritten) >= WRITE_BACK_ROWS or not self.pipeline.in_flight
                or self.monotonic() - self.first_unwritten_at >= WRITE_BACK_SECONDS):
            batch = DispatchStats()
            _write_outcomes(self.unwritten, self.rules.now_fn(), self.max_attempts, self.rng, batch)
            self.stats.add(batch)
            self.unreported.add(batch)
            self.unwritten = []
            self.found_nothing = False  # a write-back may let the next part of a day go
            self.next_claim_at = self.monotonic()

    def finished(self, claiming: bool) -> bool:
        return not self.pipeline.in_flight and not self.unwritten and (self.found_nothing or not claiming)


def dispatch_until_idle(sender, now_fn: Callable[[], datetime], settings: DispatchSettings = DEFAULT_SETTINGS,
                        *, should_stop: Callable[[], bool] = _never,
                        monotonic: Callable[[], float] = time.monotonic,
                        rate_limiter: RateLimiter | None = None, rng: random.Random | None = None,
                        pool: SendPool | None = None, test_sender=None) -> DispatchStats:
    """Send what is due, pipelined, while there is due work, time is left and no stop is asked.

    Outcomes are as for `dispatch_once`. At most `settings.batch_size` messages are claimed at a time,
    and more whenever fewer than twice the pool's threads plus a batch are in flight; never more
    are held than the rate can send in half the lease. Once the budget is spent or a stop is
    asked, no more is claimed; what is in flight finishes (or is released) and is written back
    before this returns. Sends run on `pool`, or on `settings.concurrency` threads of a pool made
    for this run. Logs one line per claim. Test learners' messages go to `test_sender` only.
    """
    rules = _send_rules(sender, now_fn, should_stop, rate_limiter, settings, test_sender)
    deadline = monotonic() + settings.budget_seconds
    with pool_or_temporary(pool, settings.concurrency) as send_pool:
        run = _Dispatcher(Pipeline(send_pool, rules), rules, batch_size=settings.batch_size,
                          concurrency=send_pool.concurrency, lease_seconds=settings.lease_seconds,
                          max_attempts=settings.max_attempts, rng=rng, monotonic=monotonic)
        while True:
            claiming = not should_stop() and monotonic() < deadline
            if claiming and not run.found_nothing:
                run.claim()
            if run.finished(claiming):
                break
            run.collect(claiming)
            run.write_back()
    if run.stats.claimed:
        run.report(0)
    return run.stats
