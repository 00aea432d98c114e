"""Builders for OAuth tests: clients registered through the service, tokens got over HTTP."""

from __future__ import annotations

from ekatra import clock
from ekatra.oauth import services

REDIRECT_URI = "https://lms.example.org/auth/callback"


def partner_oauth_client(partner_id: int, *, name: str = "LMS") -> tuple[str, str]:
    """(client_id, client_secret) of a new confidential client of the partner that may use
    client credentials (and learner login). Call inside an app context."""
    keys = services.create_client(
        name=name, partner_id=partner_id, redirect_uris=[REDIRECT_URI],
        grant_types=["client_credentials", "authorization_code"], is_public=False, now=clock.now())
    return keys.client_id, keys.client_secret


def learner_oauth_client(partner_id: int | None, *, name: str = "LMS", public: bool = False,
                         redirect_uris: tuple[str, ...] = (REDIRECT_URI,)) -> tuple[str, str | None]:
    """(client_id, client_secret or None) of a client for "Log in with Ekatra"."""
    keys = services.create_client(
        name=name, partner_id=partner_id, redirect_uris=list(redirect_uris),
        grant_types=["authorization_code"], is_public=public, now=clock.now())
    return keys.client_id, keys.client_secret


def client_credentials_token(client, client_id: str, client_secret: str, scope: str = "partner") -> str:
    """An access token for the partner's client, posted form-encoded to /oauth/token."""
    response = client.post("/oauth/token", data={
        "grant_type": "client_credentials", "client_id": client_id, "client_secret": client_secret,
        "scope": scope})
    assert response.status_code == 200, response.get_json()
    return response.get_json()["access_token"]
