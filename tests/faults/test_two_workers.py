"""Two worker processes drain one PostgreSQL outbox together: every message once, none twice."""

from __future__ import annotations

from sqlalchemy import func, select

from ekatra import clock
from ekatra.extensions import db
from ekatra.outbox.models import Message
from ekatra.sandbox import Sandbox
from tests.faults.workers import require_postgresql, worker_environ, worker_process
from tests.outbox.factories import add_messages, statuses
from tests.waiting import eventually

MESSAGES = 5000


def test_two_worker_processes_send_every_message_exactly_once(app, database_url, tmp_path):
    require_postgresql(database_url)
    add_messages(MESSAGES, due_at=clock.now())
    with Sandbox(callbacks=False, latency_ms=5) as sandbox:
        # 500 a second each: one alone would need 10 s, so the other surely joins in.
        environ = worker_environ(database_url, sandbox, SEND_RATE_PER_SECOND="500")
        with (worker_process(environ, tmp_path / "one.log") as one,
              worker_process(environ, tmp_path / "two.log") as two):
            assert sandbox.wait_for(MESSAGES, timeout=45), one.output() + two.output()
            assert eventually(lambda: statuses() == {"sent": MESSAGES}, timeout=20), statuses()
            assert one.stop() == 0, one.output()
            assert two.stop() == 0, two.output()

    accepted = sandbox.messages()
    assert len(accepted) == MESSAGES
    assert len({(message["to"], message["body"]) for message in accepted}) == MESSAGES, "none went twice"
    assert db.session.scalar(select(func.count(func.distinct(Message.provider_sid)))) == MESSAGES
    assert set(db.session.scalars(select(Message.provider_sid))) == {message["sid"] for message in accepted}
    sent_by = [sum(sent for _, sent in worker.batches()) for worker in (one, two)]
    assert all(sent_by), f"both workers took part: {sent_by}"
    assert sum(sent_by) == MESSAGES
    assert not one.recoveries() and not two.recoveries(), "no lease expired: nothing needed reconciling"
