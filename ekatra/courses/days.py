"""Day and question use cases: add, change and delete days, change and delete questions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update

from ekatra.auth.services import Actor
from ekatra.courses.models import Course, Day, Question
from ekatra.courses.question_types import QuestionProblem, canonical_type, settle_question
from ekatra.courses.services import (
    CHANGED_CONCURRENTLY,
    QUESTION_FIELDS,
    build_day,
    build_question,
    find_course,
    last_day_number,
)
from ekatra.errors import Invalid, NotFound
from ekatra.extensions import MAX_ID, db
from ekatra.outbox.services import forget_questions
from ekatra.transactions import transaction


def find_day(course: Course, number: int) -> Day:
    day = None
    if 0 < number <= MAX_ID:
        day = db.session.scalar(select(Day).where(Day.course_id == course.id, Day.number == number))
    if day is None:
        raise NotFound("Day not found!!")
    return day


def find_question(day: Day, question_id: int) -> Question:
    question = db.session.get(Question, question_id) if 0 < question_id <= MAX_ID else None
    if question is None or question.day_id != day.id:
        raise NotFound("Question not found!!")
    return question


def add_day(actor: Actor, course_id: int, day: dict, now: datetime) -> Day:
    """A new day after the last one."""
    course = find_course(actor, course_id)
    new_day = build_day(last_day_number(course) + 1, day)
    with transaction(CHANGED_CONCURRENTLY):
        course.days.append(new_day)
        course.updated_at = now
    return new_day


def _check_question_ids(day: Day, questions: list[dict]) -> None:
    """Every `id` in a day's new question list must be one of that day's questions, once."""
    own = {question.id for question in day.questions}
    seen: set[int] = set()
    errors: dict = {}
    for index, question in enumerate(questions):
        question_id = question.get("id")
        if question_id is None:
            continue
        if question_id not in own:
            errors[index] = {"id": [f"Question {question_id} is not a question of this day."]}
        elif question_id in seen:
            errors[index] = {"id": [f"Question {question_id} is listed twice."]}
        seen.add(question_id)
    if errors:
        raise Invalid("Invalid input: a listed question id is not one of this day's questions.",
                      {"questions": errors})


def _replace_questions(day: Day, questions: list[dict]) -> None:
    """The listed questions become the day's, in order: listed ids are changed in place (their
    ids stay), the others are created; the day's unlisted questions are deleted."""
    _check_question_ids(day, questions)
    existing = {question.id: question for question in day.questions}
    listed = {fields.get("id") for fields in questions}
    forget_questions([question_id for question_id in existing if question_id not in listed])
    replacement = []
    for position, fields in enumerate(questions, 1):
        question = existing.get(fields.get("id"))
        if question is None:
            replacement.append(build_question(position, fields))
            continue
        question.position = position
        for name in QUESTION_FIELDS:
            setattr(question, name, fields[name])
        replacement.append(question)
    day.questions = replacement


def update_day(actor: Actor, course_id: int, number: int, changes: dict, now: datetime) -> Day:
    """Change a day's text; a given `questions` list (null: none) becomes its questions."""
    course = find_course(actor, course_id)
    day = find_day(course, number)
    with transaction(CHANGED_CONCURRENTLY):
        if "text" in changes:
            day.text = changes["text"]
        if "questions" in changes:
            _replace_questions(day, changes["questions"] or [])
        course.updated_at = now
    return day


def delete_day(actor: Actor, course_id: int, number: int, now: datetime) -> None:
    """Delete a day and renumber the later ones, so that days stay numbered 1..N."""
    course = find_course(actor, course_id)
    day = find_day(course, number)
    with transaction(CHANGED_CONCURRENTLY):
        forget_questions([question.id for question in day.questions])
        course.days.remove(day)
        db.session.flush()
        # PostgreSQL checks the unique (course_id, number) row by row, so shifting later days down
        # in place could collide; park them on negative numbers first, then give the final ones.
        in_course = Day.course_id == course.id
        db.session.execute(update(Day).where(in_course, Day.number > number).values(number=-Day.number),
                           execution_options={"synchronize_session": False})
        db.session.execute(update(Day).where(in_course, Day.number < 0).values(number=-Day.number - 1),
                           execution_options={"synchronize_session": False})
        course.updated_at = now


def update_question(actor: Actor, course_id: int, number: int, question_id: int, changes: dict,
                    now: datetime) -> Question:
    """Change the given fields of a question; its type, options and answer must still agree."""
    course = find_course(actor, course_id)
    question = find_question(find_day(course, number), question_id)
    merged = {name: getattr(question, name) for name in QUESTION_FIELDS} | changes
    if "options" not in changes and canonical_type(merged["type"]) != "choice":
        merged["options"] = []  # a choice that becomes another type leaves its options behind
    try:
        settled = settle_question(
            text=merged["text"], type=merged["type"], options=merged["options"],
            correct_answer=merged["correct_answer"], accepted_answers=merged["accepted_answers"])
    except QuestionProblem as problem:
        raise Invalid(f"Invalid input: {problem}", problem.errors) from None
    with transaction(CHANGED_CONCURRENTLY):
        for name in QUESTION_FIELDS:
            setattr(question, name, settled.get(name, merged[name]))
        course.updated_at = now
    return question


def delete_question(actor: Actor, course_id: int, number: int, question_id: int,
                    now: datetime) -> None:
    """Delete a question; the later questions of its day move up one position."""
    course = find_course(actor, course_id)
    day = find_day(course, number)
    question = find_question(day, question_id)
    with transaction(CHANGED_CONCURRENTLY):
        forget_questions([question.id])
        day.questions.remove(question)
        db.session.flush()
        db.session.execute(
            update(Question).where(Question.day_id == day.id, Question.position > question.position)
            .values(position=Question.position - 1),
            execution_options={"synchronize_session": False})
        course.updated_at = now
