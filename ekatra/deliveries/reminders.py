"""Reminders for unanswered questions, and pausing learners who have gone silent.

A delivery's settings (`Delivery.reminder_*`, `pause_after_silent_days`):
- `after_minutes`: up to five increasing delays. Reminder n of a question is due `after_minutes[n]`
  after the question was sent, and never sooner than the gap between the delays after reminder
  n-1 went out (a reminder held back by quiet hours never arrives together with the next one).
- `quiet_hours`: "HH:MM-HH:MM" in each learner's own timezone (zoneinfo, so DST moves it with
  the clocks); it may wrap midnight. A reminder that falls due inside them is queued due at their
  end.
- `pause_after_silent_days`: a learner who wrote nothing since the first of that many due days
  (or since they were last resumed) is paused at the next due day: one notice ("… reply RESUME")
  goes instead of the day. Their next message, whatever it says, or an author's resume, makes
  them `active` again, due at once: the day they missed goes out at the next tick, the day after
  at its next regular time.

Reminders are outbox rows like any other, part `reminder-<question>-<n>` of the question's day:
the unique (enrollment, day, part) makes each go at most once, whichever worker or tick plans it.
The planner plans them set-based in its tick, under its lock (`plan_for`): per delivery and n, one
SELECT of the questions whose reminder became due (a range scan of `ix_messages_asked`), then one
INSERT … SELECT per question. No reminder for a question that was answered or not sent (skipped,
cancelled), for a learner who opted out, left, was paused or whose next day has been planned, or
in a paused or stopped delivery; one that is queued and not sent yet is cancelled when the question
is answered (`cancel_reminders_of`), the learner is paused, or the delivery is paused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo

from sqlalchemy import and_, case, exists, func, literal, or_, select, update
from sqlalchemy.orm import aliased

from ekatra.courses.models import Course, Question
from ekatra.deliveries import planning
from ekatra.deliveries.models import (
    ACTIVE,
    COMPLETED,
    FINISHED,
    PAUSED_SILENT,
    Delivery,
    Enrollment,
)
from ekatra.deliveries.openers import quick_replies_for
from ekatra.errors import Invalid
from ekatra.extensions import db
from ekatra.groups.models import Student
from ekatra.inbound.models import Answer, InboundMessage
from ekatra.outbox import services as outbox
from ekatra.outbox.models import DELIVERED, READ, SENDING, SENT, UNDELIVERED, UNSENT, Message
from ekatra.outbox.optouts import opted_out
from ekatra.outbox.whatsapp import WhatsAppSettings, hold_if_closed
from ekatra.rendering.parts import Part, quick_reply
from ekatra.rendering.reminders import reminder_lead_in, render_pause_notice, render_reminder
from ekatra.rendering.texts import render_question

MAX_REMINDERS = 5
MAX_AFTER_MINUTES = 7 * 24 * 60
MAX_SILENT_DAYS = 365
DEFAULT_AFTER_MINUTES = (120,)
DEFAULT_QUIET_HOURS = "21:00-08:00"
DEFAULT_PAUSE_AFTER_SILENT_DAYS = 3
# A reminder whose moment passed more than this long ago (the worker was down) is not sent late.
CATCH_UP = timedelta(minutes=10)
# A completed delivery's last questions may still be open: reminded for this long after it completed.
COMPLETED_REMINDERS_FOR = timedelta(minutes=MAX_AFTER_MINUTES) + timedelta(days=1)
REMINDER_SEQUENCE = 1000  # after every part of the question's day: reminder n is 1000 + n
NOTICE_SEQUENCE = -3  # the notice stands alone in its day, before an opener (-2)
NOTICE_PART = "pause-notice"
ASKED = (SENT, DELIVERED, READ)  # a question the provider accepted
_QUIET_HOURS = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")


def reminder_part(question_id: int, n: int) -> str:
    return f"reminder-{question_id}-{n}"


# Settings -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QuietHours:
    """Local wall-clock hours in which no reminder goes out; `start` > `end` wraps midnight."""

    start: time
    end: time

    @classmethod
    def parse(cls, text: str | None) -> QuietHours | None:
        if text is None:
            return None
        found = _QUIET_HOURS.match(text)
        if found is None:
            raise ValueError("quiet_hours must look like 21:00-08:00 (HH:MM-HH:MM, 24-hour clock)")
        h1, m1, h2, m2 = (int(group) for group in found.groups())
        if (h1, m1) == (h2, m2):
            raise ValueError("quiet_hours must not start and end at the same time (null: none)")
        return cls(time(h1, m1), time(h2, m2))

    def contains(self, local: time) -> bool:
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def end_after(self, instant: datetime, zone: tzinfo) -> datetime:
        """When the quiet hours `instant` falls in end, in UTC (or `instant` outside them)."""
        local = instant.astimezone(zone)
        if not self.contains(local.time().replace(tzinfo=None)):
            return instant
        day = local.date()
        while True:  # the first end on the local calendar after `instant`
            end = planning.wall_to_utc(day, self.end, zone)
            if end > instant:
                return end
            day += timedelta(days=1)


def after_minutes_problem(values) -> str | None:
    """Why a list of delays is not acceptable, or None."""
    if not isinstance(values, list | tuple) or len(values) > MAX_REMINDERS:
        return f"At most {MAX_REMINDERS} delays, in minutes."
    for value in values:
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_AFTER_MINUTES:
            return f"Each delay is a whole number of minutes from 1 to {MAX_AFTER_MINUTES}."
    if any(later <= earlier for earlier, later in zip(values, values[1:], strict=False)):
        return "Delays must increase (each counted from when the question was sent)."
    return None


def quiet_hours_problem(text) -> str | None:
    if text is None:
        return None
    if not isinstance(text, str):
        return "quiet_hours is \"HH:MM-HH:MM\" or null."
    try:
        QuietHours.parse(text)
    except ValueError as problem:
        return f"{str(problem)[0].upper()}{str(problem)[1:]}."
    return None


def settings_of(delivery) -> dict:
    """A delivery's reminder settings as the API shows them."""
    return {"after_minutes": list(delivery.reminder_after_minutes or []),
            "quiet_hours": delivery.reminder_quiet_hours,
            "pause_after_silent_days": delivery.pause_after_silent_days}


def apply_settings(delivery: Delivery, given: dict | None) -> None:
    """Set the reminder settings `given` names (the others keep their values, or the defaults on a
    new delivery). Invalid values are an `Invalid` naming the field."""
    given = given or {}
    if delivery.reminder_after_minutes is None:
        delivery.reminder_after_minutes = list(DEFAULT_AFTER_MINUTES)
        delivery.reminder_quiet_hours = DEFAULT_QUIET_HOURS
        delivery.pause_after_silent_days = DEFAULT_PAUSE_AFTER_SILENT_DAYS
    errors = {}
    if "after_minutes" in given:
        problem = after_minutes_problem(given["after_minutes"])
        if problem:
            errors["after_minutes"] = [problem]
        else:
            delivery.reminder_after_minutes = list(given["after_minutes"])
    if "quiet_hours" in given:
        problem = quiet_hours_problem(given["quiet_hours"])
        if problem:
            errors["quiet_hours"] = [problem]
        else:
            delivery.reminder_quiet_hours = given["quiet_hours"]
    if "pause_after_silent_days" in given:
        days = given["pause_after_silent_days"]
        if not isinstance(days, int) or isinstance(days, bool) or not 0 <= days <= MAX_SILENT_DAYS:
            errors["pause_after_silent_days"] = [
                f"A whole number of days from 0 (never) to {MAX_SILENT_DAYS}."]
        else:
            delivery.pause_after_silent_days = days
    if errors:
        field, (problem,) = next(iter(errors.items()))
        raise Invalid(f"reminders.{field}: {problem}", {"reminders": errors})


# Planning reminders ---------------------------------------------------------------------------------


def _reminder_sources(delivery: Delivery, n: int, gap: timedelta, now: datetime):
    """(source row alias, conditions): the rows reminder `n` follows (the question for n = 1, else
    reminder n-1) that went out between `gap` + CATCH_UP and `gap` ago, and whose reminder `n` is
    wanted and not queued yet."""
    source = aliased(Message, name="source")
    follows = source.part.like("question-%") if n == 1 else source.part.like(f"reminder-%-{n - 1}")
    queued = aliased(Message, name="queued")
    this_part = "reminder-" + source.question_id.cast(Message.part.type) + f"-{n}"
    already = exists().where(queued.enrollment_id == source.enrollment_id,
                             queued.day_number == source.day_number, queued.part == this_part)
    answered = exists().where(Answer.enrollment_id == source.enrollment_id,
                              Answer.question_id == source.question_id)
    conditions = [
        # The terms of ix_messages_asked's WHERE, so that SQLite uses the partial index.
        source.delivery_id == delivery.id, source.question_id.is_not(None), source.sent_at.is_not(None),
        source.sent_at > now - gap - CATCH_UP, source.sent_at <= now - gap,
        source.status.in_(ASKED), follows, ~already, ~answered,
        Enrollment.status.in_((ACTIVE, FINISHED)),
        Enrollment.next_day == source.day_number + 1,  # the learner's next day is not planned yet
        ~opted_out(Student.phone, Student.channel, Student.livemode),
    ]
    return source, conditions


def _plan_nth(delivery: Delivery, n: int, gap: timedelta, quiet: QuietHours | None, lead_in: str,
              now: datetime, whatsapp: WhatsAppSettings) -> int:
    source, conditions = _reminder_sources(delivery, n, gap, now)

    def learners(*columns):
        return (select(*columns).select_from(source)
                .join(Enrollment, Enrollment.id == source.enrollment_id)
                .join(Student, Student.id == Enrollment.student_id))

    found = db.session.execute(learners(source.question_id, source.day_number, Student.timezone)
                               .where(*conditions).distinct()).all()
    if not found:
        return 0
    # Due now, or at the end of the learner's quiet hours (in their zone, on the tz database).
    due_by_zone = {zone: (quiet.end_after(now, planning.zone(zone)) if quiet else now)
                   for zone in {timezone for _, _, timezone in found}}
    due = case({zone: literal(moment, Message.due_at.type) for zone, moment in due_by_zone.items()},
               value=Student.timezone)
    # Not after the learner's next day: that day repeats nothing, and the question is over.
    before_next_day = or_(Enrollment.next_due_at.is_(None), Enrollment.next_due_at > due)
    quick_replies = quick_replies_for(delivery, whatsapp)  # on WhatsApp: buttons, as when first asked
    questions = {question.id: question for question in db.session.scalars(
        select(Question).where(Question.id.in_({question_id for question_id, _, _ in found})))}
    added = 0
    for question_id, day_number in sorted({(q, d) for q, d, _ in found}):
        question = questions.get(question_id)
        if question is None:
            continue
        body = render_reminder(lead_in, render_question(question.position, question.text, question.type,
                                                        question.options or ()))
        part = Part(reminder_part(question_id, n), REMINDER_SEQUENCE + n, body, question_id,
                    quick_reply(question, quick_replies, lead_in) if quick_replies else None)
        recipients = learners(Enrollment.id, literal(delivery.id), Student.channel, Student.phone, due,
                              hold_if_closed(Student.channel, Student.phone, whatsapp.sender, now),
                              Student.livemode).where(
            *conditions, source.question_id == question_id, source.day_number == day_number, before_next_day)
        added += outbox.enqueue_for(recipients, day_number, [part], now)
    return added


def plan_for(delivery: Delivery, now: datetime, whatsapp: WhatsAppSettings) -> int:
    """Queue the reminders of `delivery` that fell due (in the planner's tick, its caller's
    transaction). How many were queued."""
    delays = list(delivery.reminder_after_minutes or [])
    if not delays or delivery.status not in ("scheduled", COMPLETED):
        return 0
    quiet = QuietHours.parse(delivery.reminder_quiet_hours)
    course = db.session.get(Course, delivery.course_id)
    lead_in = reminder_lead_in(course and course.reminder_lead_in, course and course.language)
    added, previous = 0, 0
    for n, minutes in enumerate(delays, 1):
        added += _plan_nth(delivery, n, timedelta(minutes=minutes - previous), quiet, lead_in, now, whatsapp)
        previous = minutes
    return added


def recently_completed(now: datetime) -> list[Delivery]:
    """Completed deliveries whose last questions may still be reminded."""
    return list(db.session.scalars(select(Delivery).where(
        Delivery.status == COMPLETED, Delivery.completed_at > now - COMPLETED_REMINDERS_FOR)))


def _unsent_reminders(*conditions):
    return select(Message.id).where(*conditions, Message.part.like("reminder-%"), Message.status.in_(UNSENT))


def cancel_reminders_of(enrollment_id: int, question_id: int, now: datetime) -> int:
    """The question was answered: its reminders not sent yet are cancelled (caller's transaction)."""
    return outbox.cancel_messages(_unsent_reminders(Message.enrollment_id == enrollment_id,
                                                    Message.question_id == question_id), now)


def cancel_delivery_reminders(delivery_id: int, now: datetime) -> int:
    """The delivery is paused: its reminders not sent yet are cancelled, not held for RESUME."""
    return outbox.cancel_messages(_unsent_reminders(Message.delivery_id == delivery_id), now)


def reminders_sent(enrollment_ids) -> dict[int, int]:
    """enrollment id → reminders the provider accepted (`enrollment_ids`: ids or a SELECT)."""
    return dict(db.session.execute(
        select(Message.enrollment_id, func.count())
        .where(Message.enrollment_id.in_(enrollment_ids), Message.part.like("reminder-%"),
               Message.status.in_((SENT, DELIVERED, READ, UNDELIVERED)))
        .group_by(Message.enrollment_id)).all())


# Silent learners ------------------------------------------------------------------------------------


def pause_silent(delivery: Delivery, day_number: int, due_here, now: datetime,
                 whatsapp: WhatsAppSettings) -> int:
    """Learners due for `day_number` (`due_here`) who wrote nothing since the first of the last
    `pause_after_silent_days` due days (and since they were last resumed) are paused instead: one
    notice each, status `paused_silent`. Set-based; the caller's transaction. How many."""
    silent_days = delivery.pause_after_silent_days or 0
    if silent_days <= 0 or day_number <= silent_days:
        return 0
    first_silent_day = day_number - silent_days
    silence_began = (select(Message.due_at).where(Message.enrollment_id == Enrollment.id,
                                                  Message.day_number == first_silent_day)
                     .order_by(Message.due_at).limit(1).scalar_subquery())
    wrote = exists().where(InboundMessage.from_phone == Student.phone,
                           InboundMessage.channel == Student.channel,
                           InboundMessage.livemode == Student.livemode,
                           InboundMessage.received_at >= silence_began)
    silent = and_(silence_began.is_not(None), ~wrote,
                  or_(Enrollment.resumed_at.is_(None), Enrollment.resumed_at <= silence_began))
    course = db.session.get(Course, delivery.course_id)
    notice = Part(NOTICE_PART, NOTICE_SEQUENCE, render_pause_notice(course.name if course else "your course",
                                                                    course.language if course else None))
    recipients = (select(Enrollment.id, literal(delivery.id), Student.channel, Student.phone,
                         literal(now, Message.due_at.type),
                         hold_if_closed(Student.channel, Student.phone, whatsapp.sender, now),
                         Student.livemode)
                  .select_from(Enrollment).join(Student, Student.id == Enrollment.student_id)
                  .where(due_here, silent))
    outbox.enqueue_for(recipients, day_number, [notice], now)
    paused_ids = (select(Enrollment.id).join(Student, Student.id == Enrollment.student_id)
                  .where(due_here, silent))
    outbox.cancel_messages(_unsent_reminders(Message.enrollment_id.in_(paused_ids)), now)
    return db.session.execute(update(Enrollment).where(Enrollment.id.in_(paused_ids))
                              .values(status=PAUSED_SILENT, next_due_at=None, updated_at=now),
                              execution_options={"synchronize_session": False}).rowcount


def _resume(where, now: datetime) -> int:
    """Paused learners matching `where` are `active`, due at once; their unsent notices go."""
    paused = select(Enrollment.id).where(Enrollment.status == PAUSED_SILENT, *where)
    outbox.cancel_messages(select(Message.id).where(Message.enrollment_id.in_(paused),
                                                    Message.part == NOTICE_PART,
                                                    Message.status.in_((*UNSENT, SENDING))), now)
    return db.session.execute(update(Enrollment).where(Enrollment.status == PAUSED_SILENT, *where)
                              .values(status=ACTIVE, next_due_at=now, resumed_at=now, updated_at=now),
                              execution_options={"synchronize_session": False}).rowcount


def resume_on_message(phone: str, channel: str, now: datetime, livemode: bool = True) -> int:
    """The learner on `phone` wrote (in this mode): their enrollments paused for silence resume
    (the caller's transaction, the reply's). How many."""
    students = select(Student.id).where(Student.phone == phone, Student.channel == channel,
                                        Student.livemode.is_(livemode))
    return _resume([Enrollment.student_id.in_(students)], now)


def resume_enrollment(enrollment_id: int, now: datetime) -> int:
    """An author resumes one learner (the caller's transaction)."""
    return _resume([Enrollment.id == enrollment_id], now)
