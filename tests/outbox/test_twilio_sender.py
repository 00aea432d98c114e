"""TwilioSender against the sandbox, through the official SDK over real HTTP."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from ekatra import clock
from ekatra.config import SANDBOX_SMS_FROM, SANDBOX_WHATSAPP_FROM
from ekatra.outbox.fakes import FakeSender
from ekatra.outbox.twilio import ProviderError, TwilioSender, is_valid_signature, signature_for
from tests.outbox.conftest import impatient_sender, plain_config, sender_for

LEARNER = "+919812345678"


def test_sms_goes_from_the_sms_number_and_returns_sid_status_and_segments(sender, sandbox):
    result = sender.send(LEARNER, "नमस्ते " * 20, "sms")

    (message,) = sandbox.messages()
    assert (message["sid"], message["to"], message["from"]) == (result.sid, LEARNER, SANDBOX_SMS_FROM)
    assert result.status == "queued"
    assert result.segments == message["num_segments"] == 3


def test_whatsapp_uses_whatsapp_addresses_on_both_ends(sender, sandbox):
    sender.send(LEARNER, "Hello", "whatsapp")

    (message,) = sandbox.messages()
    assert (message["to"], message["from"]) == (f"whatsapp:{LEARNER}", SANDBOX_WHATSAPP_FROM)


def test_sms_goes_through_the_messaging_service_when_one_is_configured(sandbox):
    service = "MG" + "a" * 32
    sender = sender_for(plain_config(TWILIO_MESSAGING_SERVICE_SID=service), sandbox)
    sender.send(LEARNER, "Hello", "sms")

    (message,) = sandbox.messages()
    assert message["messaging_service_sid"] == service


@pytest.mark.parametrize(("status", "code", "retryable"), [
    (500, 20500, True), (503, 20503, True), (429, 20429, True), (400, 21211, False)])
def test_refusals_become_provider_errors_classified_by_status(sender, sandbox, status, code, retryable):
    sandbox.fail_next(1, status=status, code=code)
    with pytest.raises(ProviderError) as raised:
        sender.send(LEARNER, "Hello", "sms")
    assert (raised.value.status, raised.value.code, raised.value.retryable) == (status, code, retryable)
    assert raised.value.may_have_been_accepted is False


@pytest.mark.parametrize("code", [21211, 21408, 21610, 21614])
def test_unreachable_numbers_fail_for_good_with_twilios_code_and_text(sender, sandbox, code):
    sandbox.set_unreachable(LEARNER, code=code)
    with pytest.raises(ProviderError) as raised:
        sender.send(LEARNER, "Hello", "sms")
    assert (raised.value.status, raised.value.code, raised.value.retryable) == (400, code, False)
    assert raised.value.message


def test_a_server_that_cannot_be_reached_is_retryable_and_surely_not_accepted():
    sender = TwilioSender("AC" + "0" * 32, "token", "http://127.0.0.1:9", SANDBOX_SMS_FROM, "", "", None,
                          timeout_seconds=2)
    with pytest.raises(ProviderError) as raised:
        sender.send(LEARNER, "Hello", "sms")
    assert raised.value.retryable and not raised.value.may_have_been_accepted


def test_a_read_timeout_is_retryable_but_may_have_been_accepted(sandbox):
    sandbox.latency_ms = 1500
    sender = impatient_sender(sandbox, timeout_seconds=0.3)
    with pytest.raises(ProviderError) as raised:
        sender.send(LEARNER, "Hello", "sms")
    assert raised.value.retryable and raised.value.may_have_been_accepted
    assert sandbox.wait_for(1, timeout=10), "the sandbox accepts it after all"


def test_find_sent_finds_the_message_with_that_body_sent_since_the_claim(sender, sandbox):
    since = clock.now() - timedelta(seconds=5)
    first = sender.send(LEARNER, "Day 1", "sms").sid
    sender.send(LEARNER, "Day 2", "sms")
    sender.send("+12125550143", "Day 1", "sms")

    assert sender.find_sent(LEARNER, "Day 1", "sms", since) == first
    assert sender.find_sent(LEARNER, "Day 1", "whatsapp", since) is None
    assert sender.find_sent(LEARNER, "Day 3", "sms", since) is None
    assert sender.find_sent(LEARNER, "Day 1", "sms", since, exclude={first}) is None
    assert sender.find_sent(LEARNER, "Day 1", "sms", clock.now() + timedelta(minutes=1)) is None


def test_one_session_serves_every_send_and_the_environment_is_read_once_per_origin(sender, sandbox,
                                                                                   monkeypatch):
    http_client = sender.client.http_client
    session = http_client.session
    lookups = []
    merge = session.merge_environment_settings
    monkeypatch.setattr(session, "merge_environment_settings",
                        lambda url, *args: lookups.append(url) or merge(url, *args))
    http_client._settings.clear()

    for number in range(3):
        sender.send(f"+1555000000{number}", "Hello", "sms")

    assert lookups == [sandbox.url]
    assert sender.client.http_client.session is session and len(sandbox.messages()) == 3


def test_the_sdks_request_log_is_written_only_when_its_logger_is_on(sender, sandbox, caplog):
    with caplog.at_level(logging.WARNING, logger="twilio.http_client"):
        sender.send(LEARNER, "Quiet", "sms")
    assert not [record for record in caplog.records if record.name == "twilio.http_client"]

    with caplog.at_level(logging.INFO, logger="twilio.http_client"):
        sender.send(LEARNER, "Verbose", "sms")
    logged = [record.getMessage() for record in caplog.records if record.name == "twilio.http_client"]
    assert "-- BEGIN Twilio API Request --" in logged
    assert not any("Basic " in line for line in logged), "never the credentials"


def test_the_fake_refuses_and_finds_like_the_real_sender():
    fake = FakeSender()
    with pytest.raises(ProviderError) as raised:
        fake.send("12345", "Hello", "sms")
    assert (raised.value.code, raised.value.retryable) == (21211, False)
    fake.fail_next(1, status=429, code=20429, message="Too Many Requests")
    with pytest.raises(ProviderError) as raised:
        fake.send(LEARNER, "Hello", "sms")
    assert raised.value.retryable
    sid = fake.send(LEARNER, "Hello", "sms").sid
    assert fake.find_sent(LEARNER, "Hello", "sms", clock.now() - timedelta(seconds=1)) == sid


def test_signatures_are_twilios_for_the_url_and_form():
    params = {"MessageSid": "SM1", "MessageStatus": "delivered"}
    signature = signature_for("token", "https://ekatra.example/twilio/status", params)
    assert is_valid_signature("token", "https://ekatra.example/twilio/status", params, signature)
    assert not is_valid_signature("other", "https://ekatra.example/twilio/status", params, signature)
    assert not is_valid_signature("token", "https://elsewhere.example/twilio/status", params, signature)
    assert not is_valid_signature("token", "https://ekatra.example/twilio/status", params, None)
