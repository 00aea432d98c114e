"""Builders for outbox tests: message rows straight in the table, a delivery when one is needed."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

from sqlalchemy import func, insert, select

from ekatra import clock
from ekatra.auth.models import Author
from ekatra.courses.models import Course
from ekatra.deliveries.models import Delivery, Enrollment
from ekatra.extensions import db
from ekatra.groups.models import Group, Student
from ekatra.outbox import services as outbox
from ekatra.outbox.models import PENDING, Message

_parts = itertools.count(1)


def make_delivery(status: str = "scheduled", now: datetime | None = None) -> Delivery:
    """A delivery with its owner, course and group (no students: messages name their phones)."""
    now = now or clock.now()
    number = next(_parts)
    author = Author(email=f"author{number}@example.org", name="Author", password_hash="x",
                    created_at=now, updated_at=now)
    db.session.add(author)
    db.session.flush()
    course = Course(owner_id=author.id, name="Course", created_at=now, updated_at=now)
    group = Group(owner_id=author.id, name="Group", created_at=now, updated_at=now)
    db.session.add_all([course, group])
    db.session.flush()
    delivery = Delivery(owner_id=author.id, course_id=course.id, group_id=group.id, status=status,
                        start_at=now, created_at=now, updated_at=now)
    db.session.add(delivery)
    db.session.commit()
    return delivery


def make_enrollment(delivery: Delivery, now: datetime | None = None) -> Enrollment:
    """A learner of the delivery: a student in its group, enrolled."""
    now = now or clock.now()
    number = next(_parts)
    student = Student(group_id=delivery.group_id, name=f"Learner {number}", phone=f"+1555{number:07d}",
                      channel="sms", timezone="UTC", created_at=now, updated_at=now)
    db.session.add(student)
    db.session.flush()
    enrollment = Enrollment(delivery_id=delivery.id, student_id=student.id, created_at=now,
                            updated_at=now)
    db.session.add(enrollment)
    db.session.commit()
    return enrollment


def message_values(*, to: str = "+919812345678", body: str = "Hello", channel: str = "sms",
                   due_at: datetime | None = None, status: str = PENDING, **fields) -> dict:
    due_at = due_at or clock.now()
    now = fields.pop("now", due_at)
    return {"to_phone": to, "body": body, "channel": channel, "due_at": due_at, "next_attempt_at": due_at,
            "status": status, "part": fields.pop("part", f"part-{next(_parts)}"), "sequence": 0,
            "attempts": 0, "segments": 1, "encoding": "GSM-7", "created_at": now, "updated_at": now,
            **fields}


def add_message(**fields) -> Message:
    """One outbox row (pending and due now unless told otherwise). Commits."""
    message = Message(**message_values(**fields))
    db.session.add(message)
    db.session.commit()
    return message


def add_messages(count: int, due_at: datetime, to=lambda i: f"+1555{i:07d}",
                 body=lambda i: f"Message {i}") -> None:
    """Many pending rows in one executemany INSERT. Commits."""
    rows = [message_values(to=to(i), body=body(i), due_at=due_at, part=f"bulk-{i}") for i in range(count)]
    db.session.execute(insert(Message), rows)
    db.session.commit()


def add_day(enrollment: Enrollment, bodies: list[str], to: str, due_at: datetime, day: int = 1,
            channel: str = "sms") -> list[Message]:
    """The parts of one learner's day, in sequence order, queued as the outbox queues them (the
    first `pending`, the others `waiting` behind it). Commits."""
    for index, body in enumerate(bodies):
        outbox.enqueue(outbox.NewMessage(channel=channel, to_phone=to, body=body, part=f"content-{index}",
                                         sequence=index, delivery_id=enrollment.delivery_id,
                                         enrollment_id=enrollment.id, day_number=day, due_at=due_at), due_at)
    db.session.commit()
    return list(db.session.scalars(select(Message).where(
        Message.enrollment_id == enrollment.id, Message.day_number == day).order_by(Message.sequence)))


def fresh(message_id: int) -> Message:
    """The row as the database has it now (not a cached copy); ends the read transaction."""
    db.session.expire_all()
    message = db.session.scalar(select(Message).where(Message.id == message_id))
    db.session.expunge(message)
    db.session.rollback()
    return message


def statuses() -> dict[str, int]:
    """How many rows are in each status; ends the read transaction."""
    rows = db.session.execute(select(Message.status, func.count()).group_by(Message.status)).all()
    db.session.rollback()
    return dict(rows)


def later(now: datetime, **delta) -> datetime:
    return now + timedelta(**delta)


def open_window(phone: str, now: datetime, seconds: float = 86_400,
                sender: str = "whatsapp:+14155238886") -> None:
    """The WhatsApp learner on `phone` wrote to us at `now`: their window is open. Commits."""
    from ekatra.outbox.whatsapp import record_inbound

    record_inbound(phone, sender, now, seconds)
    db.session.commit()
