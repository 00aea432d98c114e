"""The worker's side: retries on the published schedule (clock injected), the same event id and
body on every attempt, 410 and five days of failures disabling an endpoint, the delivery log and
replays, and the send-time target check."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ekatra import clock
from ekatra.extensions import db
from ekatra.webhooks import delivery, services
from ekatra.webhooks.models import WebhookDelivery
from ekatra.webhooks.receiver import Receiver
from ekatra.webhooks.sender import FakeSender, HttpSender
from ekatra.webhooks.targets import DEVELOPMENT, PRODUCTION
from tests.webhooks.factories import register

SCHEDULE = (5, 300, 1800, 7200, 18000, 36000, 36000)
POLICY = delivery.Policy(retry_schedule_seconds=SCHEDULE)


def _event(author, now):
    event_id = services.record_event("delivery.completed", {"delivery_id": 7}, author_id=author.id,
                                     partner_ids=[], now=now)
    db.session.commit()
    return event_id


def _pending():
    return db.session.scalar(db.select(WebhookDelivery))


def test_failed_attempts_are_retried_on_the_schedule_with_the_same_id_and_body(author):
    register(author, "http://127.0.0.1:9/hook")
    now = clock.now()
    event_id = _event(author, now)
    sender = FakeSender(statuses=[500] * 8)
    for wait in SCHEDULE:
        assert delivery.send_due(sender, now, policy=POLICY).failed == 1
        db.session.expire_all()
        assert _pending().next_attempt_at == now + timedelta(seconds=wait)
        assert delivery.send_due(sender, now + timedelta(seconds=wait - 1), policy=POLICY).failed == 0
        now += timedelta(seconds=wait)
    assert delivery.send_due(sender, now, policy=POLICY).failed == 1
    db.session.expire_all()
    assert _pending().status == "failed" and _pending().attempts == 8
    assert len(sender.requests) == 8
    assert {headers["webhook-id"] for _url, _body, headers in sender.requests} == {event_id}
    assert len({body for _url, body, _headers in sender.requests}) == 1


def test_any_2xx_is_a_success_and_ends_the_failure_streak(author):
    endpoint = register(author, "http://127.0.0.1:9/hook")["id"]
    now = clock.now()
    _event(author, now)
    sender = FakeSender(statuses=[503, 204])
    delivery.send_due(sender, now, policy=POLICY)
    assert author.get(f"/api/webhooks/{endpoint}").get_json()["failing_since"] is not None
    delivery.send_due(sender, now + timedelta(seconds=5), policy=POLICY)
    db.session.expire_all()
    assert _pending().status == "succeeded"
    assert author.get(f"/api/webhooks/{endpoint}").get_json()["failing_since"] is None


def test_410_gone_disables_the_endpoint_and_its_owner_sees_why(author):
    endpoint = register(author, "http://127.0.0.1:9/hook")["id"]
    now = clock.now()
    _event(author, now)
    delivery.send_due(FakeSender(statuses=[410]), now, policy=POLICY)
    shown = author.get(f"/api/webhooks/{endpoint}").get_json()
    assert shown["enabled"] is False and "410" in shown["disabled_reason"]
    assert _event(author, now) is None  # a disabled endpoint gets no new events
    db.session.expire_all()
    assert _pending().status == "failed"


def test_an_endpoint_failing_for_five_days_is_disabled(author):
    endpoint = register(author, "http://127.0.0.1:9/hook")["id"]
    start = clock.now()
    sender = FakeSender(statuses=[500] * 100)
    for day in range(6):
        _event(author, start + timedelta(days=day))
        delivery.send_due(sender, start + timedelta(days=day), policy=POLICY)
        if day < 5:
            assert author.get(f"/api/webhooks/{endpoint}").get_json()["enabled"] is True
    shown = author.get(f"/api/webhooks/{endpoint}").get_json()
    assert shown["enabled"] is False and "5 days" in shown["disabled_reason"]


def test_the_log_lists_attempts_paginated_and_a_replay_sends_the_event_again(author):
    endpoint = register(author, "http://127.0.0.1:9/hook")["id"]
    now = clock.now()
    event_id = _event(author, now)
    sender = FakeSender(statuses=[500, 200])
    delivery.send_due(sender, now, policy=POLICY)
    delivery.send_due(sender, now + timedelta(seconds=5), policy=POLICY)
    page = author.get(f"/api/webhooks/{endpoint}/deliveries?per_page=1").get_json()
    assert page["total"] == 2 and len(page["data"]) == 1
    assert page["data"][0]["status"] == "succeeded" and page["data"][0]["attempt"] == 2
    second = author.get(f"/api/webhooks/{endpoint}/deliveries?per_page=1&page=2").get_json()["data"][0]
    assert (second["status"], second["response_code"], second["error"]) == ("failed", 500, "HTTP 500")
    assert {"attempted_at", "duration_ms"} <= set(second)

    replay = author.post(f"/api/webhooks/{endpoint}/deliveries/{event_id}/retry")
    assert replay.status_code == 202 and replay.get_json()["status"] == "pending"
    assert author.post(f"/api/webhooks/{endpoint}/deliveries/{event_id}/retry").status_code == 409
    delivery.send_due(sender, clock.now(), policy=POLICY)
    assert [headers["webhook-id"] for *_, headers in sender.requests] == [event_id] * 3
    assert author.post(f"/api/webhooks/{endpoint}/deliveries/evt_nope/retry").status_code == 404


def test_a_worker_that_died_mid_send_leaves_the_event_to_be_sent_again(author):
    register(author, "http://127.0.0.1:9/hook")
    now = clock.now()
    _event(author, now)
    assert len(delivery.claim_due(now, policy=POLICY)) == 1  # claimed, then the worker died
    sender = FakeSender()
    assert delivery.send_due(sender, now + timedelta(seconds=30), policy=POLICY).sent == 0
    assert delivery.send_due(sender, now + timedelta(seconds=61), policy=POLICY).sent == 1


def test_the_target_is_checked_again_when_sending():
    rebinding = HttpSender(PRODUCTION, resolve=lambda host, port: ["10.0.0.7"])
    outcome = rebinding.send("https://hooks.example.org/", b"{}", {})
    assert outcome.response_code is None and "private" in outcome.error


@pytest.mark.parametrize("status", [301, 302, 307])
def test_redirects_are_not_followed(author, status):
    with Receiver(statuses=[status]) as receiver:
        register(author, receiver.url)
        now = datetime.now(UTC)
        _event(author, now)
        sender = HttpSender(DEVELOPMENT)
        stats = delivery.send_due(sender, now, policy=POLICY)
    assert stats.failed == 1 and len(receiver.received) == 1
