"""The student's and the sponsor's portals: server-rendered pages under /cohorts/student/<token>
and /cohorts/sponsor/<token>, opened from a link in an SMS, a WhatsApp message or an email.

Pages are plain HTML forms (they work on any phone browser); the only script is the signature
pad (static/signature.js, a file, as the pages' CSP allows no inline script). Every form carries a
CSRF token that must equal the portal's cookie (SameSite=Strict), so another site cannot post
a form even to a link it learnt.
"""

from __future__ import annotations

import hmac
import secrets

from flask import Blueprint, current_app, g, redirect, render_template, request, url_for
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from ekatra import clock
from ekatra.cohorts import paperwork, sponsor
from ekatra.cohorts.models import APPROVED, FINALISED, REJECTED, SIGNED
from ekatra.cohorts.services import (
    LinkRefused,
    Missing,
    StateError,
    ValidationFailed,
    first_day,
)
from ekatra.errors import DomainError

portal = Blueprint(
    "portal", __name__, template_folder="templates", static_folder="static", static_url_path="/cohorts/static"
)

CSRF_COOKIE = "ekatra_cohort_csrf"
FORM_OVERHEAD_BYTES = 64 * 1024
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


def _settings():
    from ekatra.cohorts.routes import settings

    return settings()


# CSRF ------------------------------------------------------------------------------------------


def csrf_token() -> str:
    token = request.cookies.get(CSRF_COOKIE) or getattr(g, "new_csrf", None)
    if not token:
        token = g.new_csrf = secrets.token_urlsafe(24)
    return token


@portal.after_request
def _set_csrf_cookie(response):
    if getattr(g, "new_csrf", None):
        response.set_cookie(
            CSRF_COOKIE,
            g.new_csrf,
            httponly=True,
            samesite="Strict",
            path="/cohorts/",
            secure=current_app.config["PUBLIC_BASE_URL"].startswith("https://"),
        )
    response.headers.setdefault("Cache-Control", "no-store")
    return response


@portal.before_request
def _check_csrf():
    if request.method == "POST":
        cookie, sent = request.cookies.get(CSRF_COOKIE, ""), request.form.get("csrf_token", "")
        if not cookie or not hmac.compare_digest(cookie.encode(), sent.encode()):
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


# The student -----------------------------------------------------------------------------------


def _student(token: str):
    enrollment = paperwork.student_by_link(current_app.config["SECRET_KEY"], token, clock.now())
    return enrollment, enrollment.cohort


def _steps(token: str, enrollment, documents: dict, current: str) -> list[dict]:
    required = enrollment.cohort.required_uploads
    docs_rejected = any(d.status == REJECTED for d in documents.values())
    docs_done = all(u["type"] in documents for u in required)

    def step(name, label, status, text):
        return {
            "url": url_for(f"cohorts.portal.student_{name}", token=token),
            "label": label,
            "status": status,
            "status_text": text,
            "current": name == current,
        }

    agreement = enrollment.agreement_status
    return [
        step(
            "profile",
            "Your profile",
            "done" if enrollment.profile_saved_at else "",
            "Done" if enrollment.profile_saved_at else "To do",
        ),
        step(
            "upload",
            "Your documents",
            REJECTED if docs_rejected else ("done" if docs_done else ""),
            "Resubmit"
            if docs_rejected
            else ("Done" if docs_done else f"{len(documents)} of {len(required)}"),
        ),
        step(
            "agreement",
            "Read and sign the agreement",
            REJECTED if agreement == REJECTED else ("done" if agreement in (SIGNED, APPROVED) else ""),
            "Sign again"
            if agreement == REJECTED
            else ("Signed" if agreement in (SIGNED, APPROVED) else "To do"),
        ),
        step(
            "status",
            "Your status",
            enrollment.verification_state,
            enrollment.verification_state.replace("unverified", "in progress"),
        ),
    ]


def _page(template: str, token: str, enrollment, current: str, **context):
    documents = paperwork.student_documents(enrollment)
    return render_template(
        f"cohorts/{template}",
        token=token,
        enrollment=enrollment,
        cohort=enrollment.cohort,
        steps=_steps(token, enrollment, documents, current),
        documents=documents,
        csrf=csrf_token(),
        labels=LABELS,
        **context,
    )


@portal.get("/cohorts/student/<token>")
def student_entry(token):
    enrollment, _cohort = _student(token)
    page = "status" if enrollment.state in ("complete", "rejected") else "welcome"
    return redirect(url_for(f"cohorts.portal.student_{page}", token=token))


@portal.get("/cohorts/student/<token>/welcome")
def student_welcome(token):
    enrollment, _cohort = _student(token)
    return _page(
        "welcome.html",
        token,
        enrollment,
        "welcome",
        title="Welcome",
        next_url=url_for("cohorts.portal.student_profile", token=token),
    )


def _profile_form(enrollment) -> dict:
    return {
        name: ("" if getattr(enrollment, name) is None else getattr(enrollment, name))
        for name in ("phone", "age", "gender", "race", "city", "disability")
    }


@portal.route("/cohorts/student/<token>/profile", methods=["GET", "POST"])
def student_profile(token):
    enrollment, _cohort = _student(token)
    errors, form = None, _profile_form(enrollment)
    if request.method == "POST":
        form = {**form, **{k: request.form.get(k, "") for k in form}}
        try:
            paperwork.save_profile(enrollment, form, clock.now())
            return redirect(url_for("cohorts.portal.student_upload", token=token), 303)
        except ValidationFailed as problem:
            errors, g.error_message = problem.errors, problem.message
    page = _page(
        "profile.html",
        token,
        enrollment,
        "profile",
        title="Your profile",
        form=form,
        errors=errors,
        genders=paperwork.GENDERS,
        disabilities=paperwork.DISABILITIES,
    )
    return (page, 422) if errors else page


@portal.route("/cohorts/student/<token>/upload", methods=["GET", "POST"])
def student_upload(token):
    enrollment, cohort = _student(token)
    settings = _settings()
    errors, notice = None, None
    if request.method == "POST":
        request.max_content_length = settings.upload_max_bytes + FORM_OVERHEAD_BYTES
        try:
            file = request.files.get("file")
            document_type = request.form.get("document_type", "")
            data = file.read(settings.upload_max_bytes + 1) if file else b""
            document = paperwork.upload(
                enrollment,
                document_type,
                file.filename if file else "",
                data,
                settings=settings,
                now=clock.now(),
            )
            notice = f"Thank you: your {_label(cohort, document.document_type)} was received."
        except RequestEntityTooLarge:
            errors = {"file": [f"is larger than {settings.upload_max_bytes // (1024 * 1024)} MB"]}
        except ValidationFailed as problem:
            errors, g.error_message = problem.errors, problem.message
    missing = [u for u in cohort.required_uploads if u["type"] not in paperwork.student_documents(enrollment)]
    page = _page(
        "upload.html",
        token,
        enrollment,
        "upload",
        title="Your documents",
        uploads=cohort.required_uploads,
        errors=errors,
        notice=notice,
        max_mb=settings.upload_max_bytes // (1024 * 1024),
        next_url=url_for(
            "cohorts.portal.student_upload" if missing else "cohorts.portal.student_agreement", token=token
        ),
    )
    return (page, 422) if errors else page


def _label(cohort, document_type: str) -> str:
    return next((u["label"] for u in cohort.required_uploads if u["type"] == document_type), document_type)


@portal.route("/cohorts/student/<token>/agreement", methods=["GET", "POST"])
def student_agreement(token):
    enrollment, _cohort = _student(token)
    errors, form = None, {}
    if request.method == "POST":
        form = {"typed_name": request.form.get("typed_name", "")}
        try:
            paperwork.sign_agreement(
                enrollment,
                typed_name=form["typed_name"],
                signature=request.form.get("signature", ""),
                agree=request.form.get("agree") == "yes",
                now=clock.now(),
            )
            return redirect(url_for("cohorts.portal.student_status", token=token), 303)
        except ValidationFailed as problem:
            errors, g.error_message = problem.errors, problem.message
    page = _page(
        "agreement.html",
        token,
        enrollment,
        "agreement",
        title="Your agreement",
        texts=paperwork.agreement_texts(enrollment),
        form=form,
        errors=errors,
        next_url=url_for("cohorts.portal.student_status", token=token),
    )
    return (page, 422) if errors else page


@portal.get("/cohorts/student/<token>/supporting")
def student_supporting(token):
    enrollment, _cohort = _student(token)
    texts = [text for text in paperwork.agreement_texts(enrollment) if text[0] != "main"]
    return _page(
        "agreement.html",
        token,
        enrollment,
        "agreement",
        title="Supporting documents",
        texts=texts,
        form={},
        next_url=url_for("cohorts.portal.student_status", token=token),
    )


def _explanation(enrollment) -> tuple[str, str]:
    cohort = enrollment.cohort
    if cohort.state == FINALISED:
        day = first_day(cohort, cohort.finalised_at)
        return "You are enrolled", (
            f"Everything is signed. Your first lesson arrives on {day:%d %B %Y} at "
            f"{cohort.local_send_time} ({enrollment.timezone} time)."
        )
    return {
        "waiting": ("Let's get started", "Please fill in your profile, upload your documents and sign."),
        "in_progress": ("Almost there", "Some steps are still to do: see the list above."),
        "complete": (
            "Submitted",
            "Thank you: everything is submitted. The organiser is checking your documents."
            if enrollment.verification_state != "verified"
            else "Thank you: your documents are verified. The course starts once the sponsor signs.",
        ),
        "rejected": (
            "Please resubmit",
            "Something was not accepted. Fix the items below and send them again.",
        ),
    }.get(enrollment.state, ("Your status", ""))


def _rejections(token: str, enrollment) -> list[tuple[str, str, str]]:
    found = [
        (
            _label(enrollment.cohort, d.document_type),
            d.rejection_reason,
            url_for("cohorts.portal.student_upload", token=token),
        )
        for d in paperwork.student_documents(enrollment).values()
        if d.status == REJECTED
    ]
    if enrollment.agreement_status == REJECTED:
        found.append(
            (
                "Your signature",
                enrollment.rejection_reason or "",
                url_for("cohorts.portal.student_agreement", token=token),
            )
        )
    return found


@portal.get("/cohorts/student/<token>/status")
def student_status(token):
    enrollment, _cohort = _student(token)
    heading, explanation = _explanation(enrollment)
    pdf_url = url_for("cohorts.portal.student_pdf", token=token) if enrollment.agreement_key else None
    return _page(
        "status.html",
        token,
        enrollment,
        "status",
        title="Your status",
        heading=heading,
        explanation=explanation,
        rejected=_rejections(token, enrollment),
        pdf_url=pdf_url,
    )


@portal.get("/cohorts/student/<token>/resubmit")
def student_resubmit(token):
    enrollment, _cohort = _student(token)
    heading, explanation = _explanation(enrollment)
    return _page(
        "status.html",
        token,
        enrollment,
        "status",
        title="Resubmit",
        heading=heading,
        explanation=explanation,
        rejected=_rejections(token, enrollment),
        pdf_url=None,
    )


@portal.get("/cohorts/student/<token>/agreement.pdf")
def student_pdf(token):
    enrollment, _cohort = _student(token)
    data = paperwork.signed_agreement(enrollment, _settings().store)
    if data is None:
        raise Missing("Your signed agreement is ready once the sponsor has signed.")
    return current_app.response_class(
        data,
        mimetype="application/pdf",
        headers={"Content-Disposition": 'attachment; filename="agreement.pdf"'},
    )


# The sponsor -----------------------------------------------------------------------------------


def _sponsor(token: str):
    return sponsor.cohort_by_sponsor_link(current_app.config["SECRET_KEY"], token, clock.now())


def _sponsor_page(token: str, cohort, **context):
    overview = sponsor.sponsor_overview(cohort)
    return render_template(
        "cohorts/sponsor.html",
        token=token,
        cohort=cohort,
        overview=overview,
        csrf=csrf_token(),
        first_day=first_day(cohort, clock.now()),
        labels=LABELS,
        title="Sponsor's review",
        **context,
    )


@portal.get("/cohorts/sponsor/<token>")
def sponsor_entry(token):
    return _sponsor_page(token, _sponsor(token))


@portal.get("/cohorts/sponsor/<token>/overview")
def sponsor_overview(token):
    return _sponsor_page(token, _sponsor(token))


@portal.get("/cohorts/sponsor/<token>/student/<int:student_id>")
def sponsor_student(token, student_id):
    cohort = _sponsor(token)
    enrollment, texts, documents = sponsor.sponsor_student(cohort, student_id)
    signature_url = (
        url_for("cohorts.portal.sponsor_student_signature", token=token, student_id=enrollment.id)
        if enrollment.signature
        else None
    )
    return render_template(
        "cohorts/sponsor_student.html",
        token=token,
        cohort=cohort,
        enrollment=enrollment,
        texts=texts,
        documents=documents,
        signature_url=signature_url,
        title=enrollment.full_name,
    )


@portal.get("/cohorts/sponsor/<token>/student/<int:student_id>/signature.png")
def sponsor_student_signature(token, student_id):
    enrollment, _texts, _documents = sponsor.sponsor_student(_sponsor(token), student_id)
    return current_app.response_class(enrollment.signature or b"", mimetype="image/png")


@portal.post("/cohorts/sponsor/<token>/bulk-sign")
def sponsor_bulk_sign(token):
    cohort = _sponsor(token)
    try:
        result = sponsor.bulk_sign(
            token,
            signature=request.form.get("signature", ""),
            initials=request.form.get("initials", ""),
            settings=_settings(),
            now=clock.now(),
        )
    except ValidationFailed as problem:
        g.error_message = problem.message
        return _sponsor_page(token, cohort, errors=problem.errors), 422
    return render_template(
        "cohorts/sponsor_signed.html", token=token, cohort=cohort, result=result, title="Signed"
    )
