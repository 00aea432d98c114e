"""dispatch_once with the fake sender: outcomes, retries, stopping (fast, no HTTP)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select

from ekatra import clock
from ekatra.extensions import db
from ekatra.outbox import services as outbox
from ekatra.outbox.dispatch import (
    BACKOFF_BASE_SECONDS,
    BACKOFF_CAP_SECONDS,
    DispatchSettings,
    backoff_seconds,
    dispatch_once,
)
from ekatra.outbox.fakes import FakeSender
from ekatra.outbox.models import Message
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

FAST = DispatchSettings(rate_per_second=100_000, concurrency=4)
ONE_AT_A_TIME = DispatchSettings(concurrency=1)


def test_a_due_message_is_sent_and_its_sid_recorded(app):
    now = clock.now()
    sender = FakeSender(clock=lambda: now)
    message = add_message(to="+919812345678", body="Day 1", due_at=now)

    stats = dispatch_once(sender, lambda: now, FAST)

    (sent,) = sender.sent
    row = fresh(message.id)
    assert (stats.claimed, stats.sent) == (1, 1)
    assert (row.status, row.provider_sid, row.provider_status, row.sent_at, row.lease_until) == (
        "sent", sent.sid, "queued", now, None)
    assert (sent.to, sent.body, sent.channel) == ("+919812345678", "Day 1", "sms")


def test_a_retryable_failure_waits_out_a_jittered_backoff_then_goes_again(app):
    now = clock.now()
    sender = FakeSender()
    sender.fail_next(2, status=503, code=20503, message="Service Unavailable")
    message = add_message(due_at=now)

    stats = dispatch_once(sender, lambda: now, FAST, rng=MaxJitter())
    row = fresh(message.id)
    assert stats.retried == 1
    assert (row.status, row.attempts, row.provider_error_code) == ("pending", 1, 20503)
    assert row.next_attempt_at == now + timedelta(seconds=BACKOFF_BASE_SECONDS)

    assert dispatch_once(sender, lambda: now + timedelta(seconds=1), FAST).claimed == 0, "not yet due"
    dispatch_once(sender, lambda: row.next_attempt_at, FAST, rng=MaxJitter())
    second_wait = timedelta(seconds=2 * BACKOFF_BASE_SECONDS)
    assert fresh(message.id).next_attempt_at == row.next_attempt_at + second_wait

    dispatch_once(sender, lambda: now + timedelta(minutes=10), FAST)
    row = fresh(message.id)
    assert (row.status, row.attempts, len(sender.sent)) == ("sent", 3, 1)
    assert row.provider_error_code is None


def test_backoff_has_full_jitter_under_a_five_minute_cap():
    assert backoff_seconds(1, MaxJitter()) == BACKOFF_BASE_SECONDS
    assert backoff_seconds(4, MaxJitter()) == 8 * BACKOFF_BASE_SECONDS
    assert backoff_seconds(30, MaxJitter()) == BACKOFF_CAP_SECONDS == 300
    assert all(0 <= backoff_seconds(3) <= 4 * BACKOFF_BASE_SECONDS for _ in range(100))


def test_a_message_fails_once_it_used_its_attempts(app):
    now = clock.now()
    sender = FakeSender()
    sender.fail_next(3, status=500)
    message = add_message(due_at=now)

    for tick in range(3):
        later = now + timedelta(minutes=10 * tick)
        dispatch_once(sender, lambda later=later: later, replace(FAST, max_attempts=3))

    row = fresh(message.id)
    assert (row.status, row.attempts, row.provider_error_code) == ("failed", 3, 20500)


def test_an_invalid_number_fails_at_once_with_the_providers_code_and_text(app):
    now = clock.now()
    message = add_message(to="+1", due_at=now)

    stats = dispatch_once(FakeSender(), lambda: now, FAST)

    row = fresh(message.id)
    assert (stats.failed, row.status, row.attempts, row.provider_error_code) == (1, "failed", 1, 21211)
    assert "not a valid phone number" in row.provider_error_message


def test_an_unsubscribed_learner_is_reported_for_opt_out(app):
    now = clock.now()
    sender = FakeSender()
    sender.set_unreachable("+919812345678", code=21610)
    add_message(to="+919812345678", channel="whatsapp", due_at=now)
    open_window("+919812345678", now)
    add_message(to="+12125550143", due_at=now)

    stats = dispatch_once(sender, lambda: now, FAST)

    assert (stats.sent, stats.failed, stats.opted_out) == (1, 1, [("+919812345678", "whatsapp")])


def test_a_stopping_worker_releases_what_it_has_not_handed_over(app):
    now = clock.now()
    sender = FakeSender()
    for number in range(5):
        add_message(to=f"+1555000000{number}", due_at=now)

    stats = dispatch_once(sender, lambda: now, DispatchSettings(rate_per_second=100_000, concurrency=1),
                          should_stop=lambda: len(sender.sent) >= 2)

    assert (stats.claimed, stats.sent, stats.released) == (5, 2, 3)
    assert statuses() == {"sent": 2, "pending": 3}
    released = db.session.execute(select(Message.attempts, Message.lease_until, Message.claimed_at)
                                  .where(Message.status == "pending")).all()
    assert released == [(0, None, None)] * 3, "released claims do not count as attempts"


def test_a_send_that_may_have_reached_the_provider_is_asked_about_before_any_resend(app):
    now = clock.now()
    sender = FakeSender()
    sender.fail_next(1, status=None, code=None, message="ReadTimeout", may_have_been_accepted=True)
    message = add_message(due_at=now)

    stats = dispatch_once(sender, lambda: now, FAST, rng=MaxJitter())

    row = fresh(message.id)
    assert stats.retried == 1
    assert (row.status, row.lease_until) == ("sending", now + timedelta(seconds=BACKOFF_BASE_SECONDS))
    assert dispatch_once(sender, lambda: now + timedelta(minutes=5), FAST).claimed == 0


def _meanwhile(app, sender, change):
    """The sender runs `change` (in its own transaction) while the request is out, then fails with a 500."""
    sender.fail_next(1, status=500)

    def change_then_fail(to, body, channel):
        with app.app_context():
            change()
            db.session.commit()
        return FakeSender.send(sender, to, body, channel)

    sender.send = change_then_fail


def test_a_message_whose_delivery_stopped_meanwhile_is_cancelled_instead_of_retried(app):
    now = clock.now()
    enrollment = make_enrollment(make_delivery())
    first, second = add_day(enrollment, ["one", "two"], "+919812345678", now)
    sender = FakeSender()
    _meanwhile(app, sender, lambda: outbox.cancel_unsent(now, delivery_id=enrollment.delivery_id))

    dispatch_once(sender, lambda: now, DispatchSettings(concurrency=1, rate_per_second=100_000))

    assert (fresh(first.id).status, fresh(second.id).status) == ("cancelled", "cancelled")
    assert fresh(first.id).hold_reason is None


def test_a_message_whose_delivery_paused_meanwhile_is_held_and_goes_when_it_resumes(app):
    now = clock.now()
    enrollment = make_enrollment(make_delivery())
    (message,) = add_day(enrollment, ["one"], "+919812345678", now)
    sender = FakeSender()
    _meanwhile(app, sender, lambda: outbox.hold(enrollment.delivery_id, now))

    dispatch_once(sender, lambda: now, DispatchSettings(concurrency=1, rate_per_second=100_000))
    assert (fresh(message.id).status, fresh(message.id).hold_reason) == ("held", "paused")
    assert dispatch_once(sender, lambda: now + timedelta(hours=1), ONE_AT_A_TIME).claimed == 0

    outbox.release(enrollment.delivery_id, now + timedelta(hours=1))
    db.session.commit()
    assert dispatch_once(FakeSender(), lambda: now + timedelta(hours=1), ONE_AT_A_TIME).sent == 1


def test_a_message_to_a_phone_that_opted_out_meanwhile_is_skipped_instead_of_retried(app):
    now = clock.now()
    message = add_message(due_at=now, to="+919812345678")
    sender = FakeSender()
    _meanwhile(app, sender, lambda: outbox.skip_unsent("+919812345678", "sms", now))

    dispatch_once(sender, lambda: now, DispatchSettings(concurrency=1, rate_per_second=100_000))

    assert fresh(message.id).status == "skipped"


@pytest.mark.parametrize("lease_seconds", [5, 20])
def test_the_lease_must_outlast_two_send_timeouts(app, lease_seconds):
    with pytest.raises(ValueError):
        dispatch_once(FakeSender(), clock.now, DispatchSettings(lease_seconds=lease_seconds))
