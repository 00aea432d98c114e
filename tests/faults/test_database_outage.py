"""PostgreSQL goes away and comes back (a TCP proxy cut): the worker carries on and sends every
message exactly once; the web app answers 503 JSON meanwhile and 200 after."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from ekatra import clock, create_app
from ekatra.extensions import db
from ekatra.outbox.models import Message
from ekatra.sandbox import Sandbox
from tests.conftest import test_environ
from tests.faults.proxy import TcpProxy
from tests.faults.workers import require_postgresql, worker_environ, worker_process
from tests.outbox.factories import add_messages, statuses
from tests.waiting import eventually

MESSAGES = 3000


@pytest.fixture
def proxy(database_url):
    require_postgresql(database_url)
    with TcpProxy(make_url(database_url).port or 5432) as running:
        yield running


def through(proxy: TcpProxy, database_url: str) -> str:
    return make_url(database_url).set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)


def test_worker_survives_a_database_outage_and_sends_every_message_exactly_once(
        app, database_url, proxy, tmp_path):
    add_messages(MESSAGES, due_at=clock.now())
    with Sandbox(callbacks=False, latency_ms=20) as sandbox:
        # 300 a second: the drain takes about ten seconds, so the cut lands while it works.
        environ = worker_environ(through(proxy, database_url), sandbox, SEND_RATE_PER_SECOND="300")
        with worker_process(environ, tmp_path / "worker.log") as worker:
            assert sandbox.wait_for(500, timeout=30), worker.output()
            proxy.cut()
            # Held until the worker has met the outage on several ticks (a batch's write-back, then
            # claims), each logged: a few seconds.
            assert eventually(lambda: worker.output().count("job dispatch failed: database unavailable") >= 4,
                              timeout=20), worker.output()
            assert worker.is_running(), worker.output()
            proxy.restore()

            assert sandbox.wait_for(MESSAGES, timeout=45), worker.output()
            assert eventually(lambda: statuses() == {"sent": MESSAGES}, timeout=30), (
                statuses(), worker.output())
            assert worker.stop() == 0, worker.output()

    accepted = sandbox.messages()
    assert len(accepted) == MESSAGES
    assert len({(message["to"], message["body"]) for message in accepted}) == MESSAGES, "none went twice"
    assert set(db.session.scalars(select(Message.provider_sid))) == {message["sid"] for message in accepted}
    assert db.session.scalar(select(func.count(func.distinct(Message.provider_sid)))) == MESSAGES
    # The batch in flight during the cut could not be written back: the lease recovery found it at Twilio.
    assert sum(found for _, found, _ in worker.recoveries()) > 0, worker.output()


def test_web_answers_503_json_while_the_database_is_away(app, author, database_url, proxy):
    web = create_app(config={"TESTING": True}, environ=test_environ(through(proxy, database_url)))
    client = web.test_client()
    headers = author.headers
    try:
        assert client.get("/api/course/", headers=headers).status_code == 200
        assert client.get("/healthz").status_code == 200

        proxy.cut()
        response = client.get("/api/course/", headers=headers)
        assert response.status_code == 503
        assert response.is_json and response.get_json()["message"]
        health = client.get("/healthz")
        assert health.status_code == 503
        assert health.get_json()["status"] == "unhealthy"

        proxy.restore()
        assert client.get("/api/course/", headers=headers).status_code == 200
        assert client.get("/healthz").status_code == 200
    finally:
        with web.app_context():
            db.engine.dispose()
