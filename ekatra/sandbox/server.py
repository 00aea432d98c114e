"""The Twilio-compatible sandbox: a threaded HTTP server on loopback, with its state in memory.
`Sandbox` holds that state, its lifecycle and its Python API; `endpoints` answers its HTTP
requests."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from ekatra.config import SANDBOX_ACCOUNT_SID, SANDBOX_AUTH_TOKEN, SANDBOX_SMS_FROM, SANDBOX_WHATSAPP_FROM
from ekatra.rendering.segments import segment_count
from ekatra.sandbox.callbacks import SignedPoster, StatusWorker
from ekatra.sandbox.content import DEMO_TEMPLATES, Template
from ekatra.sandbox.endpoints import Endpoints
from ekatra.sandbox.faults import FaultPlan, scripted_error
from ekatra.sandbox.httpd import SandboxHTTPServer
from ekatra.sandbox.replies import inbound_params, opt_out_change, twiml_messages
from ekatra.sandbox.rest import (
    TwilioError,
    channel_mismatch,
    is_learner_address,
    message_json,
)
from ekatra.sandbox.store import INBOUND, OUTBOUND, WHATSAPP_PREFIX, MessageStore, SandboxMessage, new_sid

log = logging.getLogger(__name__)

WINDOW_CLOSED, WINDOW_CLOSED_MESSAGE = 63016, (
    "Failed to send freeform message because you are outside the allowed window. "
    "If you are using WhatsApp, please use a Message Template.")


class Sandbox:
    """A Twilio-compatible HTTP server for development, demos, tests and benchmarks.

        with Sandbox(latency_ms=50, inbound_url="http://127.0.0.1:5000/twilio/inbound") as sandbox:
            client = twilio_client(sandbox.account_sid, sandbox.auth_token, sandbox.url)
            client.messages.create(to="+919812345678", from_="+15005550006", body="नमस्ते")
            assert sandbox.wait_for(1, timeout=5)

    Options: `port` 0 binds an ephemeral port (`.url` tells which); `latency_ms` delays every
    create's answer (the request thread waits, no lock held); `fail_rate` (0..1) answers that
    fraction of creates with a 500 (`seed` makes the choice repeatable); `inbound_url` receives
    simulated replies; `callbacks` off keeps status callbacks from being posted (statuses still
    advance; SMS goes sent → delivered, WhatsApp also → read); `callback_delay_ms` is how long
    after acceptance that lifecycle starts; `on_message(dict)` is called for each accepted
    outbound message, on the request thread (keep it quick and thread-safe).

    HTTP: Twilio's `POST|GET /2010-04-01/Accounts/{sid}/Messages.json` and
    `GET …/Messages/{sid}.json` (Basic auth); `GET /` (the conversations page),
    `GET /sandbox/messages.json`, `GET /sandbox/activity.json`, `POST /sandbox/reply`.
    Python: `messages()`, `count()`, `requests_total`, `wait_for(count, timeout)`,
    `wait_until(predicate, timeout)`, `conversations()`, `reply(from_, body, to=None)`.

    Scripted failures, in the order a create request meets them:
    - `fail_next(n, status=500|429|400|…, code=None, message=None)`: the next n creates fail.
    - `fail_until(until, status=…, code=…, message=…)`: creates fail until `until`, an aware
      datetime or a callable returning True once the failure is over (e.g. `event.is_set`).
    - `fail_rate`: a random fraction answers 500 (code 20500).
    - after validation, `set_unreachable(number, code=21211|21408|21610|21612|21614)`: sends to
      that number (SMS or WhatsApp) answer 400 with that code until `set_reachable(number)`.
      A simulated SMS reply STOP does this with 21610 (as Twilio does), START undoes it.
    `clear_failures()` drops them all; `reset()` also forgets every message.

    WhatsApp, like Twilio: with `whatsapp_window_seconds` set (`ekatra sandbox` sets 86400), a
    free-form message to a learner who has not written to that sender within that time is
    accepted and then fails: a signed `failed` callback with ErrorCode 63016. Templates
    (`ContentSid` + `ContentVariables`) go out whatever the window; the sandbox knows the ones in
    `templates` (by default the demo's, see `content.py`; also at `GET /v1/Content/{sid}`),
    renders them with their variables and shows their quick-reply buttons; `tap(learner, title)`
    (or a button on the page) answers with one, as WhatsApp posts it (ButtonPayload, ButtonText).
    """

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, account_sid: str = SANDBOX_ACCOUNT_SID,
                 auth_token: str = SANDBOX_AUTH_TOKEN, latency_ms: float = 0, fail_rate: float = 0.0,
                 inbound_url: str | None = None, callbacks: bool = True, callback_delay_ms: float = 100,
                 status_workers: int = 8, on_message: Callable[[dict], None] | None = None,
                 seed: int | None = None, sms_from: str = SANDBOX_SMS_FROM,
                 whatsapp_from: str = SANDBOX_WHATSAPP_FROM, whatsapp_window_seconds: float | None = None,
                 templates: tuple[Template, ...] = DEMO_TEMPLATES) -> None:
        self.host, self._port = host, port
        self.account_sid, self.auth_token = account_sid, auth_token
        self.latency_ms = latency_ms
        self.inbound_url = inbound_url
        self.sms_from, self.whatsapp_from = sms_from, whatsapp_from
        self.on_message = on_message
        self.whatsapp_window_seconds = whatsapp_window_seconds
        self.templates = {template.sid: template for template in templates}
        self._last_inbound: dict[tuple[str, str], datetime] = {}  # (learner, sender) → when they wrote
        self._windows_lock = threading.Lock()
        self._store = MessageStore()
        self._faults = FaultPlan(fail_rate, seed)
        self._poster = SignedPoster(auth_token)
        self._status = StatusWorker(self._store, self._poster, workers=status_workers,
                                    delay=timedelta(milliseconds=callback_delay_ms), send_callbacks=callbacks)
        self._stopping = threading.Event()
        self._endpoints = Endpoints(self, store=self._store, faults=self._faults, stopping=self._stopping,
                                    accept=self._accept, receive=self._receive)
        self._server: SandboxHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> Sandbox:
        """Bind and serve in a background thread. Returns self."""
        if self._server is not None:
            return self
        self._server = SandboxHTTPServer(self.host, self._port, self._endpoints.respond)
        self._port = self._server.server_port
        self._status.start()
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="sandbox-http", daemon=True)
        self._thread.start()
        log.info("Twilio sandbox listening at %s", self.url)
        return self

    def stop(self) -> None:
        """Stop serving, close open connections and stop the status worker (pending callbacks are
        dropped). A stopped sandbox is not started again; make a new one."""
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server.close_connections()
            self._thread.join(5)
        self._status.stop()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self._port}"

    # -- introspection ---------------------------------------------------------------------

    @property
    def fail_rate(self) -> float:
        return self._faults.fail_rate

    @fail_rate.setter
    def fail_rate(self, value: float) -> None:
        if not 0.0 <= value <= 1.0:
            raise ValueError("fail_rate must be between 0 and 1")
        self._faults.fail_rate = value

    @property
    def requests_total(self) -> int:
        """Requests to the Twilio REST API so far, answered with success or not."""
        return self._store.requests_total

    def messages(self, to: str | None = None) -> list[dict]:
        """Accepted outbound messages, oldest first: sid, to, from, body, status, date_created, …"""
        return [message.as_dict() for message in self._store.outbound(to)]

    def count(self) -> int:
        """How many outbound messages were accepted."""
        return self._store.count()

    def wait_for(self, count: int, timeout: float = 5.0) -> bool:
        """Wait until at least `count` messages were accepted; False if `timeout` passed first."""
        return self._store.wait_for_count(count, timeout)

    def wait_until(self, predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
        """Wait until `predicate()` holds; it is re-checked on every change (a message, a status)."""
        return self._store.wait_for(predicate, timeout)

    def conversations(self) -> dict[str, list[dict]]:
        """Each learner address's messages, both directions, in time order."""
        return {learner: [m.as_dict() for m in messages] for learner, messages in self._store.conversations()}

    def reset(self) -> None:
        """Forget every message, request count and scripted failure."""
        self._store.reset()
        self.clear_failures()

    # -- scripted failures -----------------------------------------------------------------

    def fail_next(self, n: int = 1, *, status: int = 500, code: int | None = None,
                  message: str | None = None) -> None:
        self._faults.fail_next(scripted_error(status, code, message), n)

    def fail_until(self, until: datetime | Callable[[], bool], *, status: int = 500, code: int | None = None,
                   message: str | None = None) -> None:
        self._faults.fail_until(until, scripted_error(status, code, message))

    def set_unreachable(self, number: str, code: int = 21211) -> None:
        self._faults.set_unreachable(number, code)

    def set_reachable(self, number: str) -> None:
        self._faults.set_reachable(number)

    def clear_failures(self) -> None:
        self._faults.clear()

    # -- simulated learners ----------------------------------------------------------------

    def tap(self, learner: str, button: str) -> dict:
        """A WhatsApp learner taps a quick-reply button (by title or id) of the latest message to
        them that has one. Raises ValueError if there is no such button."""
        for message in reversed(self._store.outbound(learner)):
            for title, button_id in message.buttons:
                if button in (title, button_id):
                    return self._receive(learner, title, message.from_, button_payload=button_id)
        raise ValueError(f"no button {button!r} was sent to {learner}")

    def is_window_open(self, learner: str, sender: str | None = None) -> bool:
        """Whether free-form WhatsApp messages from `sender` reach `learner` now."""
        if self.whatsapp_window_seconds is None:
            return True
        with self._windows_lock:
            wrote = self._last_inbound.get((learner, sender or self.whatsapp_from))
        window = timedelta(seconds=self.whatsapp_window_seconds)
        return wrote is not None and datetime.now(UTC) - wrote < window

    def reply(self, from_: str, body: str, to: str | None = None) -> dict:
        """A learner texts in: record it and POST Twilio's signed webhook to `inbound_url`.

        Returns `{"sid", "from", "to", "body", "inbound_url", "app_status", "app_error"}`;
        `app_status` is the app's HTTP status (None without an inbound URL or when unreachable).
        Raises ValueError for a malformed `from_` or an empty body.
        """
        try:
            return self._receive(from_, body, to)
        except TwilioError as error:
            raise ValueError(error.message) from None

    def _receive(self, from_: str, body: str, to: str | None, *,
                 button_payload: str | None = None) -> dict:
        from_, body = (from_ or "").strip(), body or ""
        if not is_learner_address(from_):
            raise TwilioError(400, 21211, f"The 'From' number {from_} is not a valid phone number.")
        if not body.strip():
            raise TwilioError(400, 21602, "Message body is required.")
        is_whatsapp = from_.startswith(WHATSAPP_PREFIX)
        to = (to or "").strip() or (self.whatsapp_from if is_whatsapp else self.sms_from)
        if to.startswith(WHATSAPP_PREFIX) != is_whatsapp:
            raise channel_mismatch()
        message = self._store.add(SandboxMessage(
            sid=new_sid(), account_sid=self.account_sid, direction=INBOUND, to=to, from_=from_, body=body,
            status="received", num_segments=segment_count(body), button_payload=button_payload))
        if is_whatsapp:
            with self._windows_lock:
                self._last_inbound[(from_, to)] = message.date_created
        opts_out = opt_out_change(message)
        if opts_out is True:
            self._faults.set_unreachable(from_, 21610)
        elif opts_out is False:
            self._faults.set_reachable(from_, only_code=21610)
        outcome = {"sid": message.sid, "from": from_, "to": to, "body": body,
                   "inbound_url": self.inbound_url, "app_status": None, "app_error": None}
        if self.inbound_url:
            result = self._poster.post(self.inbound_url, inbound_params(message))
            outcome["app_status"], outcome["app_error"] = result.status, result.error
            if result.error:
                log.warning("inbound webhook to %s failed: %s", self.inbound_url, result.error)
            elif result.status is not None and result.status < 300:
                for text in twiml_messages(result.text):
                    self._accept(to=from_, from_=to, body=text, service=None, callback=None)
        return outcome

    # -- outbound messages -----------------------------------------------------------------

    def _accept(self, *, to: str, from_: str | None, body: str, service: str | None,
                callback: str | None, content_sid: str | None = None, content_variables: dict | None = None,
                buttons: tuple[tuple[str, str], ...] = ()) -> dict:
        """Record an outbound message, start its lifecycle, and return Twilio's JSON for it."""
        is_whatsapp = to.startswith(WHATSAPP_PREFIX)
        sender = from_ or (self.whatsapp_from if is_whatsapp else self.sms_from)
        outside_window = is_whatsapp and content_sid is None and not self.is_window_open(to, sender)
        message = self._store.add(SandboxMessage(
            sid=new_sid(), account_sid=self.account_sid, direction=OUTBOUND, to=to, from_=sender, body=body,
            status="queued", num_segments=segment_count(body), messaging_service_sid=service,
            status_callback=callback, content_sid=content_sid, content_variables=content_variables,
            buttons=buttons, error_code=WINDOW_CLOSED if outside_window else None,
            error_message=WINDOW_CLOSED_MESSAGE if outside_window else None))
        payload = message_json(message)  # rendered before the worker can move it on
        self._status.submit(message)
        hook = self.on_message
        if hook is not None:
            try:
                hook(message.as_dict())
            except Exception:
                log.exception("on_message hook failed for %s", message.sid)
        return payload
