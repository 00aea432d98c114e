"""The planner: due days become outbox rows, one day per learner at a time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from ekatra.deliveries.models import Enrollment
from ekatra.deliveries.planner import plan_due_days
from ekatra.extensions import db
from ekatra.outbox.models import Message
from tests.deliveries.factories import ACCRA, KOLKATA, NEW_YORK, course_and_group, create_delivery
from tests.outbox.factories import open_window

# 2026-12-01 09:00 in Accra (UTC+0) is 09:00Z; in Kolkata 03:30Z; in New York 14:00Z.
DAY1_ACCRA = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _messages(**filters) -> list[Message]:
    query = select(Message).order_by(Message.to_phone, Message.day_number, Message.sequence)
    for name, value in filters.items():
        query = query.where(getattr(Message, name) == value)
    return list(db.session.scalars(query))


def _days_planned(phone: str) -> list[int]:
    return sorted({m.day_number for m in _messages(to_phone=phone)})


def test_nothing_is_planned_before_a_learners_local_send_time(author):
    course_id, group_id = course_and_group(author)
    create_delivery(author, group_id, course_id)
    plan_due_days(datetime(2026, 12, 1, 3, 29, tzinfo=UTC))
    assert _messages() == []
    plan_due_days(datetime(2026, 12, 1, 3, 30, tzinfo=UTC))
    assert _days_planned(KOLKATA["number"]) == [1]
    assert _days_planned(NEW_YORK["number"]) == []


def test_a_due_day_becomes_its_text_then_its_first_question(author):
    course_id, group_id = course_and_group(author, students=(ACCRA,))
    create_delivery(author, group_id, course_id)
    open_window(ACCRA["number"], DAY1_ACCRA - timedelta(hours=1))  # the WhatsApp learner wrote to us
    plan_due_days(DAY1_ACCRA)
    content, question = _messages()
    assert (content.part, content.sequence, content.body) == ("content-1", 0, "Day one text.")
    assert question.sequence == 1 and question.body.startswith("Q1. Is a budget a plan?")
    assert "Reply YES or NO." in question.body
    assert (content.status, question.status) == ("pending", "waiting"), "the question goes after the text"
    assert content.due_at == DAY1_ACCRA and content.channel == "whatsapp"
    assert content.to_phone == ACCRA["number"]


def test_planning_twice_creates_nothing_twice(author):
    course_id, group_id = course_and_group(author)
    create_delivery(author, group_id, course_id)
    later = datetime(2026, 12, 1, 23, 0, tzinfo=UTC)
    plan_due_days(later)
    first = len(_messages())
    plan_due_days(later)
    assert len(_messages()) == first == 6


def test_each_day_follows_at_the_next_local_send_time(author):
    course_id, group_id = course_and_group(author, students=(ACCRA,))
    delivery_id = create_delivery(author, group_id, course_id)
    plan_due_days(DAY1_ACCRA)
    plan_due_days(DAY1_ACCRA + timedelta(hours=23, minutes=59))
    assert _days_planned(ACCRA["number"]) == [1]
    plan_due_days(DAY1_ACCRA + timedelta(days=1))
    assert _days_planned(ACCRA["number"]) == [1, 2]
    plan_due_days(DAY1_ACCRA + timedelta(days=2))
    assert _days_planned(ACCRA["number"]) == [1, 2, 3]
    assert author.get(f"/api/delivery/{delivery_id}").get_json()["status"] == "COMPLETED"


def test_after_a_worker_outage_a_learner_catches_up_one_day_at_a_time(author):
    course_id, group_id = course_and_group(author, students=(ACCRA,))
    create_delivery(author, group_id, course_id)
    outage_over = DAY1_ACCRA + timedelta(days=2, hours=3)  # 12:00 on day 3, nothing sent yet
    plan_due_days(outage_over)
    assert _days_planned(ACCRA["number"]) == [1]  # the overdue day now, not a flood
    plan_due_days(outage_over + timedelta(hours=1))
    assert _days_planned(ACCRA["number"]) == [1]
    plan_due_days(DAY1_ACCRA + timedelta(days=3))  # the next regular local time
    assert _days_planned(ACCRA["number"]) == [1, 2]


def test_a_paused_delivery_plans_nothing_and_resume_continues_at_the_next_local_time(author):
    course_id, group_id = course_and_group(author, students=(ACCRA,))
    delivery_id = create_delivery(author, group_id, course_id)
    plan_due_days(DAY1_ACCRA)
    assert author.put(f"/api/delivery/{delivery_id}", json={"action": "PAUSE"}).status_code == 200
    plan_due_days(DAY1_ACCRA + timedelta(days=3))
    assert _days_planned(ACCRA["number"]) == [1]
    # Resumed (by the API, with the real clock long after these dates): the learner continues
    # with day 2 at the next regular local time after the resume, never at once.
    author.put(f"/api/delivery/{delivery_id}", json={"action": "RESUME"})
    enrollment = db.session.scalar(select(Enrollment))
    assert enrollment.next_day == 2
    assert enrollment.next_due_at > datetime.now(UTC)
    assert enrollment.next_due_at.astimezone(UTC).time().hour == 9


def test_stop_cancels_unsent_messages(author):
    course_id, group_id = course_and_group(author)
    delivery_id = create_delivery(author, group_id, course_id)
    plan_due_days(DAY1_ACCRA)
    author.put(f"/api/delivery/{delivery_id}", json={"action": "STOP"})
    assert {m.status for m in _messages()} == {"cancelled"}
    plan_due_days(DAY1_ACCRA + timedelta(days=5))
    assert {m.day_number for m in _messages()} == {1}


def test_a_student_added_later_starts_at_day_one_at_their_next_local_time(author):
    course_id, group_id = course_and_group(author, students=(ACCRA,))
    create_delivery(author, group_id, course_id)
    plan_due_days(DAY1_ACCRA)
    author.post(f"/api/group/{group_id}/students", json={"students": [KOLKATA]})
    joined = DAY1_ACCRA + timedelta(hours=1)  # 15:30 in Kolkata: today's 09:00 has passed
    plan_due_days(joined)
    enrollment = db.session.scalar(select(Enrollment).order_by(Enrollment.id.desc()))
    assert enrollment.next_day == 1
    assert enrollment.next_due_at == datetime(2026, 12, 2, 3, 30, tzinfo=UTC)
    plan_due_days(datetime(2026, 12, 2, 3, 30, tzinfo=UTC))
    assert _days_planned(KOLKATA["number"]) == [1]


def test_a_removed_student_is_withdrawn_and_their_unsent_messages_cancelled(author):
    course_id, group_id = course_and_group(author, students=(ACCRA, NEW_YORK))
    delivery_id = create_delivery(author, group_id, course_id)
    plan_due_days(datetime(2026, 12, 1, 23, 0, tzinfo=UTC))
    group = author.get(f"/api/group/{group_id}").get_json()
    kofi = next(s for s in group["students"] if s["name"] == "Kofi")
    assert author.delete(f"/api/group/{group_id}/{kofi['id']}").status_code == 200
    assert {m.status for m in _messages(to_phone=ACCRA["number"])} == {"cancelled"}, "at once, no tick"
    plan_due_days(datetime(2026, 12, 1, 23, 1, tzinfo=UTC))
    assert {m.status for m in _messages(to_phone=ACCRA["number"])} == {"cancelled"}
    assert {m.status for m in _messages(to_phone=NEW_YORK["number"])} == {"pending", "waiting"}
    statuses = {s["enrollment_status"] for s in
                author.get(f"/api/delivery/{delivery_id}").get_json()["students"]}
    assert statuses == {"removed", "active"}


def test_students_left_out_of_a_group_update_or_in_a_deleted_group_get_nothing_more_at_once(author):
    course_id, group_id = course_and_group(author, students=(ACCRA, NEW_YORK))
    create_delivery(author, group_id, course_id)
    plan_due_days(datetime(2026, 12, 1, 23, 0, tzinfo=UTC))
    response = author.put(f"/api/group/{group_id}", json={"students": [NEW_YORK]})
    assert response.status_code == 200, response.get_json()
    assert {m.status for m in _messages(to_phone=ACCRA["number"])} == {"cancelled"}
    assert {m.status for m in _messages(to_phone=NEW_YORK["number"])} == {"pending", "waiting"}

    assert author.delete(f"/api/group/{group_id}").status_code == 200
    unsent = {m.status for m in _messages(to_phone=NEW_YORK["number"])} - {"cancelled"}
    assert not unsent, "nothing left to send"


def test_a_hundred_learners_in_one_zone_are_planned_in_one_set(author):
    students = [{"name": f"L{i}", "number": f"+2332412{i:05d}", "channel": "sms",
                 "timezone": "Africa/Accra"} for i in range(100)]
    course_id, group_id = course_and_group(author, students=students)
    create_delivery(author, group_id, course_id)
    stats = plan_due_days(DAY1_ACCRA)
    assert stats.planned_learner_days == 100 and stats.messages == 200
    assert db.session.scalar(select(func.count()).select_from(Message)) == 200
