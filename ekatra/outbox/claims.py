"""Claiming due messages, and writing back what became of them.

A claim is one statement that moves due `pending` rows to `sending` with a lease. On
PostgreSQL the selection takes `FOR UPDATE SKIP LOCKED`, so several workers claim disjoint
batches without waiting for each other; SQLite has one writer and needs no lock clause.
Results are written back in bulk (one executemany UPDATE per outcome), each guarded by the
claim it belongs to, so a worker whose lease was taken over cannot overwrite the new owner.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, bindparam, case, exists, func, literal, select, update

from ekatra.deliveries.models import PAUSED, STOPPED, Delivery, Enrollment
from ekatra.extensions import db
from ekatra.outbox.models import CANCELLED, FAILED, PENDING, SENDING, SENT, UNSENT, Message

messages = Message.__table__
deliveries = Delivery.__table__
enrollments = Enrollment.__table__


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

    @property
    def learner(self) -> tuple[str, str]:
        """Messages to one address go out one after another, in claim order."""
        return (self.channel, self.to_phone)


_RETURNED = (messages.c.id, messages.c.channel, messages.c.to_phone, messages.c.body, messages.c.attempts,
             messages.c.claimed_at, messages.c.lease_until, messages.c.enrollment_id,
             messages.c.day_number, messages.c.sequence, messages.c.next_attempt_at)


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
    """Due pending rows that are not held back (see `claim_batch`), oldest first."""
    candidate = messages.alias("candidate")
    earlier = messages.alias("earlier")
    earlier_part_unsent = exists().where(
        earlier.c.enrollment_id == candidate.c.enrollment_id,
        earlier.c.day_number == candidate.c.day_number,
        earlier.c.sequence < candidate.c.sequence,
        earlier.c.status.in_(UNSENT))
    delivery_on_hold = exists().where(deliveries.c.id == candidate.c.delivery_id,
                                      deliveries.c.status.in_((PAUSED, STOPPED)))
    # A learner's student row was deleted (removed from the group): the planner cancels
    # their messages on its next tick; until then none of them goes out.
    student_removed = exists().where(enrollments.c.id == candidate.c.enrollment_id,
                                     enrollments.c.student_id.is_(None))
    return candidate, (select(candidate.c.id)
                       .where(candidate.c.status == PENDING, candidate.c.next_attempt_at <= now,
                              ~earlier_part_unsent, ~delivery_on_hold, ~student_removed)
                       .order_by(candidate.c.next_attempt_at, candidate.c.id))


def claim_batch(now: datetime, limit: int, lease_seconds: float) -> list[ClaimedMessage]:
    """Move up to `limit` due messages to `sending`, leased until now + `lease_seconds`. Commits.

    Held back: a part of a learner's day while an earlier part (lower `sequence`, same
    enrollment and day) is still pending or sending, so the parts arrive in order; and the
    messages of a paused delivery (they go out when it resumes) or a stopped one.
    Each claim counts as an attempt.
    """
    if limit <= 0:
        return []
    candidate, selection = _claimable(now)
    lease_until = now + timedelta(seconds=lease_seconds)
    statement = (update(messages)
                 .where(messages.c.id.in_(_locked(candidate, selection.limit(limit))),
                        messages.c.status == PENDING)
                 .values(status=SENDING, claimed_at=now, lease_until=lease_until,
                         attempts=messages.c.attempts + 1, updated_at=now)
                 .returning(*_RETURNED))
    try:
        rows = db.session.execute(statement).all()
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    claimed = [ClaimedMessage(*row) for row in rows]
    claimed.sort(key=lambda message: (message.next_attempt_at, message.id))
    return claimed


def _unless_stopped():
    """`pending` again, unless the delivery was stopped meanwhile (then `cancelled`)."""
    stopped = exists().where(deliveries.c.id == messages.c.delivery_id, deliveries.c.status == STOPPED)
    return case((stopped, literal(CANCELLED)), else_=literal(PENDING))


def _held_by(claimed_at_param: str = "b_claimed_at"):
    """The row is still `sending` under the claim that wrote `claimed_at`."""
    return and_(messages.c.id == bindparam("b_id"), messages.c.status == SENDING,
                messages.c.claimed_at == bindparam(claimed_at_param))


def mark_sent(rows: list[dict], now: datetime) -> None:
    """rows: b_id, b_claimed_at, b_sid, b_provider_status, b_segments (None: keep), b_sent_at."""
    if rows:
        db.session.execute(update(messages).where(_held_by()).values(
            status=SENT, provider_sid=bindparam("b_sid"), provider_status=bindparam("b_provider_status"),
            segments=func.coalesce(bindparam("b_segments"), messages.c.segments),
            sent_at=bindparam("b_sent_at"), lease_until=None, provider_error_code=None,
            provider_error_message=None, updated_at=now), rows)


def mark_retry(rows: list[dict], now: datetime) -> None:
    """rows: b_id, b_claimed_at, b_next_attempt_at, b_code, b_message."""
    if rows:
        db.session.execute(update(messages).where(_held_by()).values(
            status=_unless_stopped(), next_attempt_at=bindparam("b_next_attempt_at"), lease_until=None,
            provider_error_code=bindparam("b_code"), provider_error_message=bindparam("b_message"),
            updated_at=now), rows)


def mark_failed(rows: list[dict], now: datetime) -> None:
    """rows: b_id, b_claimed_at, b_code, b_message."""
    if rows:
        db.session.execute(update(messages).where(_held_by()).values(
            status=FAILED, lease_until=None, provider_error_code=bindparam("b_code"),
            provider_error_message=bindparam("b_message"), updated_at=now), rows)


def mark_unresolved(rows: list[dict], now: datetime) -> None:
    """The provider may have accepted these: keep them `sending` until `b_lease_until`, when the
    lease recovery asks the provider before anything is sent again.

    rows: b_id, b_claimed_at, b_lease_until, b_code, b_message."""
    if rows:
        db.session.execute(update(messages).where(_held_by()).values(
            lease_until=bindparam("b_lease_until"), provider_error_code=bindparam("b_code"),
            provider_error_message=bindparam("b_message"), updated_at=now), rows)


def release(rows: list[dict], now: datetime) -> None:
    """Give back claims that were never handed to the provider: the attempt does not count.

    rows: b_id, b_claimed_at."""
    if rows:
        db.session.execute(update(messages).where(_held_by()).values(
            status=_unless_stopped(), attempts=messages.c.attempts - 1, lease_until=None, claimed_at=None,
            updated_at=now), rows)


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
    try:
        rows = db.session.execute(statement).all()
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return sorted((ClaimedMessage(*row) for row in rows), key=lambda message: message.id)


def recorded_sids(to_phones: set[str], since: datetime) -> set[str]:
    """Provider sids already stored for messages to these numbers sent since `since`."""
    if not to_phones:
        return set()
    return set(db.session.scalars(select(messages.c.provider_sid).where(
        messages.c.to_phone.in_(to_phones), messages.c.provider_sid.is_not(None),
        messages.c.sent_at >= since)))


def write_back(now: datetime, *, sent=(), retry=(), failed=(), unresolved=(), released=()) -> None:
    """All outcomes of one batch in one transaction."""
    try:
        mark_sent(list(sent), now)
        mark_retry(list(retry), now)
        mark_failed(list(failed), now)
        mark_unresolved(list(unresolved), now)
        release(list(released), now)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
