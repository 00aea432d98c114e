"""The Appsembler flow through a real gunicorn with the production settings file: a token from
the client-credentials grant over HTTP, then account → codes → enroll-user → analytics."""

from __future__ import annotations

import requests

from ekatra import clock, create_app
from ekatra.extensions import db
from ekatra.partners import services
from tests.conftest import test_environ
from tests.factories import AuthorClient
from tests.oauth.factories import partner_oauth_client
from tests.partners.factories import PartnerClient, running_delivery
from tests.servers import gunicorn


def _prepared_database(url: str) -> dict:
    """Migrate; a partner with an OAuth client, and an author's running delivery shared with it."""
    from flask_migrate import upgrade

    app = create_app(config={"TESTING": True}, environ=test_environ(url))
    with app.app_context():
        upgrade()
        client = app.test_client()
        author = AuthorClient.signup(client, "author@example.org", "Asha Author")
        keys = services.create_partner(name="Acme LMS", now=clock.now())
        client_id, secret = partner_oauth_client(keys.partner.id)
        partner = PartnerClient(client, keys.partner.id, keys.access_key, keys.secret_key)
        delivery_id = running_delivery(author, partner)
        key = author.get(f"/api/delivery/{delivery_id}").get_json()["course_key"]
        db.engine.dispose()
    return {"client_id": client_id, "client_secret": secret, "course_key": key}


def test_the_appsembler_flow_works_through_gunicorn(tmp_path):
    url = f"sqlite:///{tmp_path / 'ekatra.db'}"
    prepared = _prepared_database(url)
    with gunicorn(tmp_path, test_environ(url)) as server, requests.Session() as http:
        http.trust_env = False
        api = f"{server.base}/appsembler_api/v0"
        assert http.get(f"{api}/analytics/accounts/batch").json() == {
            "detail": "Authentication credentials were not provided."
        }
        token = http.post(
            f"{server.base}/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": prepared["client_id"],
                "client_secret": prepared["client_secret"],
                "scope": "partner",
            },
        )
        assert token.status_code == 200, token.text
        http.headers["Authorization"] = f"Bearer {token.json()['access_token']}"

        created = http.post(
            f"{api}/accounts/create",
            json={
                "username": "asha55",
                "password": "learner password",
                "email": "asha55@example.org",
                "name": "Asha Rao",
                "send_activation_email": "False",
                "phone": "+919876543210",
                "timezone": "Asia/Kolkata",
            },
        )
        assert created.status_code == 200, created.text
        user_id = created.json()["user_id "]
        codes = http.post(
            f"{api}/enrollment-codes/generate",
            json={"course_id": prepared["course_key"], "total_registration_codes": "2"},
        )
        assert codes.status_code == 200, codes.text
        enrolled = http.post(
            f"{api}/enrollment-codes/enroll-user",
            json={"email": "asha55@example.org", "enrollment_code": codes.json()["codes"][0]},
        )
        assert enrolled.status_code == 200 and enrolled.json() == {"success": True}

        accounts = http.get(f"{api}/analytics/accounts/batch")
        assert [(row["id"], row["username"], row["is_active"]) for row in accounts.json()] == [
            (user_id, "asha55", True)
        ]
        enrollments = http.get(
            f"{api}/analytics/enrollment/batch", params={"course_id": prepared["course_key"]}
        )
        assert enrollments.status_code == 200, enrollments.text
        assert [(row["user_id"], row["course_id"]) for row in enrollments.json()] == [
            (user_id, prepared["course_key"])
        ]
        assert enrollments.headers["X-Total-Count"] == "1"
