"""Failures on demand: scripted errors, failure windows, unreachable numbers, random failures, latency."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import requests
from twilio.base.exceptions import TwilioRestException

from ekatra.config import SANDBOX_SMS_FROM, SANDBOX_WHATSAPP_FROM
from ekatra.sandbox import Sandbox, twilio_client

ASHA = "+919812345678"


def send(twilio, to=ASHA, from_=SANDBOX_SMS_FROM):
    return twilio.messages.create(to=to, from_=from_, body="Day 1")


def refusal(twilio, **kwargs) -> TwilioRestException:
    with pytest.raises(TwilioRestException) as raised:
        send(twilio, **kwargs)
    return raised.value


def test_fail_next_answers_500_then_recovers(sandbox, twilio):
    sandbox.fail_next(1, status=500)

    error = refusal(twilio)
    assert (error.status, error.code) == (500, 20500)
    assert send(twilio).status == "queued"
    assert sandbox.count() == 1


def test_fail_next_can_rate_limit_with_429(sandbox, twilio):
    sandbox.fail_next(2, status=429)

    assert [(e.status, e.code) for e in (refusal(twilio), refusal(twilio))] == [(429, 20429)] * 2
    assert send(twilio).sid


def test_fail_next_takes_a_custom_code_and_message(sandbox, twilio):
    sandbox.fail_next(status=400, code=21614, message="not a mobile number")

    error = refusal(twilio)
    assert (error.status, error.code) == (400, 21614)
    assert "not a mobile number" in error.msg


def test_fail_until_a_callable_says_the_outage_is_over(sandbox, twilio):
    recovered = threading.Event()
    sandbox.fail_until(recovered.is_set, status=503)

    assert refusal(twilio).status == 503
    assert refusal(twilio).status == 503
    recovered.set()
    assert send(twilio).sid


def test_fail_until_a_moment(sandbox, twilio):
    sandbox.fail_until(datetime.now(UTC) + timedelta(hours=1))
    assert refusal(twilio).status == 500

    sandbox.fail_until(datetime.now(UTC) - timedelta(seconds=1))
    assert send(twilio).sid


def test_clear_failures_ends_every_scripted_failure(sandbox, twilio):
    sandbox.fail_next(5)
    sandbox.fail_until(lambda: False)
    sandbox.set_unreachable(ASHA, code=21610)

    sandbox.clear_failures()

    assert send(twilio).sid


@pytest.mark.parametrize("code", [21211, 21408, 21610, 21614])
def test_an_unreachable_number_fails_with_its_code(sandbox, twilio, code):
    sandbox.set_unreachable(ASHA, code=code)

    error = refusal(twilio)

    assert (error.status, error.code) == (400, code)
    assert send(twilio, to="+12125550143").sid  # other learners are fine
    assert sandbox.count() == 1


def test_an_unsubscribed_number_fails_on_whatsapp_too(sandbox, twilio):
    sandbox.set_unreachable(ASHA, code=21610)

    error = refusal(twilio, to=f"whatsapp:{ASHA}", from_=SANDBOX_WHATSAPP_FROM)

    assert error.code == 21610
    sandbox.set_reachable(ASHA)
    assert send(twilio).sid


def test_an_sms_stop_reply_unsubscribes_until_start(sandbox, twilio):
    sandbox.reply(ASHA, "stop")
    assert refusal(twilio).code == 21610

    sandbox.reply(ASHA, "START")
    assert send(twilio).sid


def test_fail_rate_one_fails_every_send_and_zero_none():
    with Sandbox(fail_rate=1.0, seed=7) as sandbox:
        twilio = twilio_client(sandbox.account_sid, sandbox.auth_token, sandbox.url)
        assert [refusal(twilio).code for _ in range(3)] == [20500] * 3
        sandbox.fail_rate = 0.0
        assert send(twilio).sid


def test_fail_rate_fails_about_that_fraction():
    with Sandbox(fail_rate=0.5, seed=42) as sandbox:
        twilio = twilio_client(sandbox.account_sid, sandbox.auth_token, sandbox.url)
        failures = 0
        for _ in range(40):
            try:
                send(twilio)
            except TwilioRestException:
                failures += 1
        assert 5 < failures < 35
        assert sandbox.count() == 40 - failures


def test_every_send_waits_the_configured_latency():
    with Sandbox(latency_ms=150) as sandbox:
        twilio = twilio_client(sandbox.account_sid, sandbox.auth_token, sandbox.url)
        started = time.perf_counter()
        send(twilio)
        assert time.perf_counter() - started >= 0.15


def test_invalid_options_are_refused():
    with pytest.raises(ValueError):
        Sandbox(fail_rate=1.5)
    with pytest.raises(ValueError):
        Sandbox().set_unreachable(ASHA, code=12345)
    with pytest.raises(ValueError):
        Sandbox().fail_until(datetime(2030, 1, 1))


def test_a_stopped_sandbox_refuses_kept_alive_connections_too():
    sandbox = Sandbox().start()
    twilio = twilio_client(sandbox.account_sid, sandbox.auth_token, sandbox.url)
    assert send(twilio).sid  # the client now holds a kept-alive connection

    sandbox.stop()

    with pytest.raises(requests.ConnectionError):
        send(twilio)
