"""The OAuth 2.0 protocol, spoken by Authlib's Flask authorization server over our services.

Grants: authorization code (+ PKCE, S256 only, required for public clients), refresh token
(rotated), client credentials (a partner's client). Endpoints: revocation (RFC 7009) and
introspection (RFC 7662). The token endpoint reads form-encoded and JSON bodies alike.
"""

from __future__ import annotations

import secrets

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.integrations.flask_oauth2.requests import FlaskOAuth2Payload
from authlib.oauth2.rfc6749 import ClientMixin, OAuth2Request, grants
from authlib.oauth2.rfc6749.authenticate_client import authenticate_client_secret_basic
from authlib.oauth2.rfc6749.errors import InvalidGrantError, InvalidRequestError, InvalidScopeError
from authlib.oauth2.rfc6749.util import scope_to_list
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from flask import current_app, request
from werkzeug.datastructures import MultiDict

from ekatra import clock
from ekatra.extensions import db
from ekatra.oauth import services
from ekatra.oauth.models import (
    AUTHORIZATION_CODE,
    CLIENT_CREDENTIALS,
    LEARNER_SCOPES,
    PARTNER_SCOPE,
    AuthorizationCode,
    OAuthClient,
    OAuthToken,
)
from ekatra.partners.models import LearnerAccount

SERVER = "ekatra.oauth_server"
DEFAULT_LEARNER_SCOPE = "profile"
SECRET_METHODS = ["client_secret_basic", "client_secret_post"]


# Requests: parameters from the query (authorize) or from a form or JSON body (token) --------------


class _Payload(FlaskOAuth2Payload):
    def __init__(self, values: MultiDict):
        self._values = values

    @property
    def data(self):
        return self._values


class EkatraRequest(OAuth2Request):
    """Authlib's request over Flask's, with the parameters taken from one place: the query for
    /oauth/authorize, the body (form or JSON object) for the token-side endpoints.

    Authlib's own check that the URL is https is left to the platform: TLS ends at the router
    (with TRUSTED_PROXIES the app sees https), and HSTS is sent in production."""

    def __init__(self, values: MultiDict):
        self.method, self.uri, self.headers = request.method, request.url, request.headers
        self._body = None
        self.payload = _Payload(values)
        self.client = self.auth_method = self.user = None
        self.authorization_code = self.refresh_token = self.credential = None
        self._scope = None

    @property
    def args(self):
        return request.args

    @property
    def form(self):
        return self.payload.data


def has_control_characters(values: MultiDict) -> bool:
    """Whether any parameter (name or value) holds a control character: no OAuth parameter may,
    and Authlib refuses to put one into an error description (it would raise, not answer)."""
    return any(ord(c) < 32 or ord(c) == 127 or 0xD800 <= ord(c) <= 0xDFFF
               for key, value in values.items(multi=True) for c in key + value)


BAD_CHARACTERS = InvalidRequestError("Parameters must not contain control characters.")


def body_values() -> MultiDict:
    """A token request's parameters: the form, or a JSON object's string values (RFC 6749 says
    form-encoded; the integration guide this API follows posts JSON)."""
    if request.is_json:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return MultiDict()
        return MultiDict({key: value for key, value in body.items() if isinstance(value, str)})
    return MultiDict(request.form)


# Authlib's views of our rows --------------------------------------------------------------------


class Client(ClientMixin):
    def __init__(self, row: OAuthClient):
        self.row = row

    def get_client_id(self):
        return self.row.client_id

    def get_default_redirect_uri(self):
        # Exact match only: a client must name its redirect URI unless it registered just one.
        return self.row.redirect_uris[0] if len(self.row.redirect_uris) == 1 else None

    def get_allowed_scope(self, scope):
        requested = scope_to_list(scope) or []
        allowed = set(self.row.scope.split())
        return " ".join(dict.fromkeys(requested)) if set(requested) <= allowed else None

    def check_redirect_uri(self, redirect_uri):
        return redirect_uri in self.row.redirect_uris

    def check_client_secret(self, client_secret):
        return services.client_secret_matches(self.row, client_secret)

    def check_endpoint_auth_method(self, method, endpoint):
        return method == "none" if self.row.is_public else method in SECRET_METHODS

    def check_response_type(self, response_type):
        return response_type == "code" and AUTHORIZATION_CODE in self.row.grant_types

    def check_grant_type(self, grant_type):
        return grant_type in self.row.grant_types


class Code:
    def __init__(self, row: AuthorizationCode):
        self.row = row
        self.code_challenge, self.code_challenge_method = row.code_challenge, row.code_challenge_method

    def get_redirect_uri(self):
        return self.row.redirect_uri

    def get_scope(self):
        return self.row.scope


class Token:
    def __init__(self, row: OAuthToken):
        self.row = row

    def check_client(self, client: Client):
        return self.row.client_id == client.row.id

    def get_scope(self):
        return self.row.scope

    def get_expires_in(self):
        return int((self.row.expires_at - self.row.issued_at).total_seconds())

    def is_expired(self):
        return self.row.expires_at <= clock.now()

    def is_revoked(self):
        return self.row.revoked_at is not None

    def get_user(self):
        return db.session.get(LearnerAccount, self.row.account_id) if self.row.account_id else None

    def get_client(self):
        return Client(services.client_of(self.row))


# Grants -----------------------------------------------------------------------------------------


class S256CodeChallenge(CodeChallenge):
    """PKCE with S256 only: `plain` shows the verifier to whoever sees the redirect."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant, redirect_uri):
        data = grant.request.payload.data
        if data.get("code_challenge") and data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("code_challenge_method must be S256.")
        super().validate_code_challenge(grant, redirect_uri)
        if grant.request.client.row.is_public and not data.get("code_challenge"):
            raise InvalidRequestError("A public client must send a code_challenge (PKCE, S256).")


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = [*SECRET_METHODS, "none"]

    def validate_authorization_request(self):
        redirect_uri = super().validate_authorization_request()
        if not self.request.scope:
            self.request.scope = DEFAULT_LEARNER_SCOPE
        if not set(self.request.scope.split()) <= set(LEARNER_SCOPES):
            raise InvalidScopeError(redirect_uri=redirect_uri, state=self.request.payload.state)
        return redirect_uri

    def create_authorization_response(self, redirect_uri, grant_user):
        self.redirect_uri = redirect_uri  # the code is bound to it, named or the default one
        return super().create_authorization_response(redirect_uri, grant_user)

    def generate_authorization_code(self):
        return secrets.token_urlsafe(32)

    def save_authorization_code(self, code, request):
        data = request.payload.data
        challenge = data.get("code_challenge")
        services.save_code(request.client.row, code, account_id=request.user.id,
                           redirect_uri=self.redirect_uri, scope=request.scope, code_challenge=challenge,
                           code_challenge_method=data.get("code_challenge_method") if challenge else None,
                           now=clock.now())

    def query_authorization_code(self, code, client):
        row = services.claim_code(client.row, code, now=clock.now())
        return Code(row) if row else None

    def delete_authorization_code(self, authorization_code):
        pass  # claimed (marked used) when it was queried

    def authenticate_user(self, authorization_code):
        return db.session.get(LearnerAccount, authorization_code.row.account_id)


class RefreshTokenGrant(grants.RefreshTokenGrant):
    """Rotation: every refresh revokes the presented token's row and issues the next one."""

    TOKEN_ENDPOINT_AUTH_METHODS = [*SECRET_METHODS, "none"]
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token):
        row = services.usable_refresh_token(self.request.client.row, refresh_token, now=clock.now())
        return Token(row) if row else None

    def authenticate_user(self, refresh_token):
        return refresh_token.get_user()

    def create_token_response(self):
        old = self.request.refresh_token
        user = self.authenticate_user(old)
        if not user:
            raise InvalidGrantError("The learner of this token no longer exists.")
        self.request.user = user
        token = self.issue_token(user, old)
        saved = services.rotate(old.row, scope=token.get("scope", ""), access_token=token["access_token"],
                                refresh_token=token["refresh_token"], now=clock.now())
        if saved is None:
            raise InvalidGrantError("The refresh token was already used.")
        return 200, token, self.TOKEN_RESPONSE_HEADER

    def revoke_old_credential(self, refresh_token):
        pass  # done by services.rotate, in the transaction that stores the new token


class ClientCredentialsGrant(grants.ClientCredentialsGrant):
    """A partner's application acting for the partner: scope `partner` only, no refresh token."""

    TOKEN_ENDPOINT_AUTH_METHODS = SECRET_METHODS

    def create_token_response(self):
        scope = self.request.payload.scope or PARTNER_SCOPE
        if set(scope_to_list(scope)) != {PARTNER_SCOPE}:
            raise InvalidScopeError("client_credentials grants the `partner` scope only.")
        token = self.generate_token(scope=scope, include_refresh_token=False)
        self.save_token(token)
        return 200, token, self.TOKEN_RESPONSE_HEADER


# Revocation and introspection -------------------------------------------------------------------


def _query_token(token_string: str, hint: str | None) -> Token | None:
    finders = [services.token_by_access, services.token_by_refresh]
    if hint == "refresh_token":
        finders.reverse()
    for find in finders:
        row = find(token_string)
        if row is not None:
            return Token(row)
    return None


class Revocation(RevocationEndpoint):
    CLIENT_AUTH_METHODS = [*SECRET_METHODS, "none"]

    def authenticate_token(self, request, client):
        self.check_params(request, client)
        token = _query_token(request.form["token"], request.form.get("token_type_hint"))
        # Another client's token is left alone, and the answer is the same 200 (RFC 7009 §2.2).
        return token if token and token.check_client(client) else None

    def query_token(self, token_string, token_type_hint):
        return _query_token(token_string, token_type_hint)

    def revoke_token(self, token, request):
        services.revoke(token.row, now=clock.now())


class Introspection(IntrospectionEndpoint):
    CLIENT_AUTH_METHODS = SECRET_METHODS

    def query_token(self, token_string, token_type_hint):
        return _query_token(token_string, token_type_hint)

    def check_permission(self, token, client, request):
        return token.check_client(client)  # another client's token is {"active": false}

    def introspect_token(self, token):
        row = token.row
        client = services.client_of(row)
        body = {"active": True, "client_id": client.client_id, "scope": row.scope, "token_type": "Bearer",
                "exp": int(row.expires_at.timestamp()), "iat": int(row.issued_at.timestamp())}
        if row.account_id is not None:
            body["sub"] = str(row.account_id)
        elif client.partner_id is not None:
            body["sub"] = f"partner:{client.partner_id}"
        return body


# The server -------------------------------------------------------------------------------------


class EkatraAuthorizationServer(AuthorizationServer):
    def create_oauth2_request(self, request):
        if isinstance(request, OAuth2Request):
            return request
        return EkatraRequest(body_values())

    def create_token_response(self, request=None):
        if has_control_characters(body_values()):
            return self.handle_error_response(None, BAD_CHARACTERS)
        return super().create_token_response(request)

    def create_endpoint_response(self, name, request=None):
        if has_control_characters(body_values()):
            return self.handle_error_response(None, BAD_CHARACTERS)
        return super().create_endpoint_response(name, request)

    def query_client(self, client_id):
        row = services.find_client(client_id)
        return Client(row) if row else None

    def save_token(self, token, request):
        authorization_code = request.authorization_code
        services.save_token(
            request.client.row, account_id=request.user.id if request.user else None,
            scope=token.get("scope", ""), access_token=token["access_token"],
            refresh_token=token.get("refresh_token"),
            family_id=authorization_code.row.family_id if authorization_code else None, now=clock.now())

    def handle_response(self, status_code, payload, headers):
        response = super().handle_response(status_code, payload, headers)
        response.headers.setdefault("Cache-Control", "no-store")
        return response


def _client_secret_basic(query_client, request):
    """Authlib's Basic authentication, where a header that is not base64 of UTF-8 simply fails
    to authenticate (Authlib would raise UnicodeDecodeError: a 500)."""
    try:
        return authenticate_client_secret_basic(query_client, request)
    except ValueError:  # UnicodeDecodeError and binascii.Error are ValueErrors
        return None


def _expires_in(client, grant_type):
    return services.ACCESS_TOKEN_SECONDS


def init_oauth_server(app) -> EkatraAuthorizationServer:
    server = EkatraAuthorizationServer()
    server.init_app(app)
    server.register_client_auth_method("client_secret_basic", _client_secret_basic)
    server.register_token_generator("default", BearerTokenGenerator(
        lambda **_: secrets.token_urlsafe(32), lambda **_: secrets.token_urlsafe(32), _expires_in))
    server.scopes_supported = [*LEARNER_SCOPES, PARTNER_SCOPE]
    server.register_grant(AuthorizationCodeGrant, [S256CodeChallenge(required=True)])
    server.register_grant(RefreshTokenGrant)
    server.register_grant(ClientCredentialsGrant)
    server.register_endpoint(Revocation)
    server.register_endpoint(Introspection)
    app.extensions[SERVER] = server
    return server


def oauth_server() -> EkatraAuthorizationServer:
    return current_app.extensions[SERVER]


GRANT_TYPES_SUPPORTED = [AUTHORIZATION_CODE, "refresh_token", CLIENT_CREDENTIALS]
