"""Deliveries: create, pause/resume/stop, and read their progress, schedule and messages."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Integer, Row, bindparam, case, func, literal, null, select, union_all, update

from ekatra.auth.services import Actor
from ekatra.courses.models import Course, Day
from ekatra.courses.services import find_course
from ekatra.deliveries import planning
from ekatra.deliveries import reminders as reminders_module
from ekatra.deliveries.course_keys import course_key
from ekatra.deliveries.models import (
    FINISHED,
    LIVE_ENROLLMENTS,
    PAUSED,
    PAUSED_SILENT,
    REMOVED,
    SCHEDULED,
    STOPPED,
    Delivery,
    Enrollment,
)
from ekatra.deliveries.planner import enroll_students, replan_behind
from ekatra.errors import Invalid, InvalidState, NotFound
from ekatra.extensions import db
from ekatra.groups.models import Group, Student
from ekatra.groups.services import find_group
from ekatra.inbound.models import Answer
from ekatra.outbox import services as outbox
from ekatra.outbox.models import Message
from ekatra.outbox.twilio import WHATSAPP
from ekatra.outbox.whatsapp import window_states
from ekatra.ownership import is_row_id, owned, visible
from ekatra.transactions import transaction
from ekatra.webhooks import audience
from ekatra.webhooks import services as webhooks

DELIVERY_NOT_FOUND = "Delivery not found!!"
WHATSAPP_NEEDS_OPENER = (
    "The group has WhatsApp learners, but no WhatsApp opener template is configured: set "
    "WHATSAPP_OPENER_CONTENT_SID (an approved Twilio content template, HX…) or the course's "
    "whatsapp_opener_content_sid. Outside WhatsApp's 24-hour window only a template reaches a learner.")

# action → (states it may be taken from, state it leads to)
TRANSITIONS = {
    "PAUSE": ((SCHEDULED,), PAUSED),
    "RESUME": ((PAUSED,), SCHEDULED),
    "STOP": ((SCHEDULED, PAUSED), STOPPED),
}


def find_delivery(actor: Actor, delivery_id: int) -> Delivery:
    delivery = visible(actor, db.session.get(Delivery, delivery_id) if is_row_id(delivery_id) else None)
    if delivery is None:
        raise NotFound(DELIVERY_NOT_FOUND)
    return delivery


def create_delivery(actor: Actor, group_id: int, course_id: int, *, schedule_at: str,
                    timezone: str | None, cadence: str, interval: int | None,
                    now: datetime, whatsapp_opener_content_sid: str | None = None,
                    reminders: dict | None = None) -> Delivery:
    """Schedule a course for a group; every student is enrolled at day 1.

    WhatsApp learners need an approved opener template (the course's, else
    `whatsapp_opener_content_sid`): without one a day outside their window could never reach
    them, so such a delivery is refused."""
    group = find_group(actor, group_id)
    course = find_course(actor, course_id)
    if not course.days:
        raise Invalid("The course has no days to deliver.", {"course": ["Has no days."]})
    if not db.session.scalar(select(func.count()).select_from(Student)
                             .where(Student.group_id == group.id)):
        raise Invalid("The group has no students to deliver to.", {"group": ["Has no students."]})
    if not (course.whatsapp_opener_content_sid or whatsapp_opener_content_sid) and db.session.scalar(
            select(func.count()).select_from(Student).where(Student.group_id == group.id,
                                                            Student.channel == WHATSAPP)):
        raise Invalid(WHATSAPP_NEEDS_OPENER, {"group": [WHATSAPP_NEEDS_OPENER]})
    schedule = planning.parse_schedule(schedule_at, timezone, cadence, interval, now)
    delivery = Delivery(owner_id=actor.author_id, course_id=course.id, group_id=group.id,
                        local_start_date=schedule.local_start_date,
                        local_send_time=schedule.local_send_time, start_at=schedule.start_at,
                        cadence=schedule.cadence, interval_minutes=schedule.interval_minutes,
                        status=SCHEDULED, created_at=now, updated_at=now)
    reminders_module.apply_settings(delivery, reminders)
    try:
        with transaction():
            db.session.add(delivery)
            db.session.flush()
            enroll_students(delivery, now, late=False)
            _record_enrolments(delivery, now)
    except planning.OutOfRange as problem:
        raise Invalid(f"schedule_at: {problem}.", {"schedule_at": [str(problem)]}) from None
    return delivery


def _record_enrolments(delivery: Delivery, now: datetime) -> None:
    """`student.enrolled` for every learner enrolled at creation: to the delivery's author, and to
    the partner whose learner a student is."""
    student_ids = db.session.scalars(select(Enrollment.student_id).where(
        Enrollment.delivery_id == delivery.id).order_by(Enrollment.id))
    webhooks.record_events("student.enrolled", audience.about_students([
        (student_id, delivery.owner_id, {"course_id": delivery.course_id, "delivery_id": delivery.id})
        for student_id in student_ids]), now=now)


def change_delivery(actor: Actor, delivery_id: int, now: datetime, *, action: str | None = None,
                    reminders: dict | None = None) -> Delivery:
    """Change a delivery's reminder settings (those given), then take the action, if any: one
    write (an invalid setting or a refused action changes nothing)."""
    delivery = find_delivery(actor, delivery_id)
    if action is not None:
        return change_status(actor, delivery_id, action, now, delivery=delivery, reminders=reminders)
    with transaction():
        if reminders is not None:
            reminders_module.apply_settings(delivery, reminders)
            delivery.updated_at = now
    return delivery


def change_status(actor: Actor, delivery_id: int, action: str, now: datetime, *,
                  delivery: Delivery | None = None, reminders: dict | None = None) -> Delivery:
    """PAUSE holds unsent messages (and cancels unsent reminders); RESUME re-plans learners who
    fell behind; STOP is final. `reminders` settings, if given, change in the same write."""
    delivery = delivery or find_delivery(actor, delivery_id)
    allowed_from, target = TRANSITIONS[action]
    if delivery.status not in allowed_from:
        raise InvalidState(f"Cannot {action} a delivery that is {delivery.status.upper()}"
                           + (": STOP is final." if delivery.status == STOPPED else "."))
    with transaction():
        if reminders is not None:
            reminders_module.apply_settings(delivery, reminders)
        delivery.status, delivery.updated_at = target, now
        # The delivery's row first: a planner tick planning it (which locks it) ends before the
        # outbox changes below, so they see every message it queued.
        db.session.flush()
        if action == "PAUSE":
            delivery.paused_at = now
            reminders_module.cancel_delivery_reminders(delivery.id, now)
            outbox.hold(delivery.id, now)
        elif action == "RESUME":
            delivery.paused_at = None
            try:
                replan_behind(delivery, now)
            except planning.OutOfRange as problem:
                raise InvalidState(f"Cannot RESUME: the delivery's schedule {problem}; STOP it and "
                                   "schedule the course again.") from None
            outbox.release(delivery.id, now)
        else:
            delivery.stopped_at = now
            outbox.cancel_unsent(now, delivery_id=delivery.id)
    return delivery


def resume_learner(actor: Actor, delivery_id: int, student_id: int, now: datetime) -> Enrollment:
    """An author resumes a learner paused for silence: active again, their missed day due at once."""
    delivery = find_delivery(actor, delivery_id)
    enrollment = db.session.scalar(select(Enrollment).where(Enrollment.delivery_id == delivery.id,
                                                            Enrollment.student_id == student_id)) \
        if is_row_id(student_id) else None
    if enrollment is None:
        raise NotFound("Student not found in this delivery!!")
    if enrollment.status != PAUSED_SILENT:
        raise InvalidState(f"The learner is {enrollment.status}, not paused_silent: nothing to resume.")
    with transaction():
        reminders_module.resume_enrollment(enrollment.id, now)
    db.session.refresh(enrollment)
    return enrollment


def withdraw_students(student_ids: list[int], now: datetime) -> None:
    """These students leave their groups (before their rows are deleted): their enrollments
    become `removed` and their unsent messages `cancelled`, in the caller's transaction."""
    if not student_ids:
        return
    # Enrollments first: on PostgreSQL this waits for a planner tick that is advancing them, so
    # the cancel below (a later statement) also sees the messages that tick queued.
    db.session.execute(update(Enrollment).where(Enrollment.student_id.in_(student_ids),
                                                Enrollment.status.in_(LIVE_ENROLLMENTS))
                       .values(status=REMOVED, next_due_at=None, updated_at=now),
                       execution_options={"synchronize_session": False})
    enrollments = select(Enrollment.id).where(Enrollment.student_id.in_(student_ids))
    outbox.cancel_unsent(now, enrollment_ids=enrollments)


# Reading --------------------------------------------------------------------------------------


@dataclass
class DeliveryView:
    """A delivery with what the list and detail routes show about it.

    `delivery` is a row of the deliveries table (from `_delivery_rows`), read-only."""

    delivery: Row
    group_name: str
    course_name: str
    day_id: int
    students: int
    messages: dict[str, int]
    days: int = 0
    progress: list[dict] = field(default_factory=list)

    def __getattr__(self, name):  # the response schemas read the delivery's own columns too
        return getattr(self.delivery, name)

    @property
    def status(self) -> str:
        return self.delivery.status.upper()

    @property
    def added_by(self) -> int:
        return self.delivery.owner_id

    @property
    def course_key(self) -> str:
        d = self.delivery
        return course_key(d.owner_id, d.course_id, d.id)

    @property
    def scheduled_time(self) -> str:
        d = self.delivery
        if d.start_at is not None:
            return d.start_at.strftime("%Y-%m-%d %H:%M:%S")
        return f"{d.local_start_date.isoformat()} {d.local_send_time.strftime('%H:%M:%S')}"

    @property
    def timezone(self) -> str | None:
        return "UTC" if self.delivery.start_at is not None else None

    @property
    def interval(self) -> int | None:
        return self.delivery.interval_minutes

    @property
    def counts(self) -> dict:
        return {"students": self.students, "messages": self.messages}


_deliveries, _enrollments, _messages = Delivery.__table__, Enrollment.__table__, Message.__table__
_groups, _courses = Group.__table__, Course.__table__
# The read path's statements are built once (plain Core: no ORM identity map, no per-request
# statement building); SQLAlchemy compiles each once per engine.
_DELIVERIES = (
    select(_deliveries, func.coalesce(_groups.c.name, "").label("group_name"),
           func.coalesce(_courses.c.name, "").label("course_name"))
    .select_from(_deliveries.outerjoin(_groups, _groups.c.id == _deliveries.c.group_id)
                 .outerjoin(_courses, _courses.c.id == _deliveries.c.course_id))
    .order_by(_deliveries.c.id))
_DELIVERY = _DELIVERIES.where(_deliveries.c.id == bindparam("delivery_id"))
_IDS = bindparam("ids", expanding=True)
_ENROLLED_ROW = ""  # no message status is empty
# Both counts of a set of deliveries in one statement: per delivery a row ("enrolled", its
# learners, the furthest next day) and a row per message status (status, count, NULL).
_ENROLLED = (select(_enrollments.c.delivery_id, literal(_ENROLLED_ROW).label("kind"),
                    func.count(_enrollments.c.student_id).label("count"),
                    func.max(_enrollments.c.next_day).label("furthest"))
             .where(_enrollments.c.delivery_id.in_(_IDS)).group_by(_enrollments.c.delivery_id))
_MESSAGES_BY_STATUS = (select(_messages.c.delivery_id, _messages.c.status, func.count(),
                              null().cast(Integer))
                       .where(_messages.c.delivery_id.in_(_IDS))
                       .group_by(_messages.c.delivery_id, _messages.c.status))
_COUNTS = union_all(_ENROLLED, _MESSAGES_BY_STATUS)


def _delivery_rows(actor: Actor, delivery_id: int | None = None) -> list:
    """The actor's deliveries (or the one with `delivery_id`, if the actor may see it) by id,
    with their group's and course's names (`group_name`, `course_name`)."""
    connection = db.session.connection()
    if delivery_id is None:
        return connection.execute(owned(_DELIVERIES, _deliveries, actor)).all()
    row = visible(actor, connection.execute(_DELIVERY, {"delivery_id": delivery_id}).first())
    return [row] if row is not None else []


def _views(deliveries: list) -> list[DeliveryView]:
    """Views of delivery rows from `_delivery_rows`: one statement counts for all of them."""
    ids = [d.id for d in deliveries]
    if not ids:
        return []
    enrolled = defaultdict(lambda: (0, 0))
    messages: dict[int, dict[str, int]] = defaultdict(dict)
    for delivery_id, kind, count, furthest in db.session.connection().execute(_COUNTS, {"ids": ids}):
        if kind == _ENROLLED_ROW:
            enrolled[delivery_id] = (count, (furthest or 1) - 1)
        else:
            messages[delivery_id][kind] = count
    return [DeliveryView(d, d.group_name, d.course_name, enrolled[d.id][1], enrolled[d.id][0],
                         messages[d.id]) for d in deliveries]


def list_deliveries(actor: Actor) -> list[DeliveryView]:
    """The actor's deliveries (an admin's: everyone's), oldest first."""
    return _views(_delivery_rows(actor))


def answer_counts(delivery_id: int) -> dict[int, tuple[int, int]]:
    """enrollment id → (answers, correct answers)."""
    rows = db.session.execute(
        select(Answer.enrollment_id, func.count(), func.sum(case((Answer.is_correct.is_(True), 1), else_=0)))
        .where(Answer.delivery_id == delivery_id).group_by(Answer.enrollment_id))
    return {enrollment_id: (answered, correct or 0) for enrollment_id, answered, correct in rows}


def get_delivery(actor: Actor, delivery_id: int, now: datetime | None = None,
                 whatsapp_sender: str | None = None) -> DeliveryView:
    """Summary and per-student progress: current day, messages by status, and for WhatsApp
    learners whether their window is open (at `now`) and until when."""
    rows = _delivery_rows(actor, delivery_id) if is_row_id(delivery_id) else []
    if not rows:
        raise NotFound(DELIVERY_NOT_FOUND)
    (view,) = _views(rows)
    delivery = view.delivery
    view.days = db.session.scalar(select(func.count()).select_from(Day)
                                  .where(Day.course_id == delivery.course_id))
    by_student: dict[int, dict[str, int]] = defaultdict(dict)
    for enrollment_id, status, count in db.session.execute(
            select(Message.enrollment_id, Message.status, func.count())
            .where(Message.delivery_id == delivery.id)
            .group_by(Message.enrollment_id, Message.status)):
        by_student[enrollment_id][status] = count
    answers = answer_counts(delivery.id)
    reminded = reminders_module.reminders_sent(
        select(Enrollment.id).where(Enrollment.delivery_id == delivery.id))
    rows = db.session.execute(
        select(Enrollment, Student).outerjoin(Student, Student.id == Enrollment.student_id)
        .where(Enrollment.delivery_id == delivery.id).order_by(Enrollment.id)).all()
    windows = window_states((s.phone for _, s in rows if s is not None and s.channel == WHATSAPP),
                            whatsapp_sender)
    now = now or datetime.now(UTC)

    def window(student) -> dict:
        if student is None or student.channel != WHATSAPP:
            return {"whatsapp_window_open": None, "whatsapp_window_open_until": None}
        until = windows.get(student.phone)
        return {"whatsapp_window_open": until is not None and until > now,
                "whatsapp_window_open_until": until}

    view.progress = [{
        "student_id": enrollment.student_id,
        "name": student.name if student else None,
        "number": student.phone if student else None,
        "channel": student.channel if student else None,
        "timezone": student.timezone if student else None,
        "enrollment_status": enrollment.status,
        "current_day": enrollment.next_day - 1,
        "next_day": None if enrollment.status == FINISHED else enrollment.next_day,
        "next_due_at": enrollment.next_due_at,
        "messages": by_student[enrollment.id],
        "answers": answers.get(enrollment.id, (0, 0))[0],
        "reminders_sent": reminded.get(enrollment.id, 0),
        **window(student),
    } for enrollment, student in rows]
    return view


def _iso_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def delivery_schedule(actor: Actor, delivery_id: int) -> list[dict]:
    """For every student, the instants at which each day is (or was) planned to go out.

    Days already planned show their messages' due time; the next day its enrollment's due
    time; later days follow at the regular slots after it, exactly as the planner will go.
    """
    delivery = find_delivery(actor, delivery_id)
    schedule = planning.schedule_of(delivery)
    last_day = db.session.scalar(select(func.max(Day.number)).where(Day.course_id == delivery.course_id)) or 0
    planned: dict[int, dict[int, datetime]] = defaultdict(dict)
    for enrollment_id, day_number, due in db.session.execute(
            select(Message.enrollment_id, Message.day_number, func.min(Message.due_at))
            .where(Message.delivery_id == delivery.id)
            .group_by(Message.enrollment_id, Message.day_number)):
        planned[enrollment_id][day_number] = due
    rows = db.session.execute(
        select(Enrollment, Student).join(Student, Student.id == Enrollment.student_id)
        .where(Enrollment.delivery_id == delivery.id).order_by(Student.id)).all()
    students = []
    for enrollment, student in rows:
        zone = planning.zone(student.timezone)
        instants = dict(planned[enrollment.id])
        moment = enrollment.next_due_at
        if moment is not None and enrollment.status in LIVE_ENROLLMENTS:
            for day in range(enrollment.next_day, last_day + 1):
                if day > enrollment.next_day:
                    try:
                        moment = planning.next_due_after(schedule, day, zone, moment)
                    except planning.OutOfRange:
                        break  # a schedule stored before its dates were bounded: show what fits
                instants[day] = moment
        students.append({"student_id": student.id, "name": student.name, "timezone": student.timezone,
                         "days": _scheduled_days(instants, zone)})
    return students


def _scheduled_days(instants: dict[int, datetime], zone) -> list[dict]:
    """Each day's instant, local and UTC, up to the first the calendar cannot show."""
    days = []
    for day in sorted(instants):
        try:
            local = instants[day].astimezone(zone).isoformat()
        except OverflowError:  # a UTC instant in 9999 is already 10000 east of Greenwich
            break
        days.append({"day": day, "local": local, "utc": _iso_utc(instants[day])})
    return days


@dataclass
class MessagesPage:
    messages: list[Message]
    page: int
    page_size: int
    total: int


def list_messages(actor: Actor, delivery_id: int, *, status: str | None, page: int,
                  page_size: int) -> MessagesPage:
    delivery = find_delivery(actor, delivery_id)
    query = select(Message).where(Message.delivery_id == delivery.id)
    if status:
        query = query.where(Message.status == status)
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    messages = list(db.session.scalars(query.order_by(Message.due_at, Message.id)
                                       .offset((page - 1) * page_size).limit(page_size)))
    return MessagesPage(messages, page, page_size, total)

