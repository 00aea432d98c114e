"""Webhook endpoints, the event outbox (`webhook_events`), one delivery per event and endpoint,
and the log of every attempt."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ekatra.extensions import UTCDateTime, db

PENDING, SENDING, SUCCEEDED, FAILED = "pending", "sending", "succeeded", "failed"


class WebhookEndpoint(db.Model):
    """A URL a partner or an author asked to receive events at; owned by exactly one of them.

    `events` is a JSON list of event names, or ["*"]. `secret` signs every request; after a
    rotation `previous_secret` signs too until `previous_secret_expires_at` (24 h).
    `failing_since` is the first failed attempt after the last success; an endpoint failing
    for 5 days, or answering 410 Gone, is disabled (`is_enabled` false) with `disabled_reason`.
    `livemode`: registered with a test key (false) or not; it receives events of its mode only.
    """

    __tablename__ = "webhook_endpoints"
    __table_args__ = (
        CheckConstraint("(author_id IS NULL) <> (partner_id IS NULL)", name="one_owner"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("authors.id", ondelete="CASCADE"), index=True)
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"),
                                                   index=True)
    url: Mapped[str] = mapped_column(String(2048))
    description: Mapped[str] = mapped_column(String(500), default="")
    events: Mapped[str] = mapped_column(Text)
    secret: Mapped[str] = mapped_column(String(100))
    previous_secret: Mapped[str | None] = mapped_column(String(100))
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    is_enabled: Mapped[bool] = mapped_column(default=True)
    disabled_reason: Mapped[str | None] = mapped_column(String(500))
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    livemode: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class WebhookEvent(db.Model):
    """One event, written in the transaction of the change that caused it. `body` is the exact
    JSON sent (`{"id", "event", "timestamp", "data"}`), fixed once, so every retry sends the same
    bytes under the same id."""

    __tablename__ = "webhook_events"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    event: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class WebhookDelivery(db.Model):
    """An event on its way to one endpoint.

    Lifecycle: `pending` (due at `next_attempt_at`) → `sending` (claimed by a worker until
    `lease_until`) → `succeeded` (a 2xx), or back to `pending` at the next time of the retry
    schedule, or `failed` once the schedule is used up or the endpoint is disabled. A replay
    (POST …/retry) puts a finished delivery back to `pending`, due at once. A lease that ran out
    (its worker died) makes the row claimable again: at least once, never lost.
    """

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("endpoint_id", "event_id"),
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        CheckConstraint("status IN ('pending', 'sending', 'succeeded', 'failed')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    event_id: Mapped[str] = mapped_column(ForeignKey("webhook_events.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_response_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    event: Mapped[WebhookEvent] = relationship(lazy="joined")


class WebhookAttempt(db.Model):
    """The delivery log: one row per request made to an endpoint (retries, replays, pings)."""

    __tablename__ = "webhook_attempts"
    __table_args__ = (Index("ix_webhook_attempts_endpoint", "endpoint_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    event_id: Mapped[str] = mapped_column(String(40))
    event: Mapped[str] = mapped_column(String(64))
    attempt: Mapped[int] = mapped_column(Integer)
    is_success: Mapped[bool]
    response_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(500))
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    duration_ms: Mapped[int] = mapped_column(Integer)
