"""The partner flow over HTTP through a real gunicorn with the production settings file: the
contract's `jwt_token` / `access_token` headers arrive, and their dash twins cannot spoof them."""

from __future__ import annotations

import pytest
import requests

from ekatra import clock, create_app
from ekatra.extensions import db
from ekatra.partners import services
from tests.conftest import test_environ
from tests.factories import AuthorClient
from tests.partners.factories import PartnerClient, running_delivery
from tests.servers import gunicorn as serve


def _prepared_database(url: str) -> dict:
    """Migrate; an author's running delivery shared with a partner, and two coupons for it."""
    from flask_migrate import upgrade

    app = create_app(config={"TESTING": True}, environ=test_environ(url))
    with app.app_context():
        upgrade()
        author = AuthorClient.signup(app.test_client(), "author@example.org", "Asha Author")
        keys = services.create_partner(name="Acme LMS", now=clock.now())
        partner = PartnerClient(app.test_client(), keys.partner.id, keys.access_key, keys.secret_key)
        delivery_id = running_delivery(author, partner)
        codes = partner.coupons(delivery_id, count=2)
        db.engine.dispose()
    return {"headers": partner.headers, "codes": codes}


@pytest.fixture
def gunicorn(tmp_path):
    url = f"sqlite:///{tmp_path / 'ekatra.db'}"
    prepared = _prepared_database(url)
    with serve(tmp_path, test_environ(url)) as server, requests.Session() as http:
        http.trust_env = False
        http.headers.update(prepared["headers"])
        yield server.base, http, prepared["codes"]


def test_the_partner_flow_works_through_gunicorn_with_the_contracts_headers(gunicorn):
    base, http, (code, spare) = gunicorn
    signup = http.post(f"{base}/api/partner/signup", json={
        "full_name": "Asha Rao", "id": "asha@example.org", "password": "learner password",
        "source": "Acme LMS", "phone": "+919876543210", "timezone": "Asia/Kolkata"})
    assert signup.status_code == 200, signup.text
    login = http.post(f"{base}/api/partner/login", json={"id": "asha@example.org",
                                                          "password": "learner password"})
    assert login.status_code == 200, login.text
    tokens = {"jwt_token": login.json()["jwt_token"], "access_token": login.json()["access_token"]}

    validated = http.post(f"{base}/api/partner/validate_cookie", headers=tokens)
    assert validated.status_code == 200, validated.text
    tokens = {name: validated.json()["data"][name] for name in ("jwt_token", "access_token")}

    spoofed = http.post(f"{base}/api/partner/apply_coupon", json={"coupon_code": code},
                        headers={**tokens, "jwt-token": signup.json()["jwt_token"]})
    assert spoofed.status_code == 400 and "disagree" in spoofed.json()["message"]
    forged = http.post(f"{base}/api/partner/apply_coupon", json={"coupon_code": code}, headers={
        "X-Ekatra-Underscore-Jwt-Token": tokens["jwt_token"],
        "X-Ekatra-Underscore-Access-Token": tokens["access_token"]})
    assert forged.status_code == 401, forged.text

    applied = http.post(f"{base}/api/partner/apply_coupon", json={"coupon_code": code}, headers=tokens)
    assert applied.status_code == 200, applied.text
    assert applied.json()["success"] is True and isinstance(applied.json()["data"]["id"], int)
    again = http.post(f"{base}/api/partner/apply_coupon", json={"coupon_code": spare}, headers=tokens)
    assert again.status_code == 409  # already enrolled: the tokens were read, the learner known


def test_the_dash_forms_work_through_gunicorn_too(gunicorn):
    base, http, _codes = gunicorn
    signup = http.post(f"{base}/api/partner/signup", json={
        "full_name": "Ravi", "id": "ravi@example.org", "password": "learner password"})
    assert signup.status_code == 200, signup.text
    dashed = {"jwt-token": signup.json()["jwt_token"], "access-token": signup.json()["access_token"]}
    assert http.post(f"{base}/api/partner/validate_cookie", headers=dashed).status_code == 200
