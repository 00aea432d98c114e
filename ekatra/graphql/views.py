"""The HTTP side of GraphQL: who is calling, the strawberry Flask view, GraphiQL in a browser.

POST runs a query (JSON `{"query", "variables", "operationName"}`); GET shows GraphiQL, whose
assets are served from this package (no CDN) under the site's Content-Security-Policy.

Queries are read-only, so an Idempotency-Key on a GraphQL POST is ignored (nothing is stored:
repeating a query is already safe); rate limits count GraphQL requests like any other.
"""

from __future__ import annotations

import json

from cross_web import HTTPException
from flask import Response, current_app, g, render_template_string, request
from flask_jwt_extended.exceptions import JWTExtendedException
from jwt import PyJWTError
from strawberry.flask.views import GraphQLView

from ekatra.auth.tokens import current_actor, verify_author_token
from ekatra.errors import DomainError, Unauthorized
from ekatra.graphql.errors import domain_code, formatted, request_error
from ekatra.graphql.loaders import Caller, Context
from ekatra.http import page_policy
from ekatra.partners.services import authenticate_partner
from ekatra.partners.tokens import current_learner, learner_header

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{{ title }}</title>
<link rel="stylesheet" href="{{ assets }}/graphiql.min.css"></head>
<body style="margin: 0; height: 100vh">
<div id="graphiql" style="height: 100vh" data-endpoint="{{ endpoint }}" data-query="{{ query }}"
 data-headers="{{ headers }}">Loading GraphiQL…</div>
<script src="{{ assets }}/react.production.min.js"></script>
<script src="{{ assets }}/react-dom.production.min.js"></script>
<script src="{{ assets }}/graphiql.min.js"></script>
<script src="{{ assets }}/start.js"></script>
</body></html>"""

AUTHOR_EXAMPLE = """# Your deliveries, their learners and progress. Put your token in Headers:
# {"Authorization": "Bearer <access_token from POST /api/auth/login>"}
query {
  deliveries(first: 10) {
    edges { node { id status course { name } learners(first: 50) {
      edges { node { student { name phone } progress { daysSent questionsAnswered } } } } } }
    pageInfo { hasNextPage endCursor }
  }
}
"""
PARTNER_EXAMPLE = """# The SkillsTrainer contract's queries. Put your keys in Headers (and a learner's
# jwt_token and access_token to see only that learner).
query getCourseModules ($course_id: Int) {
  courses_course_section (where: { course_id: { _eq: $course_id } }) {
    id
    name
    coursesec { id name }
  }
}
"""
AUTHOR_HEADERS = '{"Authorization": "Bearer "}'
PARTNER_HEADERS = '{"ST-ACCESS-KEY": "", "ST-SECRET-KEY": ""}'


def _refused(message: str, code: str, status: int) -> Response:
    return Response(json.dumps(request_error(message, code)), status=status, content_type="application/json")


class _View(GraphQLView):
    """The strawberry view with Ekatra's callers, JSON errors and GraphiQL page."""

    title = "Ekatra GraphQL"
    example = AUTHOR_EXAMPLE
    example_headers = AUTHOR_HEADERS

    def __init__(self, schema):
        super().__init__(schema, graphql_ide="graphiql", allow_queries_via_get=False)

    def caller(self) -> Caller:
        raise NotImplementedError

    def dispatch_request(self):
        if request.method == "GET":
            return self.render_graphql_ide(request)
        try:
            g.graphql_caller = self.caller()
        except DomainError as error:
            return _refused(error.message, domain_code(error), error.status)
        except (JWTExtendedException, PyJWTError):
            return _refused("The bearer token is missing, invalid, expired or revoked.",
                            "UNAUTHENTICATED", 401)
        try:
            return self.run(request=request)
        except HTTPException as error:
            return _refused(str(error.reason), "BAD_REQUEST", error.status_code)

    def get_context(self, request, response) -> Context:
        return Context(caller=g.graphql_caller)

    def process_result(self, request, result):
        body: dict = {"data": result.data}
        if result.errors:
            body["errors"] = [formatted(error) for error in result.errors]
        return body

    def render_graphql_ide(self, request) -> Response:
        html = render_template_string(PAGE, title=self.title, endpoint=request.path, query=self.example,
                                      headers=self.example_headers,
                                      assets=current_app.config.get("APPLICATION_ROOT", "/").rstrip("/")
                                      + "/graphiql-assets")
        # GraphiQL's own fonts are data: URLs; everything else follows the site's page policy.
        policy = page_policy(html).replace("img-src 'self' data:",
                                           "img-src 'self' data:; font-src 'self' data:")
        return Response(html, content_type="text/html; charset=utf-8",
                        headers={"Content-Security-Policy": policy, "Cache-Control": "no-store"})


def _partner() -> Caller:
    """The partner of the key headers, and the learner of the token headers if any are sent."""
    partner = authenticate_partner(request.headers.get("ST-ACCESS-KEY"), request.headers.get("ST-SECRET-KEY"))
    g.partner = partner
    if learner_header("jwt_token") is None and learner_header("access_token") is None:
        return Caller(partner=partner)
    return Caller(partner=partner, learner=current_learner())


class AuthorView(_View):
    """/graphql: an author's bearer token, or a partner's keys with a learner's tokens."""

    def caller(self) -> Caller:
        if request.headers.get("Authorization"):
            verify_author_token()
            return Caller(actor=current_actor())
        if request.headers.get("ST-ACCESS-KEY"):
            return _partner()
        raise Unauthorized("Send an author's bearer token, or a partner's ST-ACCESS-KEY and "
                           "ST-SECRET-KEY with a learner's jwt_token and access_token.")


class PartnerView(_View):
    """/api/partner/graphql and /v1/graphql: the SkillsTrainer contract's queries."""

    title = "Ekatra GraphQL for partners"
    example = PARTNER_EXAMPLE
    example_headers = PARTNER_HEADERS

    def caller(self) -> Caller:
        return _partner()
