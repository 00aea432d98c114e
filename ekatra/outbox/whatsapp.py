"""WhatsApp's customer-service window: free-form messages reach a learner only within
WHATSAPP_WINDOW_SECONDS (24 hours on WhatsApp) of the learner's last message to us.

The rules, applied by the outbox:
- the inbound webhook records each learner's last message (`record_inbound`, in the reply's
  transaction) and releases what waited for it (`services.release_window`);
- a free-form WhatsApp message is queued `held` (`window_closed`) when its day is planned
  outside the window, and held instead of sent when it is claimed after the window closed
  (`claims.claim_batch`): the opener template goes instead (deliveries.openers);
- Twilio's 63016 ("outside the allowed window"), in the send's answer or in a status
  callback, closes the window (`close_window`) and holds the message again: it is not lost.
Templates (a row with `content_sid`) are never held: they are how a closed window opens.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, case, exists, func, literal, select, update

from ekatra.extensions import db, dialect_insert
from ekatra.outbox.models import WINDOW_CLOSED_REASON, WhatsAppWindow

WINDOW_CLOSED = 63016  # "Failed to send freeform message because you are outside the allowed window"
NOT_A_WHATSAPP_USER = 63024  # the number has no WhatsApp: permanent
RATE_LIMITED = 63018  # the sender's WhatsApp rate limit: retried like a 429
DEFAULT_WINDOW_SECONDS = 24 * 60 * 60
PREFIX = "whatsapp:"
QUICK_REPLY_KINDS = ("boolean", "choice2", "choice3")  # Yes/No; two or three options

windows = WhatsAppWindow.__table__


def sender_address(sender: str) -> str:
    """Twilio's WhatsApp address of a sender: `whatsapp:+1415…`."""
    return sender if sender.startswith(PREFIX) else PREFIX + sender


@dataclass(frozen=True)
class WhatsAppSettings:
    """The deployment's WhatsApp settings (config: TWILIO_WHATSAPP_FROM, WHATSAPP_*)."""

    sender: str | None = None  # None: a window with any of our senders counts
    window_seconds: float = DEFAULT_WINDOW_SECONDS
    opener_content_sid: str = ""
    notice_content_sid: str = ""  # the opener of a message outside a course (services.queue_notice_openers)
    quick_replies: Mapping[str, str] = field(default_factory=dict)  # kind → content sid

    @classmethod
    def from_config(cls, config) -> WhatsAppSettings:
        quick = {kind: config.get(f"WHATSAPP_QUICK_REPLY_{kind.upper()}_CONTENT_SID", "")
                 for kind in QUICK_REPLY_KINDS}
        sender = config.get("TWILIO_WHATSAPP_FROM") or None
        return cls(sender_address(sender) if sender else None,
                   float(config.get("WHATSAPP_WINDOW_SECONDS", DEFAULT_WINDOW_SECONDS)),
                   config.get("WHATSAPP_OPENER_CONTENT_SID", ""),
                   config.get("WHATSAPP_NOTICE_CONTENT_SID", ""),
                   {kind: sid for kind, sid in quick.items() if sid})


def content_variables(values: Iterable[object]) -> str:
    """Twilio's ContentVariables: `{"1": …, "2": …}` as JSON text."""
    return json.dumps({str(number): str(value) for number, value in enumerate(values, 1)},
                      ensure_ascii=False)


def _with_sender(sender: str | None) -> list:
    return [] if sender is None else [windows.c.sender == sender_address(sender)]


def record_inbound(phone: str, sender: str | None, now: datetime, window_seconds: float) -> None:
    """The learner wrote to `sender` at `now`: the window is open for `window_seconds` from now.
    Runs in the caller's transaction (the reply's)."""
    sender = sender_address(sender) if sender else ""
    open_until = now + timedelta(seconds=window_seconds)
    statement = dialect_insert(windows).values(phone=phone, sender=sender, last_inbound_at=now,
                                               open_until=open_until)
    later = statement.excluded.last_inbound_at >= windows.c.last_inbound_at  # a retried webhook is late
    db.session.execute(statement.on_conflict_do_update(
        index_elements=[windows.c.phone, windows.c.sender], where=later,
        set_={"last_inbound_at": statement.excluded.last_inbound_at,
              "open_until": statement.excluded.open_until}))


def record_inbound_many(phones: Iterable[str], sender: str, now: datetime, window_seconds: float) -> None:
    """`record_inbound` for many learners who wrote at `now` (benchmarks, imports); one
    executemany INSERT. Runs in the caller's transaction."""
    rows = [{"phone": phone, "sender": sender_address(sender), "last_inbound_at": now,
             "open_until": now + timedelta(seconds=window_seconds)} for phone in sorted(set(phones))]
    if rows:
        db.session.execute(dialect_insert(windows).on_conflict_do_nothing(), rows)


def is_open(phone_column, sender: str | None, now: datetime):
    """A correlated EXISTS: the window of the phone in `phone_column` is open at `now`."""
    return exists().where(windows.c.phone == phone_column, windows.c.open_until > now, *_with_sender(sender))


def hold_if_closed(channel_column, phone_column, sender: str | None, now: datetime):
    """A CASE for queuing free text: `window_closed` (queue it `held`) for a WhatsApp address whose
    window is closed at `now`, else NULL."""
    return case((and_(channel_column == "whatsapp", ~is_open(phone_column, sender, now)),
                 literal(WINDOW_CLOSED_REASON)), else_=None)


def open_phones(phones: Iterable[str], sender: str | None, now: datetime) -> set[str]:
    """The phones among `phones` whose window is open at `now`."""
    wanted = sorted(set(phones))
    if not wanted:
        return set()
    return set(db.session.scalars(select(windows.c.phone).distinct().where(
        windows.c.phone.in_(wanted), windows.c.open_until > now, *_with_sender(sender))))


def close_window(phone: str, sent_at: datetime | None, now: datetime) -> bool:
    """Twilio said the window was closed for a message sent at `sent_at`: it is closed now,
    unless the learner wrote after that send (then the failure is stale). True if it is closed
    (also when no window was ever recorded)."""
    sent_at = sent_at or now
    db.session.execute(update(windows).where(
        windows.c.phone == phone, windows.c.last_inbound_at <= sent_at, windows.c.open_until > now)
        .values(open_until=now))
    reopened = db.session.scalar(select(exists().where(windows.c.phone == phone,
                                                       windows.c.last_inbound_at > sent_at)))
    return not reopened


def window_states(phones: Iterable[str], sender: str | None) -> dict[str, datetime]:
    """phone → the latest `open_until` recorded (for the delivery view)."""
    wanted = sorted(set(phones))
    if not wanted:
        return {}
    rows = db.session.execute(select(windows.c.phone, func.max(windows.c.open_until)).where(
        windows.c.phone.in_(wanted), *_with_sender(sender)).group_by(windows.c.phone))
    return dict(rows.all())


__all__ = ["WhatsAppSettings", "close_window", "content_variables", "hold_if_closed", "is_open",
           "open_phones", "record_inbound", "window_states"]
