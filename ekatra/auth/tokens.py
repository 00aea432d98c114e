"""JWTs for authors: every token names its login session (`sid`), checked on each request.

A request's token is checked in two parts:
- the token itself (signature, claims, type, expiry) by flask-jwt-extended. The claims of an
  `Authorization` header it accepted are remembered per app (`VerifiedHeaders`), so the same
  header is not decoded and signature-checked again; its type and expiry are checked again on
  every request, and whatever is not the plain success case goes through the library, so
  every refusal is the library's.
- the login session (`sid`), read from the database on every request, remembered header or
  not: a logout or a password reset refuses the session's tokens from the next request on. A
  read route declared `author_required(session_in_read=True)` reads it in its own first
  statement instead of a statement of its own (`ekatra.auth.checked_reads`).
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from functools import wraps

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
from ekatra.auth.checked_reads import SESSION_REFUSED, Reader, SessionToCheck
from ekatra.auth.models import LoginSession
from ekatra.errors import error_body
from ekatra.http import authenticated_by, set_caller
from ekatra.read_only import READ_METHODS

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


def current_reader() -> Reader:
    """For a route declared `author_required(session_in_read=True)`: the SessionToCheck its
    service's first statement checks (or the Actor, when the session is already read)."""
    login = g.login_session
    return login if isinstance(login, SessionToCheck) else login.actor


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


def _session_claims(claims: dict) -> tuple[str, int] | None:
    """The login session and the author a token names (`sid`, `sub`), or None."""
    sid, subject = claims.get("sid"), claims.get("sub")
    if not sid or not isinstance(subject, str) or not subject.isdigit():
        return None
    return sid, int(subject)


def _load_active_session(claims: dict) -> bool:
    """Set `g.login_session` when the token's login session is active (read from the database)
    and is the session of the token's author."""
    named = _session_claims(claims)
    session = services.active_session(*named, clock.now()) if named else None
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


def _remembered_claims(refresh: bool) -> dict | None:
    """The claims of the request's header if it is remembered and its token is of the route's
    type and unexpired; None: the library must decide."""
    if request.method in jwt_config.exempt_methods:
        return None
    claims = _verified_headers().claims(jwt_config.decode_key, request.headers.get("Authorization"))
    kind = "refresh" if refresh else "access"
    return claims if claims is not None and claims.get("type") == kind and _unexpired(claims) else None


def _verify_remembered(refresh: bool) -> bool:
    """True when the request carries a remembered header whose token is of the route's type,
    unexpired, and names an active session (then `g.login_session` is set). False: the
    library must decide."""
    claims = _remembered_claims(refresh)
    return claims is not None and _load_active_session(claims)


def _session_to_check() -> bool:
    """For a read whose statement checks the session: True when the request carries a
    remembered access token naming a session (then `g.login_session` is a SessionToCheck)."""
    claims = _remembered_claims(refresh=False)
    named = _session_claims(claims) if claims is not None else None
    if named is None:
        return False
    g.login_session = SessionToCheck(*named, clock.now())
    return True


def _settle_session() -> None:
    """Read the request's SessionToCheck alone if its read did not (Unauthorized if refused)."""
    login = g.get("login_session")
    if isinstance(login, SessionToCheck):
        actor = login.settle()
        g.login_session = services.ActiveSession(id=login.id, author_id=actor.author_id,
                                                 is_admin=actor.is_admin)


def verify_author_token(refresh: bool = False) -> None:
    """Accept the request's token (access, or refresh where asked) with an active login session,
    or raise the library's error; `g.login_session` is then set."""
    if _verify_remembered(refresh):
        return
    accepted = verify_jwt_in_request(refresh=refresh)
    if accepted is not None:
        _verified_headers().remember(jwt_config.decode_key, request.headers.get("Authorization"),
                                     accepted[1])


def author_required(refresh: bool = False, *, session_in_read: bool = False):
    """Decorator: a valid, unrevoked author token (access, or refresh where asked).

    Views read the caller with `current_actor()` and `current_session_id()`; flask-jwt-extended's
    `get_jwt()` is not set when the header was remembered. The token is checked before any
    `blp.arguments` of the view parses the request (`ekatra.http.authenticated_by`).

    `session_in_read`: for a GET whose view passes `current_reader()` to a service that runs
    its first statement as a `CheckedSelect`, the login session is read by that statement
    (`ekatra.auth.checked_reads`). Whatever the view does (returns, raises, reads nothing),
    the session is settled before the answer leaves: a refused session is a 401."""

    def check() -> None:
        if not (session_in_read and request.method in READ_METHODS and _session_to_check()):
            verify_author_token(refresh)
        set_caller(f"author:{g.login_session.author_id}")

    authenticate = authenticated_by(check)
    if not session_in_read:
        return authenticate

    def decorate(view):
        @wraps(view)
        def settled(*args, **kwargs):
            try:
                return view(*args, **kwargs)
            finally:
                _settle_session()  # a refused session's 401 replaces the view's answer or error

        return authenticate(settled)

    return decorate


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
    jwt.revoked_token_loader(lambda _h, _p: unauthorized(SESSION_REFUSED))
    jwt.user_lookup_error_loader(lambda _h, _p: unauthorized("Unknown account."))
    jwt.needs_fresh_token_loader(lambda _h, _p: unauthorized("A fresh login is required."))
    jwt.token_verification_failed_loader(lambda _h, _p: unauthorized("Token was refused."))


def session_ttl():
    return current_app.config["JWT_REFRESH_TOKEN_EXPIRES"]
