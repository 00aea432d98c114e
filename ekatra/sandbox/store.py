"""The sandbox's memory: every message it accepted or received, indexed for Twilio's list filters.

One re-entrant lock guards everything; `changed` (a Condition on that lock) is notified on
every change so that tests and benchmarks wait on it instead of sleeping.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

OUTBOUND = "outbound-api"
INBOUND = "inbound"
WHATSAPP_PREFIX = "whatsapp:"


def new_sid(prefix: str = "SM") -> str:
    """A Twilio-shaped identifier: a two-letter prefix and 32 hex digits."""
    return prefix + secrets.token_hex(16)


@dataclass(slots=True)
class SandboxMessage:
    """One message as the sandbox holds it; rendered to Twilio's JSON only when asked."""

    sid: str
    account_sid: str
    direction: str
    to: str
    from_: str
    body: str
    status: str
    num_segments: int
    messaging_service_sid: str | None = None
    status_callback: str | None = None
    date_created: datetime = field(default_factory=lambda: datetime.now(UTC))
    date_updated: datetime | None = None
    seq: int = 0
    content_sid: str | None = None
    content_variables: dict | None = None
    buttons: tuple[tuple[str, str], ...] = ()  # a template's quick replies: (title, id)
    error_code: int | None = None  # set when the message will fail (e.g. 63016 outside the window)
    error_message: str | None = None
    button_payload: str | None = None  # an inbound quick-reply tap

    @property
    def is_whatsapp(self) -> bool:
        return self.to.startswith(WHATSAPP_PREFIX) or self.from_.startswith(WHATSAPP_PREFIX)

    @property
    def learner(self) -> str:
        """The learner's side: `+9198…` for SMS, `whatsapp:+9198…` for WhatsApp."""
        return self.to if self.direction == OUTBOUND else self.from_

    def as_dict(self) -> dict:
        """The introspection shape: what `Sandbox.messages()` and `/sandbox/messages.json` show."""
        return {
            "sid": self.sid,
            "direction": self.direction,
            "to": self.to,
            "from": self.from_,
            "body": self.body,
            "status": self.status,
            "num_segments": self.num_segments,
            "messaging_service_sid": self.messaging_service_sid,
            "content_sid": self.content_sid,
            "content_variables": self.content_variables,
            "buttons": [title for title, _ in self.buttons],
            "error_code": self.error_code,
            "date_created": self.date_created,
            "date_updated": self.date_updated or self.date_created,
        }


@dataclass(frozen=True, slots=True)
class DateFilter:
    """Twilio's `DateSent` (that UTC day), `DateSent<` (on or before) and `DateSent>` (on or after).

    A bound given as a date (`YYYY-MM-DD`) compares by UTC calendar day; one given as an
    instant (`YYYY-MM-DDTHH:MM:SSZ`, which SDK v9 always sends) compares to the second.
    """

    sent_on: date | None = None
    on_or_before: datetime | date | None = None
    on_or_after: datetime | date | None = None

    def accepts(self, sent_at: datetime) -> bool:
        if self.sent_on is not None and sent_at.date() != self.sent_on:
            return False
        before, after = self.on_or_before, self.on_or_after
        if before is not None and _comparable(sent_at, before) > before:
            return False
        return after is None or _comparable(sent_at, after) >= after


def _comparable(sent_at: datetime, bound: datetime | date) -> datetime | date:
    return sent_at.replace(microsecond=0) if isinstance(bound, datetime) else sent_at.date()


class MessageStore:
    """Outbound messages (what the app sent) and inbound ones (simulated replies), in memory."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.changed = threading.Condition(self._lock)
        self._seq = 0
        self.version = 0  # bumped on every change; the page polls it
        self.requests_total = 0
        self._outbound: list[SandboxMessage] = []
        self._by_sid: dict[str, SandboxMessage] = {}
        self._by_to: dict[str, list[SandboxMessage]] = {}
        # Insertion order is activity order: a conversation is moved to the end when it changes.
        self._conversations: dict[str, list[SandboxMessage]] = {}
        self._last_created = datetime.min.replace(tzinfo=UTC)

    def count_request(self) -> None:
        with self._lock:
            self.requests_total += 1

    def add(self, message: SandboxMessage) -> SandboxMessage:
        """Record a message; its creation time and sequence number are set here, in order."""
        with self._lock:
            now = max(datetime.now(UTC), self._last_created)
            self._last_created = now
            self._seq += 1
            message.seq, message.date_created, message.date_updated = self._seq, now, now
            self._by_sid[message.sid] = message
            if message.direction == OUTBOUND:
                self._outbound.append(message)
                self._by_to.setdefault(message.to, []).append(message)
            key = message.learner
            conversation = self._conversations.pop(key, [])
            conversation.append(message)
            self._conversations[key] = conversation
            self._changed()
            return message

    def set_status(self, sid: str, status: str) -> SandboxMessage | None:
        with self._lock:
            message = self._by_sid.get(sid)
            if message is not None:
                message.status = status
                message.date_updated = datetime.now(UTC)
                self._changed()
            return message

    def get(self, sid: str) -> SandboxMessage | None:
        with self._lock:
            return self._by_sid.get(sid)

    def count(self) -> int:
        with self._lock:
            return len(self._outbound)

    def outbound(self, to: str | None = None) -> list[SandboxMessage]:
        with self._lock:
            return list(self._by_to.get(to, ()) if to is not None else self._outbound)

    def conversations(self) -> list[tuple[str, list[SandboxMessage]]]:
        """Each learner's messages in time order, the most recently active conversation first."""
        with self._lock:
            return [(key, list(messages)) for key, messages in reversed(self._conversations.items())]

    def wait_for(self, predicate: Callable[[], bool], timeout: float) -> bool:
        with self.changed:
            return self.changed.wait_for(predicate, timeout)

    def wait_for_count(self, count: int, timeout: float) -> bool:
        return self.wait_for(lambda: len(self._outbound) >= count, timeout)

    def page(self, *, to: str | None, from_: str | None, dates: DateFilter, page_size: int,
             offset: int, after_sid: str | None) -> tuple[list[SandboxMessage], bool]:
        """One page of outbound messages, newest first, and whether another page follows.

        `after_sid` (from a PageToken) resumes after that message, so that messages accepted
        while a client pages through do not shift the pages it has not read yet.
        """
        with self._lock:
            candidates = self._by_to.get(to, []) if to is not None else self._outbound
            matches = self._newest_first(candidates, from_, dates)
            if after_sid is not None:
                for message in matches:
                    if message.sid == after_sid:
                        break
            else:
                for _ in range(offset):
                    if next(matches, None) is None:
                        break
            records = [message for _, message in zip(range(page_size), matches, strict=False)]
            has_more = next(matches, None) is not None
            return records, has_more

    @staticmethod
    def _newest_first(candidates: list[SandboxMessage], from_: str | None,
                      dates: DateFilter) -> Iterator[SandboxMessage]:
        for message in reversed(candidates):
            if from_ is not None and message.from_ != from_:
                continue
            if dates.accepts(message.date_created):
                yield message

    def reset(self) -> None:
        with self._lock:
            self._outbound.clear()
            self._by_sid.clear()
            self._by_to.clear()
            self._conversations.clear()
            self.requests_total = 0
            self._changed()

    def _changed(self) -> None:
        self.version += 1
        self.changed.notify_all()
