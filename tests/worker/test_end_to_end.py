"""A delivery end to end: API → planner → outbox → the real Twilio SDK → the sandbox."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ekatra.deliveries.planner import plan_due_days
from ekatra.outbox.dispatch import dispatch_until_idle
from ekatra.outbox.twilio import sender_from_config
from ekatra.sandbox import Sandbox
from tests.deliveries.factories import ACCRA, KOLKATA, course_and_group, create_delivery
from tests.outbox.factories import open_window

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def sandbox(app):
    with Sandbox(callbacks=False) as running:
        app.config["TWILIO_API_BASE_URL"] = running.url
        yield running


def test_each_learner_receives_each_day_through_the_sandbox(app, author, sandbox):
    course_id, group_id = course_and_group(author, students=(KOLKATA, ACCRA))
    delivery_id = create_delivery(author, group_id, course_id, schedule_at="2026-12-01T09:00:00Z",
                                  cadence="minutes", interval=1)
    open_window(ACCRA["number"], START)  # the WhatsApp learner wrote to us: free text reaches them
    sender = sender_from_config(app.config)
    for minute in range(3):
        now = START + timedelta(minutes=minute)
        plan_due_days(now)
        dispatch_until_idle(sender, lambda now=now: now)

    received = {(m["to"], m["body"].splitlines()[0]) for m in sandbox.messages()}
    assert received == {
        (KOLKATA["number"], "Day one text."), (KOLKATA["number"], "Q1. Is a budget a plan?"),
        (KOLKATA["number"], "Q2. Second question?"),  # Q1 was never answered: Q2 comes with day 2
        (KOLKATA["number"], "Day two text."),
        (KOLKATA["number"], "दिन तीन"), (KOLKATA["number"], "Q1. Ready?"),
        ("whatsapp:" + ACCRA["number"], "Day one text."),
        ("whatsapp:" + ACCRA["number"], "Q1. Is a budget a plan?"),
        ("whatsapp:" + ACCRA["number"], "Q2. Second question?"),
        ("whatsapp:" + ACCRA["number"], "Day two text."),
        ("whatsapp:" + ACCRA["number"], "दिन तीन"), ("whatsapp:" + ACCRA["number"], "Q1. Ready?"),
    }
    whatsapp_from = {m["from"] for m in sandbox.messages() if m["to"].startswith("whatsapp:")}
    assert whatsapp_from == {app.config["TWILIO_WHATSAPP_FROM"]}

    detail = author.get(f"/api/delivery/{delivery_id}").get_json()
    assert detail["status"] == "COMPLETED"
    assert detail["counts"]["messages"] == {"sent": 12}
    page = author.get(f"/api/delivery/{delivery_id}/messages?status=sent&page_size=4").get_json()
    assert page["total"] == 12 and len(page["messages"]) == 4
    assert all(m["provider_sid"].startswith("SM") and m["attempts"] == 1 for m in page["messages"])
    hindi = author.get(f"/api/delivery/{delivery_id}/messages?page_size=100").get_json()["messages"]
    assert {m["encoding"] for m in hindi if m["body"].startswith("दिन")} == {"UCS-2"}
