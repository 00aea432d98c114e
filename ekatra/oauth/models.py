"""OAuth 2.0 clients, authorization codes and tokens ("Log in with Ekatra", partner tokens).

Secrets, codes and tokens are random strings of which only the SHA-256 is stored.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ekatra.extensions import UTCDateTime, db

AUTHORIZATION_CODE, REFRESH_TOKEN = "authorization_code", "refresh_token"
CLIENT_CREDENTIALS = "client_credentials"
GRANT_TYPES = (AUTHORIZATION_CODE, REFRESH_TOKEN, CLIENT_CREDENTIALS)
LEARNER_SCOPES = ("profile", "email", "courses")
PARTNER_SCOPE = "partner"


class OAuthClient(db.Model):
    """An application that may ask for tokens: an LMS of a partner, or (without a partner) an
    application an admin registered for learner login only.

    A confidential client has a secret (only its hash is kept); a public one (a phone or
    single-page app) has none and must use PKCE with S256. Redirect URIs match exactly.
    `scope` lists what the client may ask for: `profile email courses` for learner login,
    `partner` for client credentials (only a partner's client).
    """

    __tablename__ = "oauth_clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    secret_hash: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    partner_id: Mapped[int | None] = mapped_column(
        ForeignKey("partners.id", ondelete="CASCADE"), index=True)
    redirect_uris: Mapped[list] = mapped_column(JSON, default=list)
    grant_types: Mapped[list] = mapped_column(JSON, default=list)
    scope: Mapped[str] = mapped_column(String(200))
    is_public: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AuthorizationCode(db.Model):
    """A code given to a client after a learner consented on /oauth/authorize.

    Valid for 10 minutes and once: exchanging it sets `used_at` (in one conditional UPDATE, so
    two exchanges at once cannot both win). A second exchange revokes every token of the code's
    `family_id` (RFC 6749 §4.1.2: a replayed code means it leaked).
    """

    __tablename__ = "oauth_authorization_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("oauth_clients.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("learner_accounts.id", ondelete="CASCADE"), index=True)
    redirect_uri: Mapped[str] = mapped_column(String(2048))
    scope: Mapped[str] = mapped_column(String(200))
    code_challenge: Mapped[str | None] = mapped_column(String(128))
    code_challenge_method: Mapped[str | None] = mapped_column(String(10))
    family_id: Mapped[str] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class OAuthToken(db.Model):
    """An access token (and, for learner login, a refresh token) issued to a client.

    `account_id` is the learner for an authorization-code token, None for client credentials
    (whose subject is the client's partner). Refreshing revokes this row and issues the next
    of the same `family_id`; presenting a revoked refresh token again revokes the whole family.
    A revoked or expired token is never valid again.
    """

    __tablename__ = "oauth_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("oauth_clients.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("learner_accounts.id", ondelete="CASCADE"), index=True)
    access_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    refresh_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    scope: Mapped[str] = mapped_column(String(200))
    family_id: Mapped[str] = mapped_column(String(36), index=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    refresh_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
