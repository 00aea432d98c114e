"""WhatsApp's 24-hour window: openers outside it, free text inside it, 63016 recovery, quick
replies; the webhook, the planner and the dispatcher of the app, a fake Twilio."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from ekatra.config import SANDBOX_OPENER_CONTENT_SID, SANDBOX_YES_NO_CONTENT_SID
from ekatra.deliveries.planner import plan_due_days
from ekatra.extensions import db
from ekatra.inbound.models import Answer, InboundMessage
from ekatra.inbound.replies import Button, ReplySettings, receive_reply
from ekatra.outbox.dispatch import dispatch_until_idle
from ekatra.outbox.fakes import FakeSender
from ekatra.outbox.models import Message
from ekatra.outbox.twilio import signature_for
from ekatra.outbox.whatsapp import WhatsAppSettings
from tests.deliveries.factories import ACCRA, KOLKATA, course_and_group, create_delivery
from tests.outbox.factories import open_window

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
KOFI = "whatsapp:" + ACCRA["number"]
SETTINGS = WhatsAppSettings(opener_content_sid=SANDBOX_OPENER_CONTENT_SID)
_sids = iter(range(10**6))


def post(client, app, path: str, form: dict):
    url = app.config["PUBLIC_BASE_URL"] + path
    headers = {"X-Twilio-Signature": signature_for(app.config["TWILIO_AUTH_TOKEN"], url, form)}
    response = client.post(path, data=form, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)


def tap(client, app, from_: str, payload: str, text: str):
    """A quick-reply button tapped, through the signed webhook (as Twilio posts it)."""
    post(client, app, "/twilio/inbound", {"MessageSid": f"SM{next(_sids):032x}", "From": from_,
                                          "To": "whatsapp:+14155238886", "Body": text,
                                          "ButtonPayload": payload, "ButtonText": text})


def reply(app, from_: str, body: str, now: datetime, button: Button | None = None):
    """The learner writes at `now` (the webhook's service, with the clock injected)."""
    receive_reply(provider_sid=f"SM{next(_sids):032x}", from_=from_, to="whatsapp:+14155238886", body=body,
                  now=now, settings=ReplySettings.from_config(app.config), button=button)


def status_callback(client, app, sid: str, status: str, error_code: int | None = None):
    form = {"MessageSid": sid, "MessageStatus": status, "To": KOFI}
    if error_code:
        form.update(ErrorCode=str(error_code), ErrorMessage="outside the allowed window")
    post(client, app, "/twilio/status", form)


def tick(now: datetime, sender: FakeSender, settings: WhatsAppSettings = SETTINGS) -> FakeSender:
    """One worker tick at `now`: plan (and queue openers), send what is due."""
    plan_due_days(now, settings)
    dispatch_until_idle(sender, lambda: now)
    return sender


def sent_to(sender: FakeSender, phone: str) -> list:
    return [m for m in sender.sent if m.to == phone]


def rows(phone: str) -> list[Message]:
    db.session.expire_all()
    found = list(db.session.scalars(select(Message).where(Message.to_phone == phone).order_by(Message.id)))
    db.session.rollback()
    return found


@pytest.fixture
def delivery(app, author):
    course_id, group_id = course_and_group(author, students=(KOLKATA, ACCRA))
    return create_delivery(author, group_id, course_id, schedule_at="2026-12-01T09:00:00Z",
                           cadence="minutes", interval=1440)


def test_day_one_to_a_learner_who_never_wrote_is_the_opener_then_the_day_on_reply(
        app, client, author, delivery):
    sender = tick(START, FakeSender(clock=lambda: START))

    (opener,) = sent_to(sender, ACCRA["number"])
    assert (opener.content_sid, json.loads(opener.content_variables)) == (
        SANDBOX_OPENER_CONTENT_SID, {"1": "Kofi", "2": "Money basics", "3": "1"})
    messages = author.get(f"/api/delivery/{delivery}/messages?page_size=50").get_json()["messages"]
    kofi = {m["part"]: m for m in messages if m["to"] == ACCRA["number"]}
    assert kofi["opener-1"]["content_sid"] == SANDBOX_OPENER_CONTENT_SID
    assert kofi["opener-1"]["content_variables"] == {"1": "Kofi", "2": "Money basics", "3": "1"}
    assert {(m["status"], m["hold_reason"]) for p, m in kofi.items() if p != "opener-1"} == {
        ("held", "window_closed")}
    # SMS is unchanged: text and question, free text, no template.
    assert [m.content_sid for m in sent_to(sender, KOLKATA["number"])] == [None, None]
    view = author.get(f"/api/delivery/{delivery}").get_json()["students"]
    assert {s["name"]: s["whatsapp_window_open"] for s in view} == {"Asha": None, "Kofi": False}

    reply(app, KOFI, "Hi", START + timedelta(minutes=1))  # any text opens the window
    tick(START + timedelta(minutes=1), sender)

    assert [m.body.splitlines()[0] for m in sent_to(sender, ACCRA["number"])][1:] == [
        "Day one text.", "Q1. Is a budget a plan?"]
    assert all(m.content_sid is None for m in sent_to(sender, ACCRA["number"])[1:])
    assert db.session.scalar(select(InboundMessage.outcome)) == "released"
    assert db.session.scalars(select(Answer)).all() == [], "the reply that released the day is not graded"
    (until,) = [s["whatsapp_window_open_until"] for s in author.get(f"/api/delivery/{delivery}")
                .get_json()["students"] if s["name"] == "Kofi"]
    assert until.startswith("2026-12-02T09:01:00")


def test_a_learner_inside_the_window_gets_free_text_and_no_opener(app, delivery):
    open_window(ACCRA["number"], START - timedelta(hours=2))

    sender = tick(START, FakeSender(clock=lambda: START))

    assert [(m.body.splitlines()[0], m.content_sid) for m in sent_to(sender, ACCRA["number"])] == [
        ("Day one text.", None), ("Q1. Is a budget a plan?", None)]
    assert not [m for m in rows(ACCRA["number"]) if m.part.startswith("opener")]


def test_a_63016_in_the_callback_holds_the_day_sends_one_opener_and_releases_on_reply(
        app, client, delivery):
    open_window(ACCRA["number"], START - timedelta(hours=2))
    sender = tick(START, FakeSender(clock=lambda: START))
    text, question = sent_to(sender, ACCRA["number"])

    for _ in range(2):  # Twilio may post the same callback twice
        status_callback(client, app, text.sid, "failed", 63016)
    status_callback(client, app, question.sid, "failed", 63016)
    later = START + timedelta(seconds=10)
    tick(later, sender)
    tick(later + timedelta(seconds=5), sender)

    kofi = {m.part: m for m in rows(ACCRA["number"])}
    assert {(kofi[p].status, kofi[p].hold_reason) for p in kofi if p != "opener-1"} == {
        ("held", "window_closed")}, "not failed: held for the window"
    openers = [m for m in sent_to(sender, ACCRA["number"]) if m.content_sid]
    assert len(openers) == 1 and json.loads(openers[0].content_variables)["3"] == "1"

    reply(app, KOFI, "Start", later + timedelta(seconds=10), Button("start", "Start"))
    tick(later + timedelta(seconds=10), sender)

    bodies = [m.body.splitlines()[0] for m in sent_to(sender, ACCRA["number"])]
    assert bodies[-2:] == ["Day one text.", "Q1. Is a budget a plan?"], "released at once, in order"
    assert len(bodies) == 5


def test_the_window_expires_between_day_one_and_day_two(app, client, delivery):
    open_window(ACCRA["number"], START - timedelta(hours=1))
    sender = tick(START, FakeSender(clock=lambda: START))
    assert [m.content_sid for m in sent_to(sender, ACCRA["number"])] == [None, None]

    day_two = START + timedelta(days=1)  # 25 hours after the learner's last message
    tick(day_two, sender)

    new = sent_to(sender, ACCRA["number"])[2:]
    assert [(m.content_sid, json.loads(m.content_variables)["3"]) for m in new] == [
        (SANDBOX_OPENER_CONTENT_SID, "2")]
    reply(app, KOFI, "ready", day_two + timedelta(seconds=5))
    tick(day_two + timedelta(seconds=5), sender)
    assert [m.body.splitlines()[0] for m in sent_to(sender, ACCRA["number"])[3:]] == [
        "Q2. Second question?", "Day two text."]


def test_quick_replies_on_whatsapp_are_graded_like_typed_text(app, client, author, delivery):
    open_window(ACCRA["number"], START - timedelta(hours=1))
    settings = WhatsAppSettings(opener_content_sid=SANDBOX_OPENER_CONTENT_SID,
                                quick_replies={"boolean": SANDBOX_YES_NO_CONTENT_SID})
    sender = tick(START, FakeSender(clock=lambda: START), settings)
    question = sent_to(sender, ACCRA["number"])[1]
    assert question.content_sid == SANDBOX_YES_NO_CONTENT_SID
    assert json.loads(question.content_variables) == {"1": "Q1. Is a budget a plan?"}
    assert [m.content_sid for m in sent_to(sender, KOLKATA["number"])] == [None, None], "SMS: plain text"

    tap(client, app, KOFI, "no", "No")

    (answer,) = db.session.scalars(select(Answer)).all()
    assert (answer.text, answer.is_correct) == ("no", False)


def test_several_workers_send_one_opener(app, client, delivery):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer: one worker")
    sender, errors = FakeSender(clock=lambda: START), []

    def worker():
        try:
            with app.app_context():
                for seconds in (0, 1, 2):
                    tick(START + timedelta(seconds=seconds), sender)
                db.session.remove()
        except BaseException as error:  # reported in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    assert [m.part for m in rows(ACCRA["number"]) if m.part.startswith("opener")] == ["opener-1"]
    assert len([m for m in sent_to(sender, ACCRA["number"]) if m.content_sid]) == 1
    assert len(sent_to(sender, KOLKATA["number"])) == 2, "SMS: each part once"


COURSE_OPENER = "HX" + "ab" * 16


def test_without_an_opener_a_whatsapp_delivery_is_refused_and_a_course_may_name_its_own(
        app, author, monkeypatch):
    monkeypatch.setitem(app.config, "WHATSAPP_OPENER_CONTENT_SID", "")  # production's default
    course_id, group_id = course_and_group(author, students=(KOLKATA, ACCRA))

    refused = author.post(f"/api/delivery/group/{group_id}/{course_id}",
                          json={"schedule_at": "2026-12-01 09:00:00"})
    assert refused.status_code == 400
    assert "WHATSAPP_OPENER_CONTENT_SID" in refused.get_json()["message"]

    course = f"/api/course/{course_id}"
    assert author.put(course, json={"whatsapp_opener_content_sid": "HX1"}).status_code == 400
    assert author.put(course, json={"whatsapp_opener_content_sid": COURSE_OPENER}).status_code == 200
    create_delivery(author, group_id, course_id, schedule_at="2026-12-01T09:00:00Z")
    sender = tick(START, FakeSender(clock=lambda: START), WhatsAppSettings())
    assert [m.content_sid for m in sent_to(sender, ACCRA["number"])] == [COURSE_OPENER]
