"""Course use cases: create, list, read, change and delete courses, and preview them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, func, select

from ekatra.auth.checked_reads import CheckedSelect, Reader
from ekatra.auth.services import Actor
from ekatra.courses.models import Course, Day, Question
from ekatra.errors import NotFound
from ekatra.extensions import db
from ekatra.ownership import is_row_id, owned, visible
from ekatra.rendering.segments import encoding_for, segment_count
from ekatra.rendering.texts import render_content, render_question
from ekatra.transactions import transaction

QUESTION_FIELDS = ("text", "type", "correct_answer", "accepted_answers", "options",
                   "feedback_correct", "feedback_incorrect")


def find_course(actor: Actor, course_id: int) -> Course:
    """The course, if `actor` may see it; another author's course is not found either."""
    course = visible(actor, db.session.get(Course, course_id) if is_row_id(course_id) else None)
    if course is None:
        raise NotFound("Course not found!!")
    return course


def build_question(position: int, question: dict) -> Question:
    """A new question from a schema-checked dict (QuestionSchema)."""
    return Question(position=position, **{name: question[name] for name in QUESTION_FIELDS})


def build_day(number: int, day: dict) -> Day:
    """A new day, with its questions, from a schema-checked dict (DaySchema)."""
    return Day(number=number, text=day["text"],
               questions=[build_question(position, question)
                          for position, question in enumerate(day["questions"], 1)])


def last_day_number(course: Course) -> int:
    return db.session.scalar(select(func.max(Day.number)).where(Day.course_id == course.id)) or 0


CHANGED_CONCURRENTLY = "The course was changed at the same time; try again."


def create_course(actor: Actor, *, name: str, author: str, description: str, language: str,
                  days: list[dict], now: datetime, whatsapp_opener_content_sid: str | None = None,
                  whatsapp_quick_replies: dict | None = None, reminder_lead_in: str | None = None) -> Course:
    """A new course owned by `actor`; its days are numbered 1..N in the order given."""
    course = Course(owner_id=actor.author_id, name=name, author=author, description=description,
                    language=language, whatsapp_opener_content_sid=whatsapp_opener_content_sid,
                    whatsapp_quick_replies=whatsapp_quick_replies, reminder_lead_in=reminder_lead_in,
                    created_at=now, updated_at=now,
                    days=[build_day(number, day) for number, day in enumerate(days, 1)])
    with transaction(CHANGED_CONCURRENTLY):
        db.session.add(course)
    return course


def list_courses(actor: Actor) -> list[Course]:
    return list(db.session.scalars(owned(select(Course), Course, actor).order_by(Course.id)))


_courses, _days, _questions = Course.__table__, Day.__table__, Question.__table__
# The read path's statements are built once (plain Core: no ORM identity map, no per-request
# statement building); SQLAlchemy compiles each once per engine.
_COURSE_COLUMNS = (_courses.c.id, _courses.c.owner_id, _courses.c.name, _courses.c.author,
                   _courses.c.description, _courses.c.language, _courses.c.whatsapp_opener_content_sid,
                   _courses.c.whatsapp_quick_replies, _courses.c.reminder_lead_in)
# The course with its days and their questions in one statement: a row per question (or per day
# without questions, or one row for a course without days), the course's columns on each.
_COURSE_WITH_DAYS = CheckedSelect(
    select(*_COURSE_COLUMNS, _days.c.number, _days.c.text.label("day_text"),
           _questions.c.id.label("question_id"), *(_questions.c[name] for name in QUESTION_FIELDS))
    .select_from(_courses.outerjoin(_days, _days.c.course_id == _courses.c.id)
                 .outerjoin(_questions, _questions.c.day_id == _days.c.id))
    .where(_courses.c.id == bindparam("course_id"))
    .order_by(_days.c.number, _questions.c.position, _questions.c.id))
_COURSE_FIELDS = tuple(column.name for column in _COURSE_COLUMNS)
# Rows are read by position: a Row's attribute costs about a microsecond, and a course read
# would make hundreds. After the course's columns: the day's number and text, the question's
# id, then QUESTION_FIELDS.
_DAY_AT = len(_COURSE_FIELDS)
_QUESTION_PART = slice(_DAY_AT + 3, _DAY_AT + 3 + len(QUESTION_FIELDS))


def get_course(reader: Reader, course_id: int) -> dict:
    """The course with its days (in number order) and their questions (in position order), as
    CourseSchema reads it: plain dicts from one query (which checks a SessionToCheck too).

    Another author's course is not found, as with `find_course`."""
    actor, rows = reader, []
    if is_row_id(course_id):
        actor, rows = _COURSE_WITH_DAYS.rows(reader, {"course_id": course_id})
    if not rows or visible(actor, rows[0]) is None:
        raise NotFound("Course not found!!")
    days: list[dict] = []
    for row in rows:
        number, day_text, question_id = row[_DAY_AT:_DAY_AT + 3]
        if number is None:
            continue  # a course without days
        if not days or days[-1]["number"] != number:
            days.append({"number": number, "text": day_text, "questions": []})
        if question_id is not None:
            question = dict(zip(QUESTION_FIELDS, row[_QUESTION_PART], strict=True))
            days[-1]["questions"].append({"id": question_id, **question})
    return {**dict(zip(_COURSE_FIELDS, rows[0][:_DAY_AT], strict=True)), "days": days}


def update_course(actor: Actor, course_id: int, changes: dict, now: datetime) -> Course:
    """Change the given fields; `days` are appended after the last day."""
    course = find_course(actor, course_id)
    with transaction(CHANGED_CONCURRENTLY):
        for name in ("name", "author", "description", "language", "whatsapp_opener_content_sid",
                     "whatsapp_quick_replies", "reminder_lead_in"):
            if name in changes:
                setattr(course, name, changes[name])
        first = last_day_number(course) + 1
        for offset, day in enumerate(changes.get("days") or []):
            course.days.append(build_day(first + offset, day))
        course.updated_at = now
    return course


def delete_course(actor: Actor, course_id: int) -> None:
    course = find_course(actor, course_id)
    with transaction(CHANGED_CONCURRENTLY):
        db.session.delete(course)


@dataclass(frozen=True)
class MessagePreview:
    """One message as the learner will read it, and what it costs to send as SMS."""

    part: str  # "content" or "question"
    text: str
    question_id: int | None = None

    @property
    def characters(self) -> int:
        return len(self.text)

    @property
    def segments(self) -> int:
        return segment_count(self.text)

    @property
    def encoding(self) -> str:
        return encoding_for(self.text)


@dataclass(frozen=True)
class DayPreview:
    day: int
    messages: list[MessagePreview]


@dataclass(frozen=True)
class CoursePreview:
    course_id: int
    name: str
    days: list[DayPreview]


def preview_course(actor: Actor, course_id: int) -> CoursePreview:
    """Every day's messages in the order they go out: the text (in parts if long), then each
    question (a learner gets the next question after answering the previous one)."""
    course = find_course(actor, course_id)
    days = []
    for day in course.days:
        messages = [MessagePreview("content", body) for body in render_content(day.text)]
        messages += [
            MessagePreview("question", render_question(number, question.text, question.type,
                                                       question.options), question.id)
            for number, question in enumerate(day.questions, 1)
        ]
        days.append(DayPreview(day.number, messages))
    return CoursePreview(course.id, course.name, days)
