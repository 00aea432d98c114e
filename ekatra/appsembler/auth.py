"""Who calls the Appsembler API: the partner of an OAuth bearer token (client-credentials grant,
scope `partner`), checked once per request, before the body is parsed.

No `Authorization: Bearer …` header is Django REST framework's 401 "Authentication credentials
were not provided."; an unknown, expired or revoked token, or one without the scope, is 401
"Invalid Token." (the contract's two bodies).
"""

from __future__ import annotations

from flask import g, request

from ekatra import clock
from ekatra.appsembler.errors import INVALID_TOKEN, NO_CREDENTIALS, ApiError
from ekatra.http import authenticated_by, set_caller
from ekatra.oauth.bearer import InvalidToken, MissingToken, partner_of_bearer
from ekatra.partners.models import Partner

SCOPE = "partner"
PREFIX = "/appsembler_api/"
_CHECKED = "ekatra.appsembler_bearer"
BEARER_TOKEN = [{"appsemblerBearer": []}]


def bearer_partner() -> Partner:
    """The partner of the request's bearer token, or ApiError(401); the token is checked
    once per request (the rate limiter asks first)."""
    if _CHECKED not in request.environ:
        try:
            request.environ[_CHECKED] = partner_of_bearer(
                request.headers.get("Authorization"), scope=SCOPE, now=clock.now())
        except MissingToken:
            request.environ[_CHECKED] = ApiError(401, NO_CREDENTIALS)
        except InvalidToken:
            request.environ[_CHECKED] = ApiError(401, INVALID_TOKEN)
    checked = request.environ[_CHECKED]
    if isinstance(checked, ApiError):
        raise checked
    return checked


def bearer_caller() -> str | None:
    """"partner:<id>" for a request with a valid token, else None (for the rate limits)."""
    try:
        return f"partner:{bearer_partner().id}"
    except ApiError:
        return None


def _authenticate() -> None:
    g.partner = bearer_partner()
    set_caller(f"partner:{g.partner.id}")


def bearer_required(view):
    """Decorator: the request's bearer token must be a partner's; the partner is `g.partner`."""
    return authenticated_by(_authenticate)(view)
