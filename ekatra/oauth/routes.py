"""The OAuth 2.0 endpoints (/oauth/token, /oauth/revoke, /oauth/introspect, the discovery
document) and /api/v1/me, the learner's profile for a "Log in with Ekatra" token.

The OAuth endpoints answer as RFC 6749 says (`{"error": "invalid_grant", …}`), not in the house's
`{"message"}` shape; they are described by the discovery document, not by /openapi.json.
"""

from __future__ import annotations

import flask
from flask import current_app, jsonify, request
from flask.views import MethodView

from ekatra import clock
from ekatra.errors import error_body
from ekatra.http import Blueprint
from ekatra.oauth import bearer, learners
from ekatra.oauth.models import LEARNER_SCOPES, PARTNER_SCOPE
from ekatra.oauth.schemas import OAUTH_BEARER, MeSchema
from ekatra.oauth.server import GRANT_TYPES_SUPPORTED, SECRET_METHODS, oauth_server

endpoints = flask.Blueprint("oauth", __name__)
blp = Blueprint("me", __name__, description='"Log in with Ekatra": the learner behind an OAuth token')
REALM = 'Bearer realm="ekatra"'


def _unauthorized(message: str, challenge: str):
    response = jsonify(error_body(message))
    response.status_code = 401
    response.headers["WWW-Authenticate"] = challenge
    return response


@blp.route("/api/v1/me")
class Me(MethodView):
    @blp.doc(security=OAUTH_BEARER)
    @blp.response(200, MeSchema)
    @blp.alt_response(401, description='No token, or an invalid, expired or revoked one '
                      '(`WWW-Authenticate: Bearer error="invalid_token"`)')
    def get(self):
        """The learner who consented: id, and name, email, courses and progress by scope"""
        try:
            account, token = bearer.learner_of_bearer(request.headers.get("Authorization"), scope="",
                                                      now=clock.now())
        except bearer.MissingToken:
            return _unauthorized("An access token is required (Authorization: Bearer …).",
                                 f'{REALM}, error="invalid_token", '
                                 'error_description="No access token was sent."')
        except bearer.InvalidToken:
            return _unauthorized("The access token is invalid, expired or revoked.",
                                 f'{REALM}, error="invalid_token", '
                                 'error_description="The access token is invalid, expired or revoked."')
        response = jsonify(MeSchema().dump(learners.profile(account, token)))
        response.headers["Cache-Control"] = "no-store"
        return response


@endpoints.post("/oauth/token")
def token():
    return oauth_server().create_token_response()


@endpoints.post("/oauth/revoke")
def revoke():
    return oauth_server().create_endpoint_response("revocation")


@endpoints.post("/oauth/introspect")
def introspect():
    return oauth_server().create_endpoint_response("introspection")


@endpoints.get("/.well-known/oauth-authorization-server")
def metadata():
    """RFC 8414: where the endpoints are and what they support."""
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    response = jsonify({
        "issuer": base,
        "authorization_endpoint": f"{base}/oauth/authorize",
        "token_endpoint": f"{base}/oauth/token",
        "revocation_endpoint": f"{base}/oauth/revoke",
        "introspection_endpoint": f"{base}/oauth/introspect",
        "scopes_supported": [*LEARNER_SCOPES, PARTNER_SCOPE],
        "response_types_supported": ["code"],
        "grant_types_supported": GRANT_TYPES_SUPPORTED,
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": [*SECRET_METHODS, "none"],
        "revocation_endpoint_auth_methods_supported": [*SECRET_METHODS, "none"],
        "introspection_endpoint_auth_methods_supported": SECRET_METHODS,
        "service_documentation": f"{base}/",
    })
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response
