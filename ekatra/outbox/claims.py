"""Claiming due messages, and writing back what became of them.

A claim is one statement that moves due `pending` rows to `sending` with a lease. On
PostgreSQL the selection takes `FOR UPDATE SKIP LOCKED`, so several workers claim disjoint
batches without waiting for each other; SQLite has one writer and needs no lock clause.
Results are written back in bulk (`record_outcomes`: one executemany UPDATE per kind of
outcome, typed values in), each guarded by the claim it belongs to, so a worker whose lease was
taken over cannot overwrite the new owner; in the same transaction the next `waiting` part of
each day whose part ended becomes `pending`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, bindparam, case, exists, func, literal, select, update

from ekatra.extensions import db
from ekatra.metrics import CLAIM_DURATION
from ekatra.outbox.models import (
    CANCELLED,
    FAILED,
    HELD,
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
)
from ekatra.outbox.twilio import WHATSAPP
from ekatra.outbox.whatsapp import close_window, open_phones
from ekatra.transactions import transaction
from ekatra.webhooks import audience

messages = Message.__table__


@dataclass(frozen=True)
class ClaimedMessage:
    """A message this worker holds until `lease_until`: everything needed to send it."""

    id: int
    channel: str
    to_phone: str
    body: str
    attempts: int
    claimed_at: datetime
    lease_until: datetime
    enrollment_id: int | None
    day_number: int | None
    sequence: int
    next_attempt_at: datetime
    content_sid: str | None = None
    content_variables: str | None = None
    livemode: bool = True  # false: a test learner's, sent through the test provider only

    @property
    def learner(self) -> tuple[str, str, bool]:
        """Messages to one address (through one provider) go out one after another, in claim order."""
        return (self.channel, self.to_phone, self.livemode)


_RETURNED = (messages.c.id, messages.c.channel, messages.c.to_phone, messages.c.body, messages.c.attempts,
             messages.c.claimed_at, messages.c.lease_until, messages.c.enrollment_id,
             messages.c.day_number, messages.c.sequence, messages.c.next_attempt_at, messages.c.content_sid,
             messages.c.content_variables, messages.c.livemode)


def _is_postgresql() -> bool:
    return db.engine.dialect.name == "postgresql"


def _locked(candidate, selection):
    """The ids of `selection`, locked on PostgreSQL (`FOR UPDATE SKIP LOCKED`).

    Materialised once: PostgreSQL may rescan an `IN (subquery)` while the UPDATE runs, and a
    rescan of a `LIMIT … SKIP LOCKED` subquery finds other rows, so a claim could take more
    than its limit. A MATERIALIZED CTE is evaluated exactly once.
    """
    if not _is_postgresql():
        return selection
    locked = selection.with_for_update(skip_locked=True, of=candidate)
    chosen = locked.cte("chosen").prefix_with("MATERIALIZED")
    return select(chosen.c.id)


def _claimable(now: datetime):
    """Due pending rows, oldest first: one range scan of the partial claim index, no join.

    What must wait is not `pending`: a later part of a learner's day is `waiting`, a paused
    delivery's rows are `held`, a stopped delivery's or a removed learner's are `cancelled`, an
    opted-out phone's are `skipped`, each set by the change that causes it."""
    candidate = messages.alias("candidate")
    return candidate, (select(candidate.c.id)
                       .where(candidate.c.status == PENDING, candidate.c.next_attempt_at <= now)
                       .order_by(candidate.c.next_attempt_at, candidate.c.id))


def claim_statement(now: datetime, limit: int, lease_seconds: float):
    """The claim: `pending` rows due by `now` become `sending`, leased for `lease_seconds`."""
    candidate, selection = _claimable(now)
    return (update(messages)
            .where(messages.c.id.in_(_locked(candidate, selection.limit(limit))),
                   messages.c.status == PENDING)
            .values(status=SENDING, claimed_at=now, lease_until=now + timedelta(seconds=lease_seconds),
                    attempts=messages.c.attempts + 1, updated_at=now)
            .returning(*_RETURNED))


def _hold_outside_window(claimed: list[ClaimedMessage], whatsapp_sender: str | None,
                         now: datetime) -> list[ClaimedMessage]:
    """Free-form WhatsApp messages whose learner's window closed since they were queued are
    `held` (`window_closed`) instead of sent, in the claim's transaction (the attempt does not
    count); the rest is returned."""
    free_form = [m for m in claimed if m.channel == WHATSAPP and m.content_sid is None]
    if not free_form:
        return claimed
    open_now = open_phones((m.to_phone for m in free_form), whatsapp_sender, now)
    closed = {m.id for m in free_form if m.to_phone not in open_now}
    if not closed:
        return claimed
    db.session.execute(update(messages).where(messages.c.id.in_(closed), messages.c.status == SENDING).values(
        status=HELD, hold_reason=WINDOW_CLOSED_REASON, attempts=messages.c.attempts - 1, claimed_at=None,
        lease_until=None, updated_at=now))
    return [m for m in claimed if m.id not in closed]


@CLAIM_DURATION.time()
def claim_batch(now: datetime, limit: int, lease_seconds: float, *,
                whatsapp_sender: str | None = None) -> list[ClaimedMessage]:
    """Move up to `limit` due messages to `sending`, leased until now + `lease_seconds`. Commits.

    Only `pending` rows are claimed (see `_claimable`). Each claim counts as an attempt. A
    free-form WhatsApp message outside its learner's window (with `whatsapp_sender`; None: any
    of ours) is `held` instead, in the same transaction, and not returned.
    """
    if limit <= 0:
        return []
    statement = claim_statement(now, limit, lease_seconds)
    with transaction():
        claimed = [ClaimedMessage(*row) for row in db.session.execute(statement).all()]
        claimed = _hold_outside_window(claimed, whatsapp_sender, now)
    claimed.sort(key=lambda message: (message.next_attempt_at, message.id))
    return claimed


@dataclass(frozen=True)
class Sent:
    """The provider accepted the message."""

    message_id: int
    claimed_at: datetime
    provider_sid: str
    sent_at: datetime
    provider_status: str | None = None
    segments: int | None = None  # None: keep the segments counted when it was queued


@dataclass(frozen=True)
class Retry:
    """Not sent; try again at `next_attempt_at`."""

    message_id: int
    claimed_at: datetime
    next_attempt_at: datetime
    error_code: int | None = None
    error_message: str | None = None


@dataclass(frozen=True)
class Unresolved:
    """The provider may have accepted it: keep it `sending` until `lease_until`, when the lease
    recovery asks the provider before anything is sent again."""

    message_id: int
    claimed_at: datetime
    lease_until: datetime
    error_code: int | None = None
    error_message: str | None = None


@dataclass(frozen=True)
class Failed:
    """The provider refused it for good (or too many attempts were made)."""

    message_id: int
    claimed_at: datetime
    error_code: int | None = None
    error_message: str | None = None


@dataclass(frozen=True)
class WindowClosed:
    """WhatsApp refused a free-form message outside the learner's window (63016): the window is
    closed and the message `held` until the learner writes; not a failure."""

    message_id: int
    claimed_at: datetime
    to_phone: str
    error_code: int | None = None
    error_message: str | None = None


@dataclass(frozen=True)
class Released:
    """Never handed to the provider: the claim is given back and the attempt does not count."""

    message_id: int
    claimed_at: datetime


Written = Sent | Retry | Unresolved | Failed | WindowClosed | Released


def _unsent_again():
    """What a claimed row that was not sent becomes: `pending`, unless its delivery was paused
    (`held`) or stopped, or its learner left (`cancelled`), or its phone opted out (`skipped`)
    while it was being sent (`hold_reason`, set on the `sending` row: no join)."""
    return case((messages.c.hold_reason == PAUSED_REASON, literal(HELD)),
                (messages.c.hold_reason == STOPPED_REASON, literal(CANCELLED)),
                (messages.c.hold_reason == OPTED_OUT_REASON, literal(SKIPPED)),
                (messages.c.hold_reason == WINDOW_CLOSED_REASON, literal(HELD)),
                else_=literal(PENDING))


def _reason_kept():
    """Only a `held` row keeps a reason."""
    return case((messages.c.hold_reason == PAUSED_REASON, literal(PAUSED_REASON)),
                (messages.c.hold_reason == WINDOW_CLOSED_REASON, literal(WINDOW_CLOSED_REASON)), else_=None)


def _held_for_window():
    """What a claimed row refused with 63016 becomes: `held` for the window, unless it was marked
    meanwhile (paused: held for RESUME; stopped, opted out: ended)."""
    return case((messages.c.hold_reason.in_((STOPPED_REASON, OPTED_OUT_REASON)), _unsent_again()),
                else_=literal(HELD))


_HELD_BY = and_(messages.c.id == bindparam("b_id"), messages.c.status == SENDING,
                messages.c.claimed_at == bindparam("b_claimed_at"))  # still under that claim

# Each outcome: the UPDATE it makes (guarded by its claim), and its values as that UPDATE's
# parameters, side by side.
_WRITES = {
    Sent: (update(messages).where(_HELD_BY).values(
        status=SENT, provider_sid=bindparam("b_sid"), provider_status=bindparam("b_provider_status"),
        segments=func.coalesce(bindparam("b_segments"), messages.c.segments), sent_at=bindparam("b_sent_at"),
        lease_until=None, hold_reason=None, provider_error_code=None, provider_error_message=None,
        updated_at=bindparam("b_now")),
        lambda o: {"b_sid": o.provider_sid, "b_provider_status": o.provider_status,
                   "b_segments": o.segments, "b_sent_at": o.sent_at}),
    Retry: (update(messages).where(_HELD_BY).values(
        status=_unsent_again(), hold_reason=_reason_kept(), next_attempt_at=bindparam("b_next_attempt_at"),
        lease_until=None, provider_error_code=bindparam("b_code"),
        provider_error_message=bindparam("b_message"), updated_at=bindparam("b_now")),
        lambda o: {"b_next_attempt_at": o.next_attempt_at, "b_code": o.error_code,
                   "b_message": o.error_message}),
    Unresolved: (update(messages).where(_HELD_BY).values(
        lease_until=bindparam("b_lease_until"), provider_error_code=bindparam("b_code"),
        provider_error_message=bindparam("b_message"), updated_at=bindparam("b_now")),
        lambda o: {"b_lease_until": o.lease_until, "b_code": o.error_code, "b_message": o.error_message}),
    Failed: (update(messages).where(_HELD_BY).values(
        status=FAILED, lease_until=None, hold_reason=None, provider_error_code=bindparam("b_code"),
        provider_error_message=bindparam("b_message"), updated_at=bindparam("b_now")),
        lambda o: {"b_code": o.error_code, "b_message": o.error_message}),
    WindowClosed: (update(messages).where(_HELD_BY).values(
        status=_held_for_window(), lease_until=None, provider_error_code=bindparam("b_code"),
        provider_error_message=bindparam("b_message"), updated_at=bindparam("b_now"),
        hold_reason=case((messages.c.hold_reason == PAUSED_REASON, literal(PAUSED_REASON)),
                         (messages.c.hold_reason.in_((STOPPED_REASON, OPTED_OUT_REASON)), None),
                         else_=literal(WINDOW_CLOSED_REASON))),
        lambda o: {"b_code": o.error_code, "b_message": o.error_message}),
    Released: (update(messages).where(_HELD_BY).values(
        status=_unsent_again(), hold_reason=_reason_kept(), attempts=messages.c.attempts - 1,
        lease_until=None, claimed_at=None, updated_at=bindparam("b_now")),
        lambda o: {}),
}


def promote_next_parts(ended_ids, now: datetime) -> int:
    """After these rows ended their sending (or may have): in each of their (enrollment, day),
    the lowest unsent part becomes `pending` if it is `waiting`. One statement; the parts of a
    day thus go out one after another, whichever worker sends them."""
    ended, following = messages.alias("ended"), messages.alias("following")
    # Found through the unique (enrollment_id, day_number, part) index: no scan of `waiting` rows.
    following_parts = (select(following.c.id)
                       .join(ended, and_(ended.c.enrollment_id == following.c.enrollment_id,
                                         ended.c.day_number == following.c.day_number))
                       .where(ended.c.id.in_(list(ended_ids)), following.c.status == WAITING))
    return promote_waiting(messages.c.id.in_(following_parts), now)


def promote_waiting(where, now: datetime) -> int:
    """`waiting` rows matching `where` with no unsent part before them in their day become `pending`."""
    earlier = messages.alias("earlier")
    earlier_unsent = exists().where(earlier.c.enrollment_id == messages.c.enrollment_id,
                                    earlier.c.day_number == messages.c.day_number,
                                    earlier.c.sequence < messages.c.sequence, earlier.c.status.in_(UNSENT))
    return db.session.execute(
        update(messages).where(messages.c.status == WAITING, where, ~earlier_unsent)
        .values(status=PENDING, updated_at=now)).rowcount


def record_outcomes(now: datetime, outcomes) -> None:
    """What became of claimed messages, in one transaction: one executemany UPDATE per kind of
    outcome, each row guarded by its claim (a worker whose lease was taken over cannot overwrite
    the new owner); then the next part of each day whose part ended becomes `pending`."""
    by_kind: dict[type, list[dict]] = {}
    for outcome in outcomes:
        params = _WRITES[type(outcome)][1](outcome)
        by_kind.setdefault(type(outcome), []).append(
            {"b_id": outcome.message_id, "b_claimed_at": outcome.claimed_at, "b_now": now, **params})
    with transaction():
        for kind, rows in by_kind.items():
            db.session.execute(_WRITES[kind][0], rows)
        for outcome in outcomes:
            if isinstance(outcome, WindowClosed):
                close_window(outcome.to_phone, outcome.claimed_at, now)
        ended = [row["b_id"] for kind, rows in by_kind.items() if kind is not Unresolved for row in rows]
        for start in range(0, len(ended), 500):
            promote_next_parts(ended[start:start + 500], now)
        failed = [row["b_id"] for row in by_kind.get(Failed, ())]
        if failed:  # those this write-back failed (a claim taken over meanwhile wrote nothing)
            audience.messages_failed(list(db.session.scalars(select(messages.c.id).where(
                messages.c.id.in_(failed), messages.c.status == FAILED, messages.c.updated_at == now))), now)


def claim_expired_leases(now: datetime, limit: int, lease_seconds: float) -> list[ClaimedMessage]:
    """Take `sending` rows whose lease passed (their worker died) for reconciliation. Commits.

    The lease is renewed so that no other worker reconciles them at the same time; `claimed_at`
    is kept, since the provider is asked about messages accepted after it.
    """
    if limit <= 0:
        return []
    candidate = messages.alias("candidate")
    selection = (select(candidate.c.id)
                 .where(candidate.c.status == SENDING, candidate.c.lease_until < now)
                 .order_by(candidate.c.lease_until, candidate.c.id).limit(limit))
    statement = (update(messages)
                 .where(messages.c.id.in_(_locked(candidate, selection)), messages.c.status == SENDING,
                        messages.c.lease_until < now)
                 .values(lease_until=now + timedelta(seconds=lease_seconds), updated_at=now)
                 .returning(*_RETURNED))
    with transaction():
        rows = db.session.execute(statement).all()
    return sorted((ClaimedMessage(*row) for row in rows), key=lambda message: message.id)


def recorded_sids(to_phones: set[str], since: datetime) -> set[str]:
    """Provider sids already stored for messages to these numbers sent since `since`."""
    if not to_phones:
        return set()
    return set(db.session.scalars(select(messages.c.provider_sid).where(
        messages.c.to_phone.in_(to_phones), messages.c.provider_sid.is_not(None),
        messages.c.sent_at >= since)))
