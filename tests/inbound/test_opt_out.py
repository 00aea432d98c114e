"""Opting out (STOP, provider error 21610) and back in (START): suspension and resumption."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from ekatra.deliveries.models import Enrollment
from ekatra.deliveries.planner import plan_due_days
from ekatra.extensions import db
from ekatra.outbox.fakes import FakeSender
from ekatra.outbox.models import Message, OptOut
from ekatra.worker import Worker
from scheduler import jobs
from tests.deliveries.factories import ACCRA, KOLKATA, course_and_group, create_delivery
from tests.inbound.test_replies import answers, deliver, receive, reply, rows

DAY_ONE = datetime(2026, 12, 1, 3, 30, tzinfo=UTC)  # 09:00 in Asia/Kolkata


def opt_outs() -> list[tuple[str, str, str]]:
    found = db.session.execute(select(OptOut.phone, OptOut.channel, OptOut.source)).all()
    db.session.rollback()
    return [tuple(row) for row in found]


def enrollments() -> list[Enrollment]:
    db.session.expire_all()
    found = list(db.session.scalars(select(Enrollment).order_by(Enrollment.id)))
    db.session.rollback()
    return found


@pytest.fixture
def daily(app, author):
    """Asha (Kolkata, SMS) on a daily delivery at 09:00 local; day 1 planned, not yet sent."""
    course_id, group_id = course_and_group(author, students=(KOLKATA,))
    delivery_id = create_delivery(author, group_id, course_id, schedule_at="2026-12-01 09:00:00")
    plan_due_days(DAY_ONE)
    return {"id": delivery_id, "group_id": group_id, "course_id": course_id}


@pytest.mark.parametrize("body", ["STOP", " stop ", "Unsubscribe", "cancel", "END", "quit", "REVOKE",
                                  "optout", "StopAll", "रोकें", "STOP!"])
def test_an_opt_out_keyword_suspends_the_learner_and_skips_pending_messages(app, client, author, daily,
                                                                           body):
    response = reply(client, app, KOLKATA["number"], body)

    assert response.status_code == 200
    assert opt_outs() == [(KOLKATA["number"], "sms", "keyword")]
    assert [e.status for e in enrollments()] == ["suspended"]
    assert {m.status for m in rows()} == {"skipped"}
    group = author.get(f"/api/group/{daily['group_id']}").get_json()
    assert [s["opted_out"] for s in group["students"]] == [True]


def test_stop_inside_a_sentence_is_an_answer_not_an_opt_out(app, client, daily):
    reply(client, app, KOLKATA["number"], "please stop")
    assert opt_outs() == []


def test_a_suspended_learner_is_not_planned_and_resumes_at_the_next_local_time_after_start(app, daily):
    receive(app, KOLKATA["number"], "STOP", DAY_ONE + timedelta(minutes=5))
    sender = deliver(DAY_ONE + timedelta(days=1))  # day 2's time passes while opted out
    assert sender.sent == []

    start_at = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)  # 15:30 in Kolkata
    assert receive(app, KOLKATA["number"], " Start ", start_at).outcome == "opted_in"

    (enrollment,) = enrollments()
    assert opt_outs() == []
    assert (enrollment.status, enrollment.next_day) == ("active", 1)  # day 1 never reached her
    assert enrollment.next_due_at == datetime(2026, 12, 4, 3, 30, tzinfo=UTC)  # 09:00 the next morning
    assert deliver(start_at + timedelta(hours=1)).sent == []
    sender = deliver(enrollment.next_due_at)
    assert [m.body.splitlines()[0] for m in sender.sent] == ["Day one text.", "Q1. Is a budget a plan?"]


def test_parts_already_sent_are_not_sent_again_after_start(app, daily):
    deliver(DAY_ONE)  # day 1 reached her
    receive(app, KOLKATA["number"], "STOP", DAY_ONE + timedelta(hours=1))
    receive(app, KOLKATA["number"], "UNSTOP", DAY_ONE + timedelta(hours=2))

    (enrollment,) = enrollments()
    assert (enrollment.status, enrollment.next_day) == ("active", 2)
    sender = deliver(enrollment.next_due_at)
    assert [m.body.splitlines()[0] for m in sender.sent] == ["Q2. Second question?", "Day two text."]


def test_yes_opts_back_in_only_when_opted_out_and_otherwise_answers(app, daily):
    deliver(DAY_ONE)
    receive(app, KOLKATA["number"], "STOP", DAY_ONE + timedelta(minutes=1))
    assert receive(app, KOLKATA["number"], "YES", DAY_ONE + timedelta(minutes=2)).outcome == "opted_in"
    assert answers() == []

    result = receive(app, KOLKATA["number"], "yes", DAY_ONE + timedelta(minutes=3))
    assert (result.outcome, result.is_correct) == ("answered", True)


def test_nothing_is_queued_for_an_opted_out_phone(app, daily):
    receive(app, KOLKATA["number"], "STOP", DAY_ONE)
    assert receive(app, KOLKATA["number"], "HELP", DAY_ONE).outcome == "unmatched"
    assert receive(app, KOLKATA["number"], "hello", DAY_ONE).outcome == "unmatched"
    assert rows(Message.status == "pending") == []


def test_a_new_delivery_to_an_opted_out_phone_enrolls_it_suspended(app, author, daily):
    receive(app, KOLKATA["number"], "STOP", DAY_ONE)
    create_delivery(author, daily["group_id"], daily["course_id"], schedule_at="2026-12-10 09:00:00")

    assert [e.status for e in enrollments()] == ["suspended", "suspended"]
    plan_due_days(datetime(2026, 12, 10, 4, 0, tzinfo=UTC))
    assert rows(Message.status == "pending") == []


def test_the_opt_out_holds_only_for_its_channel(app, author):
    whatsapp_twin = {**KOLKATA, "name": "Asha WA", "number": KOLKATA["number"], "channel": "whatsapp"}
    course_id, group_id = course_and_group(author, students=(ACCRA,))
    other = author.post("/api/group/", json={"name": "Other", "description": "", "students": [whatsapp_twin]})
    create_delivery(author, other.get_json()["id"], course_id, schedule_at="2026-12-01 09:00:00")
    receive(app, KOLKATA["number"], "STOP", DAY_ONE)  # SMS

    assert [e.status for e in enrollments()] == ["active"]


def test_provider_error_21610_opts_the_phone_out(app, daily):
    sender = FakeSender()
    sender.set_unreachable(KOLKATA["number"], 21610)
    worker = Worker.for_this_process(DAY_ONE, sender=sender)
    long_ago = datetime(2000, 1, 1, tzinfo=UTC)  # the worker's job reads the real clock
    db.session.execute(update(Message).values(due_at=long_ago, next_attempt_at=long_ago))
    db.session.commit()

    jobs.send(worker, DAY_ONE)

    assert opt_outs() == [(KOLKATA["number"], "sms", "provider")]
    assert [e.status for e in enrollments()] == ["suspended"]
    assert {(m.status, m.provider_error_code) for m in rows()} == {("failed", 21610)}
