"""Lease recovery: a worker died holding `sending` rows; nothing is lost and nothing goes twice."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from ekatra import clock
from ekatra.config import SANDBOX_SMS_FROM
from ekatra.outbox.dispatch import DispatchSettings, dispatch_once
from ekatra.outbox.recovery import recover_expired_leases
from ekatra.outbox.twilio import TwilioSender, twilio_client
from tests.outbox.conftest import impatient_sender
from tests.outbox.factories import add_message, fresh

FAST = DispatchSettings(rate_per_second=100_000, concurrency=4)


def stranded(now, **fields):
    """A row its worker claimed 90 s ago and never finished: the lease ran out 30 s ago."""
    return add_message(status="sending", attempts=1, claimed_at=now - timedelta(seconds=90),
                       lease_until=now - timedelta(seconds=30), due_at=now - timedelta(seconds=90), **fields)


def test_a_message_the_provider_already_has_is_marked_sent_with_its_sid_and_not_resent(app, sender, sandbox):
    now = clock.now()
    accepted = twilio_client(sandbox.account_sid, sandbox.auth_token, sandbox.url).messages.create(
        to="+919812345678", from_=SANDBOX_SMS_FROM, body="Day 1")  # the dead worker's request
    message = stranded(now, to="+919812345678", body="Day 1")

    stats = recover_expired_leases(sender, now)
    dispatch_once(sender, lambda: now, FAST)

    row = fresh(message.id)
    assert (stats.found_sent, stats.requeued) == (1, 0)
    assert (row.status, row.provider_sid, row.lease_until) == ("sent", accepted.sid, None)
    assert sandbox.count() == 1


def test_a_message_the_provider_never_got_is_sent_once(app, sender, sandbox):
    now = clock.now()
    message = stranded(now, to="+919812345678", body="Day 1")
    sender.send("+919812345678", "Day 2", "sms")  # another body to that number is not it
    sender.send("+12125550143", "Day 1", "sms")  # nor the same body to another number

    stats = recover_expired_leases(sender, now)
    assert (stats.found_sent, stats.requeued) == (0, 1)
    assert fresh(message.id).status == "pending"

    dispatch_once(sender, lambda: now, FAST)
    row = fresh(message.id)
    assert (row.status, row.attempts) == ("sent", 2)
    assert [m["body"] for m in sandbox.messages("+919812345678")] == ["Day 2", "Day 1"]


def test_a_sid_already_recorded_on_another_row_is_not_claimed_twice(app, sender, sandbox):
    now = clock.now()
    sid = sender.send("+919812345678", "Same text", "sms").sid
    add_message(to="+919812345678", body="Same text", status="sent", provider_sid=sid, sent_at=now)
    message = stranded(now, to="+919812345678", body="Same text")

    assert recover_expired_leases(sender, now).requeued == 1
    dispatch_once(sender, lambda: now, FAST)
    assert fresh(message.id).provider_sid not in (None, sid)


def test_a_live_lease_is_left_alone(app, sender, sandbox):
    now = clock.now()
    message = add_message(status="sending", attempts=1, claimed_at=now,
                          lease_until=now + timedelta(seconds=30))

    assert recover_expired_leases(sender, now).expired == 0
    assert fresh(message.id).status == "sending"


def test_when_the_provider_cannot_be_asked_the_row_waits_and_nothing_is_sent(app):
    now = clock.now()
    message = stranded(now)
    unreachable = TwilioSender("AC" + "0" * 32, "token", "http://127.0.0.1:9", SANDBOX_SMS_FROM, "", "", None,
                               timeout_seconds=2)

    stats = recover_expired_leases(unreachable, now)

    row = fresh(message.id)
    assert stats.unresolved == 1
    assert (row.status, row.lease_until > now) == ("sending", True)


def test_a_timed_out_send_the_provider_accepted_is_found_instead_of_sent_again(app, sandbox):
    now = clock.now()
    sandbox.latency_ms = 1500
    sender = impatient_sender(sandbox, timeout_seconds=0.3)
    message = add_message(due_at=now)

    stats = dispatch_once(sender, lambda: now, replace(FAST, lease_seconds=5))
    assert (stats.retried, fresh(message.id).status) == (1, "sending")
    assert sandbox.wait_for(1, timeout=10)

    recover_expired_leases(sender, now + timedelta(minutes=10))
    dispatch_once(sender, lambda: now + timedelta(minutes=10), replace(FAST, lease_seconds=5))

    row = fresh(message.id)
    assert (row.status, row.provider_sid) == ("sent", sandbox.messages()[0]["sid"])
    assert sandbox.count() == 1
