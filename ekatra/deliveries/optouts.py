"""Opting a phone out of (and back into) messages on a channel, for every group and delivery.

Opt-out: the phone goes on the outbox's opt-out list and its unsent messages are `skipped`; its
active enrollments become `suspended`. Opt-in: it leaves the list; suspended enrollments become
`active` again and continue from the next unsent day at the learner's next local send time
(skipped parts of that day are planned again; parts already sent are not repeated).

Each works in one mode (`livemode`): a test STOP or START (through the sandbox) concerns the
test students on that phone only, a live one the live students only (outbox.optouts).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, select, update

from ekatra.deliveries import planning
from ekatra.deliveries.models import ACTIVE, SUSPENDED, Delivery, Enrollment
from ekatra.extensions import db
from ekatra.groups.models import Student
from ekatra.outbox import optouts
from ekatra.outbox import services as outbox
from ekatra.outbox.models import SKIPPED, Message
from ekatra.transactions import transaction
from ekatra.webhooks import audience
from ekatra.webhooks import services as webhooks


def _students(phone: str, channel: str, livemode: bool = True):
    return select(Student.id).where(Student.phone == phone, Student.channel == channel,
                                    Student.livemode.is_(livemode)).scalar_subquery()


def opt_out(phone: str, channel: str, source: str, now: datetime, livemode: bool = True) -> bool:
    """Record the opt-out, skip unsent messages, suspend enrollments. True if it is new.

    Runs in the caller's transaction (no commit)."""
    added = optouts.add(phone, channel, source, now, livemode)
    students = _students(phone, channel, livemode)
    db.session.execute(update(Enrollment).where(Enrollment.student_id.in_(students),
                                                Enrollment.status == ACTIVE)
                       .values(status=SUSPENDED, updated_at=now))
    if added:  # each author with this learner in a delivery hears of it once, and their partner
        concerned = db.session.execute(
            select(Enrollment.student_id, Delivery.owner_id).distinct()
            .join(Delivery, Delivery.id == Enrollment.delivery_id)
            .where(Enrollment.student_id.in_(_students(phone, channel, livemode)))
            .order_by(Enrollment.student_id, Delivery.owner_id)).all()
        webhooks.record_events("student.opted_out", audience.about_students([
            (student_id, owner_id, {"phone": phone, "channel": channel, "source": source})
            for student_id, owner_id in concerned]), now=now)
    return added


def opt_in(phone: str, channel: str, now: datetime, livemode: bool = True) -> bool:
    """Remove the opt-out and resume suspended enrollments. True if the phone was opted out.

    Runs in the caller's transaction (no commit)."""
    removed = optouts.remove(phone, channel, livemode)
    suspended = db.session.execute(
        select(Enrollment, Delivery, Student.timezone)
        .join(Delivery, Delivery.id == Enrollment.delivery_id)
        .join(Student, Student.id == Enrollment.student_id)
        .where(Enrollment.student_id.in_(_students(phone, channel, livemode)),
               Enrollment.status == SUSPENDED)).all()
    for enrollment, delivery, timezone in suspended:
        first_skipped = db.session.scalar(select(func.min(Message.day_number)).where(
            Message.enrollment_id == enrollment.id, Message.status == SKIPPED))
        day = min(first_skipped or enrollment.next_day, enrollment.next_day)
        # Skipped parts are planned again with their day; parts already sent stay as they are.
        outbox.forget_skipped(enrollment.id, day)
        enrollment.status, enrollment.next_day, enrollment.updated_at = ACTIVE, day, now
        try:
            enrollment.next_due_at = planning.next_due_after(planning.schedule_of(delivery), day,
                                                             planning.zone(timezone), now)
        except planning.OutOfRange:
            # A schedule stored before dates were bounded: due now, so that the planner meets
            # it, undoes its own work and shows the error on the delivery.
            enrollment.next_due_at = now
    db.session.flush()
    return removed


def record_provider_opt_outs(pairs: Iterable[tuple[str, str]], now: datetime, livemode: bool = True) -> int:
    """The provider (the live one, or the test one when `livemode` is false) answered 21610
    (unsubscribed) for these (phone, channel): opt them out in that mode. Commits."""
    added = 0
    with transaction():
        for phone, channel in sorted(set(pairs)):
            added += opt_out(phone, channel, optouts.PROVIDER, now, livemode)
    return added
