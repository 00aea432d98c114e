"""JWTs for authors: every token names its login session (`sid`), checked on each request.

A request's token is checked in two parts:
- the token itself (signature, claims, type, expiry) by flask-jwt-extended. The claims of an
  `Authorization` header it accepted are remembered per app (`VerifiedHeaders`), so the same
  header is not decoded and signature-checked again; its type and expiry are checked again on
  every request, and whatever is not the plain success case goes through the library, so
  every refusal is the library's.
- the login session (`sid`), read from the database on every request, remembered header or
  not: a logout or a password reset refuses the session's tokens from the next request on.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

from flask import Flask, current_app, g, request
from flask_jwt_extended import (
    JWTManager,
    create_access_token,
    create_refresh_token,
    decode_token,
    verify_jwt_in_request,
)
from flask_jwt_extended.config import config as jwt_config

from ekatra import clock
from ekatra.auth import services
from ekatra.auth.models import LoginSession
from ekatra.errors import error_body
from ekatra.http import authenticated_by, set_caller

VERIFIED_HEADERS_KEPT = 4096


def issue_tokens(session: LoginSession | services.ActiveSession, *, refresh: bool = True) -> dict:
    claims = {"sid": session.id}
    identity = str(session.author_id)
    tokens = {"access_token": create_access_token(identity=identity, additional_claims=claims)}
    if refresh:
        tokens["refresh_token"] = create_refresh_token(identity=identity, additional_claims=claims)
    return tokens


def current_actor() -> services.Actor:
    """Who the request's token speaks for (set by the session check of `author_required`)."""
    return g.login_session.actor


def current_session_id() -> str:
    """The login session of the request's token (checked active by `author_required`)."""
    return g.login_session.id


class VerifiedHeaders:
    """`Authorization` header values whose token flask-jwt-extended accepted, with its claims.

    Keyed by the decoding key and the exact header: those bytes and that key decide the
    signature and the claims for good, so remembering them is safe. What changes with time
    (expiry) or in the database (revocation) is never remembered. At most `size` headers are
    kept; the oldest is forgotten first. Safe to share between a worker's threads.
    """

    def __init__(self, size: int = VERIFIED_HEADERS_KEPT):
        self._claims: dict[tuple[str, str], dict] = {}
        self._size = size
        self._lock = threading.Lock()

    def claims(self, key: str, header: str | None) -> dict | None:
        return self._claims.get((key, header)) if header else None

    def remember(self, key: str, header: str | None, claims: dict) -> None:
        if not header:
            return
        with self._lock:
            if (key, header) not in self._claims and len(self._claims) >= self._size:
                del self._claims[next(iter(self._claims))]
            self._claims[(key, header)] = claims

    def __len__(self) -> int:
        return len(self._claims)


def _verified_headers() -> VerifiedHeaders:
    return current_app.extensions["ekatra.verified_headers"]


def signed_claims(header: str | None) -> dict | None:
    """The claims of the `Authorization` header's token if its signature checks out (from this
    app's memory of verified headers, else decoded once and remembered), else None. Expiry and
    revocation are not checked here: for telling callers apart (rate limits), not for letting
    them in."""
    if not header or not header.startswith("Bearer "):
        return None
    remembered = _verified_headers().claims(jwt_config.decode_key, header)
    if remembered is not None:
        return remembered
    try:
        claims = decode_token(header[len("Bearer "):])
    except Exception:  # any invalid token: authentication will refuse it
        return None
    _verified_headers().remember(jwt_config.decode_key, header, claims)
    return claims


def _load_active_session(claims: dict) -> bool:
    """Set `g.login_session` when the token's login session is active (read from the database)."""
    sid = claims.get("sid")
    session = services.active_session(sid, clock.now()) if sid else None
    if session is None:
        return False
    g.login_session = session
    return True


def _unexpired(claims: dict) -> bool:
    """PyJWT's expiry rule: expired when `exp` <= now − leeway."""
    leeway = jwt_config.leeway
    if isinstance(leeway, timedelta):
        leeway = leeway.total_seconds()
    expires = claims.get("exp")
    return expires is None or expires > time.time() - leeway


def _verify_remembered(refresh: bool) -> bool:
    """True when the request carries a remembered header whose token is of the route's type,
    unexpired, and names an active session (then `g.login_session` is set). False: the
    library must decide."""
    if request.method in jwt_config.exempt_methods:
        return False
    claims = _verified_headers().claims(jwt_config.decode_key, request.headers.get("Authorization"))
    return (claims is not None and claims.get("type") == ("refresh" if refresh else "access")
            and _unexpired(claims) and _load_active_session(claims))


def verify_author_token(refresh: bool = False) -> None:
    """Accept the request's token (access, or refresh where asked) with an active login session,
    or raise the library's error; `g.login_session` is then set."""
    if _verify_remembered(refresh):
        return
    accepted = verify_jwt_in_request(refresh=refresh)
    if accepted is not None:
        _verified_headers().remember(jwt_config.decode_key, request.headers.get("Authorization"),
                                     accepted[1])


def author_required(refresh: bool = False):
    """Decorator: a valid, unrevoked author token (access, or refresh where asked).

    Views read the caller with `current_actor()` and `current_session_id()`; flask-jwt-extended's
    `get_jwt()` is not set when the header was remembered. The token is checked before any
    `blp.arguments` of the view parses the request (`ekatra.http.authenticated_by`)."""

    def check() -> None:
        verify_author_token(refresh)
        set_caller(f"author:{g.login_session.actor.author_id}")

    return authenticated_by(check)


def register_token_callbacks(jwt: JWTManager, app: Flask) -> None:
    """The login-session check and the JSON 401s on `jwt`; `app`'s memory of verified headers."""
    app.extensions["ekatra.verified_headers"] = VerifiedHeaders()

    @jwt.token_in_blocklist_loader
    def session_is_revoked(_header, payload) -> bool:
        return not _load_active_session(payload)

    def unauthorized(message: str):
        return error_body(message), 401

    jwt.unauthorized_loader(lambda reason: unauthorized(f"Missing credentials: {reason}"))
    jwt.invalid_token_loader(lambda reason: unauthorized(f"Invalid token: {reason}"))
    jwt.expired_token_loader(lambda _h, _p: unauthorized("Token has expired; log in or refresh."))
    jwt.revoked_token_loader(lambda _h, _p: unauthorized("Token has been revoked; log in again."))
    jwt.user_lookup_error_loader(lambda _h, _p: unauthorized("Unknown account."))
    jwt.needs_fresh_token_loader(lambda _h, _p: unauthorized("A fresh login is required."))
    jwt.token_verification_failed_loader(lambda _h, _p: unauthorized("Token was refused."))


def session_ttl():
    return current_app.config["JWT_REFRESH_TOKEN_EXPIRES"]
