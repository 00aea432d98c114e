"""What the sandbox posts to the app: signed status callbacks and simulated learner replies."""

from __future__ import annotations

import requests
from twilio.request_validator import RequestValidator

from ekatra.config import SANDBOX_SMS_FROM, SANDBOX_WHATSAPP_FROM
from ekatra.sandbox import Sandbox, twilio_client

ASHA, KOFI = "+919812345678", "+233241234567"


def assert_signed(sandbox, url, webhook):
    assert webhook.signature
    assert RequestValidator(sandbox.auth_token).validate(url, webhook.params, webhook.signature)


def test_status_callbacks_report_sent_then_delivered_signed(sandbox, twilio, receiver):
    callback_url = f"{receiver.url}/twilio/status"
    message = twilio.messages.create(to=ASHA, from_=SANDBOX_SMS_FROM, body="Day 1",
                                     status_callback=callback_url)

    sent, delivered = receiver.wait_for(2)

    assert [sent.params["MessageStatus"], delivered.params["MessageStatus"]] == ["sent", "delivered"]
    assert sent.path == "/twilio/status"
    assert sent.params == {
        "MessageSid": message.sid, "SmsSid": message.sid, "MessageStatus": "sent", "SmsStatus": "sent",
        "AccountSid": sandbox.account_sid, "From": SANDBOX_SMS_FROM, "To": ASHA, "ApiVersion": "2010-04-01",
    }
    for webhook in (sent, delivered):
        assert_signed(sandbox, callback_url, webhook)
    assert sandbox.wait_until(lambda: sandbox.messages()[0]["status"] == "delivered")
    assert twilio.messages(message.sid).fetch().status == "delivered"


def test_whatsapp_messages_are_also_read(sandbox, twilio, receiver):
    twilio.messages.create(to=f"whatsapp:{KOFI}", from_=SANDBOX_WHATSAPP_FROM, body="Akwaaba",
                           status_callback=f"{receiver.url}/twilio/status")

    assert [w.params["MessageStatus"] for w in receiver.wait_for(3)] == ["sent", "delivered", "read"]


def test_without_callbacks_statuses_still_advance(receiver):
    with Sandbox(callbacks=False, callback_delay_ms=0) as sandbox:
        twilio = twilio_client(sandbox.account_sid, sandbox.auth_token, sandbox.url)
        twilio.messages.create(to=ASHA, from_=SANDBOX_SMS_FROM, body="Day 1",
                               status_callback=f"{receiver.url}/twilio/status")

        assert sandbox.wait_until(lambda: sandbox.messages()[0]["status"] == "delivered")
    assert receiver.received == []


def test_an_unreachable_callback_url_is_dropped_without_harm(sandbox, twilio, receiver):
    dead = Sandbox().start()
    dead_url = f"{dead.url}/nowhere"
    dead.stop()  # nothing listens there any more
    twilio.messages.create(to=ASHA, from_=SANDBOX_SMS_FROM, body="lost", status_callback=dead_url)
    twilio.messages.create(to=KOFI, from_=SANDBOX_SMS_FROM, body="kept",
                           status_callback=f"{receiver.url}/twilio/status")

    assert [w.params["To"] for w in receiver.wait_for(2)] == [KOFI, KOFI]
    assert sandbox.wait_until(lambda: {m["status"] for m in sandbox.messages()} == {"delivered"})


def test_a_reply_is_posted_to_the_inbound_url_signed(sandbox, receiver):
    outcome = sandbox.reply(ASHA, "हाँ")

    [webhook] = receiver.wait_for(1)
    inbound_url = f"{receiver.url}/twilio/inbound"
    assert webhook.path == "/twilio/inbound"
    assert_signed(sandbox, inbound_url, webhook)
    assert webhook.params["MessageSid"].startswith("SM") and webhook.params["MessageSid"] == outcome["sid"]
    assert webhook.params["SmsMessageSid"] == outcome["sid"]
    assert {key: webhook.params[key] for key in ("AccountSid", "From", "To", "Body", "NumMedia",
                                                  "NumSegments", "ApiVersion")} == {
        "AccountSid": sandbox.account_sid, "From": ASHA, "To": SANDBOX_SMS_FROM, "Body": "हाँ",
        "NumMedia": "0", "NumSegments": "1", "ApiVersion": "2010-04-01"}
    assert outcome["app_status"] == 200 and outcome["app_error"] is None
    assert sandbox.conversations()[ASHA][0]["direction"] == "inbound"
    assert sandbox.count() == 0  # replies are not outbound messages


def test_a_whatsapp_reply_goes_to_the_whatsapp_number(sandbox, receiver):
    sandbox.reply(f"whatsapp:{KOFI}", "yes")

    [webhook] = receiver.wait_for(1)
    assert (webhook.params["From"], webhook.params["To"]) == (f"whatsapp:{KOFI}", SANDBOX_WHATSAPP_FROM)


def test_the_reply_endpoint_takes_json_or_a_form_and_reports_the_apps_status(sandbox, receiver):
    receiver.status = 403

    as_json = requests.post(f"{sandbox.url}/sandbox/reply", json={"from": ASHA, "body": "B"}, timeout=5)
    as_form = requests.post(f"{sandbox.url}/sandbox/reply", data={"from": ASHA, "body": "C"}, timeout=5)

    assert as_json.status_code == as_form.status_code == 200
    assert as_json.json()["app_status"] == 403 and as_json.json()["sid"].startswith("SM")
    assert [w.params["Body"] for w in receiver.wait_for(2)] == ["B", "C"]


def test_a_reply_from_a_malformed_number_is_refused(sandbox, receiver):
    response = requests.post(f"{sandbox.url}/sandbox/reply", json={"from": "12345", "body": "B"}, timeout=5)

    assert response.status_code == 400 and response.json()["code"] == 21211
    assert receiver.received == []


def test_twiml_messages_in_the_apps_answer_are_sent(sandbox, receiver):
    receiver.content_type = "application/xml"
    receiver.body = "<?xml version='1.0'?><Response><Message>Thanks! 🎉</Message></Response>"

    sandbox.reply(ASHA, "hello")

    [message] = sandbox.messages()
    assert (message["to"], message["from"], message["body"]) == (ASHA, SANDBOX_SMS_FROM, "Thanks! 🎉")


def test_an_unreachable_app_is_reported_not_raised(receiver):
    with Sandbox(inbound_url="http://127.0.0.1:9/twilio/inbound") as sandbox:
        outcome = sandbox.reply(ASHA, "hello")

    assert outcome["app_status"] is None and outcome["app_error"]
