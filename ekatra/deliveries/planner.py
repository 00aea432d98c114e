"""The planner: turns due days into outbox rows and advances each learner's pointer.

Set-based: work is grouped by (day, timezone), so planning a day for 100,000 learners is a
few INSERT … SELECT and UPDATE statements, not 100,000 round trips. Every step is idempotent
(the unique key on messages), so two planners, or one planning twice, cannot send twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, case, exists, func, literal, select, text, union_all, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError

from ekatra.courses.models import Day, Question
from ekatra.courses.rendering import render_content, render_question
from ekatra.deliveries import planning
from ekatra.deliveries.models import (
    ACTIVE,
    COMPLETED,
    FINISHED,
    PLANNING_ERROR_MAX_CHARS,
    REMOVED,
    SCHEDULED,
    SUSPENDED,
    Delivery,
    Enrollment,
)
from ekatra.extensions import db
from ekatra.groups.models import OptOut, Student
from ekatra.outbox.models import CANCELLED, PENDING, Message
from ekatra.outbox.segments import encoding_for, segment_count

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
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Part:
    """One message of a learner's day, the same for every learner of that day."""

    part: str
    sequence: int
    body: str
    question_id: int | None = None

    @property
    def segments(self) -> int:
        return segment_count(self.body)

    @property
    def encoding(self) -> str:
        return encoding_for(self.body)


def day_parts(day: Day) -> list[Part]:
    """A day as it goes out: its text (in numbered parts if long), then its first question.

    Later questions follow when the previous one is answered.
    """
    parts = [Part(f"content-{index}", index - 1, body)
             for index, body in enumerate(render_content(day.text), 1)]
    if day.questions:
        parts.append(question_part(day.questions[0], len(parts)))
    return parts


def _is_opted_out():
    """The student's phone opted out on the student's channel (a correlated EXISTS)."""
    return exists().where(OptOut.phone == Student.phone, OptOut.channel == Student.channel)


def question_part(question: Question, sequence: int) -> Part:
    """A question as a part of a learner's day ("question-<id>"), numbered by its position."""
    return Part(f"question-{question.id}", sequence,
                render_question(question.position, question.text, question.type, question.options or ()),
                question.id)


def schedule_of(delivery: Delivery) -> planning.Schedule:
    return planning.Schedule(local_start_date=delivery.local_start_date,
                             local_send_time=delivery.local_send_time, start_at=delivery.start_at,
                             cadence=delivery.cadence, interval_minutes=delivery.interval_minutes)


def _insert(model):
    """INSERT … ON CONFLICT DO NOTHING for this database."""
    dialect = db.engine.dialect.name
    return postgresql.insert(model) if dialect == "postgresql" else sqlite.insert(model)


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
    schedule = schedule_of(delivery)
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
        statement = _insert(Enrollment).from_select(
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
                                       Enrollment.status.in_((ACTIVE, SUSPENDED)))
    _write(update(Message).where(Message.enrollment_id.in_(gone), Message.status == PENDING)
                       .values(status=CANCELLED, updated_at=now))
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


_MESSAGE_COLUMNS = ["delivery_id", "enrollment_id", "day_number", "part", "sequence",
                    "question_id", "channel", "to_phone", "body", "segments", "encoding", "due_at",
                    "status", "attempts", "next_attempt_at", "created_at", "updated_at"]


def _parts_table(parts: list[Part]):
    """The parts as a derived table (a UNION ALL of literal rows: SQLite has no VALUES aliases)."""
    rows = [select(literal(part.part, Message.part.type).label("part"),
                   literal(part.sequence, Message.sequence.type).label("sequence"),
                   literal(part.question_id, Message.question_id.type).label("question_id"),
                   literal(part.body, Message.body.type).label("body"),
                   literal(part.segments, Message.segments.type).label("segments"),
                   literal(part.encoding, Message.encoding.type).label("encoding"))
            for part in parts]
    return (rows[0] if len(rows) == 1 else union_all(*rows)).subquery("parts")


def _insert_parts(delivery: Delivery, day_number: int, parts: list[Part], now: datetime, *where) -> int:
    """Every part for every due enrollment matching `where`: one INSERT … SELECT (a cross join
    of the enrollments with the parts), idempotent by the unique key."""
    if not parts:
        return 0
    table = _parts_table(parts)
    rows = (select(literal(delivery.id), Enrollment.id, literal(day_number),
                   table.c.part, table.c.sequence, table.c.question_id, Student.channel, Student.phone,
                   table.c.body, table.c.segments, table.c.encoding, Enrollment.next_due_at,
                   literal(PENDING), literal(0), Enrollment.next_due_at,
                   literal(now, Message.created_at.type), literal(now, Message.updated_at.type))
            .select_from(Enrollment).join(Student, Student.id == Enrollment.student_id)
            .join(table, literal(True)).where(*where))
    return _inserted(_insert(Message).from_select(_MESSAGE_COLUMNS, rows).on_conflict_do_nothing())


def _asked(question_id: int):
    """The enrollment's learner was already sent (or is being sent) this question."""
    return exists().where(Message.enrollment_id == Enrollment.id, Message.question_id == question_id)


def carry_over_question(delivery: Delivery, previous: Day | None, day_number: int, now: datetime,
                        due_here) -> int:
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
        added += _insert_parts(delivery, day_number, [question_part(question, CARRIED_SEQUENCE)], now,
                               due_here, _asked(before.id), ~_asked(question.id))
    return added


def _student_timezone():
    """The enrollment's student's timezone (a correlated scalar subquery, for UPDATE … SET)."""
    return select(Student.timezone).where(Student.id == Enrollment.student_id).scalar_subquery()


def plan_delivery(delivery: Delivery, now: datetime, stats: PlanStats) -> None:
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
    schedule = schedule_of(delivery)
    for day_number, zones in sorted(zones_by_day.items()):
        due_here = and_(Enrollment.delivery_id == delivery.id, Enrollment.status == ACTIVE,
                        Enrollment.next_day == day_number, Enrollment.next_due_at <= now,
                        Enrollment.student_id.is_not(None))
        day = days.get(day_number)
        if day is not None:
            stats.messages += carry_over_question(delivery, days.get(day_number - 1), day_number, now,
                                                  due_here)
            stats.messages += _insert_parts(delivery, day_number, day_parts(day), now, due_here)
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
            Enrollment.delivery_id == delivery.id, Enrollment.status.in_((ACTIVE, SUSPENDED))))
    if open_enrollments:
        return False
    delivery.status, delivery.completed_at, delivery.updated_at = COMPLETED, now, now
    return True


def replan_behind(delivery: Delivery, now: datetime) -> None:
    """After a pause: learners who fell behind continue at their next regular local time."""
    schedule = schedule_of(delivery)
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


def _plan_one(delivery: Delivery, now: datetime, stats: PlanStats) -> None:
    """One delivery's tick in a SAVEPOINT: a problem undoes this delivery's work only, is
    logged and kept on the delivery (`planning_error`), and the tick goes on with the others.

    Only a lost connection ends the whole tick: no other delivery could be planned either."""
    delivery_id = delivery.id
    try:
        with db.session.begin_nested():
            stats.enrolled += enroll_students(delivery, now, late=True)
            stats.removed += withdraw_removed_students(delivery, now)
            plan_delivery(delivery, now, stats)
            stats.completed += complete_if_done(delivery, now)
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


def plan_due_days(now: datetime) -> PlanStats:
    """The planner's tick: enroll late joiners, withdraw removed students, plan due days,
    complete finished deliveries. One transaction, with a savepoint per delivery: one
    delivery that fails never stops the others (see `_plan_one`)."""
    stats = PlanStats()
    try:
        if not _planner_lock():
            stats.skipped_locked = True
            db.session.rollback()
            return stats
        for delivery in db.session.scalars(select(Delivery).where(Delivery.status == SCHEDULED)).all():
            stats.deliveries += 1
            _plan_one(delivery, now, stats)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return stats
