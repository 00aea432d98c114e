"""A worker SIGKILLed mid-batch: a second worker reconciles its claims; nothing lost, nothing twice."""

from __future__ import annotations

from sqlalchemy import func, select

from ekatra import clock
from ekatra.extensions import db
from ekatra.outbox.models import Message
from ekatra.sandbox import Sandbox
from tests.faults.workers import require_postgresql, worker_environ, worker_process
from tests.outbox.factories import add_messages, statuses
from tests.waiting import eventually

MESSAGES = 3000


def sent_rows() -> list[tuple[str, str, str | None]]:
    rows = db.session.execute(select(Message.to_phone, Message.body, Message.provider_sid)
                              .where(Message.status == "sent")).all()
    db.session.rollback()
    return [tuple(row) for row in rows]


def test_worker_killed_mid_batch_then_a_second_worker_sends_every_message_exactly_once(
        app, database_url, tmp_path):
    require_postgresql(database_url)
    add_messages(MESSAGES, due_at=clock.now())
    # 20 ms per send: a batch of 500 is still in flight when the kill lands.
    with Sandbox(callbacks=False, latency_ms=20) as sandbox:
        environ = worker_environ(database_url, sandbox, SEND_RATE_PER_SECOND="2000")
        with worker_process(environ, tmp_path / "first.log") as first:
            assert sandbox.wait_for(300, timeout=30), first.output()
            first.kill()

        stranded = statuses().get("sending", 0)
        assert stranded > 0, "the kill landed mid-batch: claimed rows are left `sending`"
        accepted_unrecorded = sandbox.count() - statuses().get("sent", 0)
        assert accepted_unrecorded > 0, "Twilio accepted messages the database does not know were sent"

        with worker_process(environ, tmp_path / "second.log") as second:
            assert sandbox.wait_for(MESSAGES, timeout=45), second.output()
            assert eventually(lambda: statuses() == {"sent": MESSAGES}, timeout=30), (
                statuses(), second.output())
            assert second.stop() == 0, second.output()

    accepted = sandbox.messages()
    assert len(accepted) == MESSAGES
    assert len({(message["to"], message["body"]) for message in accepted}) == MESSAGES, "none went twice"
    rows = sent_rows()
    assert {(to, body, sid) for to, body, sid in rows} == {
        (message["to"], message["body"], message["sid"]) for message in accepted}, "every row has its sid"
    assert db.session.scalar(select(func.count(func.distinct(Message.provider_sid)))) == MESSAGES

    # The killed worker's claims went through the lease recovery, which found the ones Twilio had.
    recoveries = second.recoveries()
    assert sum(expired for expired, _, _ in recoveries) >= stranded, second.output()
    assert sum(found for _, found, _ in recoveries) >= accepted_unrecorded, second.output()
