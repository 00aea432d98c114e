"""An official Twilio SDK client whose requests go to a chosen API base URL (Twilio or the sandbox).

Self-contained on purpose: the outbox's Twilio adapter can take it over unchanged.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from requests.adapters import HTTPAdapter
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

TWILIO_API_BASE_URL = "https://api.twilio.com"
TIMEOUT_SECONDS = 10.0
POOL_SIZE = 64  # connections kept per host: one per concurrent sender thread, with headroom
_LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
# The SDK logs a dozen INFO lines (headers included) per request; at hundreds of sends a second
# that is most of the log. Warnings only, unless an operator sets this logger's level.
HTTP_LOGGER = logging.getLogger("ekatra.twilio.http")


def twilio_client(account_sid: str, auth_token: str, api_base_url: str = TWILIO_API_BASE_URL, *,
                  timeout_seconds: float = TIMEOUT_SECONDS, pool_size: int = POOL_SIZE) -> Client:
    """A `twilio.rest.Client` for many concurrent threads, sending to `api_base_url`.

    The SDK builds every Messages URL from `client.api.base_url` (its Domain for
    api.twilio.com), including the `next_page_uri` of list pages, so replacing that one
    attribute moves all Messages traffic to the sandbox. Edge and region routing, which
    would rewrite the host name, are switched off for a custom base URL.

    The HTTP client keeps one pooled `requests` session (`pool_size` connections per host,
    for http and https) and gives every request `timeout_seconds`. A loopback base URL is
    reached directly, ignoring any proxy named in the environment. The SDK's per-request
    INFO logging goes to `ekatra.twilio.http`, at WARNING unless configured otherwise.
    """
    if HTTP_LOGGER.level == logging.NOTSET:
        HTTP_LOGGER.setLevel(logging.WARNING)
    http_client = TwilioHttpClient(pool_connections=True, timeout=timeout_seconds, logger=HTTP_LOGGER)
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=pool_size)
    http_client.session.mount("https://", adapter)
    http_client.session.mount("http://", adapter)
    client = Client(account_sid, auth_token, http_client=http_client)
    base_url = api_base_url.rstrip("/")
    if base_url != TWILIO_API_BASE_URL:
        client.api.base_url = base_url
        client.edge = client.region = None
        if urlsplit(base_url).hostname in _LOOPBACK_HOSTS:
            http_client.session.trust_env = False
    return client
