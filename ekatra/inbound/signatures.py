"""Only Twilio may call the webhooks: each request must carry a valid `X-Twilio-Signature`.

Which provider called, the live one or the test one (TWILIO_TEST_*: a sandbox), is the mode of
what the webhook is about (`webhook_livemode()`): a request naming the test account
(`AccountSid`) and signed with the test token is a test one; any other must be signed with the
live token and is live. With one account for both (TWILIO_TEST_ACCOUNT_SID equal to
TWILIO_ACCOUNT_SID) every webhook is read as live.
"""

from __future__ import annotations

import functools
import logging

from flask import current_app, request

from ekatra.errors import Forbidden
from ekatra.outbox.twilio import is_valid_signature

log = logging.getLogger(__name__)
LIVEMODE = "ekatra.webhook_livemode"


def _is_test_provider(url: str, signature: str | None) -> bool:
    config = current_app.config
    test_account = config.get("TWILIO_TEST_ACCOUNT_SID")
    return (bool(test_account) and test_account != config["TWILIO_ACCOUNT_SID"]
            and request.form.get("AccountSid") == test_account
            and is_valid_signature(config["TWILIO_TEST_AUTH_TOKEN"], url, request.form, signature))


def webhook_livemode() -> bool:
    """False when the test provider made this (checked) webhook request."""
    return request.environ.get(LIVEMODE, True)


def signed_url() -> str:
    """The URL Twilio signed: PUBLIC_BASE_URL and the path and query it requested."""
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + request.full_path.removesuffix("?")


def twilio_signed(view):
    """Refuse (403) a request whose signature is missing or is not Twilio's for this URL and form.

    Outermost decorator of a view: the signature is checked before the form is parsed.
    """

    @functools.wraps(view)
    def checked(*args, **kwargs):
        url = signed_url()
        signature = request.headers.get("X-Twilio-Signature")
        if _is_test_provider(url, signature):
            request.environ[LIVEMODE] = False
        elif not is_valid_signature(current_app.config["TWILIO_AUTH_TOKEN"], url, request.form, signature):
            log.warning("webhook %s refused: %s X-Twilio-Signature", url,
                        "invalid" if signature else "no")
            raise Forbidden("Missing or invalid X-Twilio-Signature.")
        return view(*args, **kwargs)

    return checked
