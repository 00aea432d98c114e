"""dispatch_until_idle pipelined: claims overlap sends, results are written back as they come,
and the guarantees of one batch still hold (FakeSender, no HTTP)."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import timedelta

from sqlalchemy import func, select

from ekatra import clock
from ekatra.extensions import db
from ekatra.outbox import dispatch
from ekatra.outbox.dispatch import WRITE_BACK_ROWS, DispatchSettings, dispatch_once, dispatch_until_idle
from ekatra.outbox.fakes import FakeSender
from ekatra.outbox.models import Message
from tests.outbox.factories import add_message, add_messages, fresh, statuses

FAST = DispatchSettings(rate_per_second=100_000, concurrency=4)


def _sending() -> int:
    return db.session.scalar(select(func.count()).select_from(Message).where(Message.status == "sending"))


def _record_claims_and_writes(monkeypatch) -> list[tuple[str, int]]:
    """(what, rows) for each claim and write-back, in order; a claim also notes rows in `sending`."""
    events = []
    claim_batch, record_outcomes = dispatch.claims.claim_batch, dispatch.claims.record_outcomes

    def claiming(now, limit, lease_seconds, **options):
        events.append(("in flight at claim", _sending()))
        claimed = claim_batch(now, limit, lease_seconds, **options)
        events.append(("claim", len(claimed)))
        return claimed

    def writing(now, outcomes):
        events.append(("write", len(outcomes)))
        record_outcomes(now, outcomes)

    monkeypatch.setattr(dispatch.claims, "claim_batch", claiming)
    monkeypatch.setattr(dispatch.claims, "record_outcomes", writing)
    return events


def test_claims_overlap_sends_and_every_message_is_sent_once_with_its_sid(app, monkeypatch):
    now = clock.now()
    add_messages(60, due_at=now)
    sender = FakeSender()
    events = _record_claims_and_writes(monkeypatch)
    # The first sends wait until a second claim was made (at most 10 s): the pipeline must claim
    # while sends are out, however the threads happen to be scheduled.
    gate, send, claim = threading.Event(), sender.send, dispatch.claims.claim_batch

    def gated_send(*args, **kwargs):
        gate.wait(10)
        return send(*args, **kwargs)

    def claim_then_open(*args, **kwargs):
        claimed = claim(*args, **kwargs)
        if sum(1 for what, _rows in events if what == "claim") >= 2:
            gate.set()
        return claimed

    sender.send = gated_send
    monkeypatch.setattr(dispatch.claims, "claim_batch", claim_then_open)

    stats = dispatch_until_idle(sender, clock.now, replace(FAST, batch_size=7))

    assert (stats.claimed, stats.sent) == (60, 60)
    assert statuses() == {"sent": 60}
    recorded = dict(db.session.execute(select(Message.to_phone, Message.provider_sid)).all())
    assert recorded == {message.to: message.sid for message in sender.sent}
    assert len(sender.sent) == 60, "no message went twice"
    assert any(rows for what, rows in events if what == "in flight at claim"), \
        "a claim was made while sends of earlier claims were still out"


def test_results_are_written_back_in_parts_as_sends_complete(app, monkeypatch):
    now = clock.now()
    add_messages(WRITE_BACK_ROWS * 3, due_at=now)
    events = _record_claims_and_writes(monkeypatch)

    stats = dispatch_until_idle(FakeSender(), clock.now, replace(FAST, batch_size=100))

    writes = [rows for what, rows in events if what == "write"]
    assert sum(writes) == stats.claimed == WRITE_BACK_ROWS * 3
    # In parts: a write takes what completed since the last one (WRITE_BACK_ROWS or more), so on a
    # loaded machine one write may carry more than the threshold, but never everything at once.
    assert len(writes) > 1 and max(writes) < WRITE_BACK_ROWS * 3
    first_write = next(index for index, (what, _) in enumerate(events) if what == "write")
    assert any(what == "claim" and rows for what, rows in events[first_write:]), \
        "claims went on after the first results were written back"


def test_a_learners_messages_keep_claim_order_when_claimed_in_different_batches(app, monkeypatch):
    now = clock.now()
    add_message(to="+919812345678", body="One", due_at=now)
    add_message(to="+919812345678", body="Two", due_at=now + timedelta(microseconds=1))
    second_claimed = threading.Event()
    claim_batch = dispatch.claims.claim_batch

    def claiming(claim_now, limit, lease_seconds, **options):
        claimed = claim_batch(claim_now, limit, lease_seconds, **options)
        if any(message.body == "Two" for message in claimed):
            second_claimed.set()
        return claimed

    monkeypatch.setattr(dispatch.claims, "claim_batch", claiming)
    sender, events, two_started = FakeSender(), [], threading.Event()

    def send(to, body, channel):
        events.append(("start", body))
        if body == "Two":
            two_started.set()
        else:  # still out when Two is claimed; Two gets a second to start too soon (it must not)
            second_claimed.wait(10)
            two_started.wait(1)
        result = FakeSender.send(sender, to, body, channel)
        events.append(("end", body))
        return result

    sender.send = send
    stats = dispatch_until_idle(sender, clock.now, replace(FAST, batch_size=1))

    assert second_claimed.is_set(), "Two was claimed while One was being sent"
    assert stats.sent == 2
    assert events == [("start", "One"), ("end", "One"), ("start", "Two"), ("end", "Two")]


def test_a_stop_mid_run_releases_what_was_not_handed_over_and_leaves_nothing_sending(app):
    now = clock.now()
    add_messages(30, due_at=now)
    sender = FakeSender()

    stats = dispatch_until_idle(sender, clock.now,
                                DispatchSettings(batch_size=10, rate_per_second=100_000, concurrency=2),
                                should_stop=lambda: len(sender.sent) >= 5)

    assert stats.sent == len(sender.sent) >= 5
    assert stats.sent + stats.released == stats.claimed
    counts = statuses()
    assert "sending" not in counts
    assert counts["sent"] == stats.sent and counts["pending"] == 30 - stats.sent
    attempts = db.session.scalars(select(Message.attempts).where(Message.status == "pending")).all()
    db.session.rollback()
    assert set(attempts) == {0}, "released claims do not count as attempts"


def test_a_message_whose_lease_runs_short_while_it_waits_is_released_not_sent(app):
    now = clock.now()
    message = add_message(due_at=now)
    sender = FakeSender()
    times = iter([now])  # the claim at `now`; by the time the send would start, 45 s have passed

    clock_ticks = lambda: next(times, now + timedelta(seconds=45))  # noqa: E731
    stats = dispatch_once(sender, clock_ticks, replace(FAST, lease_seconds=60))

    row = fresh(message.id)
    assert (stats.claimed, stats.released, sender.sent) == (1, 1, [])
    assert (row.status, row.attempts, row.lease_until) == ("pending", 0, None)
