"""The one door to Twilio: sending a message, finding one already sent, checking webhook signatures.

This is the only module that imports `twilio`. It speaks real HTTP through the official SDK,
to `https://api.twilio.com` or to any Twilio-compatible server (the sandbox) named by
`TWILIO_API_BASE_URL`. Provider failures come out as `ProviderError`, classified once here.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode, urlsplit

import requests
from requests.adapters import HTTPAdapter
from twilio.base.exceptions import TwilioException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.request_validator import RequestValidator
from twilio.rest import Client
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from ekatra.config import DEFAULT_SEND_TIMEOUT_SECONDS

log = logging.getLogger(__name__)

SMS, WHATSAPP = "sms", "whatsapp"
WHATSAPP_PREFIX = "whatsapp:"
TWILIO_API_BASE_URL = "https://api.twilio.com"
STATUS_CALLBACK_PATH = "/twilio/status"
SEND_TIMEOUT_SECONDS = DEFAULT_SEND_TIMEOUT_SECONDS
POOL_SIZE = 64  # connections kept per host: one per concurrent sender thread, with headroom
_LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
FIND_SENT_PAGE_SIZE = 50
UNSUBSCRIBED = 21610  # "Attempt to send to unsubscribed recipient": the learner sent STOP
RETRYABLE_CODES = {63018}  # WhatsApp: the sender's rate limit was exceeded; like a 429


@dataclass(frozen=True)
class SendResult:
    """What the provider said when it accepted a message."""

    sid: str
    status: str
    segments: int | None


class ProviderError(Exception):
    """The provider refused a message, or could not be asked.

    `retryable`: 429, 5xx, timeouts and connection errors; the same request may succeed later.
    `may_have_been_accepted`: the request may have reached the provider before the connection
    broke (a read timeout, a dropped connection): before sending again, ask the provider.
    """

    def __init__(self, status: int | None, code: int | None, message: str, retryable: bool,
                 may_have_been_accepted: bool = False):
        super().__init__(f"{status or '-'} {code or '-'}: {message}")
        self.status, self.code, self.message = status, code, message
        self.retryable, self.may_have_been_accepted = retryable, may_have_been_accepted


def is_retryable_status(status: int | None) -> bool:
    return status is None or status == 429 or status >= 500


def provider_error(status: int | None, code: int | None, message: str) -> ProviderError:
    """A refusal answered over HTTP, classified by its status and code (shared with the fake)."""
    return ProviderError(status, code, message, is_retryable_status(status) or code in RETRYABLE_CODES)


def mentions_variables(body: str | None, content_variables: str | None) -> bool:
    """Whether a template message's text (as the provider renders it) shows every variable."""
    try:
        values = json.loads(content_variables or "{}").values()
    except ValueError:
        return False
    return all(str(value) in (body or "") for value in values)


def _from_transport(error: requests.RequestException) -> ProviderError:
    # A connection that was never made cannot have delivered the request; anything later can.
    reason = getattr(error.args[0], "reason", None) if error.args else None
    never_sent = isinstance(error, requests.ConnectTimeout) or isinstance(
        reason, NewConnectionError | ConnectTimeoutError)
    return ProviderError(None, None, f"{type(error).__name__}: {error}", retryable=True,
                         may_have_been_accepted=not never_sent)


def _from_twilio(error: TwilioException) -> ProviderError:
    status = getattr(error, "status", None)
    code = getattr(error, "code", None)
    message = getattr(error, "msg", None) or getattr(error, "detail", None) or getattr(error, "title", None)
    return provider_error(status, code, message or str(error))


def address(number: str, channel: str) -> str:
    """The provider's address for a learner: `+9198…` for SMS, `whatsapp:+9198…` for WhatsApp."""
    if channel == WHATSAPP and not number.startswith(WHATSAPP_PREFIX):
        return WHATSAPP_PREFIX + number
    return number


_JSON_TYPES = ("application/json", "application/scim+json")


class PooledHttpClient(TwilioHttpClient):
    """The SDK's `requests` transport for many threads, without its per-request overhead.

    `TwilioHttpClient.request` merges the session's settings into every request, looks the
    proxy environment up again for each one, formats its ten log lines even when the logger
    would drop them, and keeps copies of the last request and response. This one prepares the
    request directly (same method, URL, headers, Basic auth and form body as the SDK asks for),
    resolves the environment's proxy and TLS settings once per origin, and logs only when its
    logger is enabled for INFO. Everything goes through the one pooled `requests.Session`, so
    transport failures are the same `requests` exceptions.
    """

    def __init__(self, *, timeout: float, pool_size: int):
        super().__init__(pool_connections=True, timeout=timeout)
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=pool_size)
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)
        self._settings: dict[str, dict] = {}
        self._settings_lock = threading.Lock()

    def request(self, method: str, url: str, params=None, data=None, headers=None, auth=None,
                timeout: float | None = None, allow_redirects: bool = False) -> Response:
        if timeout is not None and timeout <= 0:
            raise ValueError(timeout)
        is_json = bool(headers) and headers.get("Content-Type") in _JSON_TYPES
        prepared = requests.PreparedRequest()
        prepared.prepare(method=method.upper(), url=url, headers=headers, params=params, auth=auth,
                         data=None if is_json or not data else urlencode(data, doseq=True),
                         json=data if is_json else None)
        verbose = self.logger.isEnabledFor(logging.INFO)
        if verbose:
            self.log_request({"method": prepared.method, "url": url, "params": params, "headers": headers})
        response = self.session.send(prepared, allow_redirects=allow_redirects,
                                     timeout=self.timeout if timeout is None else timeout,
                                     **self._settings_for(prepared.url))
        if verbose:
            self.log_response(response.status_code, response)
        return Response(int(response.status_code), response.text, response.headers)

    def _settings_for(self, url: str) -> dict:
        """Proxies, TLS verification and client certificate for `url`'s origin, from the
        environment when the session trusts it; looked up on the origin's first request."""
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        settings = self._settings.get(origin)
        if settings is None:
            with self._settings_lock:
                settings = self._settings.get(origin)
                if settings is None:
                    settings = self.session.merge_environment_settings(origin, self.proxy, None, None, None)
                    settings.pop("stream", None)
                    self._settings[origin] = settings
        return settings


def twilio_client(account_sid: str, auth_token: str, api_base_url: str = TWILIO_API_BASE_URL, *,
                  timeout_seconds: float = SEND_TIMEOUT_SECONDS, pool_size: int = POOL_SIZE) -> Client:
    """The official SDK client for many concurrent threads, sending to `api_base_url`.

    The SDK builds every Messages URL, list pages' `next_page_uri` included, from
    `client.api.base_url`, so replacing that one attribute moves all Messages traffic to a
    Twilio-compatible server (the sandbox); edge and region routing, which would rewrite the
    host, are switched off then. One pooled `requests` session (`pool_size` connections per
    host, see `PooledHttpClient`) gives every request `timeout_seconds`; a loopback server is
    reached without proxies.
    """
    http_client = PooledHttpClient(timeout=timeout_seconds, pool_size=pool_size)
    # The SDK logs every request with its headers at INFO (ten lines a message); the dispatcher
    # logs one line per batch and every failure itself.
    http_client.logger.setLevel(logging.WARNING)
    client = Client(account_sid, auth_token, http_client=http_client)
    base_url = api_base_url.rstrip("/")
    if base_url != TWILIO_API_BASE_URL:
        client.api.base_url = base_url
        client.edge = client.region = None
        if urlsplit(base_url).hostname in _LOOPBACK_HOSTS:
            http_client.session.trust_env = False
    return client


class TwilioSender:
    """Sends SMS and WhatsApp messages through Twilio's Messages API. Thread-safe."""

    def __init__(self, account_sid: str, auth_token: str, api_base_url: str, sms_from: str,
                 messaging_service_sid: str, whatsapp_from: str, status_callback_url: str | None,
                 timeout_seconds: float = SEND_TIMEOUT_SECONDS, pool_size: int = POOL_SIZE):
        if not (sms_from or messaging_service_sid):
            raise ValueError("an SMS sender needs TWILIO_SMS_FROM or TWILIO_MESSAGING_SERVICE_SID")
        self.sms_from, self.messaging_service_sid = sms_from, messaging_service_sid
        self.whatsapp_from = address(whatsapp_from, WHATSAPP) if whatsapp_from else ""
        self.status_callback_url = status_callback_url
        self.timeout_seconds = timeout_seconds
        self.client = twilio_client(account_sid, auth_token, api_base_url,
                                    timeout_seconds=timeout_seconds, pool_size=pool_size)

    def _sender(self, channel: str) -> dict[str, str]:
        if channel == WHATSAPP:
            if not self.whatsapp_from:
                raise ProviderError(None, None, "no WhatsApp sender configured (TWILIO_WHATSAPP_FROM)",
                                    retryable=False)
            return {"from_": self.whatsapp_from}
        if self.messaging_service_sid:
            return {"messaging_service_sid": self.messaging_service_sid}
        return {"from_": self.sms_from}

    def send(self, to: str, body: str, channel: str, *, content_sid: str | None = None,
             content_variables: str | None = None) -> SendResult:
        """Hand one message to Twilio; `ProviderError` if it is refused or Twilio cannot be reached.

        With `content_sid` it is a template (Content API): ContentSid and ContentVariables (JSON)
        are sent instead of the body."""
        options = self._sender(channel)
        if self.status_callback_url:
            options["status_callback"] = self.status_callback_url
        if content_sid:
            options["content_sid"] = content_sid
            if content_variables:
                options["content_variables"] = content_variables
        else:
            options["body"] = body
        try:
            message = self.client.messages.create(to=address(to, channel), **options)
        except TwilioException as error:
            raise _from_twilio(error) from error
        except requests.RequestException as error:
            raise _from_transport(error) from error
        segments = int(message.num_segments) if message.num_segments not in (None, "") else None
        return SendResult(message.sid, message.status or "queued", segments)

    def find_sent(self, to: str, body: str, channel: str, since: datetime,
                  exclude: frozenset[str] | set[str] = frozenset(), *,
                  content_variables: str | None = None) -> str | None:
        """The sid of a message to `to` with this body accepted from our sender since `since`.

        For reconciliation after a worker died mid-send. Twilio filters by DateSent (to the
        second) and by the sender; sids in `exclude` (already recorded on other rows) are skipped.
        A template send (`content_variables` given) matches a message whose text shows every
        variable: its text is the template's, which Ekatra does not keep.
        """
        sender = self._sender(channel)
        filters = {"to": address(to, channel), "date_sent_after": since}
        if "from_" in sender:
            filters["from_"] = sender["from_"]
        try:
            for message in self.client.messages.stream(page_size=FIND_SENT_PAGE_SIZE, **filters):
                if message.sid in exclude:
                    continue
                if content_variables is not None:
                    if not mentions_variables(message.body, content_variables):
                        continue
                elif message.body != body:
                    continue
                service = sender.get("messaging_service_sid")
                if service and message.messaging_service_sid not in (None, service):
                    continue
                return message.sid
        except TwilioException as error:
            raise _from_twilio(error) from error
        except requests.RequestException as error:
            raise _from_transport(error) from error
        return None


def status_callback_url(public_base_url: str) -> str:
    return public_base_url.rstrip("/") + STATUS_CALLBACK_PATH


def sender_from_config(config, *, livemode: bool = True) -> TwilioSender:
    """The app's sender, from the TWILIO_* settings (the sandbox by default). With `livemode`
    false, the sender for test learners' messages: TWILIO_TEST_* (a sandbox) with the live
    senders' addresses, the test provider standing in for the same numbers; never the live one."""
    prefix = "TWILIO_" if livemode else "TWILIO_TEST_"
    return TwilioSender(
        account_sid=config[prefix + "ACCOUNT_SID"], auth_token=config[prefix + "AUTH_TOKEN"],
        api_base_url=config[prefix + "API_BASE_URL"], sms_from=config["TWILIO_SMS_FROM"],
        messaging_service_sid=config["TWILIO_MESSAGING_SERVICE_SID"],
        whatsapp_from=config["TWILIO_WHATSAPP_FROM"],
        status_callback_url=status_callback_url(config["PUBLIC_BASE_URL"]),
        timeout_seconds=float(config.get("SEND_TIMEOUT_SECONDS", SEND_TIMEOUT_SECONDS)),
        pool_size=max(int(config.get("SEND_CONCURRENCY", POOL_SIZE)), POOL_SIZE),
    )


def is_valid_signature(auth_token: str, url: str, params, signature: str | None) -> bool:
    """Whether `X-Twilio-Signature` is Twilio's signature of this URL and form, by our token."""
    if not signature:
        return False
    return RequestValidator(auth_token).validate(url, params, signature)


def signature_for(auth_token: str, url: str, params) -> str:
    """The `X-Twilio-Signature` Twilio would send (for tests and the sandbox)."""
    return RequestValidator(auth_token).compute_signature(url, params)
