"""Sending the outbox: claim a batch, send it concurrently under a rate limit, write back in bulk.

No database transaction is open while a request is with the provider: the claim commits,
the sends run on a thread pool that never touches the database, and the results are
written back in one transaction when the batch is done.
"""

from __future__ import annotations

import logging
import random
import time
import weakref
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ekatra.outbox import claims
from ekatra.outbox.claims import ClaimedMessage
from ekatra.outbox.ratelimit import RateLimiter
from ekatra.outbox.twilio import UNSUBSCRIBED, ProviderError, SendResult

log = logging.getLogger(__name__)

BATCH_SIZE = 500
LEASE_SECONDS = 60
MAX_ATTEMPTS = 6
BACKOFF_BASE_SECONDS = 2.0
BACKOFF_CAP_SECONDS = 300.0  # 5 minutes
TICK_BUDGET_SECONDS = 50.0  # dispatch_until_idle returns after this, so that other jobs get a turn


def _never() -> bool:
    return False


@dataclass
class DispatchStats:
    """What one batch (or several) did. `opted_out`: (to, channel) answered with 21610."""

    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    released: int = 0
    opted_out: list[tuple[str, str]] = field(default_factory=list)

    def add(self, other: DispatchStats) -> None:
        self.claimed += other.claimed
        self.sent += other.sent
        self.retried += other.retried
        self.failed += other.failed
        self.released += other.released
        self.opted_out.extend(other.opted_out)


def backoff_seconds(attempts: int, rng: random.Random | None = None) -> float:
    """Exponential backoff with full jitter: uniform in [0, min(cap, base * 2^(attempts-1))]."""
    ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0))
    return (rng or random).uniform(0, ceiling)


_limiters: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def limiter_for(sender, rate_per_second: float) -> RateLimiter:
    """The one rate limit of this sender in this process, kept across batches."""
    limiter = _limiters.get(sender)
    if limiter is None or limiter.rate_per_second != rate_per_second:
        limiter = _limiters[sender] = RateLimiter(rate_per_second)
    return limiter


@dataclass
class _Outcome:
    message: ClaimedMessage
    result: SendResult | None = None
    error: ProviderError | None = None
    is_released: bool = False
    sent_at: datetime | None = None


def _send_in_order(sender, messages: list[ClaimedMessage], limiter: RateLimiter, now_fn,
                   should_stop, margin: timedelta) -> list[_Outcome]:
    """One learner's messages, one after another; what is not handed over is released."""
    outcomes = []
    for message in messages:
        if should_stop() or now_fn() + margin >= message.lease_until or not limiter.acquire(should_stop):
            outcomes.append(_Outcome(message, is_released=True))
            continue
        try:
            result = sender.send(message.to_phone, message.body, message.channel)
            outcomes.append(_Outcome(message, result=result, sent_at=now_fn()))
        except ProviderError as error:
            outcomes.append(_Outcome(message, error=error))
        except Exception as error:  # a bug or an unexpected library error: ask before resending
            log.exception("sending message %s failed unexpectedly", message.id)
            outcomes.append(_Outcome(message, error=ProviderError(
                None, None, f"{type(error).__name__}: {error}", retryable=True, may_have_been_accepted=True)))
    return outcomes


def _write_outcomes(outcomes: list[_Outcome], now: datetime, max_attempts: int,
                    rng: random.Random | None, stats: DispatchStats) -> None:
    rows = defaultdict(list)
    for outcome in outcomes:
        message, error = outcome.message, outcome.error
        held = {"b_id": message.id, "b_claimed_at": message.claimed_at}
        if outcome.is_released:
            rows["released"].append(held)
            stats.released += 1
        elif outcome.result is not None:
            result = outcome.result
            rows["sent"].append({**held, "b_sid": result.sid, "b_provider_status": result.status,
                                 "b_segments": result.segments, "b_sent_at": outcome.sent_at})
            stats.sent += 1
        elif error.retryable and error.may_have_been_accepted:
            retry_at = now + timedelta(seconds=backoff_seconds(message.attempts, rng))
            rows["unresolved"].append({**held, "b_lease_until": retry_at, "b_code": error.code,
                                       "b_message": error.message})
            stats.retried += 1
        elif error.retryable and message.attempts < max_attempts:
            retry_at = now + timedelta(seconds=backoff_seconds(message.attempts, rng))
            rows["retry"].append({**held, "b_next_attempt_at": retry_at, "b_code": error.code,
                                  "b_message": error.message})
            stats.retried += 1
        else:
            rows["failed"].append({**held, "b_code": error.code, "b_message": error.message})
            stats.failed += 1
            if error.code == UNSUBSCRIBED:
                stats.opted_out.append((message.to_phone, message.channel))
    claims.write_back(now, **rows)


def dispatch_once(sender, now_fn: Callable[[], datetime], *, batch_size: int = BATCH_SIZE,
                  concurrency: int = 32, rate_per_second: float = 50.0, lease_seconds: float = LEASE_SECONDS,
                  max_attempts: int = MAX_ATTEMPTS, should_stop: Callable[[], bool] = _never,
                  rate_limiter: RateLimiter | None = None, rng: random.Random | None = None) -> DispatchStats:
    """Claim one batch of due messages, send it, write back what happened.

    - success: `sent`, with the provider's sid, status and segment count;
    - 429, 5xx, connection errors: back to `pending` after exponential backoff with full
      jitter, or `failed` once `max_attempts` claims were made; when the request may have
      reached the provider (a read timeout), the row stays `sending` until the backoff ends
      and the lease recovery asks the provider before sending again;
    - other provider errors: `failed` with the provider's code and text (21610 is also
      reported in `opted_out`);
    - not handed to the provider (`should_stop()` turned true, the lease is too short for
      another request): released back to `pending`, the attempt not counted.

    A send starts only while the lease has at least twice the sender's timeout left, so a
    request never outlives its lease and the recovery never races a live worker.
    """
    limiter = rate_limiter or limiter_for(sender, rate_per_second)
    margin = timedelta(seconds=2 * getattr(sender, "timeout_seconds", 10.0))
    if timedelta(seconds=lease_seconds) <= margin:
        raise ValueError(f"lease_seconds must exceed twice the send timeout ({margin.total_seconds():g} s)")
    # No more than can be sent well inside the lease at this rate.
    affordable = int(limiter.rate_per_second * (lease_seconds - margin.total_seconds()) / 2)
    stats = DispatchStats()
    if should_stop():
        return stats
    claimed = claims.claim_batch(now_fn(), min(batch_size, max(affordable, 1)), lease_seconds)
    stats.claimed = len(claimed)
    if not claimed:
        return stats
    by_learner: dict[tuple[str, str], list[ClaimedMessage]] = defaultdict(list)
    for message in claimed:
        by_learner[message.learner].append(message)
    outcomes: list[_Outcome] = []
    with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(by_learner))),
                            thread_name_prefix="outbox-send") as pool:
        futures = [pool.submit(_send_in_order, sender, group, limiter, now_fn, should_stop, margin)
                   for group in by_learner.values()]
        for future in futures:
            outcomes.extend(future.result())
    _write_outcomes(outcomes, now_fn(), max_attempts, rng, stats)
    return stats


def dispatch_until_idle(sender, now_fn: Callable[[], datetime], *,
                        budget_seconds: float = TICK_BUDGET_SECONDS, should_stop: Callable[[], bool] = _never,
                        monotonic: Callable[[], float] = time.monotonic, **settings) -> DispatchStats:
    """Dispatch batch after batch while there is due work, time is left and no stop is asked.

    `settings` are those of `dispatch_once`. Logs one line per batch.
    """
    total = DispatchStats()
    deadline = monotonic() + budget_seconds
    while not should_stop() and monotonic() < deadline:
        stats = dispatch_once(sender, now_fn, should_stop=should_stop, **settings)
        total.add(stats)
        if stats.claimed == 0:
            break
        log.info("outbox batch: claimed %d, sent %d, retried %d, failed %d, released %d",
                 stats.claimed, stats.sent, stats.retried, stats.failed, stats.released)
    return total
