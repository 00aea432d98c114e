"""The outbox: every text Ekatra sends is a row here before it is sent; and the phones that
opted out, which it does not message."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from ekatra.extensions import UTCDateTime, db

PENDING, SENDING, SENT = "pending", "sending", "sent"
WAITING, HELD = "waiting", "held"
DELIVERED, READ, UNDELIVERED, FAILED = "delivered", "read", "undelivered", "failed"
CANCELLED, SKIPPED = "cancelled", "skipped"
UNSENT = (WAITING, PENDING, HELD, SENDING)  # not yet handed to the provider
NOT_CLAIMED = (WAITING, PENDING, HELD)  # unsent, and no worker holds them
ENDED_SENDING = (SENT, FAILED, CANCELLED, SKIPPED)  # the next part of the day may go

# Why a row is `held` (or, on a `sending` row, what its write-back turns into if not sent).
PAUSED_REASON = "paused"  # the delivery is paused: `held` until it resumes
STOPPED_REASON = "stopped"  # the delivery stopped or the learner left: `cancelled`
OPTED_OUT_REASON = "opted_out"  # the phone opted out: `skipped`
WINDOW_CLOSED_REASON = "window_closed"  # WhatsApp: `held` until the learner's next message

# Ids grow past 2**31 on a busy outbox; SQLite's rowid is 64-bit already.
BigId = BigInteger().with_variant(Integer, "sqlite")


class Message(db.Model):
    """One outbound text. Only ekatra.outbox writes this table (`outbox.services`, `outbox.claims`).

    Lifecycle:

    - `waiting`: a later part of a learner's day (same enrollment and day, higher `sequence`)
      behind a part not yet sent. When a part ends its sending (`sent`, `failed`, `cancelled`,
      `skipped`) the next `waiting` part of its day becomes `pending`, in the same transaction:
      the parts of a day arrive in order, whichever worker sends them.
    - `pending`: may be claimed once `next_attempt_at` has passed. The claim is one range scan
      of the partial claim index; it joins nothing.
    - `held` (`hold_reason`: `paused`): the delivery is paused. RESUME makes them `pending`
      (due at once) or `waiting` again.
    - `held` (`hold_reason`: `window_closed`): a WhatsApp free-form message outside the learner's
      customer-service window (see `ekatra.outbox.whatsapp`). The learner's next message makes
      them `pending` / `waiting` again, in order (`whatsapp.release_window`).
    - `sending`: claimed by a worker, with a lease (`lease_until`). → `sent` (the provider
      accepted it; `provider_sid` stored) → `delivered` / `read` / `undelivered` / `failed`
      (from status callbacks).
    - Other ends: `cancelled` (delivery stopped, student removed), `skipped` (the phone opted
      out), `failed` (a provider error that is not retried, or too many attempts).

    - A retryable failure (429, 5xx, timeout) puts the row back to `pending` with
      `next_attempt_at` later; other provider errors make it `failed` at once, with
      `provider_error_code` and `provider_error_message`.
    - PAUSE, STOP, a removal or an opt-out while a row is `sending` cannot stop its request; they
      mark the row (`hold_reason` `paused`, `stopped`, `opted_out`) so that, should it come back
      unsent (a retry, a release), it becomes `held`, `cancelled` or `skipped`, never `pending`.
      `hold_reason` is cleared when the row ends, and is set on no other status.
    - A `sending` row whose `lease_until` passed belonged to a worker that died: it is
      reconciled with the provider before it is sent again.
    - Status callbacks never move a message backwards (`delivered` never becomes `sent`).
    - (enrollment, day, part) is unique: planning a day twice cannot create a second copy.
    - `livemode` false: a message to a test learner. It is claimed and recorded like any other
      but sent through the test provider (the sandbox, TWILIO_TEST_*), never the live one; set
      when the message is queued, from its student, so that the claim joins nothing.

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
        Index("ix_messages_window_closed", "to_phone", postgresql_where=text("hold_reason = 'window_closed'"),
              sqlite_where=text("hold_reason = 'window_closed'")),
        # Questions (and reminders, which repeat one) as they are sent: the reminder planner's
        # range scan by delivery and send time (`deliveries.reminders`). A row enters it when
        # sent, not when planned.
        Index("ix_messages_asked", "delivery_id", "sent_at",
              postgresql_where=text("question_id IS NOT NULL AND sent_at IS NOT NULL"),
              sqlite_where=text("question_id IS NOT NULL AND sent_at IS NOT NULL")),
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
    # A template send (WhatsApp opener, quick replies): Twilio's ContentSid and ContentVariables
    # (JSON); `body` is then what the learner reads, for people and for reconciliation.
    content_sid: Mapped[str | None] = mapped_column(String(34))
    content_variables: Mapped[str | None] = mapped_column(Text)
    segments: Mapped[int] = mapped_column(default=1)
    encoding: Mapped[str] = mapped_column(String(8), default="GSM-7")
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    hold_reason: Mapped[str | None] = mapped_column(String(16))
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
    livemode: Mapped[bool] = mapped_column(default=True)


class OptOut(db.Model):
    """A phone that asked not to be messaged on a channel; it holds for every group and delivery.

    The outbox's policy: an opted-out phone is not messaged (its unsent rows are `skipped`).

    Made by a STOP-family keyword (`keyword`), the provider's "unsubscribed" error 21610
    (`provider`) or the API (`api`); `since_at` is when. The row is deleted when the learner
    sends START. At most one row per (phone, channel, livemode): a STOP sent to the test provider
    (the sandbox) opts the phone out of test messages only, and a live STOP of live ones only.
    """

    __tablename__ = "opt_outs"
    __table_args__ = (
        UniqueConstraint("phone", "channel", "livemode"),
        CheckConstraint("channel IN ('sms', 'whatsapp')", name="channel"),
        CheckConstraint("source IN ('keyword', 'provider', 'api')", name="source"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(16))
    since_at: Mapped[datetime] = mapped_column(UTCDateTime)
    source: Mapped[str] = mapped_column(String(16))
    livemode: Mapped[bool] = mapped_column(default=True)


class WhatsAppWindow(db.Model):
    """A WhatsApp learner's customer-service window with one of our senders: free-form messages
    reach them only until `open_until` (Twilio fails them with 63016 afterwards).

    Written by the inbound webhook in the reply's transaction (`last_inbound_at` = the reply's
    time, `open_until` = that + WHATSAPP_WINDOW_SECONDS) and by a 63016 (`open_until` moved back
    to the failure's time, unless the learner wrote after that send). One row per
    (phone, sender); `phone` is E.164, `sender` Twilio's `whatsapp:+…` address.
    """

    __tablename__ = "whatsapp_windows"
    __table_args__ = (UniqueConstraint("phone", "sender"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(20))
    sender: Mapped[str] = mapped_column(String(64))
    last_inbound_at: Mapped[datetime] = mapped_column(UTCDateTime)
    open_until: Mapped[datetime] = mapped_column(UTCDateTime)
