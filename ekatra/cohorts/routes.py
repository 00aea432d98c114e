"""/api/v1/cohorts…, /api/v1/enrollments/…, /api/v1/sponsors/cohorts/<token>: the cohorts API.

Errors keep the cohorts contract's shape beside the house's: `{"message", "errors"?, "error":
{"code", "message", "details"?, "timestamp"}}`, with the contract's statuses (422 for invalid
input, 404 for another author's cohort, 401 for a bad sponsor link, 403 while students are not
ready).
"""

from __future__ import annotations

import flask
from flask import current_app, jsonify
from flask.views import MethodView
from werkzeug.exceptions import HTTPException

from ekatra import clock
from ekatra.auth.tokens import author_required, current_actor
from ekatra.cohorts import enrollments, export, invitations, paperwork, services, sponsor
from ekatra.cohorts.errors import CohortError, Missing
from ekatra.cohorts.portal import cohort_settings, cohort_store, portal
from ekatra.cohorts.schemas import (
    BulkSignSchema,
    CohortCreateSchema,
    CohortQueryArgsSchema,
    EnrollmentQueryArgsSchema,
    ExportArgsSchema,
    InvitationSchema,
    ReinviteSchema,
    VerifySchema,
    cohort_body,
    cohort_list_item,
    enrollment_body,
    iso,
    sponsor_body,
    verification_body,
)
from ekatra.cohorts.sponsor_pages import sponsor_pages
from ekatra.cohorts.student_pages import student_pages
from ekatra.errors import DomainError, _flatten_locations, error_body
from ekatra.http import PUBLIC, Blueprint
from ekatra.spreadsheets import XLSX_CONTENT_TYPE, xlsx_bytes

blp = Blueprint(
    "cohorts", __name__, description="Cohorts: invitations, verification, the sponsor's signature"
)
# The student's and sponsor's pages: HTML, not in the OpenAPI document (flask-smorest's own
# register_blueprint would document them).
portal.register_blueprint(student_pages)
portal.register_blueprint(sponsor_pages)
flask.Blueprint.register_blueprint(blp, portal)

CODES = {
    401: "AUTHENTICATION_ERROR",
    403: "AUTHORIZATION_ERROR",
    404: "NOT_FOUND",
    409: "STATE_ERROR",
    413: "VALIDATION_ERROR",
    415: "VALIDATION_ERROR",
    429: "RATE_LIMITED",
}


def contract_error(
    message: str,
    status: int,
    *,
    errors: dict | None = None,
    code: str | None = None,
    details: dict | None = None,
):
    error = {"code": code or CODES.get(status, "VALIDATION_ERROR"), "message": message}
    if details:
        error["details"] = details
    error["timestamp"] = iso(clock.now())
    body = {**error_body(message, errors), "error": error}
    return jsonify(body), status


@blp.errorhandler(DomainError)
def _domain_error(problem: DomainError):
    if isinstance(problem, CohortError):
        return contract_error(
            problem.message, problem.status, errors=problem.errors, code=problem.code, details=problem.details
        )
    return contract_error(problem.message, problem.status, errors=problem.errors)


@blp.errorhandler(HTTPException)
def _http_error(problem: HTTPException):
    messages = (getattr(problem, "data", None) or {}).get("messages")
    errors = _flatten_locations(messages) if isinstance(messages, dict) else None
    if errors:
        return contract_error("Invalid input: " + "; ".join(sorted(errors)), 422, errors=errors)
    status = problem.code or 500
    return contract_error(problem.description or problem.name, status)


# Cohorts ---------------------------------------------------------------------------------------


@blp.route("/api/v1/cohorts")
class Cohorts(MethodView):
    @blp.arguments(CohortQueryArgsSchema, location="query")
    @author_required()
    def get(self, args):
        """List your cohorts (paginated; filter by state, program_type, name)"""
        views, total = services.list_cohorts(
            current_actor(),
            page=args["page"],
            per_page=args["per_page"],
            states=args["state"],
            program_types=args["program_type"],
            q=args.get("q"),
        )
        return {
            "data": [cohort_list_item(view) for view in views],
            "meta": {"page": args["page"], "per_page": args["per_page"], "total": total},
        }

    @blp.arguments(
        CohortCreateSchema,
        example={
            "cohort": {
                "name": "Q1 2025 Learnership",
                "program_type": "learnership",
                "sponsor_email": "sponsor@company.com",
                "sponsor_company_name": "Acme Mining",
                "student_count": 50,
                "course_id": 1,
                "start_date": "2025-02-01",
                "end_date": "2025-07-31",
                "send_time": "09:00",
                "cadence": "daily",
                "default_timezone": "Africa/Johannesburg",
                "default_channel": "whatsapp",
                "main_template": {
                    "name": "Learnership Agreement",
                    "body": "I, {{full_name}}, agree to take part in {{cohort_name}}.",
                },
                "supporting_templates": [{"name": "Code of Conduct", "body": "I will attend every session."}],
                "required_uploads": [
                    {"type": "id_document", "label": "ID"},
                    {"type": "matric_certificate", "label": "Matric certificate"},
                ],
            }
        },
    )
    @blp.response(201)
    @author_required()
    def post(self, body):
        """Create a draft cohort: its course, send time, agreement templates and required uploads"""
        return cohort_body(services.create_cohort(current_actor(), body["cohort"], now=clock.now()))


@blp.route("/api/v1/cohorts/<int:cohort_id>")
class CohortById(MethodView):
    @author_required()
    def get(self, cohort_id):
        """A cohort with its templates, enrollment_summary and completion_percentage"""
        return cohort_body(services.get_cohort(current_actor(), cohort_id))


@blp.route("/api/v1/cohorts/<int:cohort_id>/cancel", methods=["POST"])
@blp.doc(summary="Cancel a draft or active cohort: every link stops working")
@author_required()
def cancel_cohort(cohort_id):
    return cohort_body(services.cancel_cohort(current_actor(), cohort_id, now=clock.now()))


@blp.route("/api/v1/cohorts/<int:cohort_id>/invitations")
class Invitations(MethodView):
    @blp.arguments(InvitationSchema)
    @blp.response(201)
    @author_required()
    def post(self, body, cohort_id):
        """Invite students: private links by email and by SMS or WhatsApp (through the outbox)"""
        result = invitations.invite(
            current_actor(),
            cohort_id,
            body["students"],
            send_email=body["send_email"],
            send_text=body["send_text"],
            message=body["message"],
            settings=cohort_settings(),
            now=clock.now(),
        )
        return {
            "invitations_sent": result.invitations_sent,
            "invite_links": [{**link, "expires_at": iso(link["expires_at"])} for link in result.invite_links],
            "errors": result.errors,
        }


@blp.route("/api/v1/cohorts/<int:cohort_id>/enrollments")
class Enrollments(MethodView):
    @blp.arguments(EnrollmentQueryArgsSchema, location="query")
    @author_required()
    def get(self, args, cohort_id):
        """The cohort's enrollments (filter by state, verification_state; paginated)"""
        rows, total, is_owner = enrollments.list_enrollments(
            current_actor(),
            cohort_id,
            states=args["state"],
            verification_states=args["verification_state"],
            page=args["page"],
            per_page=args["per_page"],
        )
        return {
            "data": [enrollment_body(e, docs, with_demographics=is_owner) for e, docs in rows],
            "meta": {
                "page": args["page"],
                "per_page": args["per_page"],
                "total": total,
                "filters": {"state": args["state"], "verification_state": args["verification_state"]},
            },
        }


@blp.route("/api/v1/cohorts/<int:cohort_id>/export")
class Export(MethodView):
    @blp.arguments(ExportArgsSchema, location="query")
    @author_required()
    def get(self, args, cohort_id):
        """The cohort as an .xlsx (the contract's columns; demographics only for the owner)"""
        cohort, columns, rows = export.export_rows(current_actor(), cohort_id, args.get("include"))
        name = f"cohort_{cohort.id}_export_{clock.now():%Y%m%d}.xlsx"
        return current_app.response_class(
            xlsx_bytes(columns, rows, title=cohort.name, fallback_title="Cohort"),
            mimetype=XLSX_CONTENT_TYPE,
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )


# Enrollments -----------------------------------------------------------------------------------


@blp.route("/api/v1/enrollments/<int:enrollment_id>")
class EnrollmentById(MethodView):
    @author_required()
    def get(self, enrollment_id):
        """One enrollment with its uploads"""
        enrollment, documents, is_owner = enrollments.get_enrollment(current_actor(), enrollment_id)
        return enrollment_body(enrollment, documents, with_demographics=is_owner)


@blp.route("/api/v1/enrollments/<int:enrollment_id>/verify")
class Verify(MethodView):
    @blp.arguments(
        VerifySchema,
        example={
            "action": "reject",
            "document_type": "matric_certificate",
            "reason": "Certificate is not certified by SAQA.",
        },
    )
    @author_required()
    def post(self, body, enrollment_id):
        """Approve or reject a student's document (a rejection asks the student to resubmit)"""
        record = enrollments.verify(
            current_actor(),
            enrollment_id,
            action=body["action"],
            document_type=body["document_type"],
            reason=body["reason"],
            metadata=body["metadata"],
            settings=cohort_settings(),
            now=clock.now(),
        )
        return verification_body(record)


@blp.route("/api/v1/enrollments/<int:enrollment_id>/invitation")
class Reinvite(MethodView):
    @blp.arguments(ReinviteSchema)
    @author_required()
    def post(self, body, enrollment_id):
        """Re-invite a student: a new link (older ones stop working), sent again"""
        link = invitations.reinvite(
            current_actor(),
            enrollment_id,
            send_email=body["send_email"],
            send_text=body["send_text"],
            settings=cohort_settings(),
            now=clock.now(),
        )
        return {**link, "expires_at": iso(link["expires_at"])}

    @author_required()
    def delete(self, enrollment_id):
        """Revoke a student's invitation: the link stops working"""
        enrollment = invitations.revoke(current_actor(), enrollment_id, now=clock.now())
        return {"id": enrollment.id, "state": enrollment.state, "revoked_at": iso(enrollment.revoked_at)}


@blp.route("/api/v1/enrollments/<int:enrollment_id>/documents/<int:document_id>")
class EnrollmentDocument(MethodView):
    @author_required()
    def get(self, enrollment_id, document_id):
        """Download a student's upload to review it"""
        document, data = enrollments.document_file(
            current_actor(), enrollment_id, document_id, cohort_store()
        )
        return current_app.response_class(
            data,
            mimetype=document.content_type,
            headers={"Content-Disposition": f'attachment; filename="{document.document_type}-{document.id}"'},
        )


@blp.route("/api/v1/enrollments/<int:enrollment_id>/agreement.pdf")
class SignedAgreement(MethodView):
    @author_required()
    def get(self, enrollment_id):
        """The student's signed agreement (a PDF, once the cohort is finalised)"""
        enrollment, _documents, _owner = enrollments.get_enrollment(current_actor(), enrollment_id)
        data = paperwork.signed_agreement(enrollment, cohort_store())
        if data is None:
            raise Missing("The signed agreement exists once the sponsor has signed")
        return current_app.response_class(
            data,
            mimetype="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="agreement-{enrollment.id}.pdf"'},
        )


# The sponsor -----------------------------------------------------------------------------------


@blp.route("/api/v1/sponsors/cohorts/<string:token>")
class SponsorCohort(MethodView):
    @blp.doc(security=PUBLIC)
    def get(self, token):
        """The sponsor's view of the cohort (token from the sponsor's email); can_sign once all are ready"""
        cohort = sponsor.cohort_by_sponsor_link(current_app.config["SECRET_KEY"], token, clock.now())
        return sponsor_body(sponsor.sponsor_overview(cohort))


@blp.route("/api/v1/sponsors/cohorts/<string:token>/bulk-sign")
class SponsorBulkSign(MethodView):
    @blp.doc(security=PUBLIC)
    @blp.arguments(BulkSignSchema)
    def post(self, body, token):
        """Sign for every student at once: the cohort is finalised and its course delivery starts"""
        result = sponsor.bulk_sign(
            token,
            signature=body["signature"],
            initials=body["initials"],
            sign_all=body["sign_all"],
            settings=cohort_settings(),
            now=clock.now(),
        )
        return {
            **vars(result),
            "signatures_applied": [
                {**applied, "signed_at": iso(applied["signed_at"])} for applied in result.signatures_applied
            ],
        }
