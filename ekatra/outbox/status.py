"""Twilio status callbacks: what the provider says became of a message we sent (the outbox's
write for the provider's word; the inbound webhook calls `record_status`).

A message moves forward only. Ranks: `sent` (Twilio's queued/accepted/sending/sent) <
`undelivered` = `failed` < `delivered` < `read`. A callback that would move a message back
(a late `sent` after `delivered`, `failed` after `delivered`) is ignored; a repeated one
changes nothing. Each update is one conditional UPDATE, so two callbacks for one message
racing each other still end at the higher rank.

WhatsApp's 63016 ("outside the allowed window"), which Twilio reports in the callback, is not a
failure: the window is closed and the message `held` with the rest of the learner's free-form
messages until the learner writes (see `whatsapp`). A row queued again this way keeps the
refused send's sid until it is sent again; later callbacks for that sid leave it alone.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select, update

from ekatra.extensions import db
from ekatra.outbox import services
from ekatra.outbox.claims import promote_next_parts
from ekatra.outbox.models import (
    DELIVERED,
    FAILED,
    HELD,
    PENDING,
    READ,
    SENDING,
    SENT,
    UNDELIVERED,
    WINDOW_CLOSED_REASON,
    Message,
)
from ekatra.outbox.twilio import SMS, WHATSAPP, WHATSAPP_PREFIX
from ekatra.outbox.whatsapp import WINDOW_CLOSED, close_window
from ekatra.transactions import transaction
from ekatra.webhooks import audience

log = logging.getLogger(__name__)

UPDATED, UNCHANGED, UNKNOWN = "updated", "unchanged", "unknown"

RANK = {PENDING: 0, SENDING: 0, SENT: 1, UNDELIVERED: 2, FAILED: 2, DELIVERED: 3, READ: 4}
# Twilio's MessageStatus → our lifecycle. Statuses before `sent` mean the same to us as `sent`.
LIFECYCLE = {"accepted": SENT, "scheduled": SENT, "queued": SENT, "sending": SENT, "sent": SENT,
             "undelivered": UNDELIVERED, "failed": FAILED, "delivered": DELIVERED, "read": READ}
# Within `sent`, Twilio's own steps, so that a late `queued` does not overwrite `sent` either.
ACCEPTED_STEPS = ("accepted", "scheduled", "queued", "sending", "sent")


@dataclass(frozen=True)
class StatusUpdate:
    outcome: str  # updated, unchanged (not forward, or a repeat), unknown (no such sid)
    message_id: int | None = None
    status: str | None = None


def _lower_ranks(status: str) -> list[str]:
    """The statuses a callback may move a message from: not `pending` (a message queued again
    after a 63016, which keeps that send's sid until it goes again)."""
    return [name for name, rank in RANK.items() if rank < RANK[status] and name != PENDING]


def _hold_for_window(message_id: int, error_code: int, error_message: str | None, now: datetime) -> bool:
    """A 63016 for a free-form WhatsApp message: held for the window (once: a repeated callback
    finds it held). True if this callback held it; False if it is not such a message."""
    row = db.session.execute(select(Message.to_phone, Message.channel, Message.content_sid, Message.sent_at,
                                    Message.livemode).where(Message.id == message_id)).first()
    if row is None or row.channel != WHATSAPP or row.content_sid is not None:
        return False
    held = db.session.execute(update(Message).where(
        Message.id == message_id, Message.status.in_((SENDING, SENT))).values(
        status=HELD, hold_reason=WINDOW_CLOSED_REASON, provider_status="failed",
        provider_error_code=error_code, provider_error_message=error_message, lease_until=None,
        updated_at=now)).rowcount
    if held:
        if close_window(row.to_phone, row.sent_at, now):
            services.hold_window_closed(row.to_phone, now)
        else:  # the learner wrote after that send: the window is open again, send it again now
            services.release_window(row.to_phone, now, row.livemode)
        log.info("message %s: outside the WhatsApp window (63016); held for the learner's next message",
                 message_id)
    return True


def _values(status: str, provider_status: str, error_code: int | None, error_message: str | None,
            now: datetime) -> dict:
    values = {"status": status, "provider_status": provider_status, "updated_at": now}
    if status in (FAILED, UNDELIVERED):
        values.update(provider_error_code=error_code, provider_error_message=error_message)
    if status in (DELIVERED, READ):
        values["delivered_at"] = func.coalesce(Message.delivered_at, now)
    return values


def _adopt(provider_sid: str, to: str | None, now: datetime, livemode: bool) -> int | None:
    """A callback that overtook the sender's write-back: the sid belongs to the one message to
    that address still `sending` without a sid. Only our sends name this callback URL, so an
    unknown sid with exactly one such candidate is that message; with more, nothing is guessed."""
    if not to:
        return None
    channel = WHATSAPP if to.startswith(WHATSAPP_PREFIX) else SMS
    candidates = db.session.scalars(select(Message.id).where(
        Message.status == SENDING, Message.provider_sid.is_(None),
        Message.to_phone == to.removeprefix(WHATSAPP_PREFIX), Message.channel == channel,
        Message.livemode.is_(livemode)).limit(2)).all()
    if len(candidates) != 1:
        return None
    adopted = db.session.execute(update(Message).where(
        Message.id == candidates[0], Message.status == SENDING, Message.provider_sid.is_(None)).values(
        status=SENT, provider_sid=provider_sid, sent_at=now, lease_until=None, hold_reason=None,
        updated_at=now))
    if adopted.rowcount != 1:
        return None
    promote_next_parts(candidates, now)
    return candidates[0]


def record_status(provider_sid: str, provider_status: str, *, now: datetime, to: str | None = None,
                  error_code: int | None = None, error_message: str | None = None,
                  livemode: bool = True) -> StatusUpdate:
    """Apply one status callback to the message with this provider sid, sent through the provider
    of this mode (the test provider's callbacks name test messages only). Idempotent; commits."""
    provider_status = provider_status.strip().lower()
    status = LIFECYCLE.get(provider_status)
    with transaction():
        message_id = db.session.scalar(select(Message.id).where(Message.provider_sid == provider_sid,
                                                                Message.livemode.is_(livemode)))
        if message_id is None:
            message_id = _adopt(provider_sid, to, now, livemode)
            if message_id is None:  # nothing was changed
                log.info("status callback %r for unknown message sid %s: acknowledged, ignored",
                         provider_status, provider_sid)
                return StatusUpdate(UNKNOWN)
            log.info("status callback for %s arrived before its send was recorded: message %s",
                     provider_sid, message_id)
        if status is None:  # canceled, partially_delivered, …: nothing in our lifecycle
            log.info("status callback %r for %s: not a lifecycle status, ignored",
                     provider_status, provider_sid)
            return StatusUpdate(UNCHANGED, message_id)
        if error_code == WINDOW_CLOSED and status in (FAILED, UNDELIVERED) and _hold_for_window(
                message_id, error_code, error_message, now):
            db.session.commit()
            return StatusUpdate(UPDATED, message_id, HELD)
        moved = db.session.execute(
            update(Message).where(Message.id == message_id, Message.status.in_(_lower_ranks(status)))
            .values(_values(status, provider_status, error_code, error_message, now)))
        if moved.rowcount == 0 and status == SENT and provider_status in ACCEPTED_STEPS:
            # The same rank: follow Twilio's finer steps (queued → sending → sent), forward only.
            earlier_steps = ACCEPTED_STEPS[:ACCEPTED_STEPS.index(provider_status)]
            moved = db.session.execute(update(Message).where(
                Message.id == message_id, Message.status == SENT,
                or_(Message.provider_status.is_(None), Message.provider_status.in_(earlier_steps)))
                .values(provider_status=provider_status, updated_at=now))
        elif moved.rowcount and status in (FAILED, UNDELIVERED):
            audience.messages_failed([message_id], now)
    return StatusUpdate(UPDATED if moved.rowcount else UNCHANGED, message_id, status)
