"""The events the engine raises as learners go through a course: graded answers, opt-outs,
failed messages and finished deliveries reach the delivery's author, and the partner whose
learner it is, in the transaction of the change that causes them."""

from __future__ import annotations

import json
from datetime import timedelta

from ekatra.deliveries.planner import plan_due_days
from ekatra.outbox.dispatch import dispatch_until_idle
from ekatra.outbox.fakes import FakeSender as FakeTwilio
from ekatra.webhooks import delivery
from ekatra.webhooks.sender import FakeSender
from tests.deliveries.factories import KOLKATA, course_and_group, create_delivery
from tests.inbound.test_replies import START, deliver, reply
from tests.webhooks.factories import register

AUTHOR_URL, OTHER_URL = "http://127.0.0.1:9/author", "http://127.0.0.1:9/other"


def _events(now) -> list[tuple[str, str, dict]]:
    """Send what is due: (url, event, data) of every request made."""
    sender = FakeSender()
    delivery.send_due(sender, now)
    return [(url, json.loads(body)["event"], json.loads(body)["data"]) for url, body, _ in sender.requests]


def _one_learner_delivery(author, **schedule) -> tuple[int, int, int]:
    course_id, group_id = course_and_group(author, students=(KOLKATA,))
    delivery_id = create_delivery(author, group_id, course_id, **(schedule or {
        "schedule_at": "2026-12-01T09:00:00Z", "cadence": "minutes", "interval": 1440}))
    return course_id, group_id, delivery_id


def test_a_graded_answer_is_an_assessment_for_the_deliverys_author_only(app, client, author, other_author):
    course_id, group_id, delivery_id = _one_learner_delivery(author)
    deliver(START)
    register(author, AUTHOR_URL, ["assessment.completed"])
    register(other_author, OTHER_URL)

    reply(client, app, KOLKATA["number"], "yes")

    ((url, event, data),) = _events(START)
    student_id = author.get(f"/api/group/{group_id}").get_json()["students"][0]["id"]
    assert (url, event) == (AUTHOR_URL, "assessment.completed")
    assert data["student_id"] == data["group_student_id"] == student_id
    assert (data["course_id"], data["delivery_id"], data["correct"]) == (course_id, delivery_id, True)
    assert isinstance(data["question_id"], int)


def test_an_opt_out_tells_each_author_with_that_learner_once(app, client, author, other_author):
    _one_learner_delivery(author)
    _one_learner_delivery(other_author)
    deliver(START)
    register(author, AUTHOR_URL, ["student.opted_out"])
    register(other_author, OTHER_URL, ["student.opted_out"])

    reply(client, app, KOLKATA["number"], "STOP")
    reply(client, app, KOLKATA["number"], "STOP")  # already opted out: no second event

    sent = _events(START)
    assert sorted((url, event) for url, event, _ in sent) == [
        (AUTHOR_URL, "student.opted_out"), (OTHER_URL, "student.opted_out")]
    assert {data["source"] for _, _, data in sent} == {"keyword"}
    assert {data["phone"] for _, _, data in sent} == {KOLKATA["number"]}


def test_a_message_twilio_refuses_for_good_is_a_failed_message_event(app, author):
    _, _, delivery_id = _one_learner_delivery(author)
    register(author, AUTHOR_URL, ["message.failed"])
    twilio = FakeTwilio(clock=lambda: START)
    twilio.fail_next(1, status=400, code=21211, message="The 'To' number is not a valid phone number.")

    plan_due_days(START)
    dispatch_until_idle(twilio, lambda: START)

    ((url, event, data),) = _events(START)
    assert (url, event, data["delivery_id"], data["error_code"]) == (AUTHOR_URL, "message.failed",
                                                                      delivery_id, 21211)


def test_a_finished_delivery_is_announced_once(app, author):
    _, _, delivery_id = _one_learner_delivery(author)
    register(author, AUTHOR_URL, ["delivery.completed"])

    for day in range(4):  # three days, one a day: the planner finishes the last and completes
        plan_due_days(START + timedelta(days=day))
    plan_due_days(START + timedelta(days=5))

    assert [(event, data["delivery_id"]) for _, event, data in _events(START + timedelta(days=5))] == [
        ("delivery.completed", delivery_id)]
