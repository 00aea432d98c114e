"""The /oauth/authorize page: who may sign in, CSRF, limits, errors shown or sent back, headers."""

from __future__ import annotations

import pytest

from tests.oauth.factories import (
    REDIRECT_URI,
    authorize_query,
    csrf_of,
    learner_oauth_client,
    log_in_and_consent,
    partner_oauth_client,
    pkce_pair,
    redirect_params,
)
from tests.partners.factories import LEARNER_PASSWORD, PartnerClient


@pytest.fixture
def partner(client):
    return PartnerClient.create(client)


@pytest.fixture
def lms(partner):
    partner.signup("asha@example.org", name="आशा राव")
    return partner_oauth_client(partner.id, name="अकादमी LMS")


def test_the_page_is_an_accessible_form_with_a_strict_policy(client, lms):
    _verifier, challenge = pkce_pair()
    page = client.get(authorize_query(lms[0], challenge=challenge))
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert "अकादमी LMS" in html and 'name="viewport"' in html
    assert '<label for="login">' in html and '<label for="password">' in html
    assert "Your courses and your progress in them" in html and "<script" not in html
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "form-action 'self' https://lms.example.org" in policy
    assert "frame-ancestors 'none'" in policy and page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["Cache-Control"] == "no-store"
    cookie = page.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie


def test_cancel_sends_access_denied_with_the_state(client, lms):
    _verifier, challenge = pkce_pair()
    response = log_in_and_consent(client, authorize_query(lms[0], challenge=challenge, state="s 1/2"),
                                  login="", password="", decision="deny")
    params = redirect_params(response)
    assert params["error"] == "access_denied" and params["state"] == "s 1/2" and "code" not in params


def test_a_post_without_the_pages_csrf_token_is_refused(client, lms):
    _verifier, challenge = pkce_pair()
    query = authorize_query(lms[0], challenge=challenge)
    client.get(query)
    response = client.post(query, data={"csrf_token": "forged", "login": "asha@example.org",
                                        "password": LEARNER_PASSWORD, "decision": "allow"})
    assert response.status_code == 403 and "Location" not in response.headers


def test_an_unregistered_redirect_uri_is_shown_on_the_page_not_followed(client, lms):
    response = client.get(authorize_query(lms[0], challenge=None, redirect_uri="https://evil.example/cb"))
    assert response.status_code == 400 and "Location" not in response.headers
    assert "This sign-in link does not work" in response.get_data(as_text=True)
    unknown = client.get(authorize_query("ec_nobody", challenge=None))
    assert unknown.status_code == 400 and "Location" not in unknown.headers


def test_errors_after_the_redirect_uri_is_known_go_back_to_the_client(client, lms):
    bad_scope = client.get(authorize_query(lms[0], challenge=None, scope="profile partner"))
    params = redirect_params(bad_scope)
    assert params["error"] == "invalid_scope" and params["state"] == "xyz-state"
    bad_type = client.get(authorize_query(lms[0], challenge=None, response_type="token"))
    assert redirect_params(bad_type)["error"] == "unsupported_response_type"
    assert bad_type.headers["Location"].startswith(REDIRECT_URI)


def test_a_wrong_password_shows_the_page_again_and_the_sixth_try_is_limited(client, lms):
    _verifier, challenge = pkce_pair()
    query = authorize_query(lms[0], challenge=challenge)
    for _ in range(5):
        wrong = log_in_and_consent(client, query, login="asha@example.org", password="wrong password")
        assert wrong.status_code == 401
        assert "Either id or password is incorrect" in wrong.get_data(as_text=True)
    limited = log_in_and_consent(client, query, login="asha@example.org", password=LEARNER_PASSWORD)
    assert limited.status_code == 429 and "Location" not in limited.headers


def test_many_login_ids_tried_from_one_address_are_limited_too(client, lms):
    _verifier, challenge = pkce_pair()
    query = authorize_query(lms[0], challenge=challenge)
    for number in range(30):  # each id fails once: the per-id count never sees the pattern
        tried = log_in_and_consent(client, query, login=f"guess{number}@example.org", password="guess")
        assert tried.status_code == 401
    # The count is a sliding-window counter: tries that straddle a minute's boundary weigh a
    # little less, so on a slow machine one or two more may pass before the limit shows.
    extra = 0
    while tried.status_code == 401 and extra < 3:
        extra += 1
        tried = log_in_and_consent(client, query, login=f"more{extra}@example.org", password="guess")
    assert tried.status_code == 429
    limited = log_in_and_consent(client, query, login="asha@example.org", password=LEARNER_PASSWORD)
    assert limited.status_code == 429 and "Location" not in limited.headers
    assert "Too many sign-ins from your network" in limited.get_data(as_text=True)


def test_another_partners_learner_cannot_sign_in_through_this_partners_client(client, lms):
    other = PartnerClient.create(client, name="Other LMS")
    other.signup("ravi@example.org", name="Ravi")
    _verifier, challenge = pkce_pair()
    response = log_in_and_consent(client, authorize_query(lms[0], challenge=challenge),
                                  login="ravi@example.org", password=LEARNER_PASSWORD)
    assert response.status_code == 401 and "Location" not in response.headers


def test_a_client_without_a_partner_accepts_any_partners_learner(client, lms):
    other = PartnerClient.create(client, name="Other LMS")
    other.signup("ravi@example.org", name="Ravi")
    client_id, _secret = learner_oauth_client(None, name="Ekatra app")
    _verifier, challenge = pkce_pair()
    for login in ("asha@example.org", "ravi@example.org"):
        response = log_in_and_consent(client, authorize_query(client_id, challenge=challenge),
                                      login=login, password=LEARNER_PASSWORD)
        assert "code" in redirect_params(response)


def test_the_page_works_with_the_login_form_fields_only(client, lms):
    _verifier, challenge = pkce_pair()
    query = authorize_query(lms[0], challenge=challenge)
    page = client.get(query)
    empty = client.post(query, data={"csrf_token": csrf_of(page.get_data(as_text=True)), "decision": "allow"})
    assert empty.status_code == 400 and "Enter your email" in empty.get_data(as_text=True)


def test_the_discovery_document_names_the_endpoints(client):
    body = client.get("/.well-known/oauth-authorization-server").get_json()
    assert body["issuer"] == "http://ekatra.test"
    assert body["token_endpoint"] == "http://ekatra.test/oauth/token"
    assert body["code_challenge_methods_supported"] == ["S256"]
    assert set(body["scopes_supported"]) == {"profile", "email", "courses", "partner"}


def test_a_login_id_known_to_two_partners_cannot_sign_in_through_a_client_without_a_partner(client, lms):
    other = PartnerClient.create(client, name="Other LMS")
    other.signup("asha@example.org", name="Asha elsewhere")
    client_id, _secret = learner_oauth_client(None, name="Ekatra app")
    _verifier, challenge = pkce_pair()
    response = log_in_and_consent(client, authorize_query(client_id, challenge=challenge),
                                  login="asha@example.org", password=LEARNER_PASSWORD)
    assert response.status_code == 401 and "Location" not in response.headers
