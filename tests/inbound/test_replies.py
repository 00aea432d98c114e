"""POST /twilio/inbound: learners' replies are graded and answered through the outbox."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from ekatra.deliveries.planner import plan_due_days
from ekatra.extensions import db
from ekatra.inbound.models import Answer, InboundMessage
from ekatra.inbound.replies import ReplySettings, receive_reply
from ekatra.outbox.dispatch import dispatch_until_idle
from ekatra.outbox.fakes import FakeSender
from ekatra.outbox.models import Message
from ekatra.outbox.twilio import signature_for
from tests.deliveries.factories import ACCRA, KOLKATA, course_and_group, create_delivery
from tests.outbox.factories import open_window

URL = "http://ekatra.test/twilio/inbound"
START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
_sids = itertools.count(1)


def new_sid() -> str:
    return f"SM{next(_sids):032d}"


def reply(client, app, from_: str, body: str, *, sid: str | None = None, signature: str | None = "valid"):
    form = {"MessageSid": sid or new_sid(), "AccountSid": app.config["TWILIO_ACCOUNT_SID"], "From": from_,
            "To": "+15005550006", "Body": body, "NumMedia": "0"}
    headers = {}
    if signature == "valid":
        headers["X-Twilio-Signature"] = signature_for(app.config["TWILIO_AUTH_TOKEN"], URL, form)
    elif signature is not None:
        headers["X-Twilio-Signature"] = signature
    return client.post("/twilio/inbound", data=form, headers=headers)


def receive(app, from_: str, body: str, now: datetime):
    return receive_reply(provider_sid=new_sid(), from_=from_, to="+15005550006", body=body, now=now,
                         settings=ReplySettings.from_config(app.config))


def deliver(now: datetime, sender: FakeSender | None = None) -> FakeSender:
    """One worker tick at `now`: plan what is due, send what is due."""
    sender = sender or FakeSender(clock=lambda: now)
    plan_due_days(now)
    dispatch_until_idle(sender, lambda: now)
    return sender


QUEUED = ("pending", "waiting")  # waiting: queued behind an earlier part of the day


def rows(*conditions) -> list[Message]:
    db.session.expire_all()
    found = list(db.session.scalars(select(Message).where(*conditions).order_by(Message.id)))
    db.session.rollback()
    return found


def answers() -> list[Answer]:
    db.session.expire_all()
    found = list(db.session.scalars(select(Answer).order_by(Answer.id)))
    db.session.rollback()
    return found


@pytest.fixture
def delivery(app, author):
    return day_one_delivered(author)


def day_one_delivered(author) -> dict:
    """Kolkata (SMS) and Accra (WhatsApp) learners who received day 1 (text and Q1, a yes/no);
    the WhatsApp learner wrote to us the day before (their window is open)."""
    open_window(ACCRA["number"], START - timedelta(hours=1))
    course_id, group_id = course_and_group(author, students=(KOLKATA, ACCRA))
    delivery_id = create_delivery(author, group_id, course_id, schedule_at="2026-12-01T09:00:00Z",
                                  cadence="minutes", interval=1440)
    deliver(START)
    return {"id": delivery_id, "group_id": group_id, "course_id": course_id}


def test_a_correct_hindi_answer_is_stored_and_feedback_and_the_next_question_are_queued(
        app, client, delivery):
    response = reply(client, app, KOLKATA["number"], " हाँ ")

    assert response.status_code == 200
    assert response.content_type.startswith("text/xml")
    assert response.get_data(as_text=True).endswith("<Response/>")
    (answer,) = answers()
    assert (answer.text, answer.is_correct, answer.delivery_id) == (" हाँ ", True, delivery["id"])
    queued = rows(Message.to_phone == KOLKATA["number"], Message.status.in_(QUEUED))
    assert [(m.part.split("-")[0], m.body, m.day_number, m.sequence) for m in queued] == [
        ("feedback", "Correct!", 1, 2), ("question", "Q2. Second question?", 1, 3)]
    assert queued[0].part == f"feedback-{answer.question_id}"
    assert [m.status for m in queued] == ["pending", "waiting"], "the next question goes after the feedback"


def test_a_whatsapp_reply_answers_the_whatsapp_learner_and_wrong_answers_get_the_right_one(
        app, client, delivery):
    reply(client, app, "whatsapp:" + ACCRA["number"], "Nahi")

    (answer,) = answers()
    assert answer.is_correct is False
    queued = rows(Message.to_phone == ACCRA["number"], Message.status.in_(QUEUED))
    assert [(m.channel, m.body) for m in queued] == [
        ("whatsapp", "The answer is YES."), ("whatsapp", "Q2. Second question?")]
    assert rows(Message.to_phone == KOLKATA["number"], Message.status.in_(QUEUED)) == []


def test_the_worker_sends_feedback_then_the_next_question_and_that_one_is_graded_next(app, client, delivery):
    reply(client, app, KOLKATA["number"], "yes")
    sender = deliver(START + timedelta(minutes=1))
    assert [m.body for m in sender.sent] == ["Correct!", "Q2. Second question?"]

    reply(client, app, KOLKATA["number"], "TWO.")
    assert [a.is_correct for a in answers()] == [True, True]
    (feedback,) = rows(Message.status == "pending")
    assert feedback.body == "Correct!"  # the day has no third question


def test_a_retried_webhook_changes_nothing(app, client, delivery):
    sid = new_sid()
    first = reply(client, app, KOLKATA["number"], "yes", sid=sid)
    again = reply(client, app, KOLKATA["number"], "yes", sid=sid)

    assert first.status_code == again.status_code == 200
    assert len(answers()) == 1
    assert db.session.scalar(select(func.count()).select_from(InboundMessage)) == 1
    assert len(rows(Message.status.in_(QUEUED))) == 2


@pytest.mark.parametrize("signature", [None, "bm90IGEgc2lnbmF0dXJl"])
def test_a_reply_without_a_valid_signature_is_refused_and_not_stored(app, client, delivery, signature):
    response = reply(client, app, KOLKATA["number"], "yes", signature=signature)

    assert response.status_code == 403
    assert answers() == []
    assert db.session.scalar(select(func.count()).select_from(InboundMessage)) == 0


def test_an_unmatched_reply_gets_the_help_text_at_most_once_a_day(app):
    now = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    outcomes = [receive(app, "+919800000001", "hello?", now).outcome,
                receive(app, "+919800000001", "anyone?", now + timedelta(hours=3)).outcome,
                receive(app, "+919800000001", "hello", now + timedelta(days=1)).outcome]

    assert outcomes == ["help", "unmatched", "help"]
    helps = rows(Message.to_phone == "+919800000001")
    assert [m.body for m in helps] == [app.config["HELP_TEXT"]] * 2
    assert all(m.status == "pending" and m.delivery_id is None for m in helps)


def test_help_always_answers_with_the_configured_help_text(app, client, delivery, monkeypatch):
    monkeypatch.setitem(app.config, "HELP_TEXT", "Call 1800-000")
    for body in ("HELP", " help ", "Info", "मदद"):
        reply(client, app, KOLKATA["number"], body)

    assert [m.body for m in rows(Message.status == "pending")] == ["Call 1800-000"] * 4
    assert answers() == []


def test_an_answer_after_the_questions_of_a_day_is_answered_is_unmatched(app, client, delivery):
    reply(client, app, KOLKATA["number"], "yes")
    deliver(START + timedelta(minutes=1))
    reply(client, app, KOLKATA["number"], "two")
    reply(client, app, KOLKATA["number"], "three")

    assert len(answers()) == 2
    outcomes = db.session.scalars(select(InboundMessage.outcome).order_by(InboundMessage.id)).all()
    assert outcomes == ["answered", "answered", "help"]


def test_a_question_never_answered_is_followed_by_the_next_one_with_the_next_day(app, delivery):
    deliver(START + timedelta(days=1))

    day_two = rows(Message.to_phone == KOLKATA["number"], Message.day_number == 2)
    assert [(m.sequence, m.body) for m in sorted(day_two, key=lambda m: m.sequence)] == [
        (-1, "Q2. Second question?"), (0, "Day two text.")]
    assert all(m.status == "sent" for m in day_two)
