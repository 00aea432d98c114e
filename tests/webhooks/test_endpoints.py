"""Registering webhook endpoints as a partner or an author, each seeing only its own; the test
ping, signed so that the guide's receiver and a Standard Webhooks verifier both accept it;
secret rotation; unsafe targets refused."""

from __future__ import annotations

import base64

import pytest
from standardwebhooks.webhooks import WebhookVerificationError

from ekatra.webhooks.receiver import Receiver
from ekatra.webhooks.targets import DEVELOPMENT, PRODUCTION, UnsafeTarget, checked_addresses
from tests.partners.factories import PartnerClient
from tests.webhooks.factories import guide_receiver_accepts, register, standard_receiver_payload


@pytest.fixture
def partner(client):
    return PartnerClient.create(client)


def test_a_registered_endpoint_gets_a_32_byte_secret_shown_once(author):
    created = register(author, "http://127.0.0.1:9/hook", ["student.enrolled"], description="LMS")
    assert created["secret"].startswith("whsec_")
    assert len(base64.b64decode(created["secret"][len("whsec_"):])) == 32
    listed = author.get("/api/webhooks").get_json()["data"]
    assert [(e["id"], e["events"], e["enabled"]) for e in listed] == [
        (created["id"], ["student.enrolled"], True)]
    assert "secret" not in listed[0]


def test_partners_and_authors_see_only_their_own_endpoints(author, other_author, partner):
    mine = register(author, "http://127.0.0.1:9/a")["id"]
    theirs = register(partner, "http://127.0.0.1:9/p")["id"]
    assert [e["id"] for e in author.get("/api/webhooks").get_json()["data"]] == [mine]
    assert [e["id"] for e in partner.client.get("/api/webhooks", headers=partner.headers)
            .get_json()["data"]] == [theirs]
    assert other_author.get(f"/api/webhooks/{mine}").status_code == 404
    assert author.get(f"/api/webhooks/{theirs}").status_code == 404
    assert other_author.delete(f"/api/webhooks/{mine}").status_code == 404
    assert author.client.get("/api/webhooks").status_code == 401


def test_patch_changes_events_and_disables_and_delete_removes(author):
    endpoint = register(author, "http://127.0.0.1:9/a")["id"]
    changed = author.patch(f"/api/webhooks/{endpoint}",
                           json={"events": ["course.completed"], "enabled": False})
    assert changed.status_code == 200
    assert changed.get_json()["events"] == ["course.completed"]
    assert changed.get_json()["enabled"] is False
    assert changed.get_json()["disabled_reason"] == "Disabled by its owner."
    assert author.patch(f"/api/webhooks/{endpoint}", json={"events": ["nope"]}).status_code == 400
    assert author.delete(f"/api/webhooks/{endpoint}").status_code == 204
    assert author.get(f"/api/webhooks/{endpoint}").status_code == 404


def test_the_ping_is_signed_for_the_guides_receiver_and_standard_webhooks(author):
    with Receiver() as receiver:
        created = register(author, receiver.url)
        response = author.post(f"/api/webhooks/{created['id']}/test")
        assert response.status_code == 200, response.get_json()
        assert response.get_json()["status"] == "succeeded"
        assert response.get_json()["response_code"] == 200
    (request,) = receiver.received
    assert guide_receiver_accepts(created["secret"], request.headers, request.body)
    payload = standard_receiver_payload(created["secret"], request.headers, request.body)
    assert payload["event"] == "ping" and payload["id"] == request.headers["webhook-id"]
    assert set(payload) == {"id", "event", "livemode", "timestamp", "data"} and payload["livemode"] is True
    assert not guide_receiver_accepts(created["secret"], request.headers, request.body + b" ")
    with pytest.raises(WebhookVerificationError):
        standard_receiver_payload(created["secret"], request.headers, request.body + b" ")


def test_after_a_rotation_both_secrets_verify_for_24_hours(author):
    with Receiver() as receiver:
        created = register(author, receiver.url)
        rotated = author.post(f"/api/webhooks/{created['id']}/rotate-secret").get_json()
        assert rotated["secret"] != created["secret"]
        author.post(f"/api/webhooks/{created['id']}/test")
    (request,) = receiver.received
    standard_receiver_payload(rotated["secret"], request.headers, request.body)
    standard_receiver_payload(created["secret"], request.headers, request.body)
    # The guide's single header keeps the old secret until the overlap ends.
    assert guide_receiver_accepts(created["secret"], request.headers, request.body)
    shown = author.get(f"/api/webhooks/{created['id']}").get_json()
    assert shown["previous_secret_expires_at"] is not None


@pytest.mark.parametrize("url", [
    "http://10.0.0.5/hook", "http://169.254.169.254/latest/meta-data", "http://192.168.1.1/",
    "http://[fd00::1]/", "http://[::ffff:10.0.0.1]/", "ftp://127.0.0.1/", "http://user:pw@127.0.0.1/",
    "http://0.0.0.0/",
])
def test_unsafe_targets_are_refused_at_registration(author, url):
    response = author.post("/api/webhooks", json={"url": url, "events": ["*"]})
    assert response.status_code == 400, response.get_json()
    assert "url" in response.get_json()["errors"]


def test_production_needs_https_and_refuses_loopback_and_names_resolving_to_private_addresses():
    with pytest.raises(UnsafeTarget, match="https"):
        checked_addresses("http://hooks.example.org/", PRODUCTION, lambda host, port: ["93.184.216.34"])
    with pytest.raises(UnsafeTarget, match="loopback"):
        checked_addresses("https://127.0.0.1/", PRODUCTION, lambda host, port: ["127.0.0.1"])
    with pytest.raises(UnsafeTarget, match="metadata"):
        checked_addresses("https://rebind.example.org/", PRODUCTION, lambda host, port: ["169.254.169.254"])
    with pytest.raises(UnsafeTarget, match="private"):
        checked_addresses("https://intranet.example.org/", PRODUCTION,
                          lambda host, port: ["93.184.216.34", "10.1.2.3"])
    assert checked_addresses("https://hooks.example.org/", PRODUCTION,
                             lambda host, port: ["93.184.216.34"]) == ["93.184.216.34"]
    assert checked_addresses("http://127.0.0.1:8000/", DEVELOPMENT) == ["127.0.0.1"]
