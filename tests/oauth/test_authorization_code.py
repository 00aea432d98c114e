"""Log in with Ekatra over HTTP: the page, consent, code + PKCE, token, /api/v1/me, refresh,
revocation, and each way an exchange must fail with RFC 6749's error."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from ekatra import clock
from ekatra.extensions import db
from ekatra.oauth import services
from ekatra.oauth.models import AuthorizationCode, OAuthToken
from tests.oauth.factories import (
    REDIRECT_URI,
    authorize_query,
    client_credentials_token,
    learner_oauth_client,
    log_in_and_consent,
    partner_oauth_client,
    pkce_pair,
    redirect_params,
)
from tests.partners.factories import LEARNER_PASSWORD, PartnerClient, running_delivery

HINDI_NAME = "आशा राव"


@pytest.fixture
def partner(client):
    return PartnerClient.create(client)


@pytest.fixture
def learner(partner):
    return partner.signup("asha@example.org", name=HINDI_NAME, phone="+919876543210")


@pytest.fixture
def lms(partner):
    """A confidential client of the partner: (client_id, client_secret)."""
    return partner_oauth_client(partner.id)


def _code(client, client_id: str, challenge: str | None, **query) -> str:
    response = log_in_and_consent(client, authorize_query(client_id, challenge=challenge, **query),
                                  login="asha@example.org", password=LEARNER_PASSWORD)
    params = redirect_params(response)
    assert response.headers["Location"].startswith(query.get("redirect_uri", REDIRECT_URI) + "?")
    assert params["state"] == query.get("state", "xyz-state")
    return params["code"]


def _exchange(client, client_id, secret, code, verifier, redirect_uri=REDIRECT_URI, as_json=True):
    body = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
            "client_id": client_id, "client_secret": secret, "code_verifier": verifier}
    body = {key: value for key, value in body.items() if value is not None}
    return client.post("/oauth/token", json=body) if as_json else client.post("/oauth/token", data=body)


def _basic(client_id: str, secret: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


def _refresh(client, client_id: str, secret: str, refresh_token: str):
    return client.post("/oauth/token", data={"grant_type": "refresh_token", "refresh_token": refresh_token},
                       headers=_basic(client_id, secret))


def _me(client, token: str):
    return client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})


def test_the_whole_flow_code_pkce_token_me_refresh_revoke(client, author, partner, learner, lms):
    client_id, secret = lms
    delivery_id = running_delivery(author, partner)
    (coupon,) = partner.coupons(delivery_id)
    assert partner.apply(learner, coupon).status_code == 200
    verifier, challenge = pkce_pair()

    code = _code(client, client_id, challenge)
    tokens = _exchange(client, client_id, secret, code, verifier)  # JSON, as the integration guide posts
    assert tokens.status_code == 200, tokens.get_json()
    body = tokens.get_json()
    assert body["token_type"] == "Bearer" and body["scope"] == "profile email courses"
    assert body["expires_in"] == 3600 and body["refresh_token"]

    me = _me(client, body["access_token"])
    assert me.status_code == 200, me.get_json()
    profile = me.get_json()
    assert profile["id"] == learner["db_user"]["id"] and profile["name"] == HINDI_NAME
    assert profile["email"] == "asha@example.org"
    (course,) = profile["courses"]
    assert course["delivery_id"] == delivery_id and course["total_days"] == 3
    assert course["progress"] == 0 and course["is_finished"] is False

    refreshed = _refresh(client, client_id, secret, body["refresh_token"])
    assert refreshed.status_code == 200, refreshed.get_json()
    new = refreshed.get_json()
    assert new["refresh_token"] != body["refresh_token"] and new["scope"] == "profile email courses"
    assert _me(client, body["access_token"]).status_code == 401  # the rotated pair ended
    assert _me(client, new["access_token"]).status_code == 200

    revoked = client.post("/oauth/revoke", data={"token": new["refresh_token"],
                                                 "token_type_hint": "refresh_token"},
                          headers=_basic(client_id, secret))
    assert revoked.status_code == 200
    gone = _me(client, new["access_token"])
    assert gone.status_code == 401 and 'error="invalid_token"' in gone.headers["WWW-Authenticate"]
    again = _refresh(client, client_id, secret, new["refresh_token"])
    assert again.status_code == 400 and again.get_json()["error"] == "invalid_grant"


def test_scopes_decide_what_me_shows(client, learner, lms):
    client_id, secret = lms
    verifier, challenge = pkce_pair()
    code = _code(client, client_id, challenge, scope="profile")
    token = _exchange(client, client_id, secret, code, verifier).get_json()["access_token"]
    assert _me(client, token).get_json() == {"id": learner["db_user"]["id"], "name": HINDI_NAME}


def test_a_wrong_verifier_is_invalid_grant(client, learner, lms):
    client_id, secret = lms
    _verifier, challenge = pkce_pair()
    other_verifier, _ = pkce_pair()
    code = _code(client, client_id, challenge)
    response = _exchange(client, client_id, secret, code, other_verifier)
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_grant"
    assert db.session.scalar(select(OAuthToken.id)) is None


def test_a_reused_code_is_invalid_grant_and_revokes_what_it_gave(client, learner, lms):
    client_id, secret = lms
    verifier, challenge = pkce_pair()
    code = _code(client, client_id, challenge)
    first = _exchange(client, client_id, secret, code, verifier)
    assert first.status_code == 200
    second = _exchange(client, client_id, secret, code, verifier)
    assert second.status_code == 400 and second.get_json()["error"] == "invalid_grant"
    assert _me(client, first.get_json()["access_token"]).status_code == 401


def test_an_expired_code_is_invalid_grant(app, client, learner, lms):
    client_id, secret = lms
    verifier, challenge = pkce_pair()
    code = _code(client, client_id, challenge)
    issued = db.session.scalar(select(AuthorizationCode))
    assert issued.expires_at - issued.created_at == timedelta(minutes=10)
    # The service sees ten minutes and a second later: the code is not claimed.
    from ekatra.oauth.models import OAuthClient

    row = db.session.scalar(select(OAuthClient))
    assert services.claim_code(row, code, now=issued.created_at + timedelta(minutes=10, seconds=1)) is None
    # Over HTTP: the code issued eleven minutes ago.
    db.session.execute(update(AuthorizationCode).values(
        created_at=clock.now() - timedelta(minutes=11), expires_at=clock.now() - timedelta(minutes=1)))
    db.session.commit()
    response = _exchange(client, client_id, secret, code, verifier)
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_grant"


def test_a_wrong_redirect_uri_at_the_token_endpoint_is_invalid_grant(client, learner, partner):
    other = "https://lms.example.org/other"
    client_id, secret = learner_oauth_client(partner.id, redirect_uris=(REDIRECT_URI, other))
    verifier, challenge = pkce_pair()
    code = _code(client, client_id, challenge)
    response = _exchange(client, client_id, secret, code, verifier, redirect_uri=other)
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_grant"


def test_a_wrong_client_secret_is_invalid_client(client, learner, lms):
    client_id, _secret = lms
    verifier, challenge = pkce_pair()
    code = _code(client, client_id, challenge)
    response = _exchange(client, client_id, "not-the-secret", code, verifier, as_json=False)
    assert response.status_code == 401 and response.get_json()["error"] == "invalid_client"
    basic = client.post("/oauth/token", data={"grant_type": "authorization_code", "code": code,
                                              "redirect_uri": REDIRECT_URI, "code_verifier": verifier},
                        headers=_basic(client_id, "wrong"))
    assert basic.status_code == 401 and basic.get_json()["error"] == "invalid_client"


def test_another_client_cannot_use_my_code_or_refresh_token(client, partner, learner, lms):
    client_id, secret = lms
    thief_id, thief_secret = partner_oauth_client(partner.id, name="Thief")
    verifier, challenge = pkce_pair()
    code = _code(client, client_id, challenge)
    stolen = _exchange(client, thief_id, thief_secret, code, verifier)
    assert stolen.status_code == 400 and stolen.get_json()["error"] == "invalid_grant"
    tokens = _exchange(client, client_id, secret, code, verifier).get_json()
    refresh = _refresh(client, thief_id, thief_secret, tokens["refresh_token"])
    assert refresh.status_code == 400 and refresh.get_json()["error"] == "invalid_grant"
    peek = client.post("/oauth/introspect", data={"token": tokens["access_token"]},
                       headers=_basic(thief_id, thief_secret))
    assert peek.get_json() == {"active": False}
    assert _me(client, tokens["access_token"]).status_code == 200


def test_a_replayed_refresh_token_revokes_the_whole_family(client, learner, lms):
    client_id, secret = lms
    verifier, challenge = pkce_pair()
    first = _exchange(client, client_id, secret, _code(client, client_id, challenge), verifier).get_json()
    second = _refresh(client, client_id, secret, first["refresh_token"]).get_json()
    replay = _refresh(client, client_id, secret, first["refresh_token"])
    assert replay.status_code == 400 and replay.get_json()["error"] == "invalid_grant"
    assert _me(client, second["access_token"]).status_code == 401
    after = _refresh(client, client_id, secret, second["refresh_token"])
    assert after.get_json()["error"] == "invalid_grant"


def test_introspection_describes_my_own_token(client, learner, lms):
    client_id, secret = lms
    verifier, challenge = pkce_pair()
    tokens = _exchange(client, client_id, secret, _code(client, client_id, challenge), verifier).get_json()
    body = client.post("/oauth/introspect", data={"token": tokens["access_token"]},
                       headers=_basic(client_id, secret)).get_json()
    assert body["active"] is True and body["client_id"] == client_id
    assert body["sub"] == str(learner["db_user"]["id"]) and body["scope"] == "profile email courses"


def test_a_public_client_must_use_pkce_with_s256(client, partner, learner):
    client_id, _none = learner_oauth_client(partner.id, public=True)
    without = client.get(authorize_query(client_id, challenge=None))
    params = redirect_params(without)
    assert params["error"] == "invalid_request" and params["state"] == "xyz-state"
    plain = client.get(authorize_query(client_id, challenge=None, code_challenge="a" * 43,
                                       code_challenge_method="plain"))
    assert redirect_params(plain)["error"] == "invalid_request"
    verifier, challenge = pkce_pair()
    code = _code(client, client_id, challenge)
    no_verifier = _exchange(client, client_id, None, code, None)
    assert no_verifier.status_code == 400 and no_verifier.get_json()["error"] == "invalid_request"
    code = _code(client, client_id, challenge)
    tokens = _exchange(client, client_id, None, code, verifier)
    assert tokens.status_code == 200, tokens.get_json()


def test_the_me_endpoint_wants_a_learner_token(client, partner, lms):
    missing = client.get("/api/v1/me")
    assert missing.status_code == 401 and missing.headers["WWW-Authenticate"].startswith("Bearer")
    assert 'error="invalid_token"' in missing.headers["WWW-Authenticate"]
    wrong = _me(client, "not-a-token")
    assert wrong.status_code == 401 and 'error="invalid_token"' in wrong.headers["WWW-Authenticate"]
    assert "message" in wrong.get_json()
    partner_token = client_credentials_token(client, *lms)
    assert _me(client, partner_token).status_code == 401
