"""The planner: turns due days into outbox rows and advances each learner's pointer.

Set-based: work is grouped by (day, timezone), so planning a day for 100,000 learners is a
few INSERT … SELECT and UPDATE statements, not 100,000 round trips. Every step is idempotent
(the unique key on messages), so two planners, or one planning twice, cannot send twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, case, exists, func, literal, select, text, update
from sqlalchemy.exc import DBAPIError

from ekatra.courses.models import Day
from ekatra.deliveries import openers, planning, reminders
from ekatra.deliveries.models import (
    ACTIVE,
    COMPLETED,
    FINISHED,
    LIVE_ENROLLMENTS,
    PLANNING_ERROR_MAX_CHARS,
    REMOVED,
    SCHEDULED,
    SUSPENDED,
    Delivery,
    Enrollment,
)
from ekatra.extensions import db, dialect_insert
from ekatra.groups.models import Student
from ekatra.outbox import services as outbox
from ekatra.outbox.models import Message
from ekatra.outbox.optouts import opted_out
from ekatra.outbox.whatsapp import WhatsAppSettings, hold_if_closed
from ekatra.rendering.parts import Part, day_parts, question_part
from ekatra.transactions import transaction
from ekatra.webhooks import audience
from ekatra.webhooks import services as webhooks

NO_WHATSAPP_SETTINGS = WhatsAppSettings()

log = logging.getLogger(__name__)

# A question carried over from the previous day goes before the day's own parts (sequence 0…).
CARRIED_SEQUENCE = -1

PLANNER_LOCK_KEY = 7_301_551  # pg advisory lock: one planner at a time across workers


@dataclass
class PlanStats:
    deliveries: int = 0
    enrolled: int = 0
    planned_learner_days: int = 0
    messages: int = 0
    finished: int = 0
    removed: int = 0
    completed: int = 0
    skipped_locked: bool = False
    openers: int = 0
    reminders: int = 0
    paused_silent: int = 0
    problems: list[str] = field(default_factory=list)


def _is_opted_out():
    """The student's phone opted out on the student's channel (a correlated EXISTS)."""
    return opted_out(Student.phone, Student.channel, Student.livemode)


def _write(statement):
    """Run a bulk UPDATE. Its rows are not loaded in the session, so none is synchronised (the
    ORM's default would first fetch the id of every matched row: 100,000 of them for a day)."""
    return db.session.execute(statement, execution_options={"synchronize_session": False})


def _inserted(statement) -> int:
    """Run an INSERT … ON CONFLICT DO NOTHING; how many rows it added."""
    return db.session.execute(statement, execution_options={"preserve_rowcount": True}).rowcount


def _student_timezones(delivery: Delivery, condition) -> list[str]:
    return list(db.session.scalars(
        select(Student.timezone).distinct().where(Student.group_id == delivery.group_id, condition)))


def enroll_students(delivery: Delivery, now: datetime, *, late: bool) -> int:
    """Enroll the group's students who have no enrollment in this delivery yet.

    At creation day 1 is due at its regular instant; a student added later (`late`) starts
    at day 1 at their next local send time.
    """
    schedule = planning.schedule_of(delivery)
    not_enrolled = ~exists().where(Enrollment.delivery_id == delivery.id,
                                   Enrollment.student_id == Student.id)
    count = 0
    for timezone in _student_timezones(delivery, not_enrolled):
        zone = planning.zone(timezone)
        due = (planning.first_due_for_joiner(schedule, zone, now) if late
               else planning.due_at(schedule, 1, zone))
        status = case((_is_opted_out(), literal(SUSPENDED)), else_=literal(ACTIVE))
        rows = select(literal(delivery.id), Student.id, literal(1), literal(due, Enrollment.next_due_at.type),
                      status, literal(now, Enrollment.created_at.type),
                      literal(now, Enrollment.updated_at.type)).where(
            Student.group_id == delivery.group_id, Student.timezone == timezone, not_enrolled)
        statement = dialect_insert(Enrollment).from_select(
            ["delivery_id", "student_id", "next_day", "next_due_at", "status", "created_at",
             "updated_at"], rows).on_conflict_do_nothing()
        count += _inserted(statement)
    return count


def _enrollments_of(delivery: Delivery, timezone: str, *conditions):
    """Enrollments of the delivery whose student is in `timezone` (for UPDATE … WHERE)."""
    in_zone = select(Student.id).where(Student.group_id == delivery.group_id,
                                       Student.timezone == timezone).scalar_subquery()
    return and_(Enrollment.delivery_id == delivery.id, Enrollment.student_id.in_(in_zone), *conditions)


def withdraw_removed_students(delivery: Delivery, now: datetime) -> int:
    """Enrollments whose student was deleted: mark removed, cancel their unsent messages."""
    gone = select(Enrollment.id).where(Enrollment.delivery_id == delivery.id,
                                       Enrollment.student_id.is_(None),
                                       Enrollment.status.in_(LIVE_ENROLLMENTS))
    outbox.cancel_unsent(now, enrollment_ids=gone)
    return _write(
        update(Enrollment).where(Enrollment.id.in_(gone))
        .values(status=REMOVED, next_due_at=None, updated_at=now)).rowcount


def suspend_opted_out(delivery: Delivery, now: datetime) -> int:
    """Active enrollments whose phone opted out become suspended (they are not planned)."""
    opted_out = select(Student.id).where(_is_opted_out()).scalar_subquery()
    return _write(
        update(Enrollment).where(Enrollment.delivery_id == delivery.id, Enrollment.status == ACTIVE,
                                 Enrollment.student_id.in_(opted_out))
        .values(status=SUSPENDED, updated_at=now)).rowcount


def _insert_parts(delivery: Delivery, day_number: int, parts: list[Part], now: datetime,
                  whatsapp: WhatsAppSettings, *where) -> int:
    """Every part for every due enrollment matching `where`, due at its enrollment's instant; a
    WhatsApp learner's `held` (`window_closed`) when their window is closed (the opener goes)."""
    window_closed = hold_if_closed(Student.channel, Student.phone, whatsapp.sender, now)
    recipients = (select(Enrollment.id, literal(delivery.id), Student.channel, Student.phone,
                         Enrollment.next_due_at, window_closed, Student.livemode)
                  .select_from(Enrollment).join(Student, Student.id == Enrollment.student_id).where(*where))
    return outbox.enqueue_for(recipients, day_number, parts, now)


def _asked(question_id: int):
    """The enrollment's learner was already sent (or is being sent) this question."""
    return exists().where(Message.enrollment_id == Enrollment.id, Message.question_id == question_id)


def carry_over_question(delivery: Delivery, previous: Day | None, day_number: int, now: datetime,
                        due_here, whatsapp: WhatsAppSettings = NO_WHATSAPP_SETTINGS) -> int:
    """A question of the previous day never asked because the one before it was never
    answered goes out with this day, before its text (DESIGN §4: "or with the next day").

    Only the next unasked question of the previous day is carried; the ones after it follow as
    it is answered.
    """
    if previous is None:
        return 0
    questions = previous.questions
    added = 0
    for before, question in zip(questions, questions[1:], strict=False):
        part = question_part(question, CARRIED_SEQUENCE, openers.quick_replies_for(delivery, whatsapp))
        added += _insert_parts(delivery, day_number, [part], now, whatsapp, due_here, _asked(before.id),
                               ~_asked(question.id))
    return added


def _student_timezone():
    """The enrollment's student's timezone (a correlated scalar subquery, for UPDATE … SET)."""
    return select(Student.timezone).where(Student.id == Enrollment.student_id).scalar_subquery()


def plan_delivery(delivery: Delivery, now: datetime, stats: PlanStats,
                  whatsapp: WhatsAppSettings = NO_WHATSAPP_SETTINGS) -> None:
    """Plan every learner of `delivery` whose next day is due, one day each.

    Per due day number: one INSERT … SELECT writes every part for every due learner, and one
    UPDATE advances them all, each learner's next instant chosen by their timezone (a CASE over
    the timezones that are due). A learner whose timezone changed in between is not advanced;
    the next tick plans them again (the unique key makes that a no-op) and advances them.
    """
    suspend_opted_out(delivery, now)
    due_groups = db.session.execute(
        select(Enrollment.next_day, Student.timezone, func.count())
        .join(Student, Student.id == Enrollment.student_id)
        .where(Enrollment.delivery_id == delivery.id, Enrollment.status == ACTIVE,
               Enrollment.next_due_at <= now)
        .group_by(Enrollment.next_day, Student.timezone)).all()
    if not due_groups:
        return
    zones_by_day: dict[int, dict[str, int]] = {}
    for day_number, timezone, learners in due_groups:
        zones_by_day.setdefault(day_number, {})[timezone] = learners
    days = {day.number: day for day in db.session.scalars(
        select(Day).where(Day.course_id == delivery.course_id))}
    last_day = max(days, default=0)
    schedule = planning.schedule_of(delivery)
    for day_number, zones in sorted(zones_by_day.items()):
        due_here = and_(Enrollment.delivery_id == delivery.id, Enrollment.status == ACTIVE,
                        Enrollment.next_day == day_number, Enrollment.next_due_at <= now,
                        Enrollment.student_id.is_not(None))
        stats.paused_silent += reminders.pause_silent(delivery, day_number, due_here, now, whatsapp)
        day = days.get(day_number)
        if day is not None:
            stats.messages += carry_over_question(delivery, days.get(day_number - 1), day_number, now,
                                                  due_here, whatsapp)
            parts = day_parts(day, openers.quick_replies_for(delivery, whatsapp))
            stats.messages += _insert_parts(delivery, day_number, parts, now, whatsapp, due_here)
        timezone = _student_timezone()
        if day_number >= last_day:
            values = {"status": FINISHED, "next_day": day_number + 1, "next_due_at": None}
            stats.finished += sum(zones.values())
        else:
            values = {"next_day": day_number + 1, "next_due_at": case(
                {zone: literal(planning.next_due_after(schedule, day_number + 1, planning.zone(zone), now),
                               Enrollment.next_due_at.type) for zone in zones}, value=timezone)}
        advanced = _write(update(Enrollment).where(due_here, timezone.in_(list(zones)))
                                      .values(**values, updated_at=now)).rowcount
        stats.planned_learner_days += advanced


def complete_if_done(delivery: Delivery, now: datetime) -> bool:
    """COMPLETED once every enrollment is finished or removed."""
    open_enrollments = db.session.scalar(
        select(func.count()).select_from(Enrollment).where(
            Enrollment.delivery_id == delivery.id, Enrollment.status.in_(LIVE_ENROLLMENTS)))
    if open_enrollments:
        return False
    delivery.status, delivery.completed_at, delivery.updated_at = COMPLETED, now, now
    webhooks.record_events("delivery.completed", [audience.about_delivery(
        delivery.id, delivery.owner_id,
        {"delivery_id": delivery.id, "course_id": delivery.course_id, "group_id": delivery.group_id})],
        now=now)
    return True


def replan_behind(delivery: Delivery, now: datetime) -> None:
    """After a pause: learners who fell behind continue at their next regular local time."""
    schedule = planning.schedule_of(delivery)
    behind = db.session.execute(
        select(Enrollment.next_day, Student.timezone).distinct()
        .join(Student, Student.id == Enrollment.student_id)
        .where(Enrollment.delivery_id == delivery.id, Enrollment.status == ACTIVE,
               Enrollment.next_due_at < now)).all()
    for day_number, timezone in behind:
        next_due = planning.next_due_after(schedule, day_number, planning.zone(timezone), now)
        _write(update(Enrollment).where(_enrollments_of(
            delivery, timezone, Enrollment.status == ACTIVE, Enrollment.next_day == day_number,
            Enrollment.next_due_at < now)).values(next_due_at=next_due, updated_at=now))


def _planner_lock() -> bool:
    """One planner at a time; the lock ends with the transaction.

    PostgreSQL: a transaction-level advisory lock (other workers skip this tick). SQLite: the
    write lock, taken up front (BEGIN IMMEDIATE), because a transaction that reads first and
    writes later fails at once if the dispatcher committed in between.
    """
    if db.engine.dialect.name == "sqlite":
        db.session.connection().exec_driver_sql("BEGIN IMMEDIATE")
        return True
    return bool(db.session.execute(text("SELECT pg_try_advisory_xact_lock(:key)"),
                                   {"key": PLANNER_LOCK_KEY}).scalar())


def _plan_one(delivery: Delivery, now: datetime, stats: PlanStats, whatsapp: WhatsAppSettings) -> None:
    """One delivery's tick in a SAVEPOINT: a problem undoes this delivery's work only, is
    logged and kept on the delivery (`planning_error`), and the tick goes on with the others.

    Only a lost connection ends the whole tick: no other delivery could be planned either."""
    delivery_id = delivery.id
    try:
        with db.session.begin_nested():
            stats.enrolled += enroll_students(delivery, now, late=True)
            stats.removed += withdraw_removed_students(delivery, now)
            plan_delivery(delivery, now, stats, whatsapp)
            stats.completed += complete_if_done(delivery, now)
            stats.reminders += reminders.plan_for(delivery, now, whatsapp)
            if delivery.planning_error is not None or delivery.planning_failed_at is not None:
                delivery.planning_error = delivery.planning_failed_at = None
    except Exception as problem:
        if isinstance(problem, DBAPIError) and problem.connection_invalidated:
            raise
        if isinstance(problem, ValueError):  # a bad timezone or schedule: the row's own data
            log.warning("delivery %s not planned: %s", delivery_id, problem)
        else:
            log.error("delivery %s not planned", delivery_id, exc_info=True)
        reason = f"{type(problem).__name__}: {problem}"[:PLANNING_ERROR_MAX_CHARS]
        stats.problems.append(f"delivery {delivery_id}: {reason}")
        db.session.execute(update(Delivery).where(Delivery.id == delivery_id)
                           .values(planning_error=reason, planning_failed_at=now),
                           execution_options={"synchronize_session": False})
        db.session.expire(delivery)


def _remind_one(delivery: Delivery, now: datetime, stats: PlanStats, whatsapp: WhatsAppSettings) -> None:
    """A completed delivery's reminders, in a SAVEPOINT: a problem is logged and undoes only this."""
    try:
        with db.session.begin_nested():
            stats.reminders += reminders.plan_for(delivery, now, whatsapp)
    except Exception as problem:
        if isinstance(problem, DBAPIError) and problem.connection_invalidated:
            raise
        log.error("reminders of delivery %s not planned", delivery.id, exc_info=True)
        stats.problems.append(f"delivery {delivery.id} reminders: {type(problem).__name__}: {problem}")


def plan_due_days(now: datetime, whatsapp: WhatsAppSettings = NO_WHATSAPP_SETTINGS) -> PlanStats:
    """The planner's tick: enroll late joiners, withdraw removed students, pause silent learners,
    plan due days, complete finished deliveries, queue due reminders (`reminders`), queue the
    WhatsApp openers of days held for a closed window (`openers.queue_openers`) and of messages
    outside a course (`outbox.queue_notice_openers`). One transaction, with a savepoint per
    delivery: one delivery that fails never stops the others (see `_plan_one`)."""
    stats = PlanStats()
    with transaction():
        if not _planner_lock():
            stats.skipped_locked = True  # another worker's tick holds the lock: nothing was done
            return stats
        # Locked (PostgreSQL): a PAUSE or STOP of a delivery being planned waits for this tick and
        # then holds or cancels what it queued; one already being paused is left for the next tick.
        running = select(Delivery).where(Delivery.status == SCHEDULED).with_for_update(skip_locked=True)
        planned = db.session.scalars(running).all()
        for delivery in planned:
            stats.deliveries += 1
            _plan_one(delivery, now, stats, whatsapp)
        for delivery in reminders.recently_completed(now):  # their last questions may be open
            if delivery not in planned:
                _remind_one(delivery, now, stats, whatsapp)
        stats.openers = openers.queue_openers(now, whatsapp.opener_content_sid)
        stats.openers += outbox.queue_notice_openers(now, whatsapp.notice_content_sid)
    return stats
