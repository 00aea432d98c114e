"""The sandbox's HTTP plumbing: a lean threaded HTTP/1.1 server on the standard library.

A WSGI stack costs about three times as much CPU per request as `http.server` alone, and
benchmarks push hundreds of sends a second through the sandbox, so requests are parsed here
into a small `Incoming` and answered with an `Outgoing`. One thread per connection;
connections are kept alive, so a pooled client reuses its threads.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import logging
import socket
import socketserver
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, unquote, urlsplit

log = logging.getLogger(__name__)

MAX_REQUEST_BYTES = 1024 * 1024
SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
                    "Referrer-Policy": "no-referrer"}
# The page's script and style are inline (one file, no assets); it only talks to itself.
PAGE_POLICY = ("default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
               "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def _first_values(pairs: list[tuple[str, str]]) -> dict[str, str]:
    values: dict[str, str] = {}
    for key, value in pairs:
        values.setdefault(key, value)
    return values


def _json_value(value) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


@dataclass
class Incoming:
    method: str
    path: str
    args: dict[str, str]
    headers: dict[str, str]  # lower-cased names
    body: bytes = b""

    @property
    def is_json(self) -> bool:
        return self.headers.get("content-type", "").split(";")[0].strip() == "application/json"

    def form(self) -> dict[str, str]:
        return _first_values(parse_qsl(self.body.decode("utf-8", "replace"), keep_blank_values=True))

    def json(self):
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            return None

    def basic_auth(self) -> tuple[str, str] | None:
        scheme, _, encoded = self.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            username, separator, password = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return (username, password) if separator else None


@dataclass
class Outgoing:
    status: int
    body: bytes = b""
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, payload, status: int = 200, headers: dict[str, str] | None = None) -> Outgoing:
        body = json.dumps(payload, ensure_ascii=False, default=_json_value).encode()
        return cls(status, body, headers=headers or {})


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: pooled clients reuse connections
    disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms delayed-ACK stall
    server: SandboxHTTPServer

    def _serve(self) -> None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_REQUEST_BYTES:
            status = 400 if length < 0 else 413
            error = {"code": 20001, "message": "Bad Content-Length", "status": status}
            self._write(Outgoing.json(error, status))
            self.close_connection = True
            return
        body = self.rfile.read(length) if length else b""
        target = urlsplit(self.path)
        incoming = Incoming(
            method=self.command, path=unquote(target.path),
            args=_first_values(parse_qsl(target.query, keep_blank_values=True)),
            headers={name.lower(): value for name, value in self.headers.items()}, body=body)
        self._write(self.server.respond(incoming))

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

    def _write(self, outgoing: Outgoing) -> None:
        self.send_response(outgoing.status)
        self.send_header("Content-Type", outgoing.content_type)
        self.send_header("Content-Length", str(len(outgoing.body)))
        for name, value in {**SECURITY_HEADERS, **outgoing.headers}.items():
            self.send_header(name, value)
        if outgoing.content_type.startswith("text/html"):
            self.send_header("Content-Security-Policy", PAGE_POLICY)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(outgoing.body)

    def log_request(self, code="-", size="-") -> None:
        pass  # hundreds a second in a benchmark: errors only

    def log_error(self, format: str, *args) -> None:
        log.debug("sandbox http: " + format, *args)


class SandboxHTTPServer(ThreadingHTTPServer):
    """Serves `respond(Incoming) -> Outgoing` on one thread per connection.

    Open connections are tracked so that `close_connections` can end them: a stopped sandbox
    must not go on answering a client's kept-alive connections.
    """

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024  # bursts of new connections from many sender threads

    def __init__(self, host: str, port: int, respond: Callable[[Incoming], Outgoing]) -> None:
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.respond = respond
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__((host, port), _Handler)

    def process_request_thread(self, request, client_address) -> None:
        with self._connections_lock:
            self._connections.add(request)
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._connections_lock:
                self._connections.discard(request)

    def close_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):  # already closed by the client
                connection.shutdown(socket.SHUT_RDWR)

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks the host name up (getfqdn), which can stall; it is not needed.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]
