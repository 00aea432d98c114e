"""HTTP side of partner calls: the key headers, and learner JWTs (`kind: learner`).

A learner JWT names its learner session (`sid`); author routes look `sid` up among author
login sessions, so a learner token is refused there, and learner routes refuse any JWT
whose `kind` is not `learner` (so an author token is refused here).
"""

from __future__ import annotations

from flask import current_app, g, request
from flask_jwt_extended import create_access_token, decode_token
from flask_jwt_extended.exceptions import JWTExtendedException
from jwt import PyJWTError

from ekatra import clock
from ekatra.errors import Invalid, Unauthorized
from ekatra.http import authenticated_by, body_text, set_caller
from ekatra.partners import services
from ekatra.partners.headers import reserved_name
from ekatra.partners.models import LearnerAccount, LearnerSession

PARTNER_KEYS = [{"partnerAccessKey": [], "partnerSecretKey": []}]
LEARNER_KIND = "learner"


def partner_required(view):
    """Decorator: the ST-ACCESS-KEY and ST-SECRET-KEY headers (or the contract's body field
    `access_secret` for the secret) must name a partner; it is put in `g.partner`. Checked before
    the view's body is parsed (`ekatra.http.authenticated_by`)."""
    return authenticated_by(_authenticate_partner)(view)


def _authenticate_partner() -> None:
    secret = request.headers.get("ST-SECRET-KEY") or body_text("access_secret")
    g.partner = services.authenticate_partner(request.headers.get("ST-ACCESS-KEY"), secret)
    set_caller(f"partner:{g.partner.id}")


def session_ttl():
    return current_app.config["JWT_ACCESS_TOKEN_EXPIRES"]


def issue(session: LearnerSession, access_token: str) -> dict:
    jwt_token = create_access_token(
        identity=str(session.account_id), expires_delta=session.expires_at - session.created_at,
        additional_claims={"sid": session.id, "kind": LEARNER_KIND})
    return {"jwt_token": jwt_token, "access_token": access_token}


def learner_header(name: str) -> str | None:
    """The contract's underscore header `name` (`jwt_token`), or its dash form (`jwt-token`).

    Our web servers hand the underscore form over under a reserved name (partners/headers.py)
    and the dash form under its own; sent both ways with different values, the request is
    refused rather than one of them silently chosen."""
    dashed = name.replace("_", "-")
    underscore, dash = request.headers.get(reserved_name(name)), request.headers.get(dashed)
    if underscore is not None and dash is not None and underscore != dash:
        problem = f"The {name} and {dashed} headers disagree; send one of them."
        raise Invalid(problem, {name: [problem]})
    return underscore if underscore is not None else dash


def token_pair() -> tuple[str, str]:
    """(session id, access token) from the `jwt_token` and `access_token` headers."""
    jwt_token, access_token = learner_header("jwt_token"), learner_header("access_token")
    if not jwt_token or not access_token:
        raise Unauthorized("The jwt_token and access_token headers are required.")
    try:
        claims = decode_token(jwt_token)
    except (PyJWTError, JWTExtendedException, ValueError, KeyError):
        raise Unauthorized("The jwt_token is invalid or expired.") from None
    if claims.get("kind") != LEARNER_KIND or not isinstance(claims.get("sid"), str):
        raise Unauthorized("The jwt_token is not a learner token.")
    return claims["sid"], access_token


def current_learner() -> LearnerAccount:
    session_id, access_token = token_pair()
    return services.learner_for_tokens(g.partner, session_id, access_token, clock.now())
