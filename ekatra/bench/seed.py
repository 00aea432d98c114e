"""Benchmark data written straight into the tables with bulk INSERTs (not through the API)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import func, insert, select, text

from ekatra.auth.models import Author
from ekatra.config import SANDBOX_WHATSAPP_FROM
from ekatra.courses.models import Course, Day, Question
from ekatra.deliveries import planning
from ekatra.deliveries.models import ACTIVE, Delivery, Enrollment
from ekatra.extensions import db
from ekatra.groups.models import Group, Student
from ekatra.outbox.models import PENDING, Message
from ekatra.outbox.whatsapp import record_inbound_many

CHUNK_ROWS = 10_000
TIMEZONES = (
    "Asia/Kolkata", "America/New_York", "Africa/Accra", "Europe/London", "Asia/Tokyo", "Australia/Sydney",
    "America/Los_Angeles", "Africa/Nairobi", "Asia/Dhaka", "Europe/Berlin", "America/Sao_Paulo",
    "Asia/Jakarta", "America/Chicago", "Asia/Dubai", "Africa/Lagos", "Europe/Moscow", "Asia/Shanghai",
    "America/Mexico_City", "Asia/Karachi", "Pacific/Auckland", "Asia/Kathmandu", "America/Bogota",
    "Africa/Johannesburg", "Asia/Manila", "Europe/Paris", "America/Denver", "Asia/Singapore",
    "Africa/Cairo", "America/Halifax", "Asia/Colombo", "Pacific/Honolulu", "UTC",
)
DAY_TEXT = "Today: a budget is a plan for your money. Write down what comes in and what goes out."


def _insert_chunked(model, rows: list[dict]) -> None:
    for start in range(0, len(rows), CHUNK_ROWS):
        db.session.execute(insert(model), rows[start:start + CHUNK_ROWS])


def _advance_sequences(*models) -> None:
    """Rows inserted with explicit ids: move PostgreSQL's sequences past them."""
    if db.engine.dialect.name != "postgresql":
        return
    for model in models:
        table = model.__tablename__
        db.session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"))


def phone(index: int) -> str:
    return f"+1555{index:07d}"


def seed_course(owner_id: int, now: datetime, days: int = 3, name: str = "Money basics") -> int:
    course = Course(owner_id=owner_id, name=name, author="Bench", description="", created_at=now,
                    updated_at=now)
    db.session.add(course)
    db.session.flush()
    for number in range(1, days + 1):
        day = Day(course_id=course.id, number=number, text=f"Day {number}. {DAY_TEXT}")
        db.session.add(day)
        db.session.flush()
        db.session.add(Question(day_id=day.id, position=1, text="Is a budget a plan?", type="boolean",
                                correct_answer="yes"))
    return course.id


def seed_learners(learners: int, timezones: int, now: datetime) -> int:
    """An author, a three-day course and a group of `learners` students spread over `timezones`
    zones, enrolled in a daily delivery whose day 1 is due now for all of them. Commits; the
    delivery's id."""
    zones = TIMEZONES[:max(1, min(timezones, len(TIMEZONES)))]
    author = Author(email="bench@example.org", name="Bench", password_hash="x", created_at=now,
                    updated_at=now)
    db.session.add(author)
    db.session.flush()
    course_id = seed_course(author.id, now)
    group = Group(owner_id=author.id, name="Bench learners", created_at=now, updated_at=now)
    db.session.add(group)
    db.session.flush()
    # Day 1 was two days ago at midnight local time: due now everywhere, and day 2 comes later.
    schedule = planning.Schedule(cadence="daily", local_start_date=date.fromordinal(now.toordinal() - 2),
                                 local_send_time=time(0, 0))
    delivery = Delivery(owner_id=author.id, course_id=course_id, group_id=group.id, cadence="daily",
                        local_start_date=schedule.local_start_date, local_send_time=schedule.local_send_time,
                        created_at=now, updated_at=now)
    db.session.add(delivery)
    db.session.flush()
    first_id = (db.session.scalar(select(func.max(Student.id))) or 0) + 1
    students, enrollments = [], []
    due = {zone: planning.due_at(schedule, 1, planning.zone(zone)) for zone in zones}
    for index in range(learners):
        zone = zones[index % len(zones)]
        student_id = first_id + index
        students.append({"id": student_id, "group_id": group.id, "name": f"Learner {index}",
                         "phone": phone(index), "channel": "whatsapp" if index % 10 == 0 else "sms",
                         "timezone": zone, "is_subscribed": True, "created_at": now, "updated_at": now})
        enrollments.append({"id": student_id, "delivery_id": delivery.id, "student_id": student_id,
                            "next_day": 1, "next_due_at": due[zone], "status": ACTIVE, "created_at": now,
                            "updated_at": now})
    _insert_chunked(Student, students)
    _insert_chunked(Enrollment, enrollments)
    _advance_sequences(Student, Enrollment)
    db.session.commit()
    return delivery.id


BENCH_WINDOW_SECONDS = 7 * 86_400  # longer than any parked backlog


def seed_outbox(messages: int, start: datetime, due_over_seconds: float) -> None:
    """`messages` learners, each with one pending day-1 message (as the planner writes them),
    due from `start` on, spread evenly over `due_over_seconds`. Commits."""
    delivery_id = seed_learners(messages, 1, start)
    delivery = db.session.get(Delivery, delivery_id)
    rows = []
    step = due_over_seconds / messages if messages else 0
    for index, (enrollment_id, student_id, channel, to_phone) in enumerate(db.session.execute(
            select(Enrollment.id, Student.id, Student.channel, Student.phone)
            .join(Student, Student.id == Enrollment.student_id)
            .where(Enrollment.delivery_id == delivery_id).order_by(Enrollment.id))):
        due_at = start + timedelta(seconds=index * step)
        rows.append({"delivery_id": delivery.id, "enrollment_id": enrollment_id, "student_id": student_id,
                     "day_number": 1, "part": "content-1", "sequence": 0, "channel": channel,
                     "to_phone": to_phone, "body": f"Day 1. {DAY_TEXT}", "segments": 1, "encoding": "GSM-7",
                     "due_at": due_at, "next_attempt_at": due_at, "status": PENDING, "attempts": 0,
                     "created_at": start, "updated_at": start})
    _insert_chunked(Message, rows)
    # The WhatsApp learners wrote to us: their window is open while the benchmark runs.
    whatsapp = [row["to_phone"] for row in rows if row["channel"] == "whatsapp"]
    record_inbound_many(whatsapp, SANDBOX_WHATSAPP_FROM, start, BENCH_WINDOW_SECONDS)
    db.session.commit()
