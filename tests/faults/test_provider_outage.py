"""Twilio failing every request (500, and 429) for a while: exponential backoff, capped, then every
message delivered once it recovers.

The dispatcher runs in this process with an injected clock, and the sandbox's failure window
follows that clock, so minutes of backoff pass without waiting (the worker process runs the same
`dispatch_once` through `dispatch_until_idle`). Runs on SQLite and PostgreSQL: no process or
second writer is involved.
"""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import select

from ekatra import clock
from ekatra.extensions import db
from ekatra.outbox.dispatch import (
    BACKOFF_BASE_SECONDS,
    BACKOFF_CAP_SECONDS,
    DispatchSettings,
    backoff_seconds,
    dispatch_once,
)
from ekatra.outbox.models import Message
from ekatra.sandbox import Sandbox
from tests.outbox.conftest import MaxJitter, sender_for
from tests.outbox.factories import add_messages, statuses

MESSAGES = 20
FAILURE_CODES = {500: 20500, 429: 20429}


class Clock:
    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now


def rows() -> list[Message]:
    db.session.expire_all()
    found = list(db.session.scalars(select(Message).order_by(Message.id)))
    db.session.rollback()
    return found


def run_until_settled(sender, now: Clock, *, rounds: int, **settings) -> list[list[tuple]]:
    """Dispatch, then move the clock to the next retry, until nothing is pending; each round's
    (attempts, status, next_attempt_at - now, error code) per row."""
    history = []
    for _ in range(rounds):
        dispatch_once(sender, now, DispatchSettings(rate_per_second=1_000_000, **settings), rng=MaxJitter())
        after = rows()
        history.append([(row.attempts, row.status, (row.next_attempt_at - now.now).total_seconds(),
                         row.provider_error_code) for row in after])
        pending = [row.next_attempt_at for row in after if row.status == "pending"]
        if not pending:
            break
        now.now = min(pending)
    return history


@pytest.fixture
def sandbox():
    with Sandbox(callbacks=False) as running:
        yield running


@pytest.mark.parametrize("status", [500, 429])
def test_messages_back_off_while_twilio_fails_and_all_go_out_after(app, sandbox, status):
    start = clock.now()
    now = Clock(start)
    add_messages(MESSAGES, due_at=start)
    recovered_at = start + timedelta(seconds=30)
    sandbox.fail_until(lambda: now.now >= recovered_at, status=status)

    history = run_until_settled(sender_for(app.config, sandbox), now, rounds=10)

    # Full-jitter ceilings 2, 4, 8, 16 s: failed at 0, 2, 6 and 14 s, sent at 30 s.
    for attempt, delay in enumerate([2, 4, 8, 16], start=1):
        assert set(history[attempt - 1]) == {(attempt, "pending", delay, FAILURE_CODES[status])}
    assert len(history) == 5 and now.now == recovered_at
    assert statuses() == {"sent": MESSAGES}
    final = rows()
    assert {row.attempts for row in final} == {5}
    assert all(row.provider_sid and row.provider_error_code is None for row in final)
    assert sandbox.count() == MESSAGES
    assert len({message["to"] for message in sandbox.messages()}) == MESSAGES, "each once"
    assert sandbox.requests_total == 5 * MESSAGES


def test_backoff_is_capped_and_the_last_attempt_fails_the_message(app, sandbox):
    start = clock.now()
    now = Clock(start)
    add_messages(1, due_at=start)
    sandbox.fail_until(lambda: False, status=503)

    history = run_until_settled(sender_for(app.config, sandbox), now, rounds=20, max_attempts=12)

    delays = [each[0][2] for each in history[:-1]]
    assert delays == [min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** k) for k in range(11)]
    assert delays[-3:] == [BACKOFF_CAP_SECONDS] * 3  # 512 s and more would be asked for: 300 s given
    (last,) = history[-1]
    assert last[:2] == (12, "failed") and last[3] == 20503
    assert sandbox.requests_total == 12


def test_jittered_backoff_never_exceeds_the_cap():
    rng = random.Random(7)
    for attempts in range(1, 40):
        ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** (attempts - 1))
        for _ in range(50):
            assert 0 <= backoff_seconds(attempts, rng) <= ceiling <= BACKOFF_CAP_SECONDS
