"""Partner keys, learner signup/login/validate_cookie (the contract's shapes), profile updates."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from ekatra import clock
from ekatra.auth import services as author_services
from ekatra.errors import Unauthorized
from ekatra.extensions import db
from ekatra.partners import services
from ekatra.partners.models import Partner
from tests.partners.factories import LEARNER_PASSWORD, PartnerClient

DB_USER_FIELDS = {"email", "id", "idp_user_id", "is_email_verified", "is_mobile_number_verified",
                  "mobile_number", "name", "partner_id", "source"}


def test_cli_creates_a_partner_and_prints_the_keys_once(app):
    result = app.test_cli_runner().invoke(args=["partner", "create", "Acme LMS", "--json"])
    assert result.exit_code == 0, result.output
    keys = json.loads(result.output)
    partner = Partner.query.filter_by(access_key=keys["access_key"]).one()
    assert partner.name == "Acme LMS" and keys["secret_key"] not in partner.secret_hash
    assert services.authenticate_partner(keys["access_key"], keys["secret_key"]).id == partner.id


def test_only_admins_create_partners_through_the_api(client, author):
    assert author.post("/api/partner/partners", json={"name": "Acme"}).status_code == 403
    author_services.make_admin(email=author.email, name=None, password=None, now=clock.now())
    response = author.post("/api/partner/partners", json={"name": "Acme"})
    assert response.status_code == 201
    body = response.get_json()
    headers = {"ST-ACCESS-KEY": body["access_key"], "ST-SECRET-KEY": body["secret_key"]}
    assert client.post("/api/partner/get_user_details", headers=headers,
                       json={"user_emails": ["x@example.org"]}).status_code == 200


def test_calls_without_the_right_keys_are_refused_with_json(client):
    partner = PartnerClient.create(client)
    body = {"full_name": "A", "id": "a@example.org", "password": LEARNER_PASSWORD}
    for headers in ({}, {"ST-ACCESS-KEY": partner.access_key},
                    {"ST-ACCESS-KEY": partner.access_key, "ST-SECRET-KEY": "wrong"},
                    {"ST-ACCESS-KEY": "unknown", "ST-SECRET-KEY": partner.secret_key}):
        response = client.post("/api/partner/signup", headers=headers, json=body)
        assert response.status_code == 401 and "message" in response.get_json()


def test_access_secret_in_the_body_stands_for_the_secret_header(client):
    partner = PartnerClient.create(client)
    response = client.post("/api/partner/get_user_details", headers={"ST-ACCESS-KEY": partner.access_key},
                           json={"access_secret": partner.secret_key, "user_emails": ["a@example.org"]})
    assert response.status_code == 200


def test_signup_answers_with_tokens_and_the_db_user(client):
    partner = PartnerClient.create(client)
    body = partner.signup("Asha@Example.org")
    assert body["success"] is True and body["access_token"] and body["jwt_token"].count(".") == 2
    assert set(body["db_user"]) >= DB_USER_FIELDS
    assert body["db_user"]["email"] == "asha@example.org" and body["db_user"]["partner_id"] == partner.id
    assert body["db_user"]["name"] == "Asha Rao" and body["db_user"]["source"] == "Acme LMS"


def test_signup_with_a_phone_id_keeps_the_phone_in_e164(client):
    partner = PartnerClient.create(client)
    body = partner.signup("+91 98123 45678")
    assert body["db_user"]["mobile_number"] == "+919812345678" and body["db_user"]["email"] is None


def test_signup_twice_with_one_id_is_a_conflict_but_another_partner_may(client):
    partner, other = PartnerClient.create(client), PartnerClient.create(client, "Other")
    partner.signup()
    response = partner.post("/signup", json={"full_name": "A", "id": "ASHA@example.org",
                                             "password": LEARNER_PASSWORD})
    assert response.status_code == 409
    other.signup()


def test_signup_with_a_bad_id_or_short_password_is_a_400(client):
    partner = PartnerClient.create(client)
    assert partner.post("/signup", json={"full_name": "A", "id": "12345",
                                         "password": LEARNER_PASSWORD}).status_code == 400
    assert partner.post("/signup", json={"full_name": "A", "id": "a@example.org",
                                         "password": "short"}).status_code == 400


def test_login_answers_with_the_contract_shape(client):
    partner = PartnerClient.create(client)
    partner.signup()
    response = partner.post("/login", json={"id": "asha@example.org", "password": LEARNER_PASSWORD})
    assert response.status_code == 200
    body = response.get_json()
    assert {"access_token", "db_user", "jwt_token", "success", "user"} <= set(body)
    assert body["user"]["emails"] == ["asha@example.org"]
    assert body["user"]["id"] == body["db_user"]["idp_user_id"]
    assert body["user"]["name"] == {"familyName": "Asha Rao", "givenName": "Asha"}


def test_wrong_password_is_a_401_and_five_failures_lock_the_login_for_a_while(client):
    partner = PartnerClient.create(client)
    partner.signup()
    wrong = {"id": "asha@example.org", "password": "wrong one"}
    for _ in range(5):
        assert partner.post("/login", json=wrong).status_code == 401
    response = partner.post("/login", json={"id": "asha@example.org", "password": LEARNER_PASSWORD})
    assert response.status_code == 429 and "message" in response.get_json()
    later = clock.now() + timedelta(minutes=16)
    account, _, _ = services.login(db.session.get(Partner, partner.id), login="asha@example.org",
                                   password=LEARNER_PASSWORD, now=later, ttl=timedelta(hours=1))
    assert account.email == "asha@example.org"


def test_validate_cookie_gives_fresh_tokens_and_the_old_pair_stops_working(client):
    partner = PartnerClient.create(client)
    tokens = partner.signup()
    headers = {"jwt_token": tokens["jwt_token"], "access_token": tokens["access_token"]}
    response = partner.post("/validate_cookie", headers=headers)
    assert response.status_code == 200
    body = response.get_json()
    assert body["success"] is True and body["data"]["success"] is True
    assert {"access_token", "db_user", "jwt_token", "user"} <= set(body["data"])
    assert body["data"]["access_token"] != tokens["access_token"]
    assert partner.post("/validate_cookie", headers=headers).status_code == 401
    fresh = {"jwt_token": body["data"]["jwt_token"], "access_token": body["data"]["access_token"]}
    assert partner.post("/validate_cookie", headers=fresh).status_code == 200


def test_mismatched_missing_or_expired_tokens_are_a_401(client):
    partner = PartnerClient.create(client)
    first, second = partner.signup(), partner.signup("b@example.org")
    for headers in ({}, {"jwt_token": first["jwt_token"], "access_token": second["access_token"]},
                    {"jwt_token": "not.a.jwt", "access_token": first["access_token"]}):
        assert partner.post("/validate_cookie", headers=headers).status_code == 401
    session_id = _claims(first["jwt_token"])["sid"]
    later = clock.now() + timedelta(hours=2)
    with pytest.raises(Unauthorized):
        services.learner_for_tokens(db.session.get(Partner, partner.id), session_id,
                                    first["access_token"], later)


def _claims(jwt_token: str) -> dict:
    from flask_jwt_extended import decode_token

    return decode_token(jwt_token)


def test_learner_and_author_tokens_do_not_cross(client, author):
    partner = PartnerClient.create(client)
    tokens = partner.signup()
    learner_bearer = {"Authorization": f"Bearer {tokens['jwt_token']}"}
    assert client.get("/api/course/", headers=learner_bearer).status_code == 401
    as_learner = {"jwt_token": author.access_token, "access_token": tokens["access_token"]}
    assert partner.post("/validate_cookie", headers=as_learner).status_code == 401


def test_a_partner_updates_phone_channel_timezone_and_name(client):
    partner = PartnerClient.create(client)
    user_id = partner.signup()["db_user"]["id"]
    response = partner.patch(f"/users/{user_id}", json={"phone": "09812345678", "country_code": "+91",
                                                        "channel": "WhatsApp", "timezone": "asia/kolkata",
                                                        "full_name": "Asha R."})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["mobile_number"], body["channel"], body["timezone"], body["name"]) == (
        "+919812345678", "whatsapp", "Asia/Kolkata", "Asha R.")
    bad = partner.patch(f"/users/{user_id}", json={"phone": "12", "timezone": "Mars/Base"})
    assert bad.status_code == 400 and {"phone", "timezone"} <= set(bad.get_json()["errors"])


def test_a_partner_cannot_see_or_change_another_partners_learners(client):
    partner, other = PartnerClient.create(client), PartnerClient.create(client, "Other")
    user_id = partner.signup()["db_user"]["id"]
    assert other.patch(f"/users/{user_id}", json={"full_name": "Mallory"}).status_code == 404
    credentials = {"id": "asha@example.org", "password": LEARNER_PASSWORD}
    assert other.post("/login", json=credentials).status_code == 401
    tokens = partner.post("/login", json={"id": "asha@example.org", "password": LEARNER_PASSWORD}).get_json()
    headers = {"jwt_token": tokens["jwt_token"], "access_token": tokens["access_token"]}
    assert other.post("/validate_cookie", headers=headers).status_code == 401
    details = other.post("/get_user_details", json={"user_emails": ["asha@example.org"]}).get_json()
    assert details["data"] == [{"db_user": None, "email": "asha@example.org", "idp_user": None}]


def test_get_user_details_answers_in_the_contract_shape(client):
    partner = PartnerClient.create(client)
    partner.signup(phone="+919812345678")
    response = partner.post("/get_user_details", json={"access_secret": partner.secret_key,
                                                       "user_emails": ["ASHA@example.org"]})
    assert response.status_code == 200
    body = response.get_json()
    assert body["success"] is True
    (entry,) = body["data"]
    assert entry["email"] == "ASHA@example.org"
    assert entry["db_user"]["email"] == "asha@example.org" and entry["db_user"]["idp_user_name"]
    assert entry["idp_user"]["is_associated_to_db_user"] is True
    assert entry["idp_user"]["phoneNumbers"] == [{"type": "mobile", "value": "+919812345678"}]
