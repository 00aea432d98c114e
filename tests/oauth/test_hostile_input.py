"""Whatever arrives at the OAuth endpoints and the page, the answer is an RFC error or the page's
own error, never a 500 and never a redirect to an unchecked place."""

from __future__ import annotations

import base64

import pytest

from ekatra import clock
from ekatra.partners import services as partners
from tests.oauth.factories import partner_oauth_client


@pytest.fixture
def lms(app):
    partner = partners.create_partner(name="Acme LMS", now=clock.now()).partner
    return partner_oauth_client(partner.id)


@pytest.mark.parametrize("body", [
    {"data": {"grant_type": "authorization_code", "code": "a\x00b", "code_verifier": "\x00"}},
    {"data": '{"grant_type": "client_credentials", "client_id": "\\udc00", "client_secret": "x"}',
     "content_type": "application/json"},
    {"json": [1, 2]},
    {"json": {"grant_type": ["client_credentials"]}},
    {"data": {"grant_type": "client_credentials"},
     "headers": {"Authorization": "Basic " + base64.b64encode(b"\xff\xfe:\xff").decode()}},
    {"data": {"grant_type": "client_credentials"}, "headers": {"Authorization": "Basic %%%"}},
    {"data": {"grant_type": "refresh_token", "refresh_token": "\x00"}},
    {"data": {"grant_type": "client_credentials", "client_id": "x" * 10000, "client_secret": "y"}},
    {"data": {"grant_type": "zzz<>\"'\\"}},
])
def test_bad_token_requests_get_an_rfc_error(client, lms, body):
    client_id, secret = lms
    response = client.post("/oauth/token", **body)
    assert response.status_code in (400, 401)
    assert response.get_json()["error"] in {"invalid_request", "invalid_client", "invalid_grant",
                                            "unsupported_grant_type"}


@pytest.mark.parametrize("query", [
    "client_id=%00&response_type=code",
    "client_id={cid}&response_type=code&redirect_uri=%00",
    "client_id={cid}&response_type=code&redirect_uri=%22x%5C",
    "client_id={cid}&response_type=c%C3%A9",
    "client_id={cid}&response_type=code&redirect_uri=https://l%C3%A9.org/cb",
    "client_id={cid}&response_type=code&client_id=other",
    "",
])
def test_bad_authorize_links_are_explained_on_the_page(client, lms, query):
    response = client.get("/oauth/authorize?" + query.format(cid=lms[0]))
    assert response.status_code == 400 and "Location" not in response.headers
    assert response.mimetype == "text/html"


@pytest.mark.parametrize("path", ["/oauth/revoke", "/oauth/introspect"])
def test_revocation_and_introspection_refuse_garbage_and_strangers(client, lms, path):
    client_id, secret = lms
    basic = {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}
    assert client.post(path, data={"token": "\x00"}, headers=basic).status_code == 400
    assert client.post(path, data={}, headers=basic).get_json()["error"] == "invalid_request"
    stranger = client.post(path, data={"token": "anything"})
    assert stranger.status_code in (400, 401) and stranger.get_json()["error"] == "invalid_client"
