"""The outbox end to end: rows in the table, the real sender, the sandbox as Twilio."""

from __future__ import annotations

from datetime import timedelta

from ekatra import clock
from ekatra.config import SANDBOX_WHATSAPP_FROM
from ekatra.outbox.dispatch import DispatchSettings, dispatch_once, dispatch_until_idle
from ekatra.outbox.ratelimit import RateLimiter
from tests.outbox.conftest import MaxJitter
from tests.outbox.factories import (
    add_day,
    add_message,
    fresh,
    make_delivery,
    make_enrollment,
    open_window,
    statuses,
)
from tests.outbox.test_ratelimit import busiest_second

FAST = DispatchSettings(rate_per_second=100_000, concurrency=8)


def test_due_messages_reach_the_provider_and_their_sids_are_recorded(app, sender, sandbox):
    now = clock.now()
    sms = add_message(to="+919812345678", body="नमस्ते! Day 1", due_at=now)
    whatsapp = add_message(to="+233241234567", body="Day 1", channel="whatsapp", due_at=now)
    open_window("+233241234567", now)

    stats = dispatch_once(sender, clock.now, FAST)

    assert (stats.claimed, stats.sent) == (2, 2)
    by_to = {message["to"]: message for message in sandbox.messages()}
    assert fresh(sms.id).provider_sid == by_to["+919812345678"]["sid"]
    assert fresh(whatsapp.id).provider_sid == by_to["whatsapp:+233241234567"]["sid"]
    assert by_to["whatsapp:+233241234567"]["from"] == SANDBOX_WHATSAPP_FROM
    row = fresh(sms.id)
    assert (row.status, row.attempts, row.segments) == ("sent", 1, 1)
    assert row.sent_at >= now


def test_500_then_429_are_retried_with_backoff_until_the_message_goes(app, sender, sandbox):
    now = clock.now()
    message = add_message(due_at=now)
    sandbox.fail_next(1, status=500)
    sandbox.fail_next(1, status=429)

    first = dispatch_once(sender, lambda: now, FAST, rng=MaxJitter())
    row = fresh(message.id)
    assert (first.retried, row.status, row.attempts, row.provider_error_code) == (1, "pending", 1, 20500)
    assert row.next_attempt_at == now + timedelta(seconds=2)
    assert dispatch_once(sender, lambda: now + timedelta(seconds=1), FAST).claimed == 0

    second = dispatch_once(sender, lambda: now + timedelta(seconds=2), FAST, rng=MaxJitter())
    row = fresh(message.id)
    assert (second.retried, row.attempts, row.provider_error_code) == (1, 2, 20429)
    assert row.next_attempt_at == now + timedelta(seconds=2 + 4)

    third = dispatch_once(sender, lambda: now + timedelta(minutes=1), FAST)
    row = fresh(message.id)
    assert (third.sent, row.status, row.attempts) == (1, "sent", 3)
    assert sandbox.count() == 1 and sandbox.requests_total == 3
    assert row.provider_sid == sandbox.messages()[0]["sid"]


def test_an_invalid_number_fails_for_good_with_code_and_text(app, sender, sandbox):
    now = clock.now()
    message = add_message(to="+919812345678", due_at=now)
    sandbox.set_unreachable("+919812345678", code=21211)

    stats = dispatch_once(sender, lambda: now, FAST)

    row = fresh(message.id)
    assert (stats.failed, row.status, row.provider_error_code) == (1, "failed", 21211)
    assert "+919812345678" in row.provider_error_message
    assert dispatch_once(sender, lambda: now + timedelta(hours=1), FAST).claimed == 0
    assert sandbox.count() == 0


def test_an_unsubscribed_number_is_reported_for_opt_out(app, sender, sandbox):
    now = clock.now()
    add_message(to="+919812345678", due_at=now)
    sandbox.set_unreachable("+919812345678", code=21610)

    stats = dispatch_once(sender, lambda: now, FAST)

    assert stats.opted_out == [("+919812345678", "sms")]
    assert statuses() == {"failed": 1}


def test_sends_respect_the_rate_limit(app, sender, sandbox):
    rate, count = 20, 45
    now = clock.now()
    for number in range(count):
        add_message(to=f"+1555000{number:04d}", due_at=now)
    limiter = RateLimiter(rate)

    stats = dispatch_once(sender, clock.now, DispatchSettings(concurrency=16), rate_limiter=limiter)

    assert stats.sent == count
    assert busiest_second(limiter.granted) <= rate, "the limiter never grants more than the rate"
    arrived = sorted(message["date_created"].timestamp() for message in sandbox.messages())
    # Measured at the provider: the sends are spread out over the time the rate allows, not one
    # burst. Only this lower bound holds whatever the machine's load: under load the threads
    # carrying paced sends can bunch on their way to the provider (see the README's figures).
    assert arrived[-1] - arrived[0] >= (count - 1) / rate - 0.1


def test_the_parts_of_a_learners_day_arrive_in_order(app, sender, sandbox):
    now = clock.now()
    delivery = make_delivery()
    asha, kofi = make_enrollment(delivery), make_enrollment(delivery)
    add_day(asha, ["(1/3) One", "(2/3) Two", "(3/3) Three"], "+919812345678", now)
    add_day(kofi, ["Kofi 1", "Kofi 2"], "+233241234567", now, channel="whatsapp")
    open_window("+233241234567", now)

    stats = dispatch_until_idle(sender, clock.now, FAST)

    assert stats.sent == 5
    assert [m["body"] for m in sandbox.messages("+919812345678")] == ["(1/3) One", "(2/3) Two", "(3/3) Three"]
    assert [m["body"] for m in sandbox.messages("whatsapp:+233241234567")] == ["Kofi 1", "Kofi 2"]


def test_a_later_part_waits_while_an_earlier_one_is_being_retried(app, sender, sandbox):
    now = clock.now()
    first, second = add_day(make_enrollment(make_delivery()), ["One", "Two"], "+919812345678", now)
    sandbox.fail_next(1, status=503)

    dispatch_until_idle(sender, lambda: now, FAST, rng=MaxJitter())
    assert (fresh(first.id).status, fresh(second.id).status, sandbox.count()) == ("pending", "waiting", 0)

    dispatch_until_idle(sender, lambda: now + timedelta(minutes=1), FAST)
    assert [m["body"] for m in sandbox.messages()] == ["One", "Two"]


def test_a_stopping_worker_releases_unsent_claims_for_another_worker(app, sender, sandbox):
    now = clock.now()
    for number in range(6):
        add_message(to=f"+1555000{number:04d}", due_at=now)

    stats = dispatch_once(sender, lambda: now, DispatchSettings(rate_per_second=100_000, concurrency=1),
                          should_stop=lambda: sandbox.count() >= 2)

    assert (stats.claimed, stats.sent, stats.released) == (6, 2, 4)
    assert statuses() == {"sent": 2, "pending": 4}
    rest = dispatch_until_idle(sender, lambda: now, FAST)
    assert (rest.sent, sandbox.count()) == (4, 6)
    assert len({(m["to"], m["body"]) for m in sandbox.messages()}) == 6
