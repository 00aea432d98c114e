"""Two workers on one PostgreSQL outbox: disjoint claims, every message sent exactly once."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from ekatra import clock
from ekatra.extensions import db
from ekatra.outbox import services as outbox
from ekatra.outbox.dispatch import DispatchSettings, DispatchStats, dispatch_until_idle
from ekatra.outbox.models import Message
from tests.outbox.conftest import sender_for
from tests.outbox.factories import add_messages, statuses

MESSAGES = 5000


def _two_workers(app, sandbox, batch_size: int = 500) -> dict[str, DispatchStats]:
    """Two dispatchers, each in its own thread with its own session, until nothing is due."""
    results: dict[str, DispatchStats] = {}
    errors: list[BaseException] = []

    def worker(name: str) -> None:
        try:
            with app.app_context():
                sender = sender_for(app.config, sandbox)
                results[name] = dispatch_until_idle(sender, clock.now, DispatchSettings(
                    batch_size=batch_size, concurrency=32, rate_per_second=1_000_000, budget_seconds=120))
                db.session.remove()
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(name,)) for name in ("one", "two")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert not errors, errors
    assert all(not thread.is_alive() for thread in threads)
    return results


def test_two_dispatchers_send_every_message_exactly_once(app, sandbox):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer: one worker")
    now = clock.now()
    add_messages(MESSAGES, due_at=now)

    results = _two_workers(app, sandbox)

    assert results["one"].claimed > 0 and results["two"].claimed > 0, "both workers took part"
    assert results["one"].sent + results["two"].sent == MESSAGES
    assert sandbox.count() == MESSAGES
    assert len({(m["to"], m["body"]) for m in sandbox.messages()}) == MESSAGES, "no message went twice"
    assert statuses() == {"sent": MESSAGES}
    assert db.session.scalar(select(func.count(func.distinct(Message.provider_sid)))) == MESSAGES


def test_two_dispatchers_deliver_the_parts_of_each_learners_day_in_order(app, sandbox):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer: one worker")
    now = clock.now()
    learners, parts = 300, 3
    for learner in range(learners):
        for part in range(parts):
            outbox.enqueue(outbox.NewMessage(channel="sms", to_phone=f"+1555{learner:07d}",
                                             body=f"{learner} part {part}", part=f"content-{part}",
                                             sequence=part, enrollment_id=learner + 1, day_number=1), now)
    db.session.commit()

    results = _two_workers(app, sandbox, batch_size=20)

    assert results["one"].sent + results["two"].sent == learners * parts
    assert results["one"].claimed and results["two"].claimed, "both workers took part"
    for learner in range(learners):
        received = [m["body"] for m in sandbox.messages(f"+1555{learner:07d}")]
        assert received == [f"{learner} part {part}" for part in range(parts)], received
    assert statuses() == {"sent": learners * parts}
