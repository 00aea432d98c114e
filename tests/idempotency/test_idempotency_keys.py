"""Idempotency-Key on the POSTs of the author and partner APIs, on both databases."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from ekatra import clock
from ekatra.courses.models import Course
from ekatra.extensions import db
from ekatra.idempotency import services
from tests.factories import contract_course
from tests.partners.factories import PartnerClient


def test_a_retry_with_the_same_key_and_body_replays_the_first_response(author):
    headers = {**author.headers, "Idempotency-Key": "k1"}
    first = author.client.post("/api/course/", json=contract_course(), headers=headers)
    again = author.client.post("/api/course/", json=contract_course(), headers=headers)
    assert first.status_code == again.status_code == 200
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert db.session.scalar(select(func.count()).select_from(Course)) == 1


def test_the_same_key_with_another_body_is_a_422(author):
    headers = {**author.headers, "Idempotency-Key": "k1"}
    assert author.client.post("/api/course/", json=contract_course("A"), headers=headers).status_code == 200
    reused = author.client.post("/api/course/", json=contract_course("B"), headers=headers)
    assert reused.status_code == 422 and "Idempotency-Key" in reused.get_json()["errors"]


def test_the_same_key_while_the_first_request_runs_is_a_409(author):
    body = contract_course()
    headers = {**author.headers, "Idempotency-Key": "k1"}
    import json

    raw = json.dumps(body).encode()
    services.begin(f"author:{author.id}", "k1", services.fingerprint("POST", "/api/course/", b"", raw),
                   now=clock.now(), ttl=timedelta(hours=24))
    running = author.client.post("/api/course/", data=raw, content_type="application/json", headers=headers)
    assert running.status_code == 409
    assert db.session.scalar(select(func.count()).select_from(Course)) == 0


def test_keys_are_per_caller_and_expire_after_24_hours(author, other_author):
    key = {"Idempotency-Key": "shared"}
    mine = author.client.post("/api/course/", json=contract_course(), headers={**author.headers, **key})
    assert mine.status_code == 200
    other = other_author.client.post("/api/course/", json=contract_course(),
                                     headers={**other_author.headers, **key})
    assert other.status_code == 200 and "Idempotent-Replayed" not in other.headers
    assert services.delete_expired(clock.now() + timedelta(hours=24, seconds=1)) == 2


def test_partner_posts_replay_too(client):
    partner = PartnerClient.create(client)
    body = {"full_name": "Asha", "id": "asha@example.org", "password": "a long password", "source": "x"}
    first = partner.post("/signup", json=body, headers={"Idempotency-Key": "signup-1"})
    again = partner.post("/signup", json=body, headers={"Idempotency-Key": "signup-1"})
    assert first.status_code == again.status_code == 200
    assert again.get_json()["db_user"]["id"] == first.get_json()["db_user"]["id"]
    assert again.headers["Idempotent-Replayed"] == "true"


def test_an_error_response_is_replayed_but_a_bad_key_is_refused(author):
    bad = {**author.headers, "Idempotency-Key": "x" * 256}
    assert author.client.post("/api/course/", json=contract_course(), headers=bad).status_code == 400
    headers = {**author.headers, "Idempotency-Key": "k2"}
    unsafe = {"url": "http://10.0.0.1/", "events": ["*"]}
    first = author.client.post("/api/webhooks", json=unsafe, headers=headers)
    again = author.client.post("/api/webhooks", json=unsafe, headers=headers)
    assert first.status_code == again.status_code == 400
    assert again.headers["Idempotent-Replayed"] == "true"
