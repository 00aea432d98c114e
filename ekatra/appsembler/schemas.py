"""Request and response shapes of /appsembler_api/v0 (Open edX's field names and types).

As in Django REST framework, unknown fields are ignored (a registration-extension field an
installation does not have, or the contract's own `"emai"`), booleans may be sent as the
strings "True"/"False", and counts and years as strings.
"""

from __future__ import annotations

from datetime import UTC, datetime

from marshmallow import ValidationError, fields, validate

from ekatra.appsembler.analytics import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from ekatra.partners.coupons import MAX_COUPONS_PER_BATCH
from ekatra.schemas import BaseSchema

_TEXT = validate.Length(max=5000)
_LIST_TEXT = validate.Length(max=100_000)


class Count(fields.Field):
    """A whole number, sent as a number or as text ("20", "20.0")."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool):
            raise ValidationError("A valid integer is required.")
        try:
            number = float(value) if isinstance(value, str) and value.strip() else value
            if not isinstance(number, int | float):
                raise TypeError
            return int(number)  # NaN: ValueError, infinity: OverflowError
        except (TypeError, ValueError, OverflowError):
            raise ValidationError("A valid integer is required.") from None


class Moment(fields.Field):
    """A date (YYYY-MM-DD: its midnight UTC) or an ISO 8601 date-time (without an offset: UTC)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str) or len(value) > 40:
            raise ValidationError("A date (YYYY-MM-DD) or an ISO 8601 date-time is required.")
        try:
            moment = datetime.fromisoformat(value.strip().replace(" ", "T", 1))
        except ValueError:
            raise ValidationError("A date (YYYY-MM-DD) or an ISO 8601 date-time is required.") from None
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class DrfDateTime(fields.Field):
    """A UTC instant as Django REST framework writes it: ISO 8601 with a `Z`."""

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else value.astimezone(UTC).isoformat().replace("+00:00", "Z")


class RequestSchema(BaseSchema):
    """A request: a missing field is named in DRF's words."""

    def on_bind_field(self, field_name, field_obj):
        field_obj.error_messages = {**field_obj.error_messages, "required": "This field is required."}


def _text(**kwargs):
    return fields.String(validate=_TEXT, **kwargs)


class ProfileFieldsSchema(RequestSchema):
    """Open edX profile fields, and the registration-extension fields a learner needs to
    receive a course (phone, channel, timezone); profiles.py checks their values."""

    country = fields.Raw(allow_none=True, metadata={"example": "IN"})
    city = fields.Raw(allow_none=True)
    gender = fields.Raw(allow_none=True, metadata={"description": "m, f or o"})
    goals = fields.Raw(allow_none=True)
    level_of_education = fields.Raw(allow_none=True, metadata={
        "description": "p, m, b, a, hs, jhs, el, none or other"})
    year_of_birth = fields.Raw(allow_none=True, metadata={"example": "2000"})
    mailing_address = fields.Raw(allow_none=True)
    language = fields.Raw(allow_none=True, metadata={"example": "hi"})
    bio = fields.Raw(allow_none=True)
    phone = _text(allow_none=True, metadata={"example": "+919812345678"})
    country_code = _text(allow_none=True, metadata={"example": "+91"})
    channel = _text(allow_none=True, metadata={"example": "whatsapp"})
    timezone = _text(allow_none=True, metadata={"example": "Asia/Kolkata"})


class CreateAccountSchema(ProfileFieldsSchema):
    username = _text(required=True, metadata={"example": "asha55"})
    password = _text(required=True, load_only=True)
    email = _text(required=True, metadata={"example": "asha55@example.org"})
    name = _text(required=True, metadata={"example": "Asha Rao"})
    send_activation_email = fields.Boolean(load_default=True)


class AccountWithoutPasswordSchema(ProfileFieldsSchema):
    email = _text(required=True, metadata={"example": "ravi58@example.org"})
    name = _text(required=True, metadata={"example": "Ravi Kumar"})


class ConnectAccountSchema(RequestSchema):
    username = _text(required=True)
    email = _text(load_default="")
    password = _text(load_default="", load_only=True)
    name = _text(load_default="")


class UpdateAccountSchema(ProfileFieldsSchema):
    user_lookup = _text(metadata={"description": "The username or the email of the account."})
    email = _text()
    name = _text()


class AccountIdSchema(BaseSchema):
    user_id_with_space = fields.Raw(data_key="user_id ", attribute="user_id ",
                                    metadata={"description": "The contract's key (with its trailing space)."})
    user_id = fields.Raw()


class CreatedWithoutPasswordSchema(AccountIdSchema):
    username = fields.String()


class UpdatedSchema(BaseSchema):
    success = fields.String(metadata={"example": "The following fields has been updated: name=Asha Rao"})


class GenerateCodesSchema(RequestSchema):
    course_id = _text(required=True, metadata={"example": "course-v1:A1+C1+D1"})
    total_registration_codes = Count(required=True, validate=validate.Range(min=1, max=MAX_COUPONS_PER_BATCH),
                                     metadata={"example": "20"})


class GeneratedCodesSchema(BaseSchema):
    course_id = fields.String()
    codes = fields.List(fields.String())
    course_url = fields.String()


class EnrollUserSchema(RequestSchema):
    email = _text(required=True)
    enrollment_code = _text(required=True)


class SuccessSchema(BaseSchema):
    success = fields.Boolean()


class CodeStatusSchema(RequestSchema):
    enrollment_code = _text(required=True)
    action = fields.String(required=True, validate=validate.OneOf(("cancel", "restore")))


class BulkEnrollSchema(RequestSchema):
    action = fields.String(required=True, validate=validate.OneOf(("enroll", "unenroll")))
    identifiers = fields.String(required=True, validate=_LIST_TEXT, metadata={
        "example": "asha@example.org,ravi58"})
    courses = fields.String(required=True, validate=_LIST_TEXT, metadata={"example": "course-v1:A1+C1+D1"})
    auto_enroll = fields.Boolean(load_default=False)
    email_students = fields.Boolean(load_default=False)


class BulkEnrollResultSchema(BaseSchema):
    action = fields.String()
    courses = fields.Dict(keys=fields.String(), values=fields.Dict())
    email_students = fields.Boolean()
    auto_enroll = fields.Boolean()


class PageArgsSchema(RequestSchema):
    updated_min = Moment(metadata={"example": "2026-12-09T00:00:00Z"})
    updated_max = Moment(metadata={"example": "2026-12-19"})
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1_000_000))
    page_size = fields.Integer(load_default=DEFAULT_PAGE_SIZE,
                               validate=validate.Range(min=1, max=MAX_PAGE_SIZE))


class EnrollmentArgsSchema(PageArgsSchema):
    course_id = _text()
    username = _text()


class AccountRowSchema(BaseSchema):
    id = fields.Integer()
    username = fields.String()
    email = fields.String(allow_none=True)
    is_active = fields.Boolean()
    date_joined = DrfDateTime()


class CertificateRowSchema(BaseSchema):
    completion_date = fields.String()
    grade = fields.String()
    url = fields.String()


class EnrollmentRowSchema(BaseSchema):
    enrollment_id = fields.Integer()
    user_id = fields.Integer()
    username = fields.String()
    course_id = fields.String()
    date_enrolled = DrfDateTime()
    certificate = fields.Nested(CertificateRowSchema)
