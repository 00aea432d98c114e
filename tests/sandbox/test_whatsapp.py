"""The sandbox's WhatsApp: the 24-hour window (63016 in a signed callback), templates rendered
with their variables, quick replies tapped, the Content API stand-in."""

from __future__ import annotations

import json

import pytest
import requests

from ekatra.config import SANDBOX_OPENER_CONTENT_SID, SANDBOX_WHATSAPP_FROM, SANDBOX_YES_NO_CONTENT_SID
from ekatra.sandbox import Sandbox, twilio_client

KOFI = "whatsapp:+233241234567"


@pytest.fixture
def windowed(receiver):
    with Sandbox(callback_delay_ms=0, inbound_url=f"{receiver.url}/twilio/inbound",
                 whatsapp_window_seconds=86400) as running:
        yield running


def test_free_text_outside_the_window_is_accepted_then_fails_with_63016(windowed, receiver):
    twilio = twilio_client(windowed.account_sid, windowed.auth_token, windowed.url)
    message = twilio.messages.create(to=KOFI, from_=SANDBOX_WHATSAPP_FROM, body="Day 1",
                                     status_callback=f"{receiver.url}/twilio/status")
    assert message.status == "queued", "Twilio accepts it first"

    (callback,) = receiver.wait_for(1)
    assert (callback.params["MessageStatus"], callback.params["ErrorCode"]) == ("failed", "63016")
    assert callback.signature
    assert twilio.messages(message.sid).fetch().error_code == 63016


def test_a_template_opens_the_conversation_and_a_tap_opens_the_window(windowed, receiver):
    twilio = twilio_client(windowed.account_sid, windowed.auth_token, windowed.url)
    twilio.messages.create(to=KOFI, from_=SANDBOX_WHATSAPP_FROM, content_sid=SANDBOX_OPENER_CONTENT_SID,
                           content_variables=json.dumps({"1": "Kofi", "2": "Money basics", "3": "1"}))
    (opener,) = windowed.messages(KOFI)
    assert opener["body"] == "Hi Kofi, day 1 of Money basics is ready. Reply to start."
    assert opener["buttons"] == ["Start"] and opener["error_code"] is None

    windowed.tap(KOFI, "Start")

    inbound = receiver.wait_for(1)[-1]
    assert (inbound.params["ButtonPayload"], inbound.params["ButtonText"], inbound.params["Body"]) == (
        "start", "Start", "Start")
    assert windowed.is_window_open(KOFI)
    twilio.messages.create(to=KOFI, from_=SANDBOX_WHATSAPP_FROM, body="Day 1")
    assert windowed.messages(KOFI)[-1]["error_code"] is None
    page = requests.get(windowed.url + "/", timeout=5).text
    assert "Hi Kofi, day 1 of Money basics is ready." in page and 'name="button" value="start"' in page


def test_the_content_api_stand_in_serves_the_demo_templates(windowed):
    url = f"{windowed.url}/v1/Content/{SANDBOX_YES_NO_CONTENT_SID}"
    assert requests.get(url, timeout=5).status_code == 401
    content = requests.get(url, auth=(windowed.account_sid, windowed.auth_token), timeout=5).json()
    assert [a["title"] for a in content["types"]["twilio/quick-reply"]["actions"]] == ["Yes", "No"]
    unknown = requests.get(f"{windowed.url}/v1/Content/HX{'f' * 32}",
                           auth=(windowed.account_sid, windowed.auth_token), timeout=5)
    assert unknown.status_code == 404
