"""Sending recorded events: claim due deliveries, sign and send them, record each attempt, and
schedule retries. The worker's `send_webhooks` job and the test ping call this.

Retry schedule (WEBHOOK_RETRY_SCHEDULE_SECONDS): after the 1st failed attempt wait 5 s, then
5 min, 30 min, 2 h, 5 h, 10 h, 10 h; after the 8th the delivery is `failed` (a replay can send
it again). A 410 Gone disables the endpoint at once; so does failing without a success for
WEBHOOK_DISABLE_AFTER_DAYS (5). The event id and body never change across attempts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update

from ekatra import clock
from ekatra.extensions import db
from ekatra.webhooks.models import (
    FAILED,
    PENDING,
    SENDING,
    SUCCEEDED,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from ekatra.webhooks.sender import Outcome
from ekatra.webhooks.services import PING, _disable, signing_secrets
from ekatra.webhooks.signing import signature_headers

log = logging.getLogger(__name__)

DEFAULT_RETRY_SCHEDULE_SECONDS = (5, 300, 1800, 7200, 18000, 36000, 36000)
DEFAULT_DISABLE_AFTER = timedelta(days=5)
LEASE_SECONDS = 60
BATCH = 50
CONCURRENCY = 8


@dataclass(frozen=True)
class Policy:
    """How the worker retries: the waits after each failed attempt, and when to give up."""

    retry_schedule_seconds: tuple[float, ...] = DEFAULT_RETRY_SCHEDULE_SECONDS
    disable_after: timedelta = DEFAULT_DISABLE_AFTER
    lease_seconds: float = LEASE_SECONDS

    @classmethod
    def from_config(cls, config) -> Policy:
        return cls(tuple(config.get("WEBHOOK_RETRY_SCHEDULE_SECONDS", DEFAULT_RETRY_SCHEDULE_SECONDS)),
                   timedelta(days=float(config.get("WEBHOOK_DISABLE_AFTER_DAYS", 5))),
                   float(config.get("WEBHOOK_LEASE_SECONDS", LEASE_SECONDS)))


@dataclass(frozen=True)
class Claimed:
    delivery_id: int
    endpoint_id: int
    url: str
    secrets: list[str]
    event_id: str
    event: str
    body: bytes
    attempt: int


@dataclass
class Stats:
    sent: int = 0
    failed: int = 0


def _claimable(now: datetime):
    return or_(and_(WebhookDelivery.status == PENDING, WebhookDelivery.next_attempt_at <= now),
               and_(WebhookDelivery.status == SENDING, WebhookDelivery.lease_until <= now))


def claim_due(now: datetime, *, policy: Policy, limit: int = BATCH,
              delivery_ids: list[int] | None = None) -> list[Claimed]:
    """Lease up to `limit` due deliveries of enabled endpoints (skipping rows another worker has
    locked, on PostgreSQL); a `sending` row whose lease ran out is due again."""
    statement = (select(WebhookDelivery.id)
                 .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
                 .where(_claimable(now)).order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
                 .limit(limit))
    if delivery_ids is None:
        statement = statement.where(WebhookEndpoint.is_enabled.is_(True))
    else:  # a ping goes out even to a disabled endpoint: its owner checks it before enabling it
        statement = statement.where(WebhookDelivery.id.in_(delivery_ids))
    if db.engine.dialect.name == "postgresql":
        statement = statement.with_for_update(skip_locked=True, of=WebhookDelivery)
    ids = list(db.session.scalars(statement))
    if not ids:
        db.session.commit()
        return []
    db.session.execute(update(WebhookDelivery).where(WebhookDelivery.id.in_(ids)).values(
        status=SENDING, attempts=WebhookDelivery.attempts + 1,
        lease_until=now + timedelta(seconds=policy.lease_seconds), updated_at=now),
        execution_options={"synchronize_session": False})
    rows = db.session.execute(
        select(WebhookDelivery, WebhookEndpoint, WebhookEvent)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
        .where(WebhookDelivery.id.in_(ids)).order_by(WebhookDelivery.id)
        .execution_options(populate_existing=True)).all()
    claimed = [Claimed(delivery.id, endpoint.id, endpoint.url, signing_secrets(endpoint, now), event.id,
                       event.event, event.body.encode("utf-8"), delivery.attempts)
               for delivery, endpoint, event in rows]
    db.session.commit()
    return claimed


def _send(sender, item: Claimed, wall_clock: Callable[[], datetime]) -> Outcome:
    # Signed with the real time: receivers refuse a webhook-timestamp far from their clock.
    headers = signature_headers(item.event_id, item.body, secrets_newest_first=item.secrets,
                                sent_at=wall_clock())
    try:
        return sender.send(item.url, item.body, headers)
    except Exception as problem:  # a bug in a sender must not lose the claim's outcome
        log.exception("webhook sender failed")
        return Outcome(None, f"Internal error: {problem.__class__.__name__}", 0)


def record_outcome(item: Claimed, outcome: Outcome, now: datetime, policy: Policy) -> None:
    """The attempt in the log; the delivery done, retried later or failed; the endpoint's
    failure streak, and its disabling on 410 or after failing too long. No commit."""
    db.session.add(WebhookAttempt(
        endpoint_id=item.endpoint_id, event_id=item.event_id, event=item.event, attempt=item.attempt,
        is_success=outcome.is_success, response_code=outcome.response_code, error=outcome.error,
        attempted_at=now, duration_ms=outcome.duration_ms))
    endpoint = db.session.get(WebhookEndpoint, item.endpoint_id)
    values = {"last_response_code": outcome.response_code, "last_error": outcome.error,
              "lease_until": None, "updated_at": now}
    if outcome.is_success:
        values.update(status=SUCCEEDED, next_attempt_at=None)
        if endpoint is not None and item.event != PING:
            endpoint.failing_since = None
    elif item.event == PING or item.attempt > len(policy.retry_schedule_seconds):
        values.update(status=FAILED, next_attempt_at=None)
    else:
        wait = timedelta(seconds=policy.retry_schedule_seconds[item.attempt - 1])
        values.update(status=PENDING, next_attempt_at=now + wait)
    db.session.execute(update(WebhookDelivery).where(WebhookDelivery.id == item.delivery_id,
                                                     WebhookDelivery.status == SENDING).values(**values),
                       execution_options={"synchronize_session": False})
    if outcome.is_success or endpoint is None or item.event == PING or not endpoint.is_enabled:
        return
    if outcome.response_code == 410:
        _disable(endpoint, f"The endpoint answered 410 Gone at {now:%Y-%m-%d %H:%M:%S} UTC.", now)
        return
    endpoint.failing_since = endpoint.failing_since or now
    if now - endpoint.failing_since >= policy.disable_after:
        days = policy.disable_after.total_seconds() / 86400
        _disable(endpoint, f"Every attempt failed for {days:g} days, since "
                           f"{endpoint.failing_since:%Y-%m-%d %H:%M:%S} UTC; the last: {outcome.error}", now)


def send_due(sender, now: datetime, *, policy: Policy | None = None, limit: int = BATCH,
             concurrency: int = CONCURRENCY, wall_clock: Callable[[], datetime] = clock.now,
             delivery_ids: list[int] | None = None) -> Stats:
    """Send one batch of due deliveries (concurrently), then record every outcome."""
    policy = policy or Policy()
    claimed = claim_due(now, policy=policy, limit=limit, delivery_ids=delivery_ids)
    stats = Stats()
    if not claimed:
        return stats
    if len(claimed) == 1 or concurrency <= 1:
        outcomes = [_send(sender, item, wall_clock) for item in claimed]
    else:
        with ThreadPoolExecutor(max_workers=min(concurrency, len(claimed))) as pool:
            outcomes = list(pool.map(lambda item: _send(sender, item, wall_clock), claimed))
    for item, outcome in zip(claimed, outcomes, strict=True):
        record_outcome(item, outcome, now, policy)
        stats.sent += outcome.is_success
        stats.failed += not outcome.is_success
    db.session.commit()
    return stats


def send_until_idle(sender, clock_now: Callable[[], datetime], *, policy: Policy | None = None,
                    should_stop: Callable[[], bool] = lambda: False, max_batches: int = 20) -> Stats:
    """Batches until nothing is due (or `max_batches`, so one run never holds the job for long)."""
    policy = policy or Policy()
    total = Stats()
    for _ in range(max_batches):
        if should_stop():
            break
        stats = send_due(sender, clock_now(), policy=policy)
        total.sent, total.failed = total.sent + stats.sent, total.failed + stats.failed
        if stats.sent + stats.failed < BATCH:
            break
    return total


def ping(sender, owner, endpoint_id: int, *, now: datetime, wall_clock: Callable[[], datetime] = clock.now,
         policy: Policy | None = None) -> WebhookAttempt:
    """Send a `ping` event to the endpoint at once (even a disabled one, to check it before
    enabling it again) and return the logged attempt. A ping is never retried and changes
    nothing about the endpoint."""
    from ekatra.webhooks.services import queue_ping

    delivery = queue_ping(owner, endpoint_id, now=now)
    send_due(sender, now, policy=policy or Policy(), delivery_ids=[delivery.id], wall_clock=wall_clock)
    return db.session.scalar(select(WebhookAttempt).where(
        WebhookAttempt.endpoint_id == delivery.endpoint_id,
        WebhookAttempt.event_id == delivery.event_id).order_by(WebhookAttempt.id.desc()))
