"""Two workers on one PostgreSQL outbox: disjoint claims, every message sent exactly once."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from ekatra import clock
from ekatra.extensions import db
from ekatra.outbox.dispatch import DispatchStats, dispatch_until_idle
from ekatra.outbox.models import Message
from tests.outbox.conftest import sender_for
from tests.outbox.factories import add_messages, statuses

MESSAGES = 5000


def test_two_dispatchers_send_every_message_exactly_once(app, sandbox):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer: one worker")
    now = clock.now()
    add_messages(MESSAGES, due_at=now)
    results: dict[str, DispatchStats] = {}
    errors: list[BaseException] = []

    def worker(name: str) -> None:
        try:
            with app.app_context():
                sender = sender_for(app.config, sandbox)
                results[name] = dispatch_until_idle(sender, clock.now, batch_size=500, concurrency=32,
                                                    rate_per_second=1_000_000, budget_seconds=120)
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
    assert results["one"].claimed > 0 and results["two"].claimed > 0, "both workers took part"
    assert results["one"].sent + results["two"].sent == MESSAGES
    assert sandbox.count() == MESSAGES
    assert len({(m["to"], m["body"]) for m in sandbox.messages()}) == MESSAGES, "no message went twice"
    assert statuses() == {"sent": MESSAGES}
    assert db.session.scalar(select(func.count(func.distinct(Message.provider_sid)))) == MESSAGES
