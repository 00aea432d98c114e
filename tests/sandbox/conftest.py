"""Fixtures for the sandbox: a Sandbox on an ephemeral port, the official SDK pointed at it, and a
tiny threaded HTTP server standing in for the app's webhooks. No database involved."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

import pytest

from ekatra.sandbox import Sandbox, twilio_client


@dataclass
class Webhook:
    path: str
    params: dict[str, str]
    signature: str


@dataclass
class Receiver:
    """Records every POST it gets; answers with `status` and `body`."""

    url: str
    status: int = 200
    body: str = ""
    content_type: str = "text/plain"
    received: list[Webhook] = field(default_factory=list)
    changed: threading.Condition = field(default_factory=threading.Condition)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Webhook]:
        with self.changed:
            assert self.changed.wait_for(lambda: len(self.received) >= count, timeout), self.received
            return list(self.received)


@pytest.fixture
def receiver():
    state: dict[str, Receiver] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            target = state["receiver"]
            length = int(self.headers.get("Content-Length", 0))
            params = dict(parse_qsl(self.rfile.read(length).decode(), keep_blank_values=True))
            with target.changed:
                target.received.append(Webhook(self.path, params, self.headers.get("X-Twilio-Signature", "")))
                target.changed.notify_all()
            body = target.body.encode()
            self.send_response(target.status)
            self.send_header("Content-Type", target.content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state["receiver"] = Receiver(url=f"http://127.0.0.1:{server.server_port}")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield state["receiver"]
    server.shutdown()
    server.server_close()


@pytest.fixture
def sandbox(receiver):
    with Sandbox(callback_delay_ms=0, inbound_url=f"{receiver.url}/twilio/inbound") as running:
        yield running


@pytest.fixture
def twilio(sandbox):
    """The official Twilio SDK, talking to the sandbox."""
    return twilio_client(sandbox.account_sid, sandbox.auth_token, sandbox.url)
