"""The demo data that `ekatra demo` serves."""

from __future__ import annotations

from ekatra import clock
from ekatra.demo import DEMO_EMAIL, DEMO_PASSWORD, seed_demo_data, start_demo_delivery
from tests.factories import AuthorClient


def test_demo_author_sees_the_sample_course_and_group(app, client):
    author_id, course_id, group_id = seed_demo_data(clock.now())
    assert seed_demo_data(clock.now()) == (author_id, course_id, group_id)  # a second run adds nothing

    demo = AuthorClient.login(client, DEMO_EMAIL, DEMO_PASSWORD)
    course = demo.get(f"/api/course/{course_id}").get_json()
    assert [day["day"] for day in course["days"]] == [1, 2, 3]
    group = demo.get(f"/api/group/{group_id}").get_json()
    assert {s["timezone"] for s in group["students"]} == {"Asia/Kolkata", "Africa/Accra", "America/New_York"}
    assert {s["channel"] for s in group["students"]} == {"sms", "whatsapp"}
    preview = demo.get(f"/api/course/{course_id}/preview").get_json()
    hindi_day = preview["days"][2]["messages"][0]
    assert hindi_day["encoding"] == "UCS-2"


def test_the_demo_delivery_starts_with_the_development_opener_and_a_reminder(app, client):
    author_id, course_id, group_id = seed_demo_data(clock.now())
    delivery_id = start_demo_delivery(author_id, course_id, group_id, clock.now(),
                                      whatsapp_opener_content_sid=app.config["WHATSAPP_OPENER_CONTENT_SID"])

    demo = AuthorClient.login(client, DEMO_EMAIL, DEMO_PASSWORD)
    delivery = demo.get(f"/api/delivery/{delivery_id}").get_json()
    assert delivery["status"] == "SCHEDULED"
    assert delivery["reminders"]["after_minutes"] == [1]


def test_the_demo_shows_where_its_metrics_are_and_they_include_the_outbox(app, client, monkeypatch):
    from prometheus_client import CollectorRegistry

    from ekatra.demo import show_metrics

    monkeypatch.setattr("ekatra.metrics.REGISTRY", CollectorRegistry())  # this test's collector only
    lines = show_metrics(app, "http://127.0.0.1:5000")
    assert any("http://127.0.0.1:5000/metrics" in line for line in lines)
    assert any("http://127.0.0.1:5000/readyz" in line for line in lines)
    assert 'ekatra_outbox_messages_unsent{state="due"} 0.0' in client.get("/metrics").get_data(as_text=True)
