"""WhatsApp openers: the approved template that opens a learner's closed customer-service window
for a day ("Hi {{1}}, day {{3}} of {{2}} is ready. Reply to start.").

A day whose parts wait `held` (`window_closed`) gets exactly one opener, part `opener-<day>`,
unique with the enrollment and day, so several planners, a crash or a second 63016 cannot
queue two. An opener the learner already answered (they wrote after it was sent) is spent: if
the window closes again before the day went out, the same row is queued again.

`quick_replies_for`: the quick-reply templates a delivery's questions (and their reminders) go
with on WhatsApp inside the window.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, exists, select

from ekatra.courses.models import Course
from ekatra.deliveries.models import SCHEDULED, Delivery, Enrollment
from ekatra.extensions import db
from ekatra.groups.models import Student
from ekatra.outbox import services as outbox
from ekatra.outbox.models import HELD, UNSENT, WINDOW_CLOSED_REASON, Message, WhatsAppWindow
from ekatra.outbox.twilio import WHATSAPP
from ekatra.outbox.whatsapp import WhatsAppSettings, content_variables

OPENER_SEQUENCE = -2  # before a carried-over question (-1) and the day's own parts (0…)
OPENER_TEXT = "Hi {name}, day {day} of {course} is ready. Reply to start."  # the template's gist


def opener_part(day_number: int) -> str:
    return f"opener-{day_number}"


def opener_variables(name: str, course: str, day_number: int) -> str:
    """The opener's ContentVariables: {"1": learner's name, "2": course name, "3": day number}."""
    return content_variables([name, course, day_number])


def _spent(opener):
    """The learner wrote after this opener was sent: it did its work."""
    return exists().where(WhatsAppWindow.phone == opener.c.to_phone,
                          WhatsAppWindow.last_inbound_at > opener.c.sent_at)


def queue_openers(now: datetime, default_content_sid: str) -> int:
    """Queue the opener of every (learner, day) held for a closed window that has no live one:
    the course's template, else `default_content_sid` (none: the day waits for the learner to
    write). Runs in the caller's transaction. How many were queued."""
    opener = Message.__table__.alias("opener")
    live_opener = exists().where(
        opener.c.enrollment_id == Message.enrollment_id, opener.c.day_number == Message.day_number,
        opener.c.content_sid.is_not(None), opener.c.part.like("opener-%"),
        ~and_(opener.c.status.not_in(UNSENT), _spent(opener)))
    rows = db.session.execute(
        select(Message.enrollment_id, Message.day_number, Message.delivery_id, Message.to_phone,
               Student.name, Course.name, Course.whatsapp_opener_content_sid, Student.livemode).distinct()
        .join(Enrollment, Enrollment.id == Message.enrollment_id)
        .join(Student, Student.id == Enrollment.student_id)
        .join(Delivery, Delivery.id == Message.delivery_id)
        .join(Course, Course.id == Delivery.course_id)
        .where(Message.hold_reason == WINDOW_CLOSED_REASON, Message.status == HELD,
               Message.channel == WHATSAPP, Delivery.status == SCHEDULED, ~live_opener)).all()
    new, spent = [], []
    for enrollment_id, day_number, delivery_id, phone, name, course, course_sid, livemode in rows:
        content_sid = course_sid or default_content_sid
        if not content_sid:
            continue
        new.append(outbox.NewMessage(
            channel=WHATSAPP, to_phone=phone, part=opener_part(day_number), sequence=OPENER_SEQUENCE,
            body=OPENER_TEXT.format(name=name, day=day_number, course=course), delivery_id=delivery_id,
            enrollment_id=enrollment_id, day_number=day_number, content_sid=content_sid,
            content_variables=opener_variables(name, course, day_number), livemode=livemode))
        spent.append((enrollment_id, day_number))
    added = outbox.enqueue_many(new, now)
    if added < len(new):  # some existed and were spent: queue them again
        added += outbox.queue_again([(e, d, opener_part(d)) for e, d in spent], now)
    return added


def quick_replies_for(delivery: Delivery, whatsapp: WhatsAppSettings) -> dict[str, str]:
    """The WhatsApp quick-reply templates for this delivery's questions (and their reminders):
    the course's own, else the deployment's."""
    course = db.session.get(Course, delivery.course_id)
    return {**whatsapp.quick_replies, **((course.whatsapp_quick_replies if course else None) or {})}
