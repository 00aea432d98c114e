"""Deleting questions clears them from the course's outbox rows (messages.question_id is not a
foreign key), so a late reply is never graded against a question that is gone."""

from __future__ import annotations

from ekatra import clock
from ekatra.courses.models import Course, Question
from ekatra.deliveries.models import Delivery
from ekatra.extensions import db
from ekatra.groups.models import Group
from ekatra.outbox.models import Message
from tests.factories import create_course
from tests.outbox.factories import add_message


def _course_with_questions(author) -> tuple[int, list[list[int]]]:
    days = [{"text": f"day {d}", "questions": [{"question": f"d{d} q{n}", "correct-answer": "a"}
                                               for n in (1, 2)]} for d in (1, 2, 3)]
    course_id = create_course(author, {"name": "Course", "days": days})
    course = db.session.get(Course, course_id)
    return course_id, [[question.id for question in day.questions] for day in course.days]


def _asking(course_id: int, question_ids: list[int]) -> dict[int, int]:
    """A delivery of the course, and a sent message asking each question: {question: message}."""
    now = clock.now()
    course = db.session.get(Course, course_id)
    group = Group(owner_id=course.owner_id, name="Group", created_at=now, updated_at=now)
    db.session.add(group)
    db.session.flush()
    delivery = Delivery(owner_id=course.owner_id, course_id=course_id, group_id=group.id, start_at=now,
                        created_at=now, updated_at=now)
    db.session.add(delivery)
    db.session.commit()
    return {question_id: add_message(delivery_id=delivery.id, question_id=question_id, status="sent",
                                     part=f"question-{question_id}").id
            for question_id in question_ids}


def _named(messages: dict[int, int]) -> dict[int, int | None]:
    db.session.expire_all()
    return {question_id: db.session.get(Message, message_id).question_id
            for question_id, message_id in messages.items()}


def test_deleting_a_question_a_day_or_replacing_questions_clears_only_those(author):
    course_id, (day1, day2, day3) = _course_with_questions(author)
    other_course_id, (other_day, *_) = _course_with_questions(author)
    messages = _asking(course_id, day1 + day2 + day3)
    others = _asking(other_course_id, other_day)

    assert author.delete(f"/api/course/{course_id}/1/{day1[0]}").status_code == 200
    assert author.put(f"/api/course/{course_id}/2", json={"questions": [
        {"id": day2[1], "question": "kept", "correct-answer": "a"}]}).status_code == 200
    assert author.delete(f"/api/course/{course_id}/3").status_code == 200

    assert _named(messages) == {day1[0]: None, day1[1]: day1[1], day2[0]: None, day2[1]: day2[1],
                                day3[0]: None, day3[1]: None}
    assert _named(others) == {question_id: question_id for question_id in other_day}
    assert db.session.get(Question, day1[0]) is None
