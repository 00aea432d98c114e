"""Each event reaches the right owners, through the real flows, in the transaction of its change:
a partner hears about its own learners, an author about their own deliveries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from ekatra import clock
from ekatra.extensions import db
from ekatra.webhooks import delivery, services
from ekatra.webhooks.models import WebhookEvent
from ekatra.webhooks.sender import FakeSender
from tests.deliveries.factories import course_and_group, create_delivery
from tests.partners.factories import PartnerClient, running_delivery
from tests.webhooks.factories import register


def _sent(sender: FakeSender, now=None) -> list[tuple[str, dict]]:
    """Send what is due; (url, payload) of every request made."""
    import json

    delivery.send_due(sender, now or clock.now())
    return [(url, json.loads(body)) for url, body, _headers in sender.requests]


def test_partner_signup_sends_student_created_to_that_partner_only(client):
    partner, other = PartnerClient.create(client), PartnerClient.create(client, "Other LMS")
    register(partner, "http://127.0.0.1:9/mine")
    register(other, "http://127.0.0.1:9/other")
    user = partner.signup("asha@example.org", name="Asha Rao")
    sent = _sent(FakeSender())
    assert [(url, payload["event"]) for url, payload in sent] == [
        ("http://127.0.0.1:9/mine", "student.created")]
    assert sent[0][1]["data"] == {"student_id": user["db_user"]["id"], "name": "Asha Rao",
                                  "email": "asha@example.org", "phone": None}


def test_a_failed_signup_records_no_event(client):
    partner = PartnerClient.create(client)
    register(partner, "http://127.0.0.1:9/mine")
    partner.signup("asha@example.org")
    assert partner.post("/signup", json={"full_name": "A", "id": "asha@example.org", "password": "x" * 12,
                                         "source": "x"}).status_code == 409
    assert db.session.scalar(select(func.count()).select_from(WebhookEvent)) == 1


def test_a_coupon_enrolment_tells_the_partner_and_the_deliverys_author(client, author, other_author):
    partner = PartnerClient.create(client)
    delivery_id = running_delivery(author, partner)
    register(partner, "http://127.0.0.1:9/partner", ["student.enrolled"])
    register(author, "http://127.0.0.1:9/author", ["student.enrolled"])
    register(other_author, "http://127.0.0.1:9/other")
    tokens = partner.signup("asha@example.org", phone="+919876543210")
    (code,) = partner.coupons(delivery_id)
    assert partner.apply(tokens, code).status_code == 200
    sent = _sent(FakeSender())
    assert sorted(url for url, _ in sent) == ["http://127.0.0.1:9/author", "http://127.0.0.1:9/partner"]
    course_id = author.get(f"/api/delivery/{delivery_id}").get_json()["course_id"]
    data = sent[0][1]["data"]
    assert data["student_id"] == tokens["db_user"]["id"]
    assert (data["course_id"], data["delivery_id"]) == (course_id, delivery_id)
    assert sent[0][1]["id"] == sent[1][1]["id"]


def test_scheduling_a_delivery_tells_its_author_of_each_enrolment(author, other_author):
    register(author, "http://127.0.0.1:9/author", ["student.enrolled"])
    register(other_author, "http://127.0.0.1:9/other")
    course_id, group_id = course_and_group(author)
    delivery_id = create_delivery(author, group_id, course_id)
    sent = _sent(FakeSender())
    assert len(sent) == 3
    assert {(p["event"], p["data"]["course_id"], p["data"]["delivery_id"]) for _, p in sent} == {
        ("student.enrolled", course_id, delivery_id)}


def test_a_certificate_sends_course_completed_with_its_url(client, author):
    partner = PartnerClient.create(client)
    delivery_id = running_delivery(author, partner)
    tokens = partner.signup("asha@example.org", phone="+919876543210")
    (code,) = partner.coupons(delivery_id)
    partner.apply(tokens, code)
    register(partner, "http://127.0.0.1:9/partner", ["course.completed"])
    course_id = author.get(f"/api/delivery/{delivery_id}").get_json()["course_id"]
    body = {"user_id": tokens["db_user"]["id"], "course_id": course_id, "force_complete": True}
    issued = partner.post("/complete_course", json=body).get_json()
    partner.post("/complete_course", json=body)  # the same certificate: no new event
    ((_url, payload),) = _sent(FakeSender())
    assert payload["event"] == "course.completed"
    assert payload["data"]["certificate_url"] == issued["download_link"]
    data = payload["data"]
    assert (data["student_id"], data["course_id"]) == (tokens["db_user"]["id"], course_id)


def test_an_endpoint_gets_only_the_events_it_subscribed_to(author):
    register(author, "http://127.0.0.1:9/a", ["delivery.completed"])
    now = clock.now()
    assert services.record_event("message.failed", {}, author_id=author.id, partner_ids=[], now=now) is None
    assert services.record_event("delivery.completed", {"delivery_id": 1}, author_id=author.id,
                                 partner_ids=[], now=now)
    db.session.commit()
    assert [p["event"] for _, p in _sent(FakeSender(), now + timedelta(seconds=1))] == ["delivery.completed"]


def test_many_events_are_recorded_at_once_with_their_own_owners(client, author):
    partner = PartnerClient.create(client)
    register(author, "http://127.0.0.1:9/a")
    register(partner, "http://127.0.0.1:9/p")
    ids = services.record_events("message.failed", [
        services.EventFor({"message_id": 1}, author_id=author.id),
        services.EventFor({"message_id": 2}, author_id=author.id, partner_ids=(partner.id,)),
        services.EventFor({"message_id": 3}, author_id=author.id + 100),
    ], now=clock.now())
    db.session.commit()
    assert ids[0] and ids[1] and ids[2] is None
    sent = _sent(FakeSender())
    assert sorted((url[-1], p["data"]["message_id"]) for url, p in sent) == [("a", 1), ("a", 2), ("p", 2)]


def test_an_unknown_event_name_is_a_programming_error():
    with pytest.raises(ValueError):
        services.record_event("student.teleported", {}, author_id=1, partner_ids=[], now=clock.now())
