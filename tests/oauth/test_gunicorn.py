"""Log in with Ekatra through a real gunicorn with the shipped settings: the page, its cookie and
CSRF token, the code with PKCE, the JSON token request, /api/v1/me, refresh and revocation."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import requests

from ekatra import clock, create_app
from ekatra.extensions import db
from ekatra.oauth import services as oauth
from ekatra.partners import services as partners
from tests.conftest import test_environ
from tests.oauth.factories import REDIRECT_URI, authorize_query, csrf_of, pkce_pair
from tests.servers import gunicorn

PASSWORD = "learner password"


def _prepared_database(url: str) -> tuple[str, str]:
    """Migrate; a partner, its learner (a Hindi name), and its LMS registered as a client."""
    from flask_migrate import upgrade

    app = create_app(config={"TESTING": True}, environ=test_environ(url))
    with app.app_context():
        upgrade()
        partner = partners.create_partner(name="Acme LMS", now=clock.now()).partner
        partners.signup(partner, login="asha@example.org", full_name="आशा राव", password=PASSWORD,
                        source="Acme LMS", now=clock.now(), rounds=4)
        keys = oauth.create_client(name="Acme Moodle", partner_id=partner.id, redirect_uris=[REDIRECT_URI],
                                   grant_types=["authorization_code"], is_public=False, now=clock.now())
        db.engine.dispose()
    return keys.client_id, keys.client_secret


def test_code_with_pkce_end_to_end_through_gunicorn(tmp_path):
    url = f"sqlite:///{tmp_path / 'ekatra.db'}"
    client_id, secret = _prepared_database(url)
    verifier, challenge = pkce_pair()
    with gunicorn(tmp_path, test_environ(url)) as server, requests.Session() as http:
        http.trust_env = False
        authorize = server.base + authorize_query(client_id, challenge=challenge)
        page = http.get(authorize, timeout=10)
        assert page.status_code == 200, page.text
        assert "आशा" not in page.text and "Acme Moodle" in page.text  # nobody is signed in yet
        answer = http.post(authorize, data={"csrf_token": csrf_of(page.text), "login": "asha@example.org",
                                            "password": PASSWORD, "decision": "allow"},
                           allow_redirects=False, timeout=10)
        assert answer.status_code == 302, answer.text
        location = answer.headers["Location"]
        assert location.startswith(REDIRECT_URI + "?")
        params = dict(parse_qsl(urlsplit(location).query))
        assert params["state"] == "xyz-state"

        tokens = http.post(f"{server.base}/oauth/token", json={
            "grant_type": "authorization_code", "code": params["code"], "redirect_uri": REDIRECT_URI,
            "client_id": client_id, "client_secret": secret, "code_verifier": verifier}, timeout=10)
        assert tokens.status_code == 200, tokens.text
        access, refresh = tokens.json()["access_token"], tokens.json()["refresh_token"]

        me = http.get(f"{server.base}/api/v1/me", headers={"Authorization": f"Bearer {access}"}, timeout=10)
        assert me.status_code == 200, me.text
        assert me.json()["name"] == "आशा राव" and me.json()["courses"] == []

        replay = http.post(f"{server.base}/oauth/token", data={
            "grant_type": "authorization_code", "code": params["code"], "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier}, auth=(client_id, secret), timeout=10)
        assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
        # The replayed code revoked what it had given.
        gone = http.get(f"{server.base}/api/v1/me", headers={"Authorization": f"Bearer {access}"}, timeout=10)
        assert gone.status_code == 401 and 'error="invalid_token"' in gone.headers["WWW-Authenticate"]
        refreshed = http.post(f"{server.base}/oauth/token", data={
            "grant_type": "refresh_token", "refresh_token": refresh}, auth=(client_id, secret), timeout=10)
        assert refreshed.status_code == 400 and refreshed.json()["error"] == "invalid_grant"
