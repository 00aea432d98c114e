"""Failures the sandbox is told to produce: scripted, random, and numbers that cannot be reached."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from ekatra.sandbox.rest import TwilioError, bare_number

# The code and message Twilio answers with for each status a test may script.
DEFAULT_ERRORS = {
    400: (21211, "The 'To' number is not a valid phone number."),
    429: (20429, "Too Many Requests"),
    500: (20500, "Internal Server Error"),
    502: (20502, "Bad Gateway"),
    503: (20503, "Service Unavailable"),
}

# What Twilio says when a number cannot be messaged (always with HTTP 400).
UNREACHABLE_ERRORS = {
    21211: "The 'To' number {to} is not a valid phone number.",
    21408: ("Permission to send an SMS has not been enabled for the region indicated by the "
            "'To' number: {to}."),
    21610: "Attempt to send to unsubscribed recipient",
    21612: "The 'To' phone number: {to}, is not currently reachable using the 'From' phone number via SMS.",
    21614: "'To' number {to} is not a valid mobile number",
}


@dataclass(frozen=True, slots=True)
class ScriptedError:
    status: int
    code: int
    message: str

    def error(self) -> TwilioError:
        return TwilioError(self.status, self.code, self.message)


def scripted_error(status: int, code: int | None, message: str | None) -> ScriptedError:
    default_code, default_message = DEFAULT_ERRORS.get(status, (20500, "Internal Server Error"))
    return ScriptedError(status, code if code is not None else default_code, message or default_message)


class FaultPlan:
    """Decides, per create request, whether it fails and how. Thread-safe.

    In order: the next `n` scripted failures, then a failure window (`fail_until`), then the
    random `fail_rate`. Unreachable numbers are checked after the request is validated.
    """

    def __init__(self, fail_rate: float = 0.0, seed: int | None = None) -> None:
        if not 0.0 <= fail_rate <= 1.0:
            raise ValueError("fail_rate must be between 0 and 1")
        self.fail_rate = fail_rate
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._next: list[ScriptedError] = []
        self._until: tuple[Callable[[], bool], ScriptedError] | None = None
        self._unreachable: dict[str, int] = {}

    def fail_next(self, failure: ScriptedError, n: int) -> None:
        with self._lock:
            self._next.extend([failure] * n)

    def fail_until(self, until: datetime | Callable[[], bool], failure: ScriptedError) -> None:
        if isinstance(until, datetime):
            if until.tzinfo is None:
                raise ValueError("fail_until needs an aware datetime")
            deadline = until
            until = lambda: datetime.now(UTC) >= deadline  # noqa: E731
        with self._lock:
            self._until = (until, failure)

    def set_unreachable(self, number: str, code: int) -> None:
        if code not in UNREACHABLE_ERRORS:
            raise ValueError(f"unreachable code must be one of {sorted(UNREACHABLE_ERRORS)}")
        with self._lock:
            self._unreachable[bare_number(number)] = code

    def set_reachable(self, number: str, only_code: int | None = None) -> None:
        with self._lock:
            key = bare_number(number)
            if only_code is None or self._unreachable.get(key) == only_code:
                self._unreachable.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._next.clear()
            self._until = None
            self._unreachable.clear()

    def before_create(self) -> TwilioError | None:
        """The error this create request answers with, if it is to fail before validation."""
        with self._lock:
            if self._next:
                return self._next.pop(0).error()
            if self._until is not None:
                is_over, failure = self._until
                if not is_over():
                    return failure.error()
                self._until = None
            if self.fail_rate and self._random.random() < self.fail_rate:
                return scripted_error(500, None, None).error()
        return None

    def unreachable(self, to: str) -> TwilioError | None:
        with self._lock:
            code = self._unreachable.get(bare_number(to))
        if code is None:
            return None
        return TwilioError(400, code, UNREACHABLE_ERRORS[code].format(to=to))
