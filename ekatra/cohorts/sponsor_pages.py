"""The sponsor's pages under /cohorts/sponsor/<token>: the cohort's students, each one's
agreement and signature, and the one signature for the whole cohort (see `portal` for what every
page shares)."""

from __future__ import annotations

from flask import Blueprint, current_app, g, render_template, request, url_for

from ekatra import clock
from ekatra.cohorts import sponsor
from ekatra.cohorts.errors import ValidationFailed
from ekatra.cohorts.portal import LABELS, cohort_settings, csrf_token
from ekatra.cohorts.services import first_day

sponsor_pages = Blueprint("sponsor", __name__)


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


@sponsor_pages.get("/cohorts/sponsor/<token>")
def entry(token):
    return _sponsor_page(token, _sponsor(token))


@sponsor_pages.get("/cohorts/sponsor/<token>/overview")
def overview(token):
    return _sponsor_page(token, _sponsor(token))


@sponsor_pages.get("/cohorts/sponsor/<token>/student/<int:student_id>")
def student(token, student_id):
    cohort = _sponsor(token)
    enrollment, texts, documents = sponsor.sponsor_student(cohort, student_id)
    signature_url = (
        url_for("cohorts.portal.sponsor.student_signature", token=token, student_id=enrollment.id)
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


@sponsor_pages.get("/cohorts/sponsor/<token>/student/<int:student_id>/signature.png")
def student_signature(token, student_id):
    enrollment, _texts, _documents = sponsor.sponsor_student(_sponsor(token), student_id)
    return current_app.response_class(enrollment.signature or b"", mimetype="image/png")


@sponsor_pages.post("/cohorts/sponsor/<token>/bulk-sign")
def bulk_sign(token):
    cohort = _sponsor(token)
    try:
        result = sponsor.bulk_sign(
            token,
            signature=request.form.get("signature", ""),
            initials=request.form.get("initials", ""),
            settings=cohort_settings(),
            now=clock.now(),
        )
    except ValidationFailed as problem:
        g.error_message = problem.message
        return _sponsor_page(token, cohort, errors=problem.errors), 422
    return render_template(
        "cohorts/sponsor_signed.html", token=token, cohort=cohort, result=result, title="Signed"
    )
