"""The outbox's verbs: the only way into the `messages` table for the rest of Ekatra.

Queue (`enqueue` one message, `enqueue_for` a day's parts for many learners at once), and
change what is not sent yet: `cancel_unsent` (a delivery stopped, learners left), `skip_unsent`
(a phone opted out), `hold` / `release` (a delivery paused and resumed), `forget_skipped`
(an opted-in learner's skipped days are planned again), `cancel_messages` (reminders and notices
no longer wanted), `erase` (a partner deletes a learner),
`forget_questions` (questions deleted), `release_window` / `hold_window_closed` (a WhatsApp
learner's customer-service window opened or closed, see `whatsapp`), `queue_notice_openers`
(the template that opens a closed window for messages outside a course). Claims and their outcomes
are in `claims`, status callbacks in `status`. Every verb runs in the caller's transaction (no
commit): a change and what it does to the outbox are one write.

Each verb leaves the rows in a state the claim can act on alone (see `Message`): the claim
joins nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, case, delete, exists, func, literal, or_, select, text, union_all, update

from ekatra.extensions import db, dialect_insert
from ekatra.outbox.claims import promote_waiting
from ekatra.outbox.models import (
    CANCELLED,
    HELD,
    NOT_CLAIMED,
    OPTED_OUT_REASON,
    PAUSED_REASON,
    PENDING,
    SENDING,
    SENT,
    SKIPPED,
    STOPPED_REASON,
    UNSENT,
    WAITING,
    WINDOW_CLOSED_REASON,
    Message,
    WhatsAppWindow,
)
from ekatra.outbox.twilio import WHATSAPP
from ekatra.rendering.parts import Part
from ekatra.rendering.segments import encoding_for, segment_count

messages = Message.__table__


def depth(now: datetime) -> dict[str, tuple[int, datetime | None]]:
    """Unsent messages by state (`due`: pending and claimable now, `later`: pending, not yet;
    `held`, `waiting`, `sending`), each with its earliest next attempt; one grouped query."""
    state = case((and_(Message.status == PENDING, Message.next_attempt_at <= now), literal("due")),
                 else_=Message.status)
    rows = db.session.execute(
        select(state.label("state"), func.count(), func.min(Message.next_attempt_at))
        .where(Message.status.in_(UNSENT)).group_by(state)).all()
    return {("later" if name == PENDING else name): (count, earliest) for name, count, earliest in rows}


def _write(statement) -> int:
    """A bulk UPDATE or DELETE. Its rows are not loaded in the session, so none is synchronised
    (the ORM's default would first fetch the id of every matched row)."""
    return db.session.execute(statement, execution_options={"synchronize_session": False}).rowcount


@dataclass(frozen=True)
class NewMessage:
    """One message to queue. A course message names its enrollment, day and part (unique
    together); a help text names only its address."""

    channel: str
    to_phone: str
    body: str
    part: str
    sequence: int = 0
    delivery_id: int | None = None
    enrollment_id: int | None = None
    day_number: int | None = None
    question_id: int | None = None
    hold_reason: str | None = None  # e.g. `paused`: queued `held`, sent when released
    due_at: datetime | None = None  # None: now
    content_sid: str | None = None  # a template (Twilio Content API, HX…) instead of free text
    content_variables: str | None = None  # its variables, JSON text
    livemode: bool = True  # false: to a test learner, sent through the test provider only


def _row(message: NewMessage, now: datetime, status: str) -> dict:
    due_at = message.due_at or now
    return dict(
        delivery_id=message.delivery_id, enrollment_id=message.enrollment_id, day_number=message.day_number,
        part=message.part, sequence=message.sequence, question_id=message.question_id,
        channel=message.channel, to_phone=message.to_phone, body=message.body,
        content_sid=message.content_sid, content_variables=message.content_variables,
        segments=segment_count(message.body), encoding=encoding_for(message.body), due_at=due_at,
        status=status, hold_reason=message.hold_reason if status == HELD else None, attempts=0,
        next_attempt_at=due_at, created_at=now, updated_at=now, livemode=message.livemode)


def _earlier_unsent(enrollment_id, day_number, sequence):
    earlier = messages.alias("earlier")
    return exists().where(earlier.c.enrollment_id == enrollment_id, earlier.c.day_number == day_number,
                          earlier.c.sequence < sequence, earlier.c.status.in_(UNSENT))


def enqueue(message: NewMessage, now: datetime) -> bool:
    """Queue one message, due now unless it says when: `held` with a hold reason, `waiting`
    behind an unsent earlier part of its day, else `pending`. True if it was added (a second
    copy of a part is not)."""
    status = PENDING
    if message.hold_reason is not None:
        status = HELD
    elif message.enrollment_id is not None and db.session.scalar(select(_earlier_unsent(
            message.enrollment_id, message.day_number, message.sequence))):
        status = WAITING
    statement = dialect_insert(messages).values(**_row(message, now, status)).on_conflict_do_nothing()
    return bool(db.session.execute(statement, execution_options={"preserve_rowcount": True}).rowcount)


def enqueue_many(new: Sequence[NewMessage], now: datetime) -> int:
    """Queue messages that stand alone in their day (an opener, which goes before the day's parts):
    `pending`, or `held` with a hold reason; one executemany INSERT, a second copy of a part is
    not added. How many were added."""
    if not new:
        return 0
    rows = [_row(message, now, HELD if message.hold_reason else PENDING) for message in new]
    statement = dialect_insert(messages).on_conflict_do_nothing()
    return db.session.execute(statement, rows, execution_options={"preserve_rowcount": True}).rowcount


_QUEUED_COLUMNS = ["enrollment_id", "delivery_id", "channel", "to_phone", "due_at", "next_attempt_at",
                   "day_number", "part", "sequence", "question_id", "body", "segments", "encoding",
                   "status", "attempts", "created_at", "updated_at"]


def _parts_table(parts: Sequence[Part]):
    """The parts as a derived table (a UNION ALL of literal rows: SQLite has no VALUES aliases)."""
    c = messages.c
    rows = [select(literal(part.part, c.part.type).label("part"),
                   literal(part.sequence, c.sequence.type).label("sequence"),
                   literal(part.question_id, c.question_id.type).label("question_id"),
                   literal(part.body, c.body.type).label("body"),
                   literal(part.segments, c.segments.type).label("segments"),
                   literal(part.encoding, c.encoding.type).label("encoding"),
                   literal(part.whatsapp_content[0] if part.whatsapp_content else None,
                           c.content_sid.type).label("content_sid"),
                   literal(part.whatsapp_content[1] if part.whatsapp_content else None,
                           c.content_variables.type).label("content_variables"))
            for part in parts]
    return (rows[0] if len(rows) == 1 else union_all(*rows)).subquery("parts")


def enqueue_for(recipients, day_number: int, parts: Sequence[Part], now: datetime) -> int:
    """Every part for every recipient, in one INSERT … SELECT (the recipients cross-joined with
    the parts), idempotent by the unique (enrollment, day, part). How many rows it added.

    `recipients` is a SELECT with the columns enrollment_id, delivery_id, channel, to_phone,
    due_at, hold_reason, livemode (in that order; livemode: the student's). A learner with a
    hold reason gets every part `held` (e.g. `window_closed`). Otherwise the first of `parts` is
    `pending` unless an unsent earlier part of the learner's day is queued already (a question
    carried over); the others are `waiting`. A part's WhatsApp template (`Part.whatsapp_content`)
    is used on WhatsApp only.
    """
    if not parts:
        return 0
    first = min(part.sequence for part in parts)
    table, learners = _parts_table(parts), recipients.subquery("learners")
    enrollment_id, delivery_id, channel, to_phone, due_at, hold_reason, livemode = learners.c
    status = case((hold_reason.is_not(None), literal(HELD)),
                  (table.c.sequence != first, literal(WAITING)),
                  (_earlier_unsent(enrollment_id, day_number, table.c.sequence), literal(WAITING)),
                  else_=literal(PENDING))
    on_whatsapp = channel == WHATSAPP
    rows = select(enrollment_id, delivery_id, channel, to_phone, due_at, due_at,
                  literal(day_number, messages.c.day_number.type),
                  table.c.part, table.c.sequence, table.c.question_id, table.c.body, table.c.segments,
                  table.c.encoding, status, literal(0), literal(now, messages.c.created_at.type),
                  literal(now, messages.c.updated_at.type), hold_reason,
                  case((on_whatsapp, table.c.content_sid), else_=None),
                  case((on_whatsapp, table.c.content_variables), else_=None), livemode
                  ).select_from(learners).join(table, literal(True))
    statement = dialect_insert(messages).from_select(
        [*_QUEUED_COLUMNS, "hold_reason", "content_sid", "content_variables", "livemode"],
        rows).on_conflict_do_nothing()
    return db.session.execute(statement, execution_options={"preserve_rowcount": True}).rowcount


def queue_again(keys: Iterable[tuple[int, int, str]], now: datetime) -> int:
    """Messages already sent, named by (enrollment, day, part), go out once more, due now (a
    WhatsApp opener the learner answered, needed again because the window closed again before
    the day went out). Rows not yet sent are left as they are. How many."""
    keys = list(keys)
    if not keys:
        return 0
    named = or_(*(and_(messages.c.enrollment_id == enrollment_id, messages.c.day_number == day_number,
                       messages.c.part == part) for enrollment_id, day_number, part in keys))
    return _write(update(messages).where(named, messages.c.status.not_in(UNSENT)).values(
        status=PENDING, attempts=0, due_at=now, next_attempt_at=now, hold_reason=None, lease_until=None,
        provider_error_code=None, provider_error_message=None, updated_at=now))


def _whose(delivery_id: int | None, enrollment_ids) -> list:
    conditions = []
    if delivery_id is not None:
        conditions.append(messages.c.delivery_id == delivery_id)
    if enrollment_ids is not None:
        conditions.append(messages.c.enrollment_id.in_(enrollment_ids))
    if not conditions:
        raise ValueError("name a delivery or enrollments")
    return conditions


def _end_unsent(where: list, status: str, reason: str, now: datetime) -> int:
    """Unsent rows become `status`; rows being sent are marked, so that they become `status`
    too if they come back unsent. How many rows ended."""
    ended = _write(update(messages).where(*where, messages.c.status.in_(NOT_CLAIMED))
                   .values(status=status, hold_reason=None, updated_at=now))
    _write(update(messages).where(*where, messages.c.status == SENDING)
           .values(hold_reason=reason, updated_at=now))
    return ended


def cancel_unsent(now: datetime, *, delivery_id: int | None = None, enrollment_ids=None) -> int:
    """The delivery stopped, or these enrollments' learners left: their unsent messages are
    `cancelled`. `enrollment_ids`: ids, or a SELECT of them."""
    return _end_unsent(_whose(delivery_id, enrollment_ids), CANCELLED, STOPPED_REASON, now)


def cancel_messages(message_ids, now: datetime) -> int:
    """These messages are no longer wanted (a reminder whose question was answered, a notice whose
    learner came back): the unsent ones are `cancelled`, one being sent is marked (and cancelled if
    it comes back unsent). `message_ids`: ids, or a SELECT of them. How many ended."""
    return _end_unsent([messages.c.id.in_(message_ids)], CANCELLED, STOPPED_REASON, now)


def skip_unsent(phone: str, channel: str, now: datetime, livemode: bool = True) -> int:
    """The phone opted out on this channel (in this mode): its unsent messages are `skipped`."""
    return _end_unsent([messages.c.to_phone == phone, messages.c.channel == channel,
                        messages.c.livemode.is_(livemode)], SKIPPED, OPTED_OUT_REASON, now)


def hold(delivery_id: int, now: datetime, reason: str = PAUSED_REASON) -> int:
    """The delivery is paused: its unsent messages are `held` (a row being sent is marked, and
    is held if it comes back unsent). How many were held."""
    # What waited for a WhatsApp window waits for RESUME now (and is checked again then).
    held = _write(update(messages).where(messages.c.delivery_id == delivery_id, or_(
        messages.c.status.in_((PENDING, WAITING)),
        and_(messages.c.status == HELD, messages.c.hold_reason == WINDOW_CLOSED_REASON)))
                  .values(status=HELD, hold_reason=reason, updated_at=now))
    _write(update(messages).where(messages.c.delivery_id == delivery_id, messages.c.status == SENDING,
                                  messages.c.hold_reason.is_(None))
           .values(hold_reason=reason, updated_at=now))
    return held


def release(delivery_id: int, now: datetime, reason: str = PAUSED_REASON) -> int:
    """The delivery resumed: its held messages go out at once, each day's parts in order (the
    first unsent part of a day `pending`, the later ones `waiting`; none while an earlier part
    is still `sending`). How many became `pending`."""
    mine = and_(messages.c.delivery_id == delivery_id, messages.c.hold_reason == reason)
    _write(update(messages).where(mine, messages.c.status == SENDING)
           .values(hold_reason=None, updated_at=now))
    _write(update(messages).where(mine, messages.c.status == HELD).values(
        status=WAITING, hold_reason=None, updated_at=now,
        next_attempt_at=case((messages.c.next_attempt_at > now, now), else_=messages.c.next_attempt_at)))
    return promote_waiting(messages.c.delivery_id == delivery_id, now)


def release_window(phone: str, now: datetime, livemode: bool = True) -> int:
    """The WhatsApp learner on `phone` wrote (in this mode): what waited for the window goes out
    at once, each day's parts in order (as `release`). How many messages were released."""
    mine = and_(messages.c.to_phone == phone, messages.c.channel == WHATSAPP,
                messages.c.hold_reason == WINDOW_CLOSED_REASON, messages.c.livemode.is_(livemode))
    _write(update(messages).where(mine, messages.c.status == SENDING)
           .values(hold_reason=None, updated_at=now))
    released = _write(update(messages).where(mine, messages.c.status == HELD).values(
        status=WAITING, hold_reason=None, updated_at=now,
        next_attempt_at=case((messages.c.next_attempt_at > now, now), else_=messages.c.next_attempt_at)))
    if released:
        # Rows without a day (help texts) have no earlier part: `promote_waiting` finds none for them.
        promote_waiting(and_(messages.c.to_phone == phone, messages.c.channel == WHATSAPP,
                             messages.c.livemode.is_(livemode)), now)
    return released


def hold_window_closed(phone: str, now: datetime) -> int:
    """The WhatsApp window of `phone` closed: its unsent free-form messages are `held` until the
    learner writes (a row being sent is marked: held if it comes back unsent). How many."""
    mine = and_(messages.c.to_phone == phone, messages.c.channel == WHATSAPP,
                messages.c.content_sid.is_(None))
    held = _write(update(messages).where(mine, messages.c.status.in_((PENDING, WAITING)))
                  .values(status=HELD, hold_reason=WINDOW_CLOSED_REASON, updated_at=now))
    _write(update(messages).where(mine, messages.c.status == SENDING, messages.c.hold_reason.is_(None))
           .values(hold_reason=WINDOW_CLOSED_REASON, updated_at=now))
    return held


NOTICE_OPENER_PART = "notice-opener"
NOTICE_OPENER_TEXT = "You have a new message. Reply to read it."  # the template's gist


def queue_notice_openers(now: datetime, content_sid: str) -> int:
    """Queue the notice opener (template `content_sid`, no variables) to every WhatsApp phone with
    a message outside a course (no enrollment: a cohort's invitation or notice) held for its
    closed window, unless one is on its way or was sent and not yet answered: one per phone
    and mode, however many wait. The learner's reply releases them (`release_window`). Without
    a template nothing is queued (they wait for the learner to write). Runs in the caller's
    transaction, under the planner's lock. How many were queued."""
    if not content_sid:
        return 0
    opener = messages.alias("opener")
    answered = exists().where(WhatsAppWindow.phone == opener.c.to_phone,
                              WhatsAppWindow.last_inbound_at > opener.c.sent_at)
    live_opener = exists().where(
        opener.c.to_phone == messages.c.to_phone, opener.c.livemode == messages.c.livemode,
        opener.c.part == NOTICE_OPENER_PART,
        or_(opener.c.status.in_(UNSENT),  # on its way
            and_(opener.c.status.not_in((CANCELLED, SKIPPED)),  # sent (or failed: not again)
                 or_(opener.c.sent_at.is_(None), ~answered))))
    waiting = db.session.execute(
        select(messages.c.to_phone, messages.c.livemode).distinct()
        .where(messages.c.status == HELD, messages.c.hold_reason == WINDOW_CLOSED_REASON,
               messages.c.channel == WHATSAPP, messages.c.enrollment_id.is_(None),
               messages.c.content_sid.is_(None), ~live_opener)).all()
    return enqueue_many([NewMessage(channel=WHATSAPP, to_phone=phone, body=NOTICE_OPENER_TEXT,
                                    part=NOTICE_OPENER_PART, content_sid=content_sid, livemode=livemode)
                         for phone, livemode in waiting], now)


def forget_skipped(enrollment_id: int, from_day: int) -> int:
    """Skipped messages of these days go (the learner opted back in: the planner queues the
    days again; parts already sent stay)."""
    return _write(delete(messages).where(messages.c.enrollment_id == enrollment_id,
                                         messages.c.status == SKIPPED, messages.c.day_number >= from_day))


def erase(enrollment_ids, addresses: Iterable[tuple[str, str]]) -> int:
    """A partner erases learners: their course messages (`enrollment_ids`: ids or a SELECT) and
    the texts sent to their addresses outside a course (help). How many rows went."""
    outside_courses = [and_(messages.c.enrollment_id.is_(None), messages.c.to_phone == phone,
                            messages.c.channel == channel) for phone, channel in addresses]
    return _write(delete(messages).where(or_(messages.c.enrollment_id.in_(enrollment_ids), *outside_courses)))


def forget_questions(question_ids: Sequence[int]) -> None:
    """These questions are being deleted: messages stop naming them, so a reply to one is not
    graded against a question that is gone (or, on SQLite, against a new question that reuses
    its id). Question deletion is an authoring step, rare: a scan of the outbox is acceptable."""
    if question_ids:
        _write(update(messages).where(messages.c.question_id.in_(list(question_ids)))
               .values(question_id=None))


def mark_unsent_sent(sent_at: datetime) -> int:
    """Every unsent message is recorded as sent at `sent_at` (benchmarks: the day went out, its
    questions wait for answers). Runs in the caller's transaction. How many."""
    return _write(update(messages).where(messages.c.status.in_(UNSENT)).values(
        status=SENT, sent_at=sent_at, hold_reason=None, updated_at=sent_at))


def shift_due_times(by: timedelta) -> int:
    """Move every message's due time by `by` (benchmarks park a backlog in the future, then
    bring it forward at once). Runs in the caller's transaction."""
    seconds = by.total_seconds()
    if db.engine.dialect.name == "postgresql":
        shift = text(f"interval '{seconds:.6f} seconds'")
        values = {"due_at": Message.due_at + shift, "next_attempt_at": Message.next_attempt_at + shift}
    else:  # SQLite stores 'YYYY-MM-DD HH:MM:SS.ffffff'; %f keeps milliseconds
        def shift_column(column):
            return func.strftime("%Y-%m-%d %H:%M:%f", column, f"{seconds:+.3f} seconds")
        values = {"due_at": shift_column(Message.due_at),
                  "next_attempt_at": shift_column(Message.next_attempt_at)}
    return _write(update(Message).values(**values))
