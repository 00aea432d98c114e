"""Author signup, login, tokens, logout and password reset through the HTTP API."""

from __future__ import annotations

import re
from datetime import timedelta

from flask_jwt_extended import create_access_token, decode_token
from flask_jwt_extended.config import config as jwt_config

from ekatra import clock
from ekatra.auth import services
from ekatra.auth.tokens import VerifiedHeaders
from tests.factories import PASSWORD, AuthorClient


def test_signup_returns_id_and_login_returns_both_tokens(client):
    response = client.post("/api/auth/signup", json={
        "name": "Asha", "email": "Asha@Example.org", "contact": "9999999999", "password": PASSWORD})
    assert response.status_code == 200
    assert response.get_json()["message"] == "success"
    assert response.get_json()["id"].isdigit()

    response = client.post("/api/auth/login", json={"email": "asha@example.org", "password": PASSWORD})
    body = response.get_json()
    assert response.status_code == 200
    assert body["token"] == body["access_token"]
    assert body["refresh_token"] and body["refresh_token"] != body["access_token"]


def test_email_is_unique_regardless_of_case(client, author):
    response = client.post("/api/auth/signup", json={
        "name": "Again", "email": "AUTHOR@example.ORG", "password": PASSWORD})
    assert response.status_code == 409
    assert "email" in response.get_json()["errors"]


def test_password_length_rules(client):
    short = client.post("/api/auth/signup", json={"name": "A", "email": "a@x.org", "password": "short"})
    assert short.status_code == 400
    assert "password" in short.get_json()["errors"]
    too_long = client.post("/api/auth/signup", json={
        "name": "A", "email": "a@x.org", "password": "अ" * 25})  # 75 bytes in UTF-8
    assert too_long.status_code == 400


def test_signup_missing_fields_names_them(client):
    response = client.post("/api/auth/signup", json={"name": "A"})
    assert response.status_code == 400
    body = response.get_json()
    assert set(body["errors"]) == {"email", "password"}
    assert "email" in body["message"]


def test_wrong_password_and_unknown_email_look_the_same(client, author):
    wrong = client.post("/api/auth/login", json={"email": author.email, "password": "nope nope nope"})
    unknown = client.post("/api/auth/login", json={"email": "nobody@x.org", "password": PASSWORD})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.get_json() == unknown.get_json()


def test_protected_route_without_or_with_bad_token_is_401_json(client):
    assert client.get("/api/course/").status_code == 401
    response = client.get("/api/course/", headers={"Authorization": "Bearer not.a.token"})
    assert response.status_code == 401
    assert response.is_json and "message" in response.get_json()


def test_expired_token_is_refused(client, author):
    expired = create_access_token(identity=str(author.id), additional_claims={"sid": "x"},
                                  expires_delta=timedelta(seconds=-1))
    response = client.get("/api/course/", headers={"Authorization": f"Bearer {expired}"})
    assert response.status_code == 401
    assert "expired" in response.get_json()["message"]


def test_refresh_gives_a_working_access_token(client, author):
    response = client.post("/api/auth/refresh", headers={"Authorization": f"Bearer {author.refresh_token}"})
    assert response.status_code == 200
    token = response.get_json()["access_token"]
    assert client.get("/api/course/", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_access_token_cannot_refresh(client, author):
    response = client.post("/api/auth/refresh", headers=author.headers)
    assert response.status_code == 401


def test_logout_revokes_access_and_refresh_tokens(client, author):
    assert author.post("/api/auth/logout").status_code == 200
    assert author.get("/api/course/").status_code == 401
    refresh = client.post("/api/auth/refresh", headers={"Authorization": f"Bearer {author.refresh_token}"})
    assert refresh.status_code == 401
    assert "revoked" in refresh.get_json()["message"]


def test_logout_ends_only_that_login(client, author):
    second = AuthorClient.login(client, author.email)
    author.post("/api/auth/logout")
    assert second.get("/api/course/").status_code == 200


# A header the app accepted once is remembered (its signature is not checked again); these show
# that what can change is still checked on every request.


def test_an_accepted_token_is_refused_once_its_session_is_revoked(app, client, author):
    second = AuthorClient.login(client, author.email)
    assert author.get("/api/course/").status_code == second.get("/api/course/").status_code == 200
    assert author.post("/api/auth/logout").status_code == 200
    refused = author.get("/api/course/")
    assert refused.status_code == 401 and "revoked" in refused.get_json()["message"]
    assert second.get("/api/course/").status_code == 200

    client.post("/api/auth/forgot", json={"email": author.email})
    body = {"new-password": "a brand new one", "confirm-password": "a brand new one"}
    assert client.post(f"/api/auth/reset/{_reset_token(app)}", json=body).status_code == 200
    assert second.get("/api/course/").status_code == 401


def test_an_accepted_token_is_refused_once_it_expires(app, client, author):
    # A token accepted (and remembered) while it was valid, whose expiry has passed since.
    token = create_access_token(identity=str(author.id), additional_claims={"sid": _sid(author)},
                                expires_delta=timedelta(seconds=-1))
    header = f"Bearer {token}"
    app.extensions["ekatra.verified_headers"].remember(
        jwt_config.decode_key, header, decode_token(token, allow_expired=True))
    refused = client.get("/api/course/", headers={"Authorization": header})
    assert refused.status_code == 401 and "expired" in refused.get_json()["message"]


def test_an_accepted_token_still_works_only_where_its_type_does(client, author):
    refresh = {"Authorization": f"Bearer {author.refresh_token}"}
    assert client.post("/api/auth/refresh", headers=refresh).status_code == 200
    assert client.get("/api/course/", headers=refresh).status_code == 401
    assert author.get("/api/course/").status_code == 200
    assert client.post("/api/auth/refresh", headers=author.headers).status_code == 401


def test_remembered_headers_are_bounded_and_forget_the_oldest_first():
    remembered = VerifiedHeaders(size=2)
    for header in ("Bearer a", "Bearer b", "Bearer c"):
        remembered.remember("key", header, {"sub": header})
    assert len(remembered) == 2
    assert remembered.claims("key", "Bearer a") is None
    assert remembered.claims("key", "Bearer c") == {"sub": "Bearer c"}
    assert remembered.claims("another key", "Bearer c") is None


def _sid(author: AuthorClient) -> str:
    return decode_token(author.access_token)["sid"]


def _reset_token(app) -> str:
    to, _subject, body = app.extensions["ekatra.mailer"].sent[-1]
    return re.search(r"/api/auth/reset/(\S+)", body).group(1)


def test_forgot_never_reveals_the_token_or_the_account(app, client, author):
    known = client.post("/api/auth/forgot", json={"email": author.email})
    unknown = client.post("/api/auth/forgot", json={"email": "nobody@example.org"})
    assert known.status_code == unknown.status_code == 200
    assert known.get_json() == unknown.get_json()
    assert "token" not in known.get_json()
    assert len(app.extensions["ekatra.mailer"].sent) == 1
    assert app.extensions["ekatra.mailer"].sent[0][0] == author.email


def test_reset_password_is_single_use_and_ends_old_logins(app, client, author):
    client.post("/api/auth/forgot", json={"email": author.email})
    token = _reset_token(app)
    body = {"new-password": "a brand new one", "confirm-password": "a brand new one"}
    assert client.post(f"/api/auth/reset/{token}", json=body).status_code == 200
    assert client.post(f"/api/auth/reset/{token}", json=body).status_code == 404
    assert author.get("/api/course/").status_code == 401
    old = client.post("/api/auth/login", json={"email": author.email, "password": PASSWORD})
    assert old.status_code == 401
    AuthorClient.login(client, author.email, "a brand new one")


def test_reset_passwords_must_match(app, client, author):
    client.post("/api/auth/forgot", json={"email": author.email})
    response = client.post(f"/api/auth/reset/{_reset_token(app)}",
                           json={"new-password": "a brand new one", "confirm-password": "another one!"})
    assert response.status_code == 400
    assert "confirm-password" in response.get_json()["errors"]


def test_reset_link_expires_after_an_hour(app, client, author):
    client.post("/api/auth/forgot", json={"email": author.email})
    token = _reset_token(app)
    later = clock.now() + timedelta(hours=1, seconds=1)
    try:
        services.reset_password(token=token, new_password="a brand new one",
                                confirm_password="a brand new one", now=later, rounds=4)
    except services.NotFound:
        pass
    else:
        raise AssertionError("an expired reset link was accepted")


def test_non_json_body_is_415(client):
    response = client.post("/api/auth/login", data="email=a",
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415
    assert response.is_json


def test_malformed_json_is_400(client):
    response = client.post("/api/auth/login", data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.is_json


def test_unknown_path_and_wrong_method_are_json(client):
    missing = client.get("/api/nothing-here")
    assert missing.status_code == 404 and missing.is_json
    wrong = client.delete("/api/auth/login")
    assert wrong.status_code == 405 and wrong.is_json


def test_too_large_body_is_413(client):
    response = client.post("/api/auth/signup", data=b"{" + b" " * (1024 * 1024 + 10) + b"}",
                           content_type="application/json")
    assert response.status_code == 413
    assert response.is_json


def test_a_newer_reset_link_ends_the_older_one(app, client, author):
    client.post("/api/auth/forgot", json={"email": author.email})
    first = _reset_token(app)
    client.post("/api/auth/forgot", json={"email": author.email})
    second = _reset_token(app)
    body = {"new-password": "a brand new one", "confirm-password": "a brand new one"}
    assert client.post(f"/api/auth/reset/{first}", json=body).status_code == 404
    assert client.post(f"/api/auth/reset/{second}", json=body).status_code == 200


def test_a_completed_reset_ends_every_outstanding_link(app, client, author):
    from ekatra.auth.models import PasswordReset
    from ekatra.extensions import db

    client.post("/api/auth/forgot", json={"email": author.email})
    other = _reset_token(app)
    # A second link issued alongside the first (e.g. by a request racing it).
    client.post("/api/auth/forgot", json={"email": author.email})
    used = _reset_token(app)
    db.session.query(PasswordReset).update({"used_at": None})
    db.session.commit()
    body = {"new-password": "a brand new one", "confirm-password": "a brand new one"}
    assert client.post(f"/api/auth/reset/{used}", json=body).status_code == 200
    assert client.post(f"/api/auth/reset/{other}", json=body).status_code == 404


def test_without_smtp_production_logs_no_reset_link(app, client, author, caplog):
    from ekatra.auth.mail import UnsentMailer

    app.extensions["ekatra.mailer"] = UnsentMailer()
    with caplog.at_level("DEBUG"):
        assert client.post("/api/auth/forgot", json={"email": author.email}).status_code == 200
    assert "mail not sent" in caplog.text
    assert "/api/auth/reset/" not in caplog.text and author.email not in caplog.text


def test_without_smtp_development_prints_the_link_on_the_console_not_the_log(caplog):
    import io

    from ekatra.auth.mail import ConsoleMailer

    console = io.StringIO()
    with caplog.at_level("DEBUG"):
        ConsoleMailer(console).send("a@example.org", "Reset", "http://x/api/auth/reset/TOKEN\n")
    assert "api/auth/reset/TOKEN" in console.getvalue()
    assert "TOKEN" not in caplog.text
