"""/api/auth: signup, login, refresh, logout, forgot and reset password."""

from __future__ import annotations

from flask import current_app, g
from flask.views import MethodView

from ekatra import clock
from ekatra.auth import services
from ekatra.auth.attempts import LoginLimits, ResetMailLimits
from ekatra.auth.schemas import (
    ForgotSchema,
    LoginSchema,
    ResetSchema,
    SignupResponseSchema,
    SignupSchema,
    TokenResponseSchema,
)
from ekatra.auth.tokens import author_required, current_session_id, issue_tokens, session_ttl
from ekatra.http import PUBLIC, Blueprint, client_address
from ekatra.schemas import MessageSchema

blp = Blueprint("auth", __name__, url_prefix="/api/auth", description="Author accounts and tokens")


def _rounds() -> int:
    return current_app.config["BCRYPT_ROUNDS"]


@blp.route("/signup")
class Signup(MethodView):
    @blp.doc(security=PUBLIC)
    @blp.arguments(SignupSchema, example={"name": "Asha Rao", "email": "asha@example.org",
                                          "contact": "9999999999", "password": "correct horse"})
    @blp.response(200, SignupResponseSchema)
    @blp.alt_response(409, description="The email is already registered")
    def post(self, body):
        """Create an author account"""
        author = services.signup(**body, now=clock.now(), rounds=_rounds())
        return {"message": "success", "id": str(author.id)}


@blp.route("/login")
class Login(MethodView):
    @blp.doc(security=PUBLIC)
    @blp.arguments(LoginSchema, example={"email": "asha@example.org", "password": "correct horse"})
    @blp.response(200, TokenResponseSchema)
    @blp.alt_response(401, description="Wrong email or password")
    @blp.alt_response(429, description="Too many failed logins for this email (10 in 15 minutes) "
                                       "or from this address (50); see Retry-After")
    def post(self, body):
        """Log in: an access token and a refresh token"""
        session = services.login(**body, now=clock.now(), session_ttl=session_ttl(),
                                 client_address=client_address(), rounds=_rounds(),
                                 limits=LoginLimits.from_config(current_app.config))
        tokens = issue_tokens(session)
        return {"message": "success", "token": tokens["access_token"], **tokens}


@blp.route("/refresh")
class Refresh(MethodView):
    @blp.doc(description="Send the **refresh** token as the bearer token.")
    @blp.response(200, TokenResponseSchema)
    @author_required(refresh=True)
    def post(self):
        """Exchange a refresh token for a new access token"""
        tokens = issue_tokens(g.login_session, refresh=False)
        return {"message": "success", "token": tokens["access_token"], **tokens}


@blp.route("/logout")
class Logout(MethodView):
    @blp.response(200, MessageSchema)
    @author_required()
    def post(self):
        """Log out: this login's access and refresh tokens stop working"""
        services.logout(session_id=current_session_id(), now=clock.now())
        return {"message": "success"}


@blp.route("/forgot")
class Forgot(MethodView):
    @blp.doc(security=PUBLIC)
    @blp.arguments(ForgotSchema, example={"email": "asha@example.org"})
    @blp.response(200, MessageSchema)
    def post(self, body):
        """Mail a password reset link (always answers 200; at most 3 mails an hour per email)"""
        services.request_password_reset(
            email=body["email"], now=clock.now(),
            mailer=current_app.extensions["ekatra.mailer"],
            reset_url=current_app.config["PUBLIC_BASE_URL"] + "/api/auth/reset",
            client_address=client_address(),
            limits=ResetMailLimits.from_config(current_app.config),
        )
        return {"message": "If that email has an account, a reset link is on its way."}


@blp.route("/reset/<string:token>")
class Reset(MethodView):
    @blp.doc(security=PUBLIC)
    @blp.arguments(ResetSchema, example={"new-password": "a new password",
                                         "confirm-password": "a new password"})
    @blp.response(200, MessageSchema)
    @blp.alt_response(404, description="Unknown, used or expired link")
    def post(self, body, token):
        """Set a new password with a reset link"""
        services.reset_password(token=token, now=clock.now(), rounds=_rounds(), **body)
        return {"message": "password reset success"}
