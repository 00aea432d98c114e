"""Who may call the Appsembler API: the contract's 401s, one partner's token sees nothing of
another's, and the rate limits (per partner, and enroll-user per learner) in DRF's words."""

from __future__ import annotations

import pytest

from tests.appsembler.factories import API, BearerClient, shared_course

ROUTES = [
    ("post", "/accounts/create"),
    ("post", "/accounts/user_without_password"),
    ("post", "/accounts/connect"),
    ("post", "/accounts/update_user"),
    ("get", "/accounts/get-user/asha55"),
    ("post", "/enrollment-codes/generate"),
    ("post", "/enrollment-codes/enroll-user"),
    ("post", "/enrollment-codes/status"),
    ("post", "/bulk-enrollment/bulk-enroll"),
    ("get", "/analytics/accounts/batch"),
    ("get", "/analytics/enrollment/batch"),
]


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_without_a_token_every_route_says_credentials_were_not_provided(client, method, path):
    response = getattr(client, method)(f"{API}{path}", json={})
    assert response.status_code == 401
    assert response.get_json() == {"detail": "Authentication credentials were not provided."}
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_an_unknown_token_is_an_invalid_token(client, method, path):
    response = getattr(client, method)(f"{API}{path}", json={}, headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401
    assert response.get_json() == {"detail": "Invalid Token."}


def test_a_revoked_token_and_an_author_token_are_invalid(client, author):
    partner = BearerClient.create(client)
    assert partner.get("/analytics/accounts/batch").status_code == 200
    revoked = client.post(
        "/oauth/revoke",
        data={"token": partner.token, "client_id": partner.client_id, "client_secret": partner.client_secret},
    )
    assert revoked.status_code == 200
    response = partner.get("/analytics/accounts/batch")
    assert response.status_code == 401 and response.get_json() == {"detail": "Invalid Token."}
    response = client.get(f"{API}/analytics/accounts/batch", headers=author.headers)
    assert response.status_code == 401 and response.get_json() == {"detail": "Invalid Token."}


def test_partner_key_headers_or_basic_auth_are_no_credentials_here(client):
    partner = BearerClient.create(client)
    response = client.get(f"{API}/analytics/accounts/batch", headers=partner.partner.headers)
    assert response.get_json() == {"detail": "Authentication credentials were not provided."}
    response = client.get(f"{API}/analytics/accounts/batch", headers={"Authorization": "Basic YTpi"})
    assert response.status_code == 401
    assert response.get_json() == {"detail": "Authentication credentials were not provided."}


def test_a_partner_sees_nothing_of_another_partners_learners_codes_or_enrollments(client, author):
    acme, rival = BearerClient.create(client, "Acme LMS"), BearerClient.create(client, "Rival LMS")
    key = shared_course(author, acme)
    acme.learner_with_phone()
    (code,) = acme.codes(key)
    assert acme.post(
        "/enrollment-codes/enroll-user", json={"email": "asha55@example.org", "enrollment_code": code}
    ).get_json() == {"success": True}

    assert rival.get("/accounts/get-user/asha55").status_code == 404
    assert rival.get("/accounts/get-user/asha55").get_json() == {"detail": "Not found."}
    assert rival.post("/accounts/connect", json={"username": "asha55", "name": "Hijacked"}).status_code == 404
    assert (
        rival.post(
            "/accounts/update_user", json={"user_lookup": "asha55@example.org", "name": "Hijacked"}
        ).status_code
        == 404
    )
    assert rival.get("/analytics/accounts/batch").get_json() == []
    assert rival.get("/analytics/enrollment/batch").get_json() == []
    assert rival.get("/analytics/enrollment/batch", query_string={"course_id": key}).status_code == 404
    # Not shared with the rival: its key is not found, for codes and bulk enrollment alike.
    generate = rival.post(
        "/enrollment-codes/generate", json={"course_id": key, "total_registration_codes": 1}
    )
    assert generate.status_code == 404 and generate.get_json() == {"detail": "Not found."}
    bulk = rival.post(
        "/bulk-enrollment/bulk-enroll", json={"action": "unenroll", "identifiers": "asha55", "courses": key}
    )
    assert bulk.status_code == 404 and bulk.get_json() == {"detail": "Not found."}
    status = rival.post("/enrollment-codes/status", json={"enrollment_code": code, "action": "cancel"})
    assert status.status_code == 400
    assert status.get_json() == {"success": False, "reason": f"The enrollment code ({code}) was not found"}
    # The rival's own learner with the same email cannot use acme's code either.
    rival.learner_with_phone()
    (spare,) = acme.codes(key)
    refused = rival.post(
        "/enrollment-codes/enroll-user", json={"email": "asha55@example.org", "enrollment_code": spare}
    )
    assert refused.get_json() == {"success": False, "reason": "Enrollment code not found"}
    assert acme.get("/accounts/get-user/asha55").get_json()["user_id"] == "asha55"
    assert [row["username"] for row in acme.get("/analytics/enrollment/batch").get_json()] == ["asha55"]


def test_enroll_user_is_throttled_per_learner_at_six_a_minute(client, author):
    partner = BearerClient.create(client)
    key = shared_course(author, partner)
    partner.learner_with_phone()
    partner.learner_with_phone("ravi58", "ravi58@example.org", "+919812340000")
    (code,) = partner.codes(key)
    for _ in range(6):
        response = partner.post(
            "/enrollment-codes/enroll-user", json={"email": "ASHA55@example.org", "enrollment_code": "nope"}
        )
        assert response.status_code == 400
    throttled = partner.post(
        "/enrollment-codes/enroll-user", json={"email": "asha55@example.org", "enrollment_code": code}
    )
    assert throttled.status_code == 429
    body = throttled.get_json()["detail"]
    assert body.startswith("Request was throttled. Expected available in ") and body.endswith(" seconds.")
    seconds = int(body.split(" in ")[1].split()[0])
    assert 1 <= seconds <= 60 and throttled.headers["Retry-After"] == str(seconds)
    # Another learner of the same partner is not held back.
    other = partner.post(
        "/enrollment-codes/enroll-user", json={"email": "ravi58@example.org", "enrollment_code": code}
    )
    assert other.get_json() == {"success": True}


def test_the_per_partner_limit_counts_bearer_callers_too(app, client):
    partner = BearerClient.create(client)
    app.config["RATE_LIMIT_PER_PARTNER"] = "3/minute"
    try:
        statuses = [partner.get("/analytics/accounts/batch").status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        throttled = partner.get("/analytics/accounts/batch")
        assert throttled.get_json()["detail"].startswith("Request was throttled. Expected available in ")
        other = BearerClient.create(client, "Other LMS")  # counted per partner
        assert other.get("/analytics/accounts/batch").status_code == 200
    finally:
        app.config["RATE_LIMIT_PER_PARTNER"] = "1000000/minute"


def test_a_body_that_is_not_json_is_a_400_in_drf_words(client):
    partner = BearerClient.create(client)
    response = client.post(
        f"{API}/enrollment-codes/status",
        data="{not json",
        headers={**partner.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 400 and set(response.get_json()) == {"detail"}
    response = client.post(
        f"{API}/accounts/create", data="[1]", headers={**partner.headers, "Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.get_json() == {"user_message": "Wrong parameters on user creation"}
