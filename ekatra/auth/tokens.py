"""JWTs for authors: every token names its login session (`sid`), checked on each request."""

from __future__ import annotations

from functools import wraps

from flask import current_app, g
from flask_jwt_extended import (
    JWTManager,
    create_access_token,
    create_refresh_token,
    get_jwt,
    verify_jwt_in_request,
)

from ekatra import clock
from ekatra.auth import services
from ekatra.auth.models import LoginSession
from ekatra.errors import error_body


def issue_tokens(session: LoginSession, *, refresh: bool = True) -> dict:
    claims = {"sid": session.id}
    identity = str(session.author_id)
    tokens = {"access_token": create_access_token(identity=identity, additional_claims=claims)}
    if refresh:
        tokens["refresh_token"] = create_refresh_token(identity=identity, additional_claims=claims)
    return tokens


def current_actor() -> services.Actor:
    session: LoginSession = g.login_session
    return services.Actor(author_id=session.author_id, is_admin=session.author.is_admin)


def current_session_id() -> str:
    return get_jwt()["sid"]


def author_required(refresh: bool = False):
    """Decorator: a valid, unrevoked author token (access, or refresh where asked)."""

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            verify_jwt_in_request(refresh=refresh)
            return view(*args, **kwargs)

        return wrapper

    return decorate


def register_token_callbacks(jwt: JWTManager) -> None:
    @jwt.token_in_blocklist_loader
    def session_is_revoked(_header, payload) -> bool:
        sid = payload.get("sid")
        session = services.active_session(sid, clock.now()) if sid else None
        if session is None:
            return True
        g.login_session = session
        return False

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
