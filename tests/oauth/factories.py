"""Builders for OAuth tests: clients registered through the service, tokens got over HTTP."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from urllib.parse import parse_qsl, urlencode, urlsplit

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


def pkce_pair() -> tuple[str, str]:
    """(code_verifier, S256 code_challenge)."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def authorize_query(client_id: str, *, challenge: str | None, redirect_uri: str = REDIRECT_URI,
                    scope: str = "profile email courses", state: str = "xyz-state", **extra) -> str:
    params = {"response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri, "scope": scope,
              "state": state, **extra}
    if challenge:
        params.update(code_challenge=challenge, code_challenge_method="S256")
    return "/oauth/authorize?" + urlencode(params)


CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    return CSRF_FIELD.search(html).group(1)


def log_in_and_consent(client, query: str, *, login: str, password: str, decision: str = "allow"):
    """Open the authorize page, then sign in on it and answer (the test client keeps the cookie)."""
    page = client.get(query)
    assert page.status_code == 200, page.get_data(as_text=True)
    return client.post(query, data={"csrf_token": csrf_of(page.get_data(as_text=True)), "login": login,
                                    "password": password, "decision": decision})


def redirect_params(response) -> dict[str, str]:
    """The query parameters of a redirect back to the client."""
    assert response.status_code == 302, response.get_data(as_text=True)
    return dict(parse_qsl(urlsplit(response.headers["Location"]).query))
