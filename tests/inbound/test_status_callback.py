"""POST /twilio/status: signed callbacks move a message forward, never back."""

from __future__ import annotations

import pytest

from ekatra import clock
from ekatra.outbox.twilio import signature_for
from tests.outbox.factories import add_message, fresh

SID = "SM" + "1" * 32
URL = "http://ekatra.test/twilio/status"  # PUBLIC_BASE_URL of the test app + the path


def callback(client, app, status: str, sid: str = SID, *, signature: str | None = "valid", url: str = URL,
             **extra):
    form = {"MessageSid": sid, "SmsSid": sid, "MessageStatus": status, "SmsStatus": status,
            "AccountSid": app.config["TWILIO_ACCOUNT_SID"], "To": "+919812345678",
            "From": "+15005550006", "ApiVersion": "2010-04-01", **extra}
    headers = {}
    if signature == "valid":
        headers["X-Twilio-Signature"] = signature_for(app.config["TWILIO_AUTH_TOKEN"], url, form)
    elif signature is not None:
        headers["X-Twilio-Signature"] = signature
    return client.post("/twilio/status", data=form, headers=headers)


@pytest.fixture
def sent(app):
    return add_message(status="sent", provider_sid=SID, provider_status="queued", sent_at=clock.now())


def test_a_signed_delivered_callback_marks_the_message_delivered(app, client, sent):
    response = callback(client, app, "delivered")

    assert response.status_code == 200
    assert response.content_type.startswith("text/xml")
    assert response.get_data(as_text=True).endswith("<Response/>")
    row = fresh(sent.id)
    assert (row.status, row.provider_status) == ("delivered", "delivered")
    assert row.delivered_at is not None


@pytest.mark.parametrize("signature", [None, "", "bm90IGEgc2lnbmF0dXJl"])
def test_a_missing_or_wrong_signature_is_refused(app, client, sent, signature):
    response = callback(client, app, "delivered", signature=signature)

    assert response.status_code == 403
    assert response.get_json() == {"message": "Missing or invalid X-Twilio-Signature."}
    assert fresh(sent.id).status == "sent"


def test_a_signature_for_another_url_is_refused(app, client, sent):
    response = callback(client, app, "delivered", url="http://elsewhere.test/twilio/status")
    assert response.status_code == 403


def test_a_signature_is_checked_before_the_form(app, client):
    response = client.post("/twilio/status", data={"Nothing": "here"})
    assert response.status_code == 403


def test_a_signed_form_without_a_sid_is_a_bad_request(app, client):
    form = {"MessageStatus": "sent"}
    response = client.post("/twilio/status", data=form, headers={
        "X-Twilio-Signature": signature_for(app.config["TWILIO_AUTH_TOKEN"], URL, form)})
    assert response.status_code == 400
    assert "MessageSid" in response.get_json()["errors"]


def test_callbacks_out_of_order_never_move_a_message_back(app, client, sent):
    for status in ("delivered", "sent", "queued", "failed", "undelivered"):
        assert callback(client, app, status).status_code == 200
    row = fresh(sent.id)
    assert (row.status, row.provider_status, row.provider_error_code) == ("delivered", "delivered", None)

    callback(client, app, "read")
    callback(client, app, "delivered")
    assert fresh(sent.id).status == "read"


def test_the_finer_accepted_steps_only_move_forward(app, client, sent):
    callback(client, app, "sent")
    callback(client, app, "queued")
    assert fresh(sent.id).provider_status == "sent"


def test_a_failed_callback_records_twilios_error(app, client, sent):
    callback(client, app, "undelivered", ErrorCode="30003", ErrorMessage="Unreachable destination handset")

    row = fresh(sent.id)
    assert (row.status, row.provider_error_code, row.provider_error_message) == (
        "undelivered", 30003, "Unreachable destination handset")


def test_a_repeated_callback_changes_nothing(app, client, sent):
    callback(client, app, "delivered")
    first = fresh(sent.id)
    assert callback(client, app, "delivered").status_code == 200
    again = fresh(sent.id)
    assert (again.status, again.delivered_at, again.updated_at) == (
        first.status, first.delivered_at, first.updated_at)


def test_a_callback_for_an_unknown_sid_is_acknowledged(app, client, sent):
    response = callback(client, app, "delivered", sid="SM" + "9" * 32)

    assert response.status_code == 200
    assert fresh(sent.id).status == "sent"


def test_a_callback_that_overtakes_the_senders_write_back_finds_its_message(app, client):
    now = clock.now()
    sending = add_message(to="+919812345678", status="sending", attempts=1, claimed_at=now, lease_until=now)
    add_message(to="+12125550143", status="sending", attempts=1, claimed_at=now, lease_until=now)

    assert callback(client, app, "delivered").status_code == 200

    row = fresh(sending.id)
    assert (row.status, row.provider_sid, row.lease_until) == ("delivered", SID, None)


def test_an_early_callback_is_not_guessed_onto_one_of_several_messages_to_that_number(app, client):
    now = clock.now()
    rows = [add_message(to="+919812345678", status="sending", attempts=1, claimed_at=now, lease_until=now)
            for _ in range(2)]

    assert callback(client, app, "delivered").status_code == 200
    assert [fresh(row.id).status for row in rows] == ["sending", "sending"]


def test_the_webhook_is_public_and_form_encoded_in_the_openapi_document(client):
    operation = client.get("/openapi.json").get_json()["paths"]["/twilio/status"]["post"]
    assert operation["security"] == []
    assert "application/x-www-form-urlencoded" in operation["requestBody"]["content"]
