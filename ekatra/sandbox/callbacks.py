"""Signed webhooks from the sandbox to the app: status callbacks (from worker threads) and replies.

Every request carries `X-Twilio-Signature`, computed exactly as Twilio computes it, so the
app's signature check runs against the sandbox as it would against Twilio.
"""

from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import requests
from twilio.request_validator import RequestValidator

from ekatra.sandbox.store import MessageStore, SandboxMessage

log = logging.getLogger(__name__)

WEBHOOK_TIMEOUT_SECONDS = 10.0
_LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
_STOP = object()


@dataclass(frozen=True, slots=True)
class WebhookResult:
    status: int | None  # the app's HTTP status; None when it could not be reached
    text: str = ""
    content_type: str = ""
    error: str | None = None


class SignedPoster:
    """POSTs form-encoded, signed webhooks. One `requests` session per thread (pooled)."""

    def __init__(self, auth_token: str) -> None:
        self._validator = RequestValidator(auth_token)
        self._local = threading.local()

    def _session(self, url: str) -> requests.Session:
        # A loopback app is reached directly, whatever proxy the environment names.
        is_loopback = urlsplit(url).hostname in _LOOPBACK_HOSTS
        sessions = self._local.__dict__.setdefault("sessions", {})
        if is_loopback not in sessions:
            session = requests.Session()
            session.trust_env = not is_loopback
            sessions[is_loopback] = session
        return sessions[is_loopback]

    def signature(self, url: str, params: dict[str, str]) -> str:
        return self._validator.compute_signature(url, params)

    def post(self, url: str, params: dict[str, str]) -> WebhookResult:
        headers = {"X-Twilio-Signature": self.signature(url, params),
                   "User-Agent": "TwilioProxy/1.1 (ekatra sandbox)"}
        try:
            response = self._session(url).post(url, data=params, headers=headers,
                                               timeout=WEBHOOK_TIMEOUT_SECONDS)
        except requests.RequestException as error:
            return WebhookResult(None, error=f"{type(error).__name__}: {error}")
        return WebhookResult(response.status_code, response.text, response.headers.get("Content-Type", ""))


def status_params(message: SandboxMessage, status: str) -> dict[str, str]:
    """The form Twilio posts to a message's StatusCallback."""
    params = {
        "MessageSid": message.sid, "SmsSid": message.sid,
        "MessageStatus": status, "SmsStatus": status,
        "AccountSid": message.account_sid,
        "From": message.from_, "To": message.to,
        "ApiVersion": "2010-04-01",
    }
    if message.messaging_service_sid:
        params["MessagingServiceSid"] = message.messaging_service_sid
    if status in ("failed", "undelivered") and message.error_code:
        params["ErrorCode"] = str(message.error_code)
        params["ErrorMessage"] = message.error_message or ""
    return params


def lifecycle(message: SandboxMessage) -> tuple[str, ...]:
    """What happens to an accepted message: sent, delivered, and on WhatsApp also read; one that
    Twilio accepts but cannot deliver (`error_code`, e.g. 63016) fails."""
    if message.error_code:
        return ("failed",)
    return ("sent", "delivered", "read") if message.is_whatsapp else ("sent", "delivered")


class StatusWorker:
    """Moves accepted messages through their lifecycle and posts their status callbacks.

    A few threads read one queue; each job is one message's whole lifecycle, so its callbacks
    go out in order. A job waits until `delay` after the message was accepted, so that the app
    has usually stored the sid before hearing about it, as with Twilio. A callback that fails
    is retried once, then logged and dropped.
    """

    def __init__(self, store: MessageStore, poster: SignedPoster, *, workers: int = 4,
                 delay: timedelta = timedelta(milliseconds=100), send_callbacks: bool = True) -> None:
        self.store, self.poster = store, poster
        self.delay, self.send_callbacks = delay, send_callbacks
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._stopping = threading.Event()
        self._threads = [threading.Thread(target=self._run, name=f"sandbox-status-{i}", daemon=True)
                         for i in range(workers)]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        for _ in self._threads:
            self._queue.put(_STOP)
        for thread in self._threads:
            if thread.is_alive():
                thread.join(timeout)

    def submit(self, message: SandboxMessage) -> None:
        self._queue.put(message)

    def _run(self) -> None:
        while True:
            message = self._queue.get()
            if message is _STOP or self._stopping.is_set():
                return
            try:
                self._advance(message)
            except Exception:  # a worker thread must outlive any one message
                log.exception("status lifecycle of %s failed", message.sid)

    def _advance(self, message: SandboxMessage) -> None:
        wait = (message.date_created + self.delay - datetime.now(UTC)).total_seconds()
        if wait > 0 and self._stopping.wait(wait):
            return
        for status in lifecycle(message):
            self.store.set_status(message.sid, status)
            if self.send_callbacks and message.status_callback:
                self._post(message.status_callback, status_params(message, status))

    def _post(self, url: str, params: dict[str, str]) -> None:
        for attempt in (1, 2):
            result = self.poster.post(url, params)
            if result.status is not None and result.status < 500:
                if result.status >= 400:
                    log.warning("status callback %s for %s answered %s", params["MessageStatus"],
                                params["MessageSid"], result.status)
                return
            if self._stopping.is_set():
                return
            log.warning("status callback %s for %s to %s failed (attempt %d): %s",
                        params["MessageStatus"], params["MessageSid"], url, attempt,
                        result.error or result.status)
