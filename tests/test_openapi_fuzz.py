"""Property-based run of the whole OpenAPI document: no input makes the API answer 500 or HTML."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from tests.factories import AuthorClient


@pytest.fixture
def api_schema(app):
    return schemathesis.openapi.from_wsgi("/openapi.json", app)


@pytest.fixture
def seeded_author(client) -> AuthorClient:
    """An author who owns a course and a group, so generated ids sometimes hit real rows."""
    author = AuthorClient.signup(client, "fuzz@example.org", "Fuzz")
    author.post("/api/course/", json={"name": "Seed", "author": "Fuzz", "description": "d",
                                      "days": [{"text": "Day one", "questions": [
                                          {"question": "2+2?", "type": "Q/A", "correct-answer": "4"}]}]})
    author.post("/api/group/", json={"name": "Seed", "description": "d", "students": [
        {"name": "Amit", "number": "+919113029491", "channel": "sms", "timezone": "Asia/Kolkata"}]})
    return author


@pytest.fixture
def seeded_partner_token(client, seeded_author) -> str:
    """A partner's OAuth bearer token (the Appsembler API's callers), with a learner account."""
    from tests.appsembler.factories import BearerClient

    partner = BearerClient.create(client, "Fuzz LMS")
    partner.create_account("fuzz01", "fuzz01@example.org")
    return partner.token


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_no_generated_request_gets_a_server_error_or_html(case, seeded_author, seeded_partner_token):
    headers = dict(case.headers or {})
    if "Authorization" not in headers:
        appsembler = case.path.startswith("/appsembler_api/")
        token = seeded_partner_token if appsembler else seeded_author.access_token
        headers["Authorization"] = f"Bearer {token}"
    case.headers = headers
    response = case.call()
    # /readyz documents its 503: no worker writes a heartbeat during this test.
    not_ready = case.path == "/readyz" and response.status_code == 503
    assert response.status_code < 500 or not_ready, (response.status_code, response.text[:500])
    if response.status_code >= 400:
        content_type = {k.lower(): v for k, v in response.headers.items()}.get("content-type", [""])
        assert content_type[0].startswith("application/json"), response.text[:200]
