"""Deliveries: create, pause/resume/stop, resume a silent learner, withdraw removed students.
Reading them (list, detail with progress, schedule, messages) is views.py."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update

from ekatra.auth.services import Actor
from ekatra.courses.services import find_course
from ekatra.deliveries import planning
from ekatra.deliveries import reminders as reminders_module
from ekatra.deliveries.models import (
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
from ekatra.groups.models import Student
from ekatra.groups.services import find_group
from ekatra.outbox import services as outbox
from ekatra.outbox.twilio import WHATSAPP
from ekatra.ownership import is_row_id, visible
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
