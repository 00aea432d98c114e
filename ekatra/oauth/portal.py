"""GET/POST /oauth/authorize: the page where a partner's learner logs in and consents.

Server-rendered HTML without script. The form posts back to the same URL (the OAuth parameters
stay in the query) with a CSRF token equal to this page's cookie (SameSite=Strict). Errors go
back to the client (RFC 6749 §4.1.2.1) only once its client_id and redirect URI are known to be
valid; before that they are shown here, and nothing is redirected anywhere.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from authlib.oauth2 import OAuth2Error
from authlib.oauth2.base import invalid_error_characters
from authlib.oauth2.rfc6749.errors import InvalidRequestError
from flask import Blueprint, render_template, request
from werkzeug.datastructures import MultiDict

from ekatra import clock
from ekatra.csrf import FormCsrf
from ekatra.errors import RateLimited, Unauthorized
from ekatra.extensions import db
from ekatra.http import page_policy
from ekatra.oauth import learners
from ekatra.oauth.server import EkatraRequest, has_control_characters, oauth_server
from ekatra.partners.models import Partner
from ekatra.ratelimits import hit

portal = Blueprint("oauth_portal", __name__, template_folder="templates", static_folder="static",
                   static_url_path="/oauth/static")

CSRF = FormCsrf("ekatra_oauth_csrf", "/oauth/")
MAX_LOGIN_CHARS = 254
MAX_PASSWORD_CHARS = 200
# Sign-in attempts from one address (ProxyFix gives the client's behind TRUSTED_PROXIES), besides
# the partner API's count per login id.
SIGN_INS_PER_ADDRESS = "30/minute"
SCOPE_TEXTS = {
    "profile": "Your name",
    "email": "Your email address",
    "courses": "Your courses and your progress in them",
}


@portal.after_request
def _cookie_and_caching(response):
    CSRF.set_cookie(response)
    response.headers["Cache-Control"] = "no-store"
    return response


def _page(template: str, status: int, *, redirect_uri: str | None = None, **context):
    html = render_template(f"oauth/{template}", csrf=CSRF.token(), **context)
    policy = page_policy(html)
    if redirect_uri:
        # The form's answer redirects to the client: browsers check that hop against form-action.
        parts = urlsplit(redirect_uri)
        target = f"{parts.scheme}://{parts.netloc}" if parts.netloc else f"{parts.scheme}:"
        policy = policy.replace("form-action 'self'", f"form-action 'self' {target}")
    return html, status, {"Content-Type": "text/html; charset=utf-8", "Content-Security-Policy": policy}


def _problem(title: str, message: str, status: int):
    return _page("message.html", status, title=title, message=message)


def _consent_grant():
    """Authlib's grant for this request's query, or an OAuth2Error (with `redirect_uri` set when
    the error may go back to the client)."""
    oauth_request = EkatraRequest(MultiDict(request.args))
    data = oauth_request.payload.data
    # Authlib quotes these two in its error descriptions, which must be plain ASCII without
    # quotes or backslashes (it raises otherwise); no valid value holds such characters anyway.
    quoted = (data.get("redirect_uri") or "") + (data.get("response_type") or "")
    if has_control_characters(data) or invalid_error_characters(quoted):
        raise InvalidRequestError("The link holds characters no OAuth parameter may have.")
    return oauth_request, oauth_server().get_consent_grant(oauth_request)


def _error_response(oauth_request, error: OAuth2Error):
    if error.redirect_uri:
        return oauth_server().handle_error_response(oauth_request, error)
    return _problem("This sign-in link does not work",
                    f"{error.description or error.error} Go back to the application and try again.", 400)


def _consent_page(grant, status: int = 200, *, login: str = "", error: str | None = None):
    client = grant.request.client.row
    partner = db.session.get(Partner, client.partner_id) if client.partner_id else None
    scopes = [SCOPE_TEXTS[s] for s in grant.request.scope.split() if s in SCOPE_TEXTS]
    return _page("authorize.html", status, redirect_uri=grant.redirect_uri, client=client, partner=partner,
                 scopes=scopes, login=login, error=error, action=request.full_path)


@portal.get("/oauth/authorize")
def authorize():
    try:
        _oauth_request, grant = _consent_grant()
    except OAuth2Error as error:
        return _error_response(EkatraRequest(MultiDict(request.args)), error)
    return _consent_page(grant)


@portal.post("/oauth/authorize")
def decide():
    if not CSRF.is_valid():
        return _problem("This form has expired", "Go back, reload the page and sign in again.", 403)
    try:
        _oauth_request, grant = _consent_grant()
    except OAuth2Error as error:
        return _error_response(EkatraRequest(MultiDict(request.args)), error)
    server = oauth_server()
    if request.form.get("decision") != "allow":
        return server.create_authorization_response(request=grant.request, grant_user=None, grant=grant)
    login = request.form.get("login", "")[:MAX_LOGIN_CHARS]
    password = request.form.get("password", "")[:MAX_PASSWORD_CHARS]
    if not login.strip() or not password or "\x00" in login + password:
        return _consent_page(grant, 400, login=login,
                             error="Enter your email or phone number and your password.")
    wait = hit(SIGN_INS_PER_ADDRESS, "oauth-sign-in", request.remote_addr or "unknown")
    if wait is not None:  # many ids tried from one address: each id's own count never sees it
        return _consent_page(grant, 429, login=login,
                             error=f"Too many sign-ins from your network; try again in {wait} seconds.")
    try:
        account = learners.login_learner(grant.request.client.row, login=login, password=password,
                                         now=clock.now())
    except RateLimited as problem:
        return _consent_page(grant, 429, login=login, error=problem.message)
    except Unauthorized:
        return _consent_page(grant, 401, login=login, error=learners.WRONG_LOGIN)
    return server.create_authorization_response(request=grant.request, grant_user=account, grant=grant)
