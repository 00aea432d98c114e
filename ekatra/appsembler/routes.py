"""/appsembler_api/v0: the Appsembler / Open edX API, answered in Django REST framework's shapes."""

from __future__ import annotations

import math
import time
from datetime import timedelta
from urllib.parse import urlencode

from flask import current_app, g, jsonify, request
from flask.views import MethodView
from flask_limiter.errors import RateLimitExceeded
from werkzeug.exceptions import HTTPException

from ekatra import clock
from ekatra.appsembler import accounts, analytics, enrollment
from ekatra.appsembler.auth import BEARER_TOKEN, bearer_required
from ekatra.appsembler.errors import drf_body, throttled
from ekatra.appsembler.schemas import (
    AccountIdSchema,
    AccountRowSchema,
    AccountWithoutPasswordSchema,
    BulkEnrollResultSchema,
    BulkEnrollSchema,
    CodeStatusSchema,
    ConnectAccountSchema,
    CreateAccountSchema,
    CreatedWithoutPasswordSchema,
    EnrollmentArgsSchema,
    EnrollmentRowSchema,
    EnrollUserSchema,
    GenerateCodesSchema,
    GeneratedCodesSchema,
    PageArgsSchema,
    SuccessSchema,
    UpdateAccountSchema,
    UpdatedSchema,
)
from ekatra.errors import DomainError, RateLimited
from ekatra.http import Blueprint
from ekatra.partners import profiles
from ekatra.ratelimits import hit

blp = Blueprint("appsembler", __name__, url_prefix="/appsembler_api/v0",
                description="Appsembler / Open edX API (OAuth bearer token of a partner's client)")

# A body that fails the schema gets the contract's words where it has some.
INVALID_BODY = {
    "appsembler.CreateAccount": {"user_message": "Wrong parameters on user creation"},
    "appsembler.CreateAccountWithoutPassword": {"user_message": "Wrong parameters on user creation"},
    "appsembler.ConnectAccount": {"user_message": "Wrong parameters on user connection"},
}
CONTRACT_AUTH = "401 as the contract: no token, or an unknown, expired or revoked one"


@blp.errorhandler(DomainError)
def _domain_error(error: DomainError):
    response = jsonify(drf_body(error))
    response.status_code = error.status
    if error.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
    if isinstance(error, RateLimited) and error.retry_after_seconds:
        response.headers["Retry-After"] = str(error.retry_after_seconds)
    return response


@blp.errorhandler(RateLimitExceeded)
def _partner_rate_limited(error: RateLimitExceeded):
    limit = current_app.extensions["ekatra.limiter"].current_limit
    seconds = max(1, math.ceil(limit.reset_at - time.time())) if limit else 60
    response = jsonify(throttled(seconds))
    response.status_code, response.headers["Retry-After"] = 429, str(seconds)
    return response


@blp.errorhandler(HTTPException)
def _http_error(error: HTTPException):
    messages = (getattr(error, "data", None) or {}).get("messages")
    if isinstance(messages, dict) and error.code in (400, 422):
        if request.endpoint in INVALID_BODY:
            return jsonify(INVALID_BODY[request.endpoint]), 400
        fields = next(iter(messages.values())) if len(messages) == 1 else messages
        if not isinstance(fields, dict):  # not about fields: the body is no JSON object
            detail = " ".join(map(str, fields)) if isinstance(fields, list) else str(fields)
            return jsonify({"detail": detail}), 400
        return jsonify(fields), 400
    return jsonify({"detail": error.description or error.name}), error.code or 500


def _settings() -> accounts.Settings:
    config = current_app.config
    return accounts.Settings(
        base_url=config["PUBLIC_BASE_URL"], partner_name=g.partner.name,
        mailer=current_app.extensions["ekatra.mailer"], bcrypt_rounds=config["BCRYPT_ROUNDS"],
        link_ttl=timedelta(hours=config["APPSEMBLER_PASSWORD_LINK_HOURS"]))


def _contact_and_profile(body: dict) -> dict:
    return {name: value for name, value in body.items()
            if name not in ("username", "password", "email", "name", "send_activation_email")}


# Accounts ----------------------------------------------------------------------------------------


@blp.route("/accounts/create")
class CreateAccount(MethodView):
    @blp.doc(security=BEARER_TOKEN)
    @blp.arguments(CreateAccountSchema, example={
        "username": "asha55", "password": "correct horse", "email": "asha55@example.org",
        "name": "Asha Rao", "send_activation_email": "False"})
    @blp.response(200, AccountIdSchema)
    @blp.alt_response(400, description="Wrong parameters on user creation")
    @blp.alt_response(401, description=CONTRACT_AUTH)
    @blp.alt_response(409, description="User already exists")
    @bearer_required
    def post(self, body):
        """Create an active learner account with a username and password"""
        account = accounts.create_account(
            g.partner, username=body["username"], password=body["password"], email=body["email"],
            name=body["name"], send_activation_email=body["send_activation_email"],
            fields=_contact_and_profile(body), settings=_settings(), now=clock.now())
        return accounts.user_id_body(account.id)


@blp.route("/accounts/user_without_password")
class CreateAccountWithoutPassword(MethodView):
    @blp.doc(security=BEARER_TOKEN)
    @blp.arguments(AccountWithoutPasswordSchema,
                   example={"email": "ravi58@example.org", "name": "Ravi Kumar"})
    @blp.response(200, CreatedWithoutPasswordSchema)
    @blp.alt_response(400, description="Wrong parameters on user creation")
    @blp.alt_response(401, description=CONTRACT_AUTH)
    @blp.alt_response(409, description="User already exists")
    @bearer_required
    def post(self, body):
        """Create an inactive account; the learner gets a link to set a password (and activate it)"""
        account = accounts.create_without_password(
            g.partner, email=body["email"], name=body["name"], fields=_contact_and_profile(body),
            settings=_settings(), now=clock.now())
        return {**accounts.user_id_body(account.id), "username": account.username}


@blp.route("/accounts/connect")
class ConnectAccount(MethodView):
    @blp.doc(security=BEARER_TOKEN)
    @blp.arguments(ConnectAccountSchema, example={
        "username": "asha55", "name": "Asha Rao", "email": "asha.rao@example.org",
        "password": "new pass phrase"})
    @blp.response(200, AccountIdSchema)
    @blp.alt_response(400, description="Wrong parameters on user connection")
    @blp.alt_response(401, description=CONTRACT_AUTH)
    @blp.alt_response(404, description="User not found")
    @blp.alt_response(409, description="The email is in use by another user, or is not an email")
    @bearer_required
    def post(self, body):
        """Change an account's email, password or name"""
        account = accounts.connect(g.partner, **body, now=clock.now(),
                                   rounds=current_app.config["BCRYPT_ROUNDS"])
        return accounts.user_id_body(account.id)


@blp.route("/accounts/update_user")
class UpdateAccount(MethodView):
    @blp.doc(security=BEARER_TOKEN)
    @blp.arguments(UpdateAccountSchema, example={
        "user_lookup": "asha55@example.org", "name": "Asha Rao", "country": "IN", "gender": "f",
        "level_of_education": "m", "year_of_birth": "2000", "city": "Pune", "language": "hi",
        "phone": "+919812345678", "channel": "whatsapp", "timezone": "Asia/Kolkata"})
    @blp.response(200, UpdatedSchema)
    @blp.alt_response(400, description="No user_lookup, or invalid field values")
    @blp.alt_response(401, description=CONTRACT_AUTH)
    @blp.alt_response(404, description="No account has this username or email")
    @bearer_required
    def post(self, body):
        """Update an account's email, name, profile, phone, channel or timezone"""
        return {"success": accounts.update_user(g.partner, body, now=clock.now())}


@blp.route("/accounts/get-user/<string:username>")
class AccountByUsername(MethodView):
    @blp.doc(security=BEARER_TOKEN)
    @blp.response(200, AccountIdSchema)
    @blp.alt_response(401, description=CONTRACT_AUTH)
    @blp.alt_response(404, description="No account has this username")
    @bearer_required
    def get(self, username):
        """Check whether a username exists (the body names it, as Open edX's does)"""
        account = profiles.find_by_username(g.partner, username)
        return {"user_id ": account.username, "user_id": account.username}


# Enrollment codes --------------------------------------------------------------------------------


@blp.route("/enrollment-codes/generate")
class GenerateCodes(MethodView):
    @blp.doc(security=BEARER_TOKEN)
    @blp.arguments(GenerateCodesSchema, example={"course_id": "course-v1:A1+C1+D1",
                                                 "total_registration_codes": "20"})
    @blp.response(200, GeneratedCodesSchema)
    @blp.alt_response(401, description=CONTRACT_AUTH)
    @blp.alt_response(404, description="Unknown course key, or the delivery is not shared with this partner")
    @blp.alt_response(409, description="The delivery has been stopped or has ended")
    @bearer_required
    def post(self, body):
        """Generate enrollment codes (coupons) for a course"""
        delivery, codes = enrollment.generate_codes(g.partner, body["course_id"],
                                                    body["total_registration_codes"], now=clock.now())
        key = enrollment.key_of(delivery)
        return {"course_id": key, "codes": codes, "course_url": f"/courses/{key}/about"}


@blp.route("/enrollment-codes/enroll-user")
class EnrollUserWithCode(MethodView):
    @blp.doc(security=BEARER_TOKEN)
    @blp.arguments(EnrollUserSchema, example={"email": "asha55@example.org", "enrollment_code": "7KQ3MXH9PC"})
    @blp.response(200, SuccessSchema)
    @blp.alt_response(400, description='{"success": false, "reason": …}')
    @blp.alt_response(401, description=CONTRACT_AUTH)
    @blp.alt_response(429, description="More than APPSEMBLER_ENROLL_USER_LIMIT calls for this learner")
    @bearer_required
    def post(self, body):
        """Enrol a learner (by email) with an enrollment code"""
        wait = hit(current_app.config["APPSEMBLER_ENROLL_USER_LIMIT"], "appsembler-enroll-user",
                   str(g.partner.id), body["email"].strip().casefold())
        if wait is not None:
            raise RateLimited("Too many enrollments for this learner.", retry_after_seconds=wait)
        enrollment.enroll_with_code(g.partner, body["email"], body["enrollment_code"], now=clock.now())
        return {"success": True}


@blp.route("/enrollment-codes/status")
class EnrollmentCodeStatus(MethodView):
    @blp.doc(security=BEARER_TOKEN)
    @blp.arguments(CodeStatusSchema, example={"enrollment_code": "7KQ3MXH9PC", "action": "cancel"})
    @blp.response(200, SuccessSchema)
    @blp.alt_response(400, description="The enrollment code was not found")
    @blp.alt_response(401, description=CONTRACT_AUTH)
    @bearer_required
    def post(self, body):
        """Cancel or restore an enrollment code (either unenrols the learner who used it)"""
        enrollment.change_code_status(g.partner, body["enrollment_code"], body["action"], now=clock.now())
        return {"success": True}


# Bulk enrollment ---------------------------------------------------------------------------------


@blp.route("/bulk-enrollment/bulk-enroll")
class BulkEnroll(MethodView):
    @blp.doc(security=BEARER_TOKEN)
    @blp.arguments(BulkEnrollSchema, example={
        "action": "enroll", "auto_enroll": True, "identifiers": "asha55@example.org,ravi58",
        "email_students": True, "courses": "course-v1:A1+C1+D1"})
    @blp.response(200, BulkEnrollResultSchema)
    @blp.alt_response(400, description="A required field is missing")
    @blp.alt_response(401, description=CONTRACT_AUTH)
    @blp.alt_response(404, description="A course key is unknown or its delivery not shared with this partner")
    @bearer_required
    def post(self, body):
        """Enrol or unenrol learners (emails or usernames) in or from courses"""
        results = enrollment.bulk_enroll(
            g.partner, action=body["action"], identifiers=enrollment.split_list(body["identifiers"]),
            keys=enrollment.split_list(body["courses"]), email_students=body["email_students"],
            settings=_settings(), now=clock.now())
        return {"action": body["action"], "auto_enroll": body["auto_enroll"],
                "email_students": body["email_students"],
                "courses": {key: {"action": body["action"], "auto_enroll": body["auto_enroll"],
                                  "results": [row.as_dict() for row in rows]}
                            for key, rows in results.items()}}


# Analytics ---------------------------------------------------------------------------------------


PAGE_HEADERS = {
    "Link": {"description": 'The next page, `<…>; rel="next"`, while there is one',
             "schema": {"type": "string"}},
    "X-Total-Count": {"description": "Rows in all pages", "schema": {"type": "integer"}}}


def _paged(page: analytics.Page):
    headers = {"X-Total-Count": str(page.total)}
    if page.has_next:
        query = {name: value for name, value in request.args.items() if name not in ("page", "page_size")}
        query.update(page=page.page + 1, page_size=page.page_size)
        headers["Link"] = f'<{request.base_url}?{urlencode(query)}>; rel="next"'
    return page.rows, 200, headers


@blp.route("/analytics/accounts/batch")
class AccountsBatch(MethodView):
    @blp.doc(security=BEARER_TOKEN)
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, AccountRowSchema(many=True), headers=PAGE_HEADERS)
    @blp.alt_response(401, description=CONTRACT_AUTH)
    @bearer_required
    def get(self, args):
        """This partner's learner accounts, joined in a period (paged)"""
        page = analytics.accounts_batch(g.partner, updated_min=args.get("updated_min"),
                                        updated_max=args.get("updated_max"), page=args["page"],
                                        page_size=args["page_size"])
        return _paged(page)


@blp.route("/analytics/enrollment/batch")
class EnrollmentsBatch(MethodView):
    @blp.doc(security=BEARER_TOKEN)
    @blp.arguments(EnrollmentArgsSchema, location="query")
    @blp.response(200, EnrollmentRowSchema(many=True), headers=PAGE_HEADERS)
    @blp.alt_response(401, description=CONTRACT_AUTH)
    @blp.alt_response(404, description="Unknown course key, or the delivery is not shared with this partner")
    @bearer_required
    def get(self, args):
        """This partner's learners' enrollments and certificates, made in a period (paged)"""
        page = analytics.enrollments_batch(
            g.partner, course_key=args.get("course_id"), username=args.get("username"),
            updated_min=args.get("updated_min"), updated_max=args.get("updated_max"),
            base_url=current_app.config["PUBLIC_BASE_URL"], page=args["page"], page_size=args["page_size"])
        return _paged(page)

