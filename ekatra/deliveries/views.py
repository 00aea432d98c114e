"""Reading deliveries: the list and the detail with each learner's progress, the schedule of
days per learner, and the outbox's messages of a delivery. Another author's delivery is not
found, as everywhere (`services.find_delivery`)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Integer, Row, bindparam, case, func, literal, null, select, union_all

from ekatra.auth.checked_reads import CheckedSelect, Reader
from ekatra.auth.services import Actor
from ekatra.courses.models import Course, Day
from ekatra.deliveries import planning
from ekatra.deliveries import reminders as reminders_module
from ekatra.deliveries.course_keys import course_key
from ekatra.deliveries.models import FINISHED, LIVE_ENROLLMENTS, Delivery, Enrollment
from ekatra.deliveries.services import DELIVERY_NOT_FOUND, find_delivery
from ekatra.errors import NotFound
from ekatra.extensions import db
from ekatra.groups.models import Group, Student
from ekatra.inbound.models import Answer
from ekatra.outbox.models import Message
from ekatra.outbox.twilio import WHATSAPP
from ekatra.outbox.whatsapp import window_states
from ekatra.ownership import is_row_id, owned, visible


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
_DELIVERY = CheckedSelect(_DELIVERIES.where(_deliveries.c.id == bindparam("delivery_id")))
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


def _delivery_rows(reader: Reader, delivery_id: int | None = None) -> list:
    """The reader's deliveries (or the one with `delivery_id`, if the reader may see it) by id,
    with their group's and course's names (`group_name`, `course_name`). The first statement
    checks a SessionToCheck too; an admin's list is read again unrestricted."""
    if delivery_id is None:
        assumed = reader if isinstance(reader, Actor) else reader.assumed
        actor, rows = CheckedSelect(owned(_DELIVERIES, _deliveries, assumed)).rows(reader)
        if actor != assumed:
            rows = db.session.connection().execute(owned(_DELIVERIES, _deliveries, actor)).all()
        return rows
    actor, rows = _DELIVERY.rows(reader, {"delivery_id": delivery_id})
    row = visible(actor, rows[0]) if rows else None
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


def list_deliveries(reader: Reader) -> list[DeliveryView]:
    """The reader's deliveries (an admin's: everyone's), oldest first."""
    return _views(_delivery_rows(reader))


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

