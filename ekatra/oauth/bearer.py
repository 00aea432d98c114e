"""Bearer tokens presented to the API: whose token it is, for routes of other packages.

    partner = partner_of_bearer(request.headers.get("Authorization"), now=clock.now())

No Flask here: the caller hands over the header's value and maps the two errors to its own
contract's 401s.
"""

from __future__ import annotations

from datetime import datetime

from ekatra.extensions import db
from ekatra.oauth import services
from ekatra.oauth.models import OAuthToken
from ekatra.partners.models import LearnerAccount, Partner

MAX_TOKEN_CHARS = 512


class MissingToken(Exception):
    """No `Authorization: Bearer …` header at all."""


class InvalidToken(Exception):
    """Unknown, malformed, expired or revoked token, or lacking the scope."""


def bearer_value(authorization: str | None) -> str:
    """The token of an `Authorization: Bearer <token>` header (scheme case-insensitive)."""
    if not authorization or not authorization.strip():
        raise MissingToken()
    scheme, _, value = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        raise MissingToken()
    value = value.strip()
    if not value or len(value) > MAX_TOKEN_CHARS or " " in value:
        raise InvalidToken()
    return value


def active_token(authorization: str | None, *, scope: str, now: datetime) -> OAuthToken:
    """The unexpired, unrevoked token of the header, granted `scope` (if one is named)."""
    token = services.token_by_access(bearer_value(authorization))
    if token is None or not services.is_active(token, now) or (scope and scope not in token.scope.split()):
        raise InvalidToken()
    return token


def partner_of_bearer(authorization: str | None, *, scope: str = "partner", now: datetime) -> Partner:
    """The partner (ekatra.partners.models.Partner) whose client-credentials token this is."""
    token = active_token(authorization, scope=scope, now=now)
    client = services.client_of(token)
    if token.account_id is not None or client.partner_id is None:
        raise InvalidToken()
    return db.session.get(Partner, client.partner_id)


def learner_of_bearer(authorization: str | None, *, scope: str = "profile",
                      now: datetime) -> tuple[LearnerAccount, OAuthToken]:
    """The learner who consented to this token, and the token (its scopes say what may be read;
    `scope=""` asks for none in particular)."""
    token = active_token(authorization, scope=scope, now=now)
    account = db.session.get(LearnerAccount, token.account_id) if token.account_id else None
    if account is None:
        raise InvalidToken()
    return account, token
