"""The student's and the sponsor's portals: server-rendered pages under /cohorts/student/<token>
and /cohorts/sponsor/<token>, opened from a link in an SMS, a WhatsApp message or an email.

This module is what both portals share: the `portal` blueprint (templates, static files), its CSRF
check and its error pages, and the settings that the pages and the API hand to the use cases.
The pages themselves are in `student_pages` and `sponsor_pages`, blueprints nested in `portal`.

Pages are plain HTML forms (they work on any phone browser); the only script is the signature
pad (static/signature.js, a file, as the pages' CSP allows no inline script). Every form carries a
CSRF token that must equal the portal's cookie (SameSite=Strict), so another site cannot post
a form even to a link it learnt.
"""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request
from werkzeug.exceptions import HTTPException

from ekatra.cohorts.errors import LinkRefused, StateError
from ekatra.cohorts.services import Settings
from ekatra.cohorts.storage import store_from_config
from ekatra.csrf import FormCsrf
from ekatra.errors import DomainError

portal = Blueprint(
    "portal", __name__, template_folder="templates", static_folder="static", static_url_path="/cohorts/static"
)

CSRF = FormCsrf("ekatra_cohort_csrf", "/cohorts/")
LABELS = {
    "typed_name": "Your full name",
    "signature": "Signature",
    "agree": "Acceptance",
    "file": "File",
    "document_type": "Document",
    "phone": "Mobile number",
    "age": "Age",
    "gender": "Gender",
    "race": "Population group",
    "city": "City",
    "disability": "Disability",
    "initials": "Initials",
    "csrf_token": "Form",
}


def cohort_settings() -> Settings:
    """What the use cases need from the app (`services.Settings`), for the pages and the API alike."""
    config = current_app.config
    return Settings(
        secret=config["SECRET_KEY"],
        base_url=config["PUBLIC_BASE_URL"],
        mailer=current_app.extensions["ekatra.mailer"],
        store=cohort_store(),
        invite_days=config["COHORT_INVITE_DAYS"],
        sponsor_days=config["COHORT_SPONSOR_LINK_DAYS"],
        upload_max_bytes=config["COHORT_UPLOAD_MAX_BYTES"],
        whatsapp_opener_content_sid=config["WHATSAPP_OPENER_CONTENT_SID"],
    )


def cohort_store():
    """The app's document store, made once from its config."""
    store = current_app.extensions.get("ekatra.cohort_store")
    if store is None:
        store = current_app.extensions["ekatra.cohort_store"] = store_from_config(current_app.config)
    return store


# CSRF ------------------------------------------------------------------------------------------


def csrf_token() -> str:
    return CSRF.token()


@portal.after_request
def _set_csrf_cookie(response):
    CSRF.set_cookie(response)
    response.headers.setdefault("Cache-Control", "no-store")
    return response


@portal.before_request
def _check_csrf():
    if request.method == "POST" and not CSRF.is_valid():
        raise StateError("This form has expired. Go back, reload the page and send it again.", status=403)


# Errors ----------------------------------------------------------------------------------------


def _message(title: str, message: str, status: int, cohort=None):
    return render_template("cohorts/message.html", title=title, message=message, cohort=cohort), status


@portal.errorhandler(DomainError)
def _domain_error(problem: DomainError):
    if isinstance(problem, LinkRefused):
        return _message(
            "This link does not work",
            "The link is not valid or has expired. Ask the programme's organiser to send you a new one.",
            401,
        )
    return _message("Something needs attention", problem.message, problem.status)


@portal.errorhandler(HTTPException)
def _http_error(problem: HTTPException):
    return _message(problem.name, problem.description or problem.name, problem.code or 500)
