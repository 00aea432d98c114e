"""Learners' replies as received (`inbound_messages`) and the answers graded from them (`answers`)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ekatra.extensions import UTCDateTime, db

ANSWERED, UNMATCHED, HELP, OPTED_OUT, OPTED_IN = "answered", "unmatched", "help", "opted_out", "opted_in"
RELEASED = "released"  # WhatsApp: the reply opened the window and released held content
RESUMED = "resumed"  # the learner was paused for silence; this message resumed them


class InboundMessage(db.Model):
    """One message a learner sent us, stored once: Twilio retries the webhook with the same
    `provider_sid`, which is unique, so a retry changes nothing.

    `outcome`: `answered` (graded, an `answers` row), `opted_out` / `opted_in` (a keyword),
    `help` (HELP, or the help text sent for an unmatched reply), `unmatched` (no open
    question), `released` (a WhatsApp reply that opened the window and released the content
    held for it, and is not an answer to the open question), `resumed` (RESUME, or any message that
    is no answer, from a learner paused for silence: it resumed them). `help_day` is the UTC date the
    help text went to this phone for an unmatched reply: unique per (phone, channel), so it
    goes at most once a day (per mode). `livemode` false: a reply through the test provider
    (the sandbox, see `signatures`), read against test learners only.
    """

    __tablename__ = "inbound_messages"
    __table_args__ = (
        UniqueConstraint("from_phone", "channel", "livemode", "help_day"),
        Index("ix_inbound_messages_from", "from_phone", "channel", "received_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_sid: Mapped[str] = mapped_column(String(64), unique=True)
    from_phone: Mapped[str] = mapped_column(String(40))
    to_phone: Mapped[str | None] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(16))
    body: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    student_id: Mapped[int | None] = mapped_column(ForeignKey("students.id", ondelete="SET NULL"))
    question_id: Mapped[int | None] = mapped_column(ForeignKey("questions.id", ondelete="SET NULL"))
    delivery_id: Mapped[int | None] = mapped_column(ForeignKey("deliveries.id", ondelete="SET NULL"))
    outcome: Mapped[str] = mapped_column(String(16), default=UNMATCHED)
    help_day: Mapped[date | None]
    livemode: Mapped[bool] = mapped_column(default=True)


class Answer(db.Model):
    """A learner's graded reply to one question of one delivery.

    `is_correct` is null for an `open` question (stored ungraded). One answer per
    (enrollment, question): the first reply counts, a second goes to the next open question.
    """

    __tablename__ = "answers"
    __table_args__ = (UniqueConstraint("enrollment_id", "question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int | None] = mapped_column(
        ForeignKey("students.id", ondelete="SET NULL"), index=True)
    question_id: Mapped[int | None] = mapped_column(ForeignKey("questions.id", ondelete="SET NULL"))
    delivery_id: Mapped[int] = mapped_column(ForeignKey("deliveries.id", ondelete="CASCADE"), index=True)
    enrollment_id: Mapped[int] = mapped_column(ForeignKey("enrollments.id", ondelete="CASCADE"))
    inbound_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("inbound_messages.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    is_correct: Mapped[bool | None]
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime)
