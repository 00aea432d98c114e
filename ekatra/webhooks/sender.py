"""The one class that makes webhook requests (and a fake of it for tests).

`HttpSender` connects to an address that `targets.checked_addresses` allowed at send time (the
connection goes to that very address: a DNS answer that changes between check and connect is
not followed), with TLS checked against the URL's host name, never follows redirects, and
gives up after the timeout. Any 2xx is a success.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from ekatra.webhooks.targets import Resolver, TargetPolicy, UnsafeTarget, checked_addresses, system_resolver

RESPONSE_BYTES_READ = 4096
USER_AGENT = "Ekatra-Webhooks/1"


@dataclass(frozen=True)
class Outcome:
    response_code: int | None
    error: str | None
    duration_ms: int

    @property
    def is_success(self) -> bool:
        return self.response_code is not None and 200 <= self.response_code < 300


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


class HttpSender:
    def __init__(self, policy: TargetPolicy, *, timeout_seconds: float = 10.0,
                 resolve: Resolver = system_resolver):
        self.policy, self.timeout_seconds, self.resolve = policy, timeout_seconds, resolve

    def send(self, url: str, body: bytes, headers: dict[str, str]) -> Outcome:
        started = time.monotonic()

        def took() -> int:
            return int((time.monotonic() - started) * 1000)

        try:
            address = checked_addresses(url, self.policy, self.resolve)[0]
        except UnsafeTarget as problem:
            return Outcome(None, f"Refused target: {problem}", took())
        parts = urlsplit(url)
        connection_class = _PinnedHTTPSConnection if parts.scheme == "https" else _PinnedHTTPConnection
        connection = connection_class(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80),
                                      address, self.timeout_seconds)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        try:
            connection.request("POST", path, body=body, headers={
                "Content-Type": "application/json", "User-Agent": USER_AGENT, **headers})
            response = connection.getresponse()
            response.read(RESPONSE_BYTES_READ)
            code = response.status
            error = None if 200 <= code < 300 else f"HTTP {code} {response.reason}"[:500]
            return Outcome(code, error, took())
        except (OSError, http.client.HTTPException) as problem:
            kind = "Timed out" if isinstance(problem, TimeoutError | socket.timeout) else "Connection failed"
            return Outcome(None, f"{kind}: {problem.__class__.__name__} {problem}"[:500], took())
        finally:
            connection.close()


@dataclass
class FakeSender:
    """Records requests and answers each with the next programmed status (200 when none left)."""

    statuses: list[int] = field(default_factory=list)
    requests: list[tuple[str, bytes, dict]] = field(default_factory=list)

    def send(self, url: str, body: bytes, headers: dict[str, str]) -> Outcome:
        self.requests.append((url, body, headers))
        code = self.statuses.pop(0) if self.statuses else 200
        return Outcome(code, None if 200 <= code < 300 else f"HTTP {code}", 1)
