"""The cohorts API's request schemas (names, types, bounds, examples) and its response shapes,
as the cohorts contract writes them."""

from __future__ import annotations

from marshmallow import Schema, fields, validate
from webargs.fields import DelimitedList

from ekatra.cohorts.models import ENROLLMENT_STATES, VERIFICATION_STATES
from ekatra.cohorts.services import PROGRAM_TYPES, CohortView, completion_percentage

BLANK = {"required": "can't be blank", "null": "can't be blank"}


def _text(max_chars: int, **kwargs):
    return fields.String(
        validate=[validate.Length(min=1, error="can't be blank"), validate.Length(max=max_chars)],
        error_messages=BLANK,
        **kwargs,
    )


class TemplateSchema(Schema):
    name = _text(200, required=True, metadata={"example": "Learnership Agreement"})
    body = _text(
        50_000,
        required=True,
        metadata={"example": "I, {{full_name}}, agree to take part in {{cohort_name}} from {{start_date}}."},
    )


class UploadSchema(Schema):
    type = fields.String(
        required=True,
        error_messages=BLANK,
        validate=validate.Regexp(r"^[a-z][a-z0-9_]{0,39}$", error="is invalid"),
        metadata={"example": "matric_certificate"},
    )
    label = fields.String(validate=validate.Length(max=100), metadata={"example": "Matric certificate"})


class CohortFieldsSchema(Schema):
    name = _text(200, required=True, metadata={"example": "Q1 2025 Learnership"})
    program_type = fields.String(
        required=True,
        error_messages=BLANK,
        validate=validate.OneOf(PROGRAM_TYPES),
        metadata={"example": "learnership"},
    )
    sponsor_email = fields.Email(
        required=True,
        error_messages={**BLANK, "invalid": "is invalid"},
        validate=validate.Length(max=254),
        metadata={"example": "sponsor@company.com"},
    )
    sponsor_company_name = fields.String(
        validate=validate.Length(max=200), metadata={"example": "Acme Mining"}
    )
    student_count = fields.Integer(
        required=True, error_messages=BLANK, validate=validate.Range(1, 10_000), metadata={"example": 50}
    )
    course_id = fields.Integer(required=True, error_messages=BLANK, strict=True, metadata={"example": 1})
    start_date = fields.Date(required=True, error_messages=BLANK, metadata={"example": "2025-02-01"})
    end_date = fields.Date(required=True, error_messages=BLANK, metadata={"example": "2025-07-31"})
    send_time = fields.String(
        load_default="09:00",
        validate=validate.Regexp(r"^([01]\d|2[0-3]):[0-5]\d$", error="must be HH:MM"),
        metadata={
            "example": "09:00",
            "description": "Day 1's local time of day, in each student's own timezone.",
        },
    )
    cadence = fields.String(load_default="daily", validate=validate.OneOf(("daily", "weekdays", "minutes")))
    interval = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(1, 1440))
    default_timezone = fields.String(load_default="UTC", metadata={"example": "Africa/Johannesburg"})
    default_channel = fields.String(load_default="sms", metadata={"example": "whatsapp"})
    main_template = fields.Nested(
        TemplateSchema,
        metadata={
            "description": "The main agreement, or `main_template_id` to copy one of your cohorts' templates."
        },
    )
    main_template_id = fields.Integer(strict=True, metadata={"example": 123})
    supporting_templates = fields.List(fields.Nested(TemplateSchema), validate=validate.Length(max=10))
    supporting_template_ids = fields.List(fields.Integer(strict=True), validate=validate.Length(max=10))
    required_uploads = fields.List(
        fields.Nested(UploadSchema),
        validate=validate.Length(max=10),
        metadata={
            "example": [
                {"type": "id_document", "label": "ID"},
                {"type": "matric_certificate", "label": "Matric certificate"},
            ]
        },
    )


class CohortCreateSchema(Schema):
    cohort = fields.Nested(CohortFieldsSchema, required=True, error_messages=BLANK)


class PageArgsSchema(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(1, 100_000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(1, 100))


class CohortQueryArgsSchema(PageArgsSchema):
    state = DelimitedList(
        fields.String(validate=validate.OneOf(("draft", "active", "finalised", "cancelled"))), load_default=[]
    )
    program_type = DelimitedList(fields.String(validate=validate.OneOf(PROGRAM_TYPES)), load_default=[])
    q = fields.String(validate=validate.Length(max=200), metadata={"description": "Part of the name."})


class StudentInviteSchema(Schema):
    email = fields.String(required=True, error_messages=BLANK, metadata={"example": "student1@example.com"})
    first_name = fields.String(
        required=True, error_messages=BLANK, validate=validate.Length(max=200), metadata={"example": "John"}
    )
    last_name = fields.String(
        required=True, error_messages=BLANK, validate=validate.Length(max=200), metadata={"example": "Doe"}
    )
    phone = fields.String(required=True, error_messages=BLANK, metadata={"example": "+27123456789"})
    channel = fields.String(metadata={"example": "whatsapp"})
    timezone = fields.String(metadata={"example": "Africa/Johannesburg"})
    age = fields.Integer(allow_none=True, validate=validate.Range(14, 100))
    race = fields.String(allow_none=True, validate=validate.Length(max=60))
    city = fields.String(allow_none=True, validate=validate.Length(max=100))
    gender = fields.String(allow_none=True, validate=validate.Length(max=60))
    disability = fields.String(allow_none=True, validate=validate.Length(max=60))


class InvitationSchema(Schema):
    students = fields.List(
        fields.Nested(StudentInviteSchema),
        required=True,
        error_messages=BLANK,
        validate=validate.Length(min=1, max=500),
    )
    send_email = fields.Boolean(load_default=True)
    send_text = fields.Boolean(
        load_default=True,
        metadata={"description": "Also text the link on each student's channel (SMS or WhatsApp)."},
    )
    message = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))


class ReinviteSchema(Schema):
    send_email = fields.Boolean(load_default=True)
    send_text = fields.Boolean(load_default=True)


class EnrollmentQueryArgsSchema(PageArgsSchema):
    state = DelimitedList(fields.String(validate=validate.OneOf(ENROLLMENT_STATES)), load_default=[])
    verification_state = DelimitedList(
        fields.String(validate=validate.OneOf(VERIFICATION_STATES)), load_default=[]
    )


class VerifySchema(Schema):
    action = fields.String(
        required=True, error_messages=BLANK, validate=validate.OneOf(("approve", "reject"))
    )
    document_type = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=40),
        metadata={
            "description": "An upload type, or `agreement`; none: approve everything the student submitted."
        },
    )
    reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))
    metadata = fields.Dict(load_default=None, allow_none=True)


class ExportArgsSchema(Schema):
    format = fields.String(required=True, error_messages=BLANK, validate=validate.OneOf(("xlsx",)))
    include = DelimitedList(
        fields.String(), metadata={"example": "student_demographics,program_details,sponsor_info"}
    )


class BulkSignSchema(Schema):
    signature = fields.String(
        required=True, error_messages=BLANK, metadata={"example": "data:image/png;base64,…"}
    )
    initials = fields.String(
        required=True, error_messages=BLANK, metadata={"example": "data:image/png;base64,…"}
    )
    sign_all = fields.Boolean(load_default=True)
    timestamp = fields.String(metadata={"description": "Ignored: the server's clock dates the signature."})


# Responses ----------------------------------------------------------------------------------------


def iso(moment) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment is not None else None


def cohort_links(cohort_id: int) -> dict:
    base = f"/api/v1/cohorts/{cohort_id}"
    return {
        "self": base,
        "enrollments": f"{base}/enrollments",
        "invitations": f"{base}/invitations",
        "export": f"{base}/export?format=xlsx",
    }


def cohort_body(view: CohortView) -> dict:
    main, supporting = view.main_template, view.supporting_templates
    counts = view.counts
    return {
        "id": view.id,
        "uuid": view.uuid,
        "name": view.name,
        "program_type": view.program_type,
        "state": view.state,
        "sponsor_email": view.sponsor_email,
        "sponsor_company_name": view.sponsor_company_name,
        "student_count": view.student_count,
        "course_id": view.course_id,
        "main_template_id": main.id if main else None,
        "supporting_template_ids": [t.id for t in supporting],
        "start_date": view.start_date.isoformat(),
        "end_date": view.end_date.isoformat(),
        "send_time": view.local_send_time,
        "cadence": view.cadence,
        "interval": view.interval_minutes,
        "default_timezone": view.default_timezone,
        "default_channel": view.default_channel,
        "required_uploads": view.required_uploads,
        "admin_signed_at": iso(view.admin_signed_at),
        "sponsor_signed_at": iso(view.sponsor_signed_at),
        "finalised_at": iso(view.finalised_at),
        "group_id": view.group_id,
        "delivery_id": view.delivery_id,
        "created_at": iso(view.created_at),
        "updated_at": iso(view.updated_at),
        "templates": {
            "main": {"id": main.id, "name": main.name, "uuid": main.uuid, "body": main.body}
            if main
            else None,
            "supporting": [{"id": t.id, "name": t.name, "uuid": t.uuid, "body": t.body} for t in supporting],
        },
        "enrollments": {key: counts[key] for key in ("waiting", "in_progress", "complete")},
        "enrollment_summary": {
            key: counts[key] for key in ("total", "waiting", "in_progress", "complete", "rejected")
        },
        "completion_percentage": completion_percentage(counts),
        "links": cohort_links(view.id),
    }


def cohort_list_item(view: CohortView) -> dict:
    return {
        "id": view.id,
        "name": view.name,
        "program_type": view.program_type,
        "state": view.state,
        "completion_percentage": completion_percentage(view.counts),
        "student_count": view.student_count,
        "completed_students": view.counts["complete"],
        "links": {"self": f"/api/v1/cohorts/{view.id}"},
    }


def document_body(document, enrollment_id: int) -> dict:
    return {
        "id": document.id,
        "document_type": document.document_type,
        "filename": document.filename,
        "content_type": document.content_type,
        "size_bytes": document.size_bytes,
        "sha256": document.sha256,
        "status": document.status,
        "rejection_reason": document.rejection_reason,
        "uploaded_at": iso(document.uploaded_at),
        "reviewed_at": iso(document.reviewed_at),
        "download": f"/api/v1/enrollments/{enrollment_id}/documents/{document.id}",
    }


def enrollment_body(enrollment, documents, *, with_demographics: bool) -> dict:
    rejected = sum(1 for d in documents if d.status == "rejected") + (
        enrollment.agreement_status == "rejected"
    )
    body = {
        "id": enrollment.id,
        "uuid": enrollment.uuid,
        "student": {
            "id": enrollment.id,
            "name": enrollment.full_name,
            "first_name": enrollment.first_name,
            "last_name": enrollment.last_name,
            "email": enrollment.email,
            "phone": enrollment.phone,
            "channel": enrollment.channel,
            "timezone": enrollment.timezone,
        },
        "state": enrollment.state,
        "verification_state": enrollment.verification_state,
        "agreement_status": enrollment.agreement_status,
        "rejection_reason": enrollment.rejection_reason,
        "documents": {
            "uploaded": len(documents),
            "signed": int(enrollment.agreement_status in ("signed", "approved")),
            "rejected": rejected,
        },
        "uploads": [document_body(d, enrollment.id) for d in documents],
        "signed_at": iso(enrollment.signed_at),
        "sponsor_signed_at": iso(enrollment.sponsor_signed_at),
        "invited_at": iso(enrollment.invited_at),
        "link_expires_at": iso(enrollment.link_expires_at),
        "created_at": iso(enrollment.created_at),
        "updated_at": iso(enrollment.updated_at),
        "links": {
            "self": f"/api/v1/enrollments/{enrollment.id}",
            "verify": f"/api/v1/enrollments/{enrollment.id}/verify",
        },
    }
    if enrollment.agreement_key:
        body["links"]["agreement_pdf"] = f"/api/v1/enrollments/{enrollment.id}/agreement.pdf"
    if with_demographics:
        body["student_data"] = {
            "age": enrollment.age,
            "race": enrollment.race,
            "city": enrollment.city,
            "gender": enrollment.gender,
            "disability": enrollment.disability,
        }
    return body


def verification_body(record) -> dict:
    return {
        "id": record.id,
        "enrollment_id": record.enrollment_id,
        "action": record.action,
        "document_type": record.document_type,
        "reason": record.reason,
        "admin_id": record.admin_id,
        "created_at": iso(record.created_at),
        "metadata": record.details,
    }


def sponsor_body(overview: dict) -> dict:
    cohort = overview["cohort"]
    students = [{**s, "signed_at": iso(s["signed_at"])} for s in overview["students"]]
    return {
        "cohort": {
            "id": cohort.id,
            "name": cohort.name,
            "program_type": cohort.program_type,
            "student_count": cohort.student_count,
            "sponsor_email": cohort.sponsor_email,
            "state": cohort.state,
        },
        "students": students,
        "summary": overview["summary"],
        "can_sign": overview["can_sign"],
        "bulk_sign_available": overview["bulk_sign_available"],
        "token_expires_at": iso(overview["token_expires_at"]),
    }
