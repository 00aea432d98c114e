"""Only Twilio may call the webhooks: each request must carry a valid `X-Twilio-Signature`."""

from __future__ import annotations

import functools
import logging

from flask import current_app, request

from ekatra.errors import Forbidden
from ekatra.outbox.twilio import is_valid_signature

log = logging.getLogger(__name__)


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
        if not is_valid_signature(current_app.config["TWILIO_AUTH_TOKEN"], url, request.form, signature):
            log.warning("webhook %s refused: %s X-Twilio-Signature", url,
                        "invalid" if signature else "no")
            raise Forbidden("Missing or invalid X-Twilio-Signature.")
        return view(*args, **kwargs)

    return checked
