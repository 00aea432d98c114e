"""The OAuth 2.0 use cases: clients, authorization codes, tokens (issue, rotate, revoke, look up).

Authlib (ekatra/oauth/server.py) speaks the protocol; what is stored and when it stops being
valid is decided here, with the time passed in.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import delete, select, update

from ekatra.errors import Invalid, NotFound
from ekatra.extensions import MAX_ID, db
from ekatra.oauth.models import (
    AUTHORIZATION_CODE,
    CLIENT_CREDENTIALS,
    GRANT_TYPES,
    LEARNER_SCOPES,
    PARTNER_SCOPE,
    REFRESH_TOKEN,
    AuthorizationCode,
    OAuthClient,
    OAuthToken,
)
from ekatra.partners.models import Partner
from ekatra.transactions import transaction

CODE_SECONDS = 600
ACCESS_TOKEN_SECONDS = 3600
REFRESH_TOKEN_SECONDS = 30 * 24 * 3600
MAX_REDIRECT_URI_CHARS = 2048
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]", "::1")
_DUMMY_SECRET_HASH = hashlib.sha256(b"no-such-client").hexdigest()


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


# Clients ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClientKeys:
    client: OAuthClient
    client_id: str
    client_secret: str | None


def redirect_uri_problem(uri: str) -> str | None:
    """Why `uri` cannot be a registered redirect URI, or None. https, http on a loopback host
    (a developer's machine), or an app's own scheme (`com.example.app:/callback`); no fragment."""
    if len(uri) > MAX_REDIRECT_URI_CHARS or any(c.isspace() or ord(c) < 32 for c in uri):
        return "Too long, or contains spaces or control characters."
    if not uri.isascii() or '"' in uri or "\\" in uri:
        return "Must be ASCII: percent-encode other characters, write hosts in punycode."
    parts = urlsplit(uri)
    if not parts.scheme or parts.fragment or "#" in uri:
        return "Must be an absolute URI without a fragment."
    if parts.scheme == "http" and (parts.hostname or "") not in LOOPBACK_HOSTS:
        return "http is allowed only for localhost; use https."
    if parts.scheme in ("http", "https") and not parts.hostname:
        return "Must name a host."
    if parts.scheme in ("javascript", "data", "file", "vbscript"):
        return "Not a redirect URI scheme."
    return None


def partner_by_reference(reference: str) -> Partner:
    """A partner named by its id or its access key (for the command line)."""
    reference = reference.strip()
    partner = None
    if reference.isdigit() and 0 < int(reference) <= MAX_ID:
        partner = db.session.get(Partner, int(reference))
    if partner is None:
        partner = db.session.scalar(select(Partner).where(Partner.access_key == reference))
    if partner is None:
        raise NotFound(f"No partner with id or access key {reference!r}.")
    return partner


def create_client(*, name: str, partner_id: int | None, redirect_uris: list[str],
                  grant_types: list[str], is_public: bool, now: datetime) -> ClientKeys:
    """A client with a fresh client_id and (unless public) a secret, returned here once and
    stored hashed. The authorization-code grant brings the refresh-token grant with it."""
    name = name.strip()
    errors: dict[str, list[str]] = {}
    if not name or len(name) > 200:
        errors["name"] = ["1 to 200 characters."]
    grants = list(dict.fromkeys(grant_types or [AUTHORIZATION_CODE]))
    unknown = [grant for grant in grants if grant not in GRANT_TYPES]
    if unknown:
        errors["grant_types"] = [f"Unknown grant type(s): {', '.join(unknown)}."]
    if AUTHORIZATION_CODE in grants and REFRESH_TOKEN not in grants:
        grants.append(REFRESH_TOKEN)
    if REFRESH_TOKEN in grants and AUTHORIZATION_CODE not in grants:
        errors.setdefault("grant_types", []).append("refresh_token comes with authorization_code.")
    if CLIENT_CREDENTIALS in grants and (partner_id is None or is_public):
        errors.setdefault("grant_types", []).append(
            "client_credentials needs a partner and a confidential (not public) client.")
    uris = list(dict.fromkeys(redirect_uris))
    problems = [f"{uri}: {problem}" for uri in uris if (problem := redirect_uri_problem(uri))]
    if problems:
        errors["redirect_uris"] = problems
    if AUTHORIZATION_CODE in grants and not uris:
        errors.setdefault("redirect_uris", []).append("authorization_code needs a redirect URI.")
    if errors:
        raise Invalid("Invalid OAuth client.", errors)
    scopes = (list(LEARNER_SCOPES) if AUTHORIZATION_CODE in grants else []) + (
        [PARTNER_SCOPE] if CLIENT_CREDENTIALS in grants else [])
    client_id = "ec_" + secrets.token_hex(16)
    secret = None if is_public else secrets.token_urlsafe(32)
    client = OAuthClient(client_id=client_id, secret_hash=sha256(secret) if secret else None, name=name,
                         partner_id=partner_id, redirect_uris=uris, grant_types=grants,
                         scope=" ".join(scopes), is_public=is_public, created_at=now)
    with transaction():
        db.session.add(client)
    return ClientKeys(client, client_id, secret)


def list_clients() -> list[OAuthClient]:
    """Every client, oldest first (for operators: `ekatra oauth client list`)."""
    return list(db.session.scalars(select(OAuthClient).order_by(OAuthClient.id)))


def _existing_client(client_id: str) -> OAuthClient:
    client = find_client(client_id)
    if client is None:
        raise NotFound("No OAuth client has this client_id.")
    return client


def rotate_client_secret(client_id: str, *, now: datetime) -> str:
    """A new secret for a confidential client, returned once; the old one stops working at
    once (tokens already issued stay valid until they expire or are revoked)."""
    client = _existing_client(client_id)
    if client.is_public:
        raise Invalid("A public client has no secret.", {"client_id": ["A public client has no secret."]})
    secret = secrets.token_urlsafe(32)
    with transaction():
        client.secret_hash = sha256(secret)
    return secret


def delete_client(client_id: str) -> None:
    """Remove a client: its codes and tokens go with it (none of them works any more)."""
    client = _existing_client(client_id)
    with transaction():
        db.session.execute(delete(OAuthToken).where(OAuthToken.client_id == client.id))
        db.session.execute(delete(AuthorizationCode).where(AuthorizationCode.client_id == client.id))
        db.session.delete(client)


def find_client(client_id: str | None) -> OAuthClient | None:
    if not client_id or len(client_id) > 64 or not (client_id.isascii() and client_id.isprintable()):
        return None
    return db.session.scalar(select(OAuthClient).where(OAuthClient.client_id == client_id))


def client_secret_matches(client: OAuthClient | None, secret: str | None) -> bool:
    """Constant-time; a public client has no secret to match."""
    stored = client.secret_hash if client is not None and client.secret_hash else _DUMMY_SECRET_HASH
    matches = hmac.compare_digest(sha256(secret or ""), stored)
    return bool(client is not None and client.secret_hash and secret and matches)


# Authorization codes ----------------------------------------------------------------------------


def save_code(client: OAuthClient, code: str, *, account_id: int, redirect_uri: str, scope: str,
              code_challenge: str | None, code_challenge_method: str | None, now: datetime) -> None:
    """Store a new single-use code (its hash) for the learner's consent; valid for CODE_SECONDS."""
    with transaction():
        db.session.add(AuthorizationCode(
            code_hash=sha256(code), client_id=client.id, account_id=account_id, redirect_uri=redirect_uri,
            scope=scope, code_challenge=code_challenge, code_challenge_method=code_challenge_method,
            family_id=str(uuid.uuid4()), created_at=now, expires_at=now + timedelta(seconds=CODE_SECONDS)))


def claim_code(client: OAuthClient, code: str, *, now: datetime) -> AuthorizationCode | None:
    """The client's unexpired, unused code, now marked used; else None. A code used before
    revokes the tokens issued for it (it was replayed: it leaked)."""
    found = db.session.scalar(select(AuthorizationCode).where(AuthorizationCode.code_hash == sha256(code)))
    if found is None or found.client_id != client.id:
        return None
    with transaction():
        claimed = db.session.execute(update(AuthorizationCode).where(
            AuthorizationCode.id == found.id, AuthorizationCode.used_at.is_(None),
            AuthorizationCode.expires_at > now).values(used_at=now)).rowcount == 1
        if not claimed and found.used_at is not None:
            _revoke_family(found.family_id, now)
    if not claimed:
        return None
    db.session.refresh(found)
    return found


# Tokens -----------------------------------------------------------------------------------------


def save_token(client: OAuthClient, *, account_id: int | None, scope: str, access_token: str,
               refresh_token: str | None, family_id: str | None, now: datetime) -> OAuthToken:
    """Store a freshly issued token (hashes only)."""
    with transaction():
        token = _new_token(client, account_id, scope, access_token, refresh_token, family_id, now)
    return token


def _new_token(client, account_id, scope, access_token, refresh_token, family_id, now) -> OAuthToken:
    token = OAuthToken(
        client_id=client.id, account_id=account_id, scope=scope, access_token_hash=sha256(access_token),
        refresh_token_hash=sha256(refresh_token) if refresh_token else None,
        family_id=family_id or str(uuid.uuid4()), issued_at=now,
        expires_at=now + timedelta(seconds=ACCESS_TOKEN_SECONDS),
        refresh_expires_at=now + timedelta(seconds=REFRESH_TOKEN_SECONDS) if refresh_token else None)
    db.session.add(token)
    return token


def token_by_access(access_token: str) -> OAuthToken | None:
    return db.session.scalar(select(OAuthToken).where(OAuthToken.access_token_hash == sha256(access_token)))


def token_by_refresh(refresh_token: str) -> OAuthToken | None:
    return db.session.scalar(select(OAuthToken).where(OAuthToken.refresh_token_hash == sha256(refresh_token)))


def is_active(token: OAuthToken, now: datetime) -> bool:
    """Whether the access token still grants access."""
    return token.revoked_at is None and token.expires_at > now


def usable_refresh_token(client: OAuthClient, refresh_token: str, *, now: datetime) -> OAuthToken | None:
    """The client's unexpired, unrevoked token row for this refresh token; else None. A refresh
    token that was already rotated (or revoked) revokes its whole family: someone replays it."""
    token = token_by_refresh(refresh_token)
    if token is None or token.client_id != client.id:
        return None
    if token.revoked_at is not None:
        with transaction():
            _revoke_family(token.family_id, now)
        return None
    if token.refresh_expires_at is None or token.refresh_expires_at <= now:
        return None
    return token


def rotate(old: OAuthToken, *, scope: str, access_token: str, refresh_token: str,
           now: datetime) -> OAuthToken | None:
    """Revoke `old` and store its successor, in one transaction; None when `old` was rotated
    or revoked meanwhile (a concurrent refresh won)."""
    with transaction():
        revoked = db.session.execute(update(OAuthToken).where(
            OAuthToken.id == old.id, OAuthToken.revoked_at.is_(None)).values(revoked_at=now)).rowcount
        if revoked != 1:
            return None
        client = db.session.get(OAuthClient, old.client_id)
        return _new_token(client, old.account_id, scope, access_token, refresh_token, old.family_id, now)


def revoke(token: OAuthToken, *, now: datetime) -> None:
    """RFC 7009: revoking either token of a grant ends the row (access and refresh)."""
    with transaction():
        db.session.execute(update(OAuthToken).where(
            OAuthToken.id == token.id, OAuthToken.revoked_at.is_(None)).values(revoked_at=now))


def _revoke_family(family_id: str, now: datetime) -> None:
    db.session.execute(update(OAuthToken).where(
        OAuthToken.family_id == family_id, OAuthToken.revoked_at.is_(None)).values(revoked_at=now))


def client_of(token: OAuthToken) -> OAuthClient:
    return db.session.get(OAuthClient, token.client_id)
