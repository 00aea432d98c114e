"""The HTTP side of the sandbox: which handler answers each request. Twilio's REST API
(`…/Messages.json`, `…/Messages/{sid}.json`, the Content API's `/v1/Content/{sid}`, with Basic
auth) and the sandbox's own routes (`/`, `/sandbox/messages.json`, `/sandbox/activity.json`,
`/sandbox/reply`); every answer, errors included, is Twilio's JSON shape."""

from __future__ import annotations

import hmac
import logging
import re
import threading
from collections.abc import Callable
from typing import Protocol

from ekatra.sandbox.content import Template, parse_variables
from ekatra.sandbox.faults import FaultPlan
from ekatra.sandbox.httpd import Incoming, Outgoing
from ekatra.sandbox.page import render_page
from ekatra.sandbox.rest import (
    API_VERSION,
    TwilioError,
    authentication_error,
    list_page_json,
    message_json,
    not_found,
    parse_create,
    parse_list,
)
from ekatra.sandbox.store import MessageStore

log = logging.getLogger(__name__)

_MESSAGES = re.compile(rf"/{API_VERSION}/Accounts/(?P<account_sid>[^/]+)/Messages\.json")
_MESSAGE = re.compile(rf"/{API_VERSION}/Accounts/(?P<account_sid>[^/]+)/Messages/(?P<sid>[^/]+)\.json")
_CONTENT = re.compile(r"/v1/Content/(?P<sid>[^/]+)")
_SANDBOX_ROUTES = {  # path → (method, handler name)
    "/": ("GET", "_page"),
    "/sandbox/messages.json": ("GET", "_messages_json"),
    "/sandbox/activity.json": ("GET", "_activity"),
    "/sandbox/reply": ("POST", "_reply_endpoint"),
}


def _error(error: TwilioError) -> Outgoing:
    headers = {"WWW-Authenticate": 'Basic realm="Twilio API"'} if error.status == 401 else None
    return Outgoing.json(error.as_json(), error.status, headers)


def _method_not_allowed() -> TwilioError:
    return TwilioError(405, 20004, "Method not allowed")


class Served(Protocol):
    """What the endpoints read of the sandbox they serve (a `server.Sandbox`)."""

    account_sid: str
    auth_token: str
    latency_ms: float
    inbound_url: str | None
    templates: dict[str, Template]

    @property
    def url(self) -> str: ...

    @property
    def requests_total(self) -> int: ...

    def count(self) -> int: ...

    def messages(self, to: str | None = None) -> list[dict]: ...

    def tap(self, learner: str, button: str) -> dict: ...


class Endpoints:
    """Answers the sandbox's HTTP requests (`respond`, handed to the HTTP server), reading and
    changing the `sandbox` through its Python API and the parts it is given: the message store,
    the scripted failures, the stop event (latency waits end with it), and how to accept an
    outbound message (`Sandbox._accept`) and receive a learner's reply (`Sandbox._receive`)."""

    def __init__(self, sandbox: Served, *, store: MessageStore, faults: FaultPlan, stopping: threading.Event,
                 accept: Callable[..., dict], receive: Callable[..., dict]) -> None:
        self.sandbox = sandbox
        self._store, self._faults, self._stopping = store, faults, stopping
        self._accept, self._receive = accept, receive

    # -- the Twilio REST API ---------------------------------------------------------------

    def _authenticate(self, request: Incoming, account_sid: str) -> None:
        username, password = request.basic_auth() or ("", "")
        if (account_sid != self.sandbox.account_sid
                or not hmac.compare_digest(username.encode(), self.sandbox.account_sid.encode())
                or not hmac.compare_digest(password.encode(), self.sandbox.auth_token.encode())):
            raise authentication_error()

    def _create(self, request: Incoming) -> Outgoing:
        if self.sandbox.latency_ms > 0:
            self._stopping.wait(self.sandbox.latency_ms / 1000)
        failure = self._faults.before_create()
        if failure is not None:
            raise failure
        form = parse_create(request.form())
        unreachable = self._faults.unreachable(form.to)
        if unreachable is not None:
            raise unreachable
        body, buttons, variables = form.body, (), None
        if form.content_sid is not None:
            template = self.sandbox.templates.get(form.content_sid)
            if template is None:
                raise TwilioError(400, 21655, f"The ContentSid {form.content_sid} is invalid.")
            variables = parse_variables(form.content_variables)
            if variables is None:
                raise TwilioError(400, 21656, "The ContentVariables Parameter is invalid.")
            body, buttons = template.render(variables)
        accepted = self._accept(to=form.to, from_=form.from_, body=body, service=form.messaging_service_sid,
                                callback=form.status_callback, content_sid=form.content_sid,
                                content_variables=variables, buttons=buttons)
        return Outgoing.json(accepted, 201)

    def _list(self, request: Incoming) -> Outgoing:
        query = parse_list(request.args)
        records, has_more = self._store.page(
            to=query.to, from_=query.from_, dates=query.dates, page_size=query.page_size,
            offset=query.page * query.page_size, after_sid=query.after_sid)
        return Outgoing.json(list_page_json(self.sandbox.account_sid, query, records, has_more))

    def _twilio_api(self, request: Incoming) -> Outgoing | None:
        """The REST routes; None when the path is not one of them."""
        if match := _MESSAGES.fullmatch(request.path):
            self._store.count_request()
            if request.method not in ("GET", "POST"):
                raise _method_not_allowed()
            self._authenticate(request, match["account_sid"])
            return self._create(request) if request.method == "POST" else self._list(request)
        if match := _MESSAGE.fullmatch(request.path):
            self._store.count_request()
            if request.method != "GET":
                raise _method_not_allowed()
            self._authenticate(request, match["account_sid"])
            message = self._store.get(match["sid"])
            if message is None or message.account_sid != self.sandbox.account_sid:
                raise not_found(request.path)
            return Outgoing.json(message_json(message))
        if match := _CONTENT.fullmatch(request.path):  # the Content API (content.twilio.com)
            if request.method != "GET":
                raise _method_not_allowed()
            self._authenticate(request, self.sandbox.account_sid)
            template = self.sandbox.templates.get(match["sid"])
            if template is None:
                raise not_found(request.path)
            return Outgoing.json(template.as_json())
        return None

    # -- the sandbox's own routes ----------------------------------------------------------

    def _page(self, request: Incoming) -> Outgoing:
        html = render_page(url=self.sandbox.url, account_sid=self.sandbox.account_sid,
                           version=self._store.version, outbound_count=self.sandbox.count(),
                           conversations=self._store.conversations(), inbound_url=self.sandbox.inbound_url)
        return Outgoing(200, html.encode(), "text/html; charset=utf-8")

    def _messages_json(self, request: Incoming) -> Outgoing:
        return Outgoing.json(self.sandbox.messages(request.args.get("to") or None))

    def _activity(self, request: Incoming) -> Outgoing:
        return Outgoing.json({"version": self._store.version, "count": self.sandbox.count(),
                              "requests_total": self.sandbox.requests_total})

    def _reply_endpoint(self, request: Incoming) -> Outgoing:
        data = request.json() if request.is_json else request.form()
        if not isinstance(data, dict):
            raise TwilioError(400, 20001, "Send a JSON object or a form with `from` and `body`.")
        button = str(data.get("button") or "")
        if button:  # a quick reply tapped on the page
            outcome = self.sandbox.tap(str(data.get("from") or ""), button)
        else:
            outcome = self._receive(str(data.get("from") or data.get("From") or ""),
                                    str(data.get("body") or data.get("Body") or ""),
                                    str(data.get("to") or data.get("To") or "") or None)
        next_page = str(data.get("next") or "")
        if next_page.startswith("/") and not next_page.startswith("//"):  # the page's own forms
            return Outgoing(303, headers={"Location": next_page})
        return Outgoing.json(outcome)

    def respond(self, request: Incoming) -> Outgoing:
        try:
            response = self._twilio_api(request)
            if response is not None:
                return response
            route = _SANDBOX_ROUTES.get(request.path)
            if route is None:
                raise not_found(request.path)
            method, handler = route
            if request.method != method:
                raise _method_not_allowed()
            return getattr(self, handler)(request)
        except TwilioError as error:
            return _error(error)
        except Exception:
            log.exception("sandbox failed on %s %s", request.method, request.path)
            return _error(TwilioError(500, 20500, "Internal Server Error"))
