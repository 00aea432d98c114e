"""The outbox: every text Ekatra sends is a row here before it is sent."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    select,
    text,
    update,
)
from sqlalchemy.orm import Mapped, mapped_column

from ekatra.extensions import UTCDateTime, db

PENDING, SENDING, SENT = "pending", "sending", "sent"
DELIVERED, READ, UNDELIVERED, FAILED = "delivered", "read", "undelivered", "failed"
CANCELLED, SKIPPED = "cancelled", "skipped"
UNSENT = (PENDING, SENDING)

# Ids grow past 2**31 on a busy outbox; SQLite's rowid is 64-bit already.
BigId = BigInteger().with_variant(Integer, "sqlite")


class Message(db.Model):
    """One outbound text.

    Lifecycle: `pending` → (claimed by a worker, with a lease) `sending` → `sent` (the
    provider accepted it; `provider_sid` stored) → `delivered` / `read` / `undelivered` /
    `failed` (from status callbacks). Other ends: `cancelled` (delivery stopped, student
    removed) and `skipped` (the phone opted out).

    - A retryable failure (429, 5xx, timeout) puts the row back to `pending` with
      `next_attempt_at` later; other provider errors make it `failed` at once, with
      `provider_error_code` and `provider_error_message`.
    - A `sending` row whose `lease_until` passed belonged to a worker that died: it is
      reconciled with the provider before it is sent again.
    - Status callbacks never move a message backwards (`delivered` never becomes `sent`).
    - (enrollment, day, part) is unique: planning a day twice cannot create a second copy.

    Built for the planner's bulk INSERTs (a day for 100,000 learners is 200,000 rows): the
    claim, lease and provider-sid indexes are partial, so a freshly planned row enters only the
    primary key, the unique key, the claim index and the per-delivery index; and the only
    per-row foreign-key check is the delivery's (whose deletion removes its messages).
    `enrollment_id` is not a foreign key: enrollments are deleted only with their delivery (or
    by the partner API, which deletes their messages first); the learner is found through the
    enrollment. `question_id` is not one either: deleting a question clears it in its course's
    messages (`forget_questions`), as ON DELETE SET NULL did.
    """

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("enrollment_id", "day_number", "part"),
        Index("ix_messages_claim", "next_attempt_at", "id", postgresql_where=text("status = 'pending'"),
              sqlite_where=text("status = 'pending'")),
        Index("ix_messages_delivery_status", "delivery_id", "status"),
        Index("ix_messages_lease", "lease_until", postgresql_where=text("status = 'sending'"),
              sqlite_where=text("status = 'sending'")),
        Index("uq_messages_provider_sid", "provider_sid", unique=True,
              postgresql_where=text("provider_sid IS NOT NULL"),
              sqlite_where=text("provider_sid IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    delivery_id: Mapped[int | None] = mapped_column(
        ForeignKey("deliveries.id", ondelete="CASCADE"))
    # Indexed by the unique (enrollment_id, day_number, part): one index fewer per planned row.
    enrollment_id: Mapped[int | None]
    day_number: Mapped[int | None]
    part: Mapped[str] = mapped_column(String(40))
    sequence: Mapped[int] = mapped_column(default=0)
    question_id: Mapped[int | None]
    channel: Mapped[str] = mapped_column(String(16))
    to_phone: Mapped[str] = mapped_column(String(40))
    from_phone: Mapped[str | None] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    segments: Mapped[int] = mapped_column(default=1)
    encoding: Mapped[str] = mapped_column(String(8), default="GSM-7")
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    # When the row may next be claimed: `due_at` at first, later after a retry's backoff.
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    provider_sid: Mapped[str | None] = mapped_column(String(64))
    provider_status: Mapped[str | None] = mapped_column(String(20))
    provider_error_code: Mapped[int | None]
    provider_error_message: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


def forget_questions(course_id: int, question_ids: list[int]) -> None:
    """Questions of this course are being deleted: its deliveries' messages stop naming them, so
    a reply to one is not graded against a question that is gone (or, on SQLite, against a new
    question that reuses its id)."""
    from ekatra.deliveries.models import Delivery

    if question_ids:
        db.session.execute(
            update(Message)
            .where(Message.delivery_id.in_(select(Delivery.id).where(Delivery.course_id == course_id)),
                   Message.question_id.in_(question_ids))
            .values(question_id=None), execution_options={"synchronize_session": False})
