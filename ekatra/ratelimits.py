"""Rate limits per partner key and per author, counted in shared storage (Flask-Limiter).

Every /api request whose credentials check out counts against its caller: a partner (its
access key, with the right secret, or on /appsembler_api its OAuth bearer token) or an author
(a validly signed token's author). A route may add a limit of its own on another key (`hit`:
the Appsembler API's enroll-user, per learner). Requests
without valid credentials are not counted here (they fail authentication; author logins have
limits of their own). The limits (RATE_LIMIT_PER_PARTNER, RATE_LIMIT_PER_AUTHOR, default
600/minute) are far above what a real integration needs. Counts live in RATELIMIT_STORAGE_URI:
`memory://` in development (one process), Redis in production, so that all web processes
share them. Every counted response carries RateLimit-Limit, RateLimit-Remaining and
RateLimit-Reset (seconds until the window resets); a 429 carries Retry-After.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from flask import Flask, current_app, jsonify, request
from flask_limiter import Limiter
from flask_limiter.errors import RateLimitExceeded

from ekatra.errors import DomainError, error_body

CALLER = "ekatra.rate_limit_caller"
HEADERS = {"LIMIT": "RateLimit-Limit", "REMAINING": "RateLimit-Remaining", "RESET": "RateLimit-Reset",
           "RETRY_AFTER": "Retry-After"}


def rate_limited_caller() -> str | None:
    """"partner:<id>" or "author:<id>" for a request with valid credentials, else None."""
    if CALLER in request.environ:
        return request.environ[CALLER]
    request.environ[CALLER] = caller = _identify()
    return caller


# Outside /api but counted all the same: GraphQL (ekatra.graphql.routes.PATHS).
COUNTED_PATHS = ("/graphql", "/v1/graphql")
OTHER_CALLERS = "ekatra.rate_limit_callers"


def identify_callers(app: Flask, prefix: str, caller: Callable[[], str | None]) -> None:
    """Count requests under `prefix` against `caller()` ("partner:<id>", "author:<id>" or None),
    for APIs with credentials of their own (the Appsembler API's OAuth bearer tokens)."""
    app.extensions.setdefault(OTHER_CALLERS, []).append((prefix, caller))


def _identify() -> str | None:
    for prefix, caller in current_app.extensions.get(OTHER_CALLERS, ()):
        if request.path.startswith(prefix):
            return caller()
    if not request.path.startswith("/api/") and request.path not in COUNTED_PATHS:
        return None
    access_key = request.headers.get("ST-ACCESS-KEY")
    if access_key:
        from ekatra.http import body_text
        from ekatra.partners.services import authenticate_partner

        try:
            partner = authenticate_partner(access_key, request.headers.get("ST-SECRET-KEY")
                                           or body_text("access_secret"))
        except DomainError:
            return None
        return f"partner:{partner.id}"
    from ekatra.auth.tokens import signed_claims

    claims = signed_claims(request.headers.get("Authorization"))
    if claims and claims.get("type") == "access" and claims.get("kind") is None and claims.get("sub"):
        return f"author:{claims['sub']}"
    return None


def hit(limit: str, *key: str) -> int | None:
    """Count one request against a limit of a route's own ("6/minute") for `key` (e.g. a
    learner), in the same storage as the callers' limits: None while within it, else the
    seconds until one more is allowed."""
    from limits import parse

    item = parse(limit)
    strategy = current_app.extensions["ekatra.limiter"].limiter
    if strategy.hit(item, "route", *key):
        return None
    reset_at, _remaining = strategy.get_window_stats(item, "route", *key)
    return max(1, math.ceil(reset_at - time.time()))


def _caller_limit() -> str:
    caller = rate_limited_caller() or ""
    name = "RATE_LIMIT_PER_PARTNER" if caller.startswith("partner:") else "RATE_LIMIT_PER_AUTHOR"
    return current_app.config[name]


def init_rate_limits(app: Flask) -> Limiter:
    from flask_limiter import HeaderNames

    @app.after_request  # registered before the limiter's: runs after it has added its headers
    def reset_in_seconds(response):
        reset = response.headers.get(HEADERS["RESET"])
        if reset and reset.isdigit() and int(reset) > 10**9:  # the limiter gives an epoch time
            response.headers[HEADERS["RESET"]] = str(max(0, math.ceil(int(reset) - time.time())))
        if response.status_code != 429 and HEADERS["LIMIT"] in response.headers:
            response.headers.pop("Retry-After", None)
        return response

    limiter = Limiter(
        lambda: rate_limited_caller() or "anonymous",
        app=app,
        # One budget per caller across every route (a route's own limit, where one is declared,
        # comes on top of it).
        application_limits=[_caller_limit],
        application_limits_exempt_when=lambda: rate_limited_caller() is None,
        headers_enabled=True,
        header_name_mapping={getattr(HeaderNames, key): value for key, value in HEADERS.items()},
        storage_uri=app.config["RATELIMIT_STORAGE_URI"],
        strategy="sliding-window-counter",
        key_prefix="ekatra",
    )

    app.extensions["ekatra.limiter"] = limiter

    @app.errorhandler(RateLimitExceeded)
    def rate_limited(error: RateLimitExceeded):
        return jsonify(error_body(f"Rate limit exceeded ({error.description}); retry after the "
                                  "time in Retry-After.")), 429

    return limiter
