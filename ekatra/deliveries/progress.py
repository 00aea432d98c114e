"""Learners' progress through a delivery: days sent and delivered, answers, last reply, opt-out,
state and reminders; and per delivery whether reminders work (response rates before and after).

Read-only; a few grouped queries per delivery, whatever the number of learners.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, case, func, or_, select

from ekatra import spreadsheets
from ekatra.auth.services import Actor
from ekatra.courses.models import Day
from ekatra.deliveries.models import PAUSED_SILENT, Delivery, Enrollment
from ekatra.deliveries.reminders import reminders_sent
from ekatra.deliveries.services import find_delivery
from ekatra.deliveries.views import answer_counts
from ekatra.extensions import db
from ekatra.groups.models import Student
from ekatra.groups.services import find_group
from ekatra.inbound.models import Answer
from ekatra.outbox.models import DELIVERED, READ, SENT, UNDELIVERED, Message
from ekatra.outbox.optouts import opted_out_keys
from ekatra.ownership import owned

# A day counts as sent once its first part was accepted by the provider, delivered once the
# provider confirmed delivery of that part.
SENT_STATUSES = (SENT, DELIVERED, READ, UNDELIVERED)
DELIVERED_STATUSES = (DELIVERED, READ)
FIRST_PART = "content-1"

CSV_COLUMNS = ("delivery_id", "student_id", "name", "number", "channel", "enrollment_status", "days_sent",
               "days_delivered", "questions_answered", "answers_correct", "last_reply", "last_reply_at",
               "opted_out", "state", "reminders_sent", "livemode")


@dataclass
class DeliveryProgress:
    delivery_id: int
    course_id: int
    group_id: int
    status: str
    days: int
    learners: list[dict] = field(default_factory=list)
    reminder_effect: dict = field(default_factory=dict)

    @property
    def totals(self) -> dict:
        learners = self.learners
        sent = sum(learner["days_sent"] for learner in learners)
        possible = self.days * len(learners)
        return {"learners": len(learners), "days_sent": sent,
                "days_delivered": sum(learner["days_delivered"] for learner in learners),
                "questions_answered": sum(learner["questions_answered"] for learner in learners),
                "answers_correct": sum(learner["answers_correct"] for learner in learners),
                "opted_out": sum(learner["opted_out"] for learner in learners),
                "paused_silent": sum(learner["state"] == PAUSED_SILENT for learner in learners),
                "reminders": self.reminder_effect,
                "completion_percent": round(100 * sent / possible, 1) if possible else 0.0}


@dataclass(frozen=True)
class DayCounts:
    """How far a learner got: days sent (the first part of the day accepted by the provider),
    days delivered (that part confirmed delivered), and when the last of those parts was sent."""

    sent: int = 0
    delivered: int = 0
    last_sent_at: datetime | None = None


def day_counts(enrollment_ids) -> dict[int, DayCounts]:
    """The one definition of days a learner received, per enrollment (`enrollment_ids`: ids or a
    SELECT of them), for the progress report, the delivery view and the partner API."""
    first_sent = and_(Message.status.in_(SENT_STATUSES), Message.part == FIRST_PART)
    counts = {}
    for enrollment_id, sent, delivered, last_sent_at in db.session.execute(
            select(Message.enrollment_id,
                   func.sum(case((Message.status.in_(SENT_STATUSES), 1), else_=0)),
                   func.sum(case((Message.status.in_(DELIVERED_STATUSES), 1), else_=0)),
                   func.max(case((first_sent, Message.sent_at), else_=None)))
            .where(Message.enrollment_id.in_(enrollment_ids), Message.part == FIRST_PART)
            .group_by(Message.enrollment_id)):
        counts[enrollment_id] = DayCounts(sent or 0, delivered or 0, last_sent_at)
    return counts


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def reminder_effect(delivery_id: int) -> dict:
    """Whether reminders work in this delivery: of the questions asked, how many were answered
    before any reminder; of those reminded, how many were answered after the first reminder."""
    is_question = and_(Message.part.like("question-%"), Message.sent_at.is_not(None))
    is_reminder = and_(Message.part.like("reminder-%"), Message.sent_at.is_not(None))
    asked = (select(Message.enrollment_id, Message.question_id,
                    func.min(case((is_question, Message.sent_at), else_=None)).label("asked_at"),
                    func.min(case((is_reminder, Message.sent_at), else_=None)).label("reminded_at"),
                    func.sum(case((is_reminder, 1), else_=0)).label("reminders"))
             .where(Message.delivery_id == delivery_id, Message.question_id.is_not(None))
             .group_by(Message.enrollment_id, Message.question_id).subquery())
    answered = Answer.answered_at.is_not(None)
    before = and_(answered, or_(asked.c.reminded_at.is_(None), Answer.answered_at < asked.c.reminded_at))
    after = and_(answered, asked.c.reminded_at.is_not(None), Answer.answered_at >= asked.c.reminded_at)
    row = db.session.execute(
        select(func.count(asked.c.asked_at), func.count(asked.c.reminded_at),
               func.sum(case((and_(asked.c.asked_at.is_not(None), before), 1), else_=0)),
               func.sum(case((after, 1), else_=0)), func.sum(asked.c.reminders))
        .select_from(asked.outerjoin(Answer, and_(Answer.enrollment_id == asked.c.enrollment_id,
                                                  Answer.question_id == asked.c.question_id)))).one()
    questions, reminded, answered_before, answered_after, sent = (value or 0 for value in row)
    return {"reminders_sent": sent, "questions_asked": questions, "answered_before_reminder": answered_before,
            "response_rate_before_reminders": _percent(answered_before, questions),
            "questions_reminded": reminded, "answered_after_reminder": answered_after,
            "response_rate_after_reminders": _percent(answered_after, reminded)}


def _last_answers(delivery_id: int) -> dict[int, tuple[str, object]]:
    """enrollment id → (text, answered_at) of the learner's latest answer in this delivery.

    Only answers: a reply graded into this delivery is this author's to read. The phone's other
    messages (keywords, replies matched to other authors' deliveries, unmatched texts) are not,
    since the same phone may be in other authors' groups."""
    latest = (select(func.max(Answer.id).label("id")).where(Answer.delivery_id == delivery_id)
              .group_by(Answer.enrollment_id).subquery())
    rows = db.session.execute(select(Answer.enrollment_id, Answer.text, Answer.answered_at)
                              .join(latest, latest.c.id == Answer.id))
    return {enrollment_id: (text, answered_at) for enrollment_id, text, answered_at in rows}


def _progress(delivery: Delivery) -> DeliveryProgress:
    days = db.session.scalar(select(func.count()).select_from(Day).where(Day.course_id == delivery.course_id))
    rows = db.session.execute(
        select(Enrollment, Student).outerjoin(Student, Student.id == Enrollment.student_id)
        .where(Enrollment.delivery_id == delivery.id).order_by(Enrollment.student_id, Enrollment.id)).all()
    received_days = day_counts(select(Enrollment.id).where(Enrollment.delivery_id == delivery.id))
    answers = answer_counts(delivery.id)
    # Whether the phone opted out (it holds for every author); never why, when or with what text.
    # A test learner's opt-out is a test one (outbox.optouts): each is looked up in its own mode.
    opted_out = opted_out_keys(student.phone for _, student in rows if student)
    replies = _last_answers(delivery.id)
    reminded = reminders_sent(select(Enrollment.id).where(Enrollment.delivery_id == delivery.id))
    progress = DeliveryProgress(delivery.id, delivery.course_id, delivery.group_id, delivery.status.upper(),
                                days, reminder_effect=reminder_effect(delivery.id))
    for enrollment, student in rows:
        key = (student.phone, student.channel, student.livemode) if student else None
        last_reply, last_reply_at = replies.get(enrollment.id, (None, None))
        received = received_days.get(enrollment.id, DayCounts())
        answered, correct = answers.get(enrollment.id, (0, 0))
        progress.learners.append({
            "student_id": enrollment.student_id, "name": student.name if student else None,
            "number": student.phone if student else None, "channel": student.channel if student else None,
            "enrollment_status": enrollment.status, "days_sent": received.sent,
            "days_delivered": received.delivered,
            "questions_answered": answered, "answers_correct": correct, "last_reply": last_reply,
            "last_reply_at": last_reply_at, "opted_out": key in opted_out,
            "state": "opted_out" if key in opted_out else enrollment.status,
            "reminders_sent": reminded.get(enrollment.id, 0),
            "livemode": student.livemode if student else True})
    return progress


def delivery_progress(actor: Actor, delivery_id: int) -> list[DeliveryProgress]:
    return [_progress(find_delivery(actor, delivery_id))]


def group_progress(actor: Actor, group_id: int) -> list[DeliveryProgress]:
    """Every delivery to the group, oldest first."""
    group = find_group(actor, group_id)
    deliveries = db.session.scalars(
        owned(select(Delivery).where(Delivery.group_id == group.id), Delivery, actor).order_by(Delivery.id))
    return [_progress(delivery) for delivery in deliveries]


def as_csv(progress: list[DeliveryProgress]) -> bytes:
    """One row per learner of each delivery, the same fields as the JSON; learners' names and
    replies never run as formulas (ekatra.spreadsheets)."""
    def rows():
        for delivery in progress:
            for learner in delivery.learners:
                row = {**learner, "delivery_id": delivery.delivery_id}
                if row["last_reply_at"] is not None:
                    row["last_reply_at"] = row["last_reply_at"].isoformat()
                yield [row[column] for column in CSV_COLUMNS]

    return spreadsheets.csv_bytes(CSV_COLUMNS, rows(), verbatim=("number",))
