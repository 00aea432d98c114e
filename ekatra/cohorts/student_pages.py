"""The student's pages under /cohorts/student/<token>: welcome, profile, uploads, agreement and
status, and the signed agreement's PDF (see `portal` for what every page shares)."""

from __future__ import annotations

from flask import Blueprint, current_app, g, redirect, render_template, request, url_for
from werkzeug.exceptions import RequestEntityTooLarge

from ekatra import clock
from ekatra.cohorts import paperwork
from ekatra.cohorts.errors import Missing, ValidationFailed
from ekatra.cohorts.models import APPROVED, FINALISED, REJECTED, SIGNED
from ekatra.cohorts.portal import LABELS, cohort_settings, csrf_token
from ekatra.cohorts.services import first_day

student_pages = Blueprint("student", __name__)

FORM_OVERHEAD_BYTES = 64 * 1024


def _student(token: str):
    enrollment = paperwork.student_by_link(current_app.config["SECRET_KEY"], token, clock.now())
    return enrollment, enrollment.cohort


def _steps(token: str, enrollment, documents: dict, current: str) -> list[dict]:
    required = enrollment.cohort.required_uploads
    docs_rejected = any(d.status == REJECTED for d in documents.values())
    docs_done = all(u["type"] in documents for u in required)

    def step(name, label, status, text):
        return {
            "url": url_for(f"cohorts.portal.student.{name}", token=token),
            "label": label,
            "status": status,
            "status_text": text,
            "current": name == current,
        }

    agreement_status = enrollment.agreement_status
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
            REJECTED
            if agreement_status == REJECTED
            else ("done" if agreement_status in (SIGNED, APPROVED) else ""),
            "Sign again"
            if agreement_status == REJECTED
            else ("Signed" if agreement_status in (SIGNED, APPROVED) else "To do"),
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


@student_pages.get("/cohorts/student/<token>")
def entry(token):
    enrollment, _cohort = _student(token)
    page = "status" if enrollment.state in ("complete", "rejected") else "welcome"
    return redirect(url_for(f"cohorts.portal.student.{page}", token=token))


@student_pages.get("/cohorts/student/<token>/welcome")
def welcome(token):
    enrollment, _cohort = _student(token)
    return _page(
        "welcome.html",
        token,
        enrollment,
        "welcome",
        title="Welcome",
        next_url=url_for("cohorts.portal.student.profile", token=token),
    )


def _profile_form(enrollment) -> dict:
    return {
        name: ("" if getattr(enrollment, name) is None else getattr(enrollment, name))
        for name in ("phone", "age", "gender", "race", "city", "disability")
    }


@student_pages.route("/cohorts/student/<token>/profile", methods=["GET", "POST"])
def profile(token):
    enrollment, _cohort = _student(token)
    errors, form = None, _profile_form(enrollment)
    if request.method == "POST":
        form = {**form, **{k: request.form.get(k, "") for k in form}}
        try:
            paperwork.save_profile(enrollment, form, clock.now())
            return redirect(url_for("cohorts.portal.student.upload", token=token), 303)
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


@student_pages.route("/cohorts/student/<token>/upload", methods=["GET", "POST"])
def upload(token):
    enrollment, cohort = _student(token)
    settings = cohort_settings()
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
            "cohorts.portal.student.upload" if missing else "cohorts.portal.student.agreement", token=token
        ),
    )
    return (page, 422) if errors else page


def _label(cohort, document_type: str) -> str:
    return next((u["label"] for u in cohort.required_uploads if u["type"] == document_type), document_type)


@student_pages.route("/cohorts/student/<token>/agreement", methods=["GET", "POST"])
def agreement(token):
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
            return redirect(url_for("cohorts.portal.student.status", token=token), 303)
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
        next_url=url_for("cohorts.portal.student.status", token=token),
    )
    return (page, 422) if errors else page


@student_pages.get("/cohorts/student/<token>/supporting")
def supporting(token):
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
        next_url=url_for("cohorts.portal.student.status", token=token),
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
            url_for("cohorts.portal.student.upload", token=token),
        )
        for d in paperwork.student_documents(enrollment).values()
        if d.status == REJECTED
    ]
    if enrollment.agreement_status == REJECTED:
        found.append(
            (
                "Your signature",
                enrollment.rejection_reason or "",
                url_for("cohorts.portal.student.agreement", token=token),
            )
        )
    return found


@student_pages.get("/cohorts/student/<token>/status")
def status(token):
    return _status_page(token, "Your status", with_pdf=True)


@student_pages.get("/cohorts/student/<token>/resubmit")
def resubmit(token):
    return _status_page(token, "Resubmit", with_pdf=False)


def _status_page(token: str, title: str, *, with_pdf: bool):
    """Where the student stands: what was rejected (with a way to send it again) and, once
    there is one, the signed agreement."""
    enrollment, _cohort = _student(token)
    heading, explanation = _explanation(enrollment)
    pdf_url = (url_for("cohorts.portal.student.pdf", token=token)
               if with_pdf and enrollment.agreement_key else None)
    return _page("status.html", token, enrollment, "status", title=title, heading=heading,
                 explanation=explanation, rejected=_rejections(token, enrollment), pdf_url=pdf_url)


@student_pages.get("/cohorts/student/<token>/agreement.pdf")
def pdf(token):
    enrollment, _cohort = _student(token)
    data = paperwork.signed_agreement(enrollment, cohort_settings().store)
    if data is None:
        raise Missing("Your signed agreement is ready once the sponsor has signed.")
    return current_app.response_class(
        data,
        mimetype="application/pdf",
        headers={"Content-Disposition": 'attachment; filename="agreement.pdf"'},
    )
