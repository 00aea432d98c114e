"""Client credentials: a partner's application gets a `partner` token and the token names the partner."""

from __future__ import annotations

import base64
import json

import pytest
from sqlalchemy import select

from ekatra import clock
from ekatra.extensions import db
from ekatra.oauth import bearer, services
from ekatra.oauth.models import OAuthClient, OAuthToken
from ekatra.partners import services as partners
from tests.oauth.factories import client_credentials_token, partner_oauth_client


@pytest.fixture
def partner(app):
    return partners.create_partner(name="Acme LMS", now=clock.now()).partner


def _basic(client_id: str, secret: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


def test_a_partner_client_gets_a_token_that_names_its_partner(app, client, partner):
    client_id, secret = partner_oauth_client(partner.id)
    token = client_credentials_token(client, client_id, secret)
    assert bearer.partner_of_bearer(f"Bearer {token}", now=clock.now()).id == partner.id


def test_the_token_response_follows_rfc_6749(app, client, partner):
    client_id, secret = partner_oauth_client(partner.id)
    response = client.post("/oauth/token", data={"grant_type": "client_credentials"},
                           headers=_basic(client_id, secret))
    assert response.status_code == 200
    body = response.get_json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600 and body["scope"] == "partner"
    assert "refresh_token" not in body
    assert response.headers["Cache-Control"] == "no-store"


def test_json_bodies_are_accepted_as_well_as_forms(app, client, partner):
    client_id, secret = partner_oauth_client(partner.id)
    response = client.post("/oauth/token", json={"grant_type": "client_credentials", "client_id": client_id,
                                                  "client_secret": secret})
    assert response.status_code == 200, response.get_json()
    token = response.get_json()["access_token"]
    assert bearer.partner_of_bearer(f"bearer {token}", now=clock.now()).id == partner.id


@pytest.mark.parametrize("how", ["basic", "post", "json"])
def test_a_wrong_secret_is_invalid_client(app, client, partner, how):
    client_id, _secret = partner_oauth_client(partner.id)
    if how == "basic":
        response = client.post("/oauth/token", data={"grant_type": "client_credentials"},
                               headers=_basic(client_id, "not the secret"))
        assert response.status_code == 401 and "Basic" in response.headers["WWW-Authenticate"]
    else:
        body = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": "nope"}
        response = (client.post("/oauth/token", data=body) if how == "post"
                    else client.post("/oauth/token", json=body))
        assert response.status_code in (400, 401)
    assert response.get_json()["error"] == "invalid_client"
    assert db.session.scalar(select(OAuthToken.id)) is None


def test_unknown_grant_types_and_scopes_are_refused_as_the_rfc_says(app, client, partner):
    client_id, secret = partner_oauth_client(partner.id)
    unknown = client.post("/oauth/token", data={"grant_type": "password"}, headers=_basic(client_id, secret))
    assert unknown.status_code == 400 and unknown.get_json()["error"] == "unsupported_grant_type"
    scope = client.post("/oauth/token", data={"grant_type": "client_credentials", "scope": "profile"},
                        headers=_basic(client_id, secret))
    assert scope.status_code == 400 and scope.get_json()["error"] == "invalid_scope"
    garbage = client.post("/oauth/token", data="{nope", content_type="application/json")
    assert garbage.status_code == 400 and garbage.get_json()["error"] == "unsupported_grant_type"


def test_a_learner_login_client_may_not_use_client_credentials(app, client, partner):
    keys = services.create_client(name="Login only", partner_id=partner.id,
                                  redirect_uris=["https://app.example.org/cb"],
                                  grant_types=["authorization_code"], is_public=False, now=clock.now())
    response = client.post("/oauth/token", data={"grant_type": "client_credentials"},
                           headers=_basic(keys.client_id, keys.client_secret))
    assert response.status_code == 400 and response.get_json()["error"] == "unauthorized_client"


def test_secrets_and_tokens_are_stored_hashed(app, client, partner):
    client_id, secret = partner_oauth_client(partner.id)
    token = client_credentials_token(client, client_id, secret)
    row = db.session.scalar(select(OAuthClient))
    stored = json.dumps([str(v) for v in row.__dict__.values()]) + json.dumps(
        [str(v) for v in db.session.scalar(select(OAuthToken)).__dict__.values()])
    assert secret not in stored and token not in stored
    assert row.secret_hash == services.sha256(secret)


def test_partner_of_bearer_refuses_what_is_not_a_live_partner_token(app, client, partner):
    client_id, secret = partner_oauth_client(partner.id)
    token = client_credentials_token(client, client_id, secret)
    now = clock.now()
    with pytest.raises(bearer.MissingToken):
        bearer.partner_of_bearer(None, now=now)
    with pytest.raises(bearer.MissingToken):
        bearer.partner_of_bearer(f"Basic {token}", now=now)
    with pytest.raises(bearer.InvalidToken):
        bearer.partner_of_bearer("Bearer not-a-token", now=now)
    with pytest.raises(bearer.InvalidToken):
        bearer.partner_of_bearer(f"Bearer {token}", scope="courses", now=now)
    from datetime import timedelta

    with pytest.raises(bearer.InvalidToken):  # an hour later it has expired
        bearer.partner_of_bearer(f"Bearer {token}", now=now + timedelta(seconds=3601))
    revoked = client.post("/oauth/revoke", data={"token": token}, headers=_basic(client_id, secret))
    assert revoked.status_code == 200
    with pytest.raises(bearer.InvalidToken):
        bearer.partner_of_bearer(f"Bearer {token}", now=clock.now())


def test_another_partners_client_cannot_revoke_or_introspect_my_token(app, client, partner):
    other = partners.create_partner(name="Other LMS", now=clock.now()).partner
    mine_id, mine_secret = partner_oauth_client(partner.id)
    theirs_id, theirs_secret = partner_oauth_client(other.id, name="Theirs")
    token = client_credentials_token(client, mine_id, mine_secret)
    introspected = client.post("/oauth/introspect", data={"token": token},
                               headers=_basic(theirs_id, theirs_secret))
    assert introspected.status_code == 200 and introspected.get_json() == {"active": False}
    assert client.post("/oauth/revoke", data={"token": token},
                       headers=_basic(theirs_id, theirs_secret)).status_code == 200
    assert bearer.partner_of_bearer(f"Bearer {token}", now=clock.now()).id == partner.id
    mine = client.post("/oauth/introspect", data={"token": token}, headers=_basic(mine_id, mine_secret))
    assert mine.get_json()["active"] is True and mine.get_json()["sub"] == f"partner:{partner.id}"
    assert client.post("/oauth/introspect", data={"token": token}).status_code == 401
