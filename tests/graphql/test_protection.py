"""Limits (tokens, depth, aliases, cost), error codes without internals, introspection, the
Idempotency-Key and rate-limit conventions, and GraphiQL served without a CDN."""

from __future__ import annotations

import re

import pytest
from graphql import get_introspection_query

from ekatra.graphql import limits
from ekatra.graphql.loaders import Loaders
from tests.graphql.helpers import enrolled_learner, graphql


def _code(body) -> str:
    return body["errors"][0]["extensions"]["code"]


def test_a_query_deeper_than_the_limit_is_refused_before_it_runs(client, author):
    nested = "{ deliveries { edges { node { course { days { questions { id } } } } } } }"
    assert "errors" not in graphql(client, "/graphql", nested, headers=author.headers)[1]
    deep = "{ id }"
    for _ in range(limits.MAX_DEPTH):
        deep = "{ edges { node { group { students " + deep + " } } } }"
    status, body = graphql(client, "/graphql", "{ deliveries " + deep + " }", headers=author.headers)
    assert status == 200 and body["data"] is None and _code(body) == limits.TOO_DEEP


def test_too_many_aliases_are_refused(client, author):
    aliased = (f"a{n}: courses {{ edges {{ cursor }} }}" for n in range(limits.MAX_ALIASES + 1))
    query = "{ " + " ".join(aliased) + " }"
    status, body = graphql(client, "/graphql", query, headers=author.headers)
    assert status == 200 and _code(body) == limits.TOO_MANY_ALIASES
    assert "at most 30" in body["errors"][0]["message"]


def test_a_query_whose_estimated_cost_is_too_high_is_refused(client, author):
    query = """{ deliveries(first: 500) { edges { node { learners(first: 500) {
      edges { node { messages(first: 500) { edges { node { id body } } } } } } } } } }"""
    status, body = graphql(client, "/graphql", query, headers=author.headers)
    assert status == 200 and _code(body) == limits.TOO_COSTLY
    fine = "{ deliveries(first: 50) { edges { node { learners(first: 100) { edges { node { id } } } } } } }"
    assert "errors" not in graphql(client, "/graphql", fine, headers=author.headers)[1]


def test_a_query_of_too_many_tokens_is_not_parsed(client, author):
    query = "{ " + " ".join("courses { edges { cursor } }" for _ in range(limits.MAX_TOKENS // 6)) + " }"
    status, body = graphql(client, "/graphql", query, headers=author.headers)
    assert status == 200 and _code(body) == limits.TOO_MANY_TOKENS


@pytest.mark.parametrize("path", ["/graphql", "/v1/graphql"])
def test_introspection_is_allowed_despite_its_depth(client, author, path):
    learner = enrolled_learner(client, author)
    headers = author.headers if path == "/graphql" else learner.partner.headers
    status, body = graphql(client, path, get_introspection_query(descriptions=True), headers=headers)
    assert status == 200 and "errors" not in body and body["data"]["__schema"]["types"]


def test_an_unexpected_failure_is_an_error_with_a_code_not_a_500_or_internals(client, author, monkeypatch):
    def broken(self, course_id):
        raise RuntimeError("SELECT secret FROM internals")

    monkeypatch.setattr(Loaders, "course", broken)
    enrolled_learner(client, author)
    status, body = graphql(client, "/graphql", "{ deliveries { edges { node { id course { name } } } } }",
                           headers=author.headers)
    assert status == 200
    (error,) = body["errors"]
    assert error == {"message": "Internal error.", "locations": error["locations"],
                     "path": ["deliveries", "edges", 0, "node", "course"],
                     "extensions": {"code": "INTERNAL_SERVER_ERROR"}}
    assert "secret" not in str(body)


def test_malformed_requests_are_json_errors_with_codes(client, author):
    cases = [
        ({"data": b"{not json", "content_type": "application/json"}, 400, "BAD_REQUEST"),
        ({"json": {"variables": {}}}, 400, "BAD_REQUEST"),
        ({"json": {"query": "{ courses { nope } }"}}, 200, "GRAPHQL_VALIDATION_FAILED"),
        ({"json": {"query": "{ courses {"}}, 200, "GRAPHQL_PARSE_FAILED"),
        ({"json": {"query": "query ($n: Int) { courses(first: $n) { edges { cursor } } }",
                   "variables": {"n": "many"}}}, 200, "BAD_USER_INPUT"),
        ({"json": {"query": "mutation { x }"}}, 200, "GRAPHQL_VALIDATION_FAILED"),
    ]
    for kwargs, status, code in cases:
        response = client.post("/graphql", headers=author.headers, **kwargs)
        assert response.status_code == status, kwargs
        assert response.is_json and _code(response.get_json()) == code, (kwargs, response.get_json())


def test_graphql_posts_are_rate_limited_and_never_replayed_by_idempotency_key(client, author):
    learner = enrolled_learner(client, author)
    headers = {**learner.partner.headers, "Idempotency-Key": "same-key"}
    query = {"query": "{ courses_users { id name } }"}
    first = client.post("/api/partner/graphql", json=query, headers=headers)
    learner.partner.patch(f"/users/{learner.user_id}", json={"full_name": "Asha R."})
    second = client.post("/api/partner/graphql", json=query, headers=headers)
    assert "Idempotent-Replayed" not in second.headers
    assert first.get_json()["data"]["courses_users"][0]["name"] == "Asha Rao"
    assert second.get_json()["data"]["courses_users"][0]["name"] == "Asha R."
    for path, caller_headers in (("/api/partner/graphql", learner.partner.headers),
                                 ("/v1/graphql", learner.partner.headers), ("/graphql", author.headers)):
        response = client.post(path, json=query, headers=caller_headers)
        assert "RateLimit-Limit" in response.headers, path


@pytest.mark.parametrize("path", ["/graphql", "/api/partner/graphql", "/v1/graphql"])
def test_graphiql_is_served_with_local_assets_under_the_page_policy(client, path):
    page = client.get(path, headers={"Accept": "text/html"})
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert "https://" not in html and "<script>" not in html  # no CDN, no inline script
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "connect-src 'self'" in policy
    for asset in re.findall(r'(?:src|href)="(/graphiql-assets/[^"]+)"', html):
        assert client.get(asset).status_code == 200, asset
