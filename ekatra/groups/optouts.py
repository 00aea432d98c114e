"""Opting a phone out of (and back into) messages on a channel, for every group and delivery.

Opt-out: a row in `opt_outs`; the phone's active enrollments become `suspended` and its
pending messages `skipped`. Opt-in: the row goes; suspended enrollments become `active` again
and continue from the next unsent day at the learner's next local send time (skipped parts
of that day are planned again; parts already sent are not repeated).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, exists, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from ekatra.deliveries import planning
from ekatra.deliveries.models import ACTIVE, SUSPENDED, Delivery, Enrollment
from ekatra.deliveries.planner import schedule_of
from ekatra.extensions import db
from ekatra.groups.models import OptOut, Student
from ekatra.outbox.models import PENDING, SKIPPED, Message

KEYWORD, PROVIDER, API = "keyword", "provider", "api"


def is_opted_out(phone: str, channel: str) -> bool:
    return bool(db.session.scalar(select(exists().where(OptOut.phone == phone, OptOut.channel == channel))))


def _students(phone: str, channel: str):
    return select(Student.id).where(Student.phone == phone, Student.channel == channel).scalar_subquery()


def opt_out(phone: str, channel: str, source: str, now: datetime) -> bool:
    """Record the opt-out, suspend enrollments, skip pending messages. True if it is new.

    Runs in the caller's transaction (no commit)."""
    insert = (postgresql.insert if db.engine.dialect.name == "postgresql" else sqlite.insert)(OptOut)
    added = db.session.execute(insert.values(phone=phone, channel=channel, since_at=now, source=source)
                               .on_conflict_do_nothing().returning(OptOut.id)).first()
    db.session.execute(update(Enrollment).where(Enrollment.student_id.in_(_students(phone, channel)),
                                                Enrollment.status == ACTIVE)
                       .values(status=SUSPENDED, updated_at=now))
    db.session.execute(update(Message).where(Message.to_phone == phone, Message.channel == channel,
                                             Message.status == PENDING)
                       .values(status=SKIPPED, updated_at=now))
    return added is not None


def opt_in(phone: str, channel: str, now: datetime) -> bool:
    """Remove the opt-out and resume suspended enrollments. True if the phone was opted out.

    Runs in the caller's transaction (no commit)."""
    removed = db.session.execute(delete(OptOut).where(OptOut.phone == phone, OptOut.channel == channel))
    suspended = db.session.execute(
        select(Enrollment, Delivery, Student.timezone)
        .join(Delivery, Delivery.id == Enrollment.delivery_id)
        .join(Student, Student.id == Enrollment.student_id)
        .where(Enrollment.student_id.in_(_students(phone, channel)), Enrollment.status == SUSPENDED)).all()
    for enrollment, delivery, timezone in suspended:
        first_skipped = db.session.scalar(select(func.min(Message.day_number)).where(
            Message.enrollment_id == enrollment.id, Message.status == SKIPPED))
        day = min(first_skipped or enrollment.next_day, enrollment.next_day)
        # Skipped parts are planned again with their day; parts already sent stay as they are.
        db.session.execute(delete(Message).where(Message.enrollment_id == enrollment.id,
                                                 Message.status == SKIPPED, Message.day_number >= day))
        enrollment.status, enrollment.next_day, enrollment.updated_at = ACTIVE, day, now
        try:
            enrollment.next_due_at = planning.next_due_after(schedule_of(delivery), day,
                                                             planning.zone(timezone), now)
        except planning.OutOfRange:
            # A schedule stored before dates were bounded: due now, so that the planner meets
            # it, undoes its own work and shows the error on the delivery.
            enrollment.next_due_at = now
    db.session.flush()
    return removed.rowcount > 0


def record_provider_opt_outs(pairs: Iterable[tuple[str, str]], now: datetime) -> int:
    """The provider answered 21610 (unsubscribed) for these (phone, channel): opt them out. Commits."""
    added = 0
    try:
        for phone, channel in sorted(set(pairs)):
            added += opt_out(phone, channel, PROVIDER, now)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return added
