"""Real status callbacks: the sandbox posts signed callbacks to a live server of the app."""

from __future__ import annotations

import threading

import pytest
from werkzeug.serving import make_server

from ekatra import clock
from ekatra.outbox.dispatch import DispatchSettings, dispatch_once
from ekatra.sandbox import Sandbox
from tests.outbox.conftest import sender_for
from tests.outbox.factories import add_message, fresh, open_window

WAIT_SECONDS = 10


def wait_until(condition, timeout: float = WAIT_SECONDS) -> bool:
    """Poll `condition` until it holds or `timeout` passes (a bounded wait, not a sleep)."""
    deadline, pause = clock.now().timestamp() + timeout, threading.Event()
    while not condition():
        if clock.now().timestamp() > deadline:
            return False
        pause.wait(0.02)
    return True


@pytest.fixture
def live_app(app, monkeypatch):
    """The app served on an ephemeral loopback port; PUBLIC_BASE_URL is where it listens."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", url)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield url
    server.shutdown()
    server.server_close()


@pytest.fixture
def sandbox(app):
    with Sandbox(auth_token=app.config["TWILIO_AUTH_TOKEN"], account_sid=app.config["TWILIO_ACCOUNT_SID"],
                 callback_delay_ms=0) as running:
        yield running


def test_callbacks_from_the_provider_mark_messages_delivered_and_read(app, live_app, sandbox):
    sms = add_message(to="+919812345678", body="Day 1")
    whatsapp = add_message(to="+233241234567", body="Day 1", channel="whatsapp")
    open_window("+233241234567", clock.now())
    sender = sender_for(app.config, sandbox)
    assert sender.status_callback_url == f"{live_app}/twilio/status"

    stats = dispatch_once(sender, clock.now, DispatchSettings(rate_per_second=1000, concurrency=4))

    assert stats.sent == 2
    assert wait_until(lambda: fresh(sms.id).status == "delivered"), fresh(sms.id).status
    assert wait_until(lambda: fresh(whatsapp.id).status == "read"), fresh(whatsapp.id).status
    row = fresh(sms.id)
    assert row.provider_sid == sandbox.messages("+919812345678")[0]["sid"]
    assert row.delivered_at is not None
