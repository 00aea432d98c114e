"""An in-memory stand-in for `TwilioSender`: records what was sent, fails when told to.

It refuses what Twilio refuses (a `To` that is not E.164 is 21211) and classifies every
failure with the same rule as the real sender, so tests on the fake mean the same thing.
"""

from __future__ import annotations

import re
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from ekatra.config import DEFAULT_SEND_TIMEOUT_SECONDS
from ekatra.outbox.twilio import ProviderError, SendResult, address, provider_error
from ekatra.rendering.segments import segment_count

_E164 = re.compile(r"\+[1-9]\d{6,14}")

# What Twilio answers for a number that cannot be messaged (HTTP 400 each).
UNREACHABLE_MESSAGES = {
    21211: "The 'To' number {to} is not a valid phone number.",
    21408: ("Permission to send an SMS has not been enabled for the region indicated by the 'To' "
            "number: {to}."),
    21610: "Attempt to send to unsubscribed recipient",
    21614: "'To' number {to} is not a valid mobile number",
}


@dataclass(frozen=True)
class FakeMessage:
    sid: str
    to: str
    body: str
    channel: str
    sent_at: datetime
    content_sid: str | None = None
    content_variables: str | None = None


@dataclass(eq=False)  # compared and hashed by identity, like the real sender
class FakeSender:
    """Same interface as `TwilioSender`. Thread-safe; `clock` stamps `sent_at` (UTC)."""

    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    timeout_seconds: float = DEFAULT_SEND_TIMEOUT_SECONDS
    sent: list[FakeMessage] = field(default_factory=list)
    attempts: list[tuple[str, str, str]] = field(default_factory=list)
    _failures: list[ProviderError] = field(default_factory=list)
    _unreachable: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def fail_next(self, n: int = 1, *, status: int | None = 500, code: int | None = 20500,
                  message: str = "Internal Server Error", may_have_been_accepted: bool = False) -> None:
        """The next `n` sends fail like this (status None: the connection broke)."""
        error = provider_error(status, code, message)
        error.may_have_been_accepted = may_have_been_accepted
        with self._lock:
            self._failures.extend([error] * n)

    def set_unreachable(self, number: str, code: int = 21211) -> None:
        with self._lock:
            self._unreachable[number] = code

    def send(self, to: str, body: str, channel: str, *, content_sid: str | None = None,
             content_variables: str | None = None) -> SendResult:
        with self._lock:
            self.attempts.append((to, body, channel))
            if self._failures:
                raise self._failures.pop(0)
            code = self._unreachable.get(to) or (None if _E164.fullmatch(to) else 21211)
            if code is not None:
                raise provider_error(400, code, UNREACHABLE_MESSAGES[code].format(to=address(to, channel)))
            message = FakeMessage("SM" + secrets.token_hex(16), to, body, channel, self.clock(), content_sid,
                                  content_variables)
            self.sent.append(message)
        return SendResult(message.sid, "queued", segment_count(body))

    def find_sent(self, to: str, body: str, channel: str, since: datetime,
                  exclude: frozenset[str] | set[str] = frozenset(), *,
                  content_variables: str | None = None) -> str | None:
        with self._lock:
            for message in reversed(self.sent):
                text = message.body
                if content_variables is not None:  # a template: matched by its variables
                    text = body if message.content_variables == content_variables else None
                if (message.to, text, message.channel) == (to, body, channel) \
                        and message.sent_at.replace(microsecond=0) >= since.replace(microsecond=0) \
                        and message.sid not in exclude:
                    return message.sid
        return None


__all__ = ["FakeMessage", "FakeSender", "ProviderError", "SendResult"]
