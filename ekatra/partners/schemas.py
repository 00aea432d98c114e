"""Request and response shapes of /api/partner (the SkillsTrainer partner contract's names).

Request bodies and query strings of the partner and coupon routes refuse unknown fields
(`StrictSchema`: a 400 naming the field). Unlike the authors' routes, which keep the Ekatra
contract's habit of ignoring them, these carry credentials, seats and enrolments: a
misspelt `capacity` or `phone` that silently vanished would enrol someone the caller meant
to refuse, or leave a learner unreachable. The one extra field the partner contract
documents in bodies, `access_secret` (the secret key), is accepted everywhere and not passed on.
"""

from __future__ import annotations

from flask_smorest.fields import Upload
from marshmallow import RAISE, fields, post_load, validate

from ekatra.extensions import MAX_ID
from ekatra.partners.coupons import MAX_COUPONS_PER_BATCH
from ekatra.schemas import BaseSchema

_ID = validate.Range(min=1, max=MAX_ID)


class StrictSchema(BaseSchema):
    """A request of the partner and coupon routes: unknown fields are a 400."""

    class Meta:
        unknown = RAISE
        ordered = True


class RequestSchema(StrictSchema):
    """A partner's request body: strict, and `access_secret` is allowed (and dropped)."""

    access_secret = fields.String(load_only=True, metadata={
        "description": "The secret key, where the ST-SECRET-KEY header is not sent (the contract's field)."})

    @post_load
    def _without_secret(self, data, **_kwargs):
        data.pop("access_secret", None)
        return data


class PartnerCreateSchema(StrictSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200),
                         metadata={"example": "Acme LMS"})
    livemode = fields.Boolean(load_default=True, metadata={
        "description": "false: test keys (pk_test_…); their learners' messages go to the sandbox."})


class PartnerKeysSchema(BaseSchema):
    id = fields.Integer()
    name = fields.String()
    livemode = fields.Boolean()
    access_key = fields.String(metadata={"description": "Send as the ST-ACCESS-KEY header."})
    secret_key = fields.String(metadata={"description": "Send as ST-SECRET-KEY. Shown only once."})


class LearnerContactSchema(RequestSchema):
    """Where and when a learner's course is sent (signup and PATCH /users/<id> check them alike)."""

    phone = fields.String(validate=validate.Length(min=1, max=40), metadata={"example": "+919812345678"})
    country_code = fields.String(validate=validate.Length(max=8), metadata={"example": "+91"})
    channel = fields.String(validate=validate.Length(max=16), metadata={"example": "whatsapp"})
    timezone = fields.String(validate=validate.Length(max=64), metadata={"example": "Asia/Kolkata"})


class LearnerSignupSchema(LearnerContactSchema):
    full_name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    id = fields.String(required=True, validate=validate.Length(min=1, max=254),
                       metadata={"description": "An email, or a phone number with its + and country code."})
    password = fields.String(required=True, load_only=True, validate=validate.Length(max=1000))
    source = fields.String(load_default="", validate=validate.Length(max=200))


class LearnerLoginSchema(RequestSchema):
    id = fields.String(required=True, validate=validate.Length(min=1, max=254))
    password = fields.String(required=True, load_only=True, validate=validate.Length(max=1000))


class DbUserSchema(BaseSchema):
    email = fields.String(allow_none=True)
    id = fields.Integer()
    idp_user_id = fields.String()
    is_email_verified = fields.Boolean()
    is_mobile_number_verified = fields.Boolean()
    mobile_number = fields.String(allow_none=True)
    name = fields.String()
    partner_id = fields.Integer(allow_none=True)
    source = fields.String()
    channel = fields.String()
    timezone = fields.String()
    livemode = fields.Boolean(metadata={"description": "false: a test partner's learner (sandbox only)."})


class IdpUserSchema(BaseSchema):
    emails = fields.List(fields.String())
    id = fields.String()
    meta = fields.Dict()
    name = fields.Dict()
    phoneNumbers = fields.List(fields.Dict())  # noqa: N815 - the contract's name
    roles = fields.List(fields.Dict())
    userName = fields.String()  # noqa: N815
    is_associated_to_db_user = fields.Boolean()


class TokensSchema(BaseSchema):
    access_token = fields.String(metadata={"description": "Send as the access_token header."})
    db_user = fields.Nested(DbUserSchema)
    jwt_token = fields.String(metadata={"description": "Send as the jwt_token header."})
    success = fields.Boolean()
    user = fields.Nested(IdpUserSchema)


class ValidatedTokensSchema(BaseSchema):
    data = fields.Nested(TokensSchema)
    success = fields.Boolean()


class UserUpdateSchema(LearnerContactSchema):
    full_name = fields.String(validate=validate.Length(min=1, max=200))


class CouponCreateSchema(StrictSchema):
    count = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_COUPONS_PER_BATCH))
    expires_at = fields.AwareDateTime(load_default=None, allow_none=True,
                                      metadata={"example": "2027-01-31T23:59:00+05:30"})
    note = fields.String(load_default="", validate=validate.Length(max=500))
    capacity = fields.Integer(load_default=None, allow_none=True, validate=_ID, metadata={
        "description": "Applying a coupon of this batch fails once the delivery holds this many learners."})


class PartnerCouponCreateSchema(RequestSchema, CouponCreateSchema):
    delivery_id = fields.Integer(required=True, validate=_ID)


class DeliveryShareSchema(StrictSchema):
    access_key = fields.String(required=True, validate=validate.Length(min=1, max=64), metadata={
        "description": "The partner's access key (its ST-ACCESS-KEY; never the secret).",
        "example": "pk_0123456789abcdef0123456789abcdef"})


class SharedPartnerSchema(BaseSchema):
    partner_id = fields.Integer()
    name = fields.String(metadata={"example": "Acme LMS"})
    shared_at = fields.DateTime()


class SharedPartnerListSchema(BaseSchema):
    data = fields.List(fields.Nested(SharedPartnerSchema))
    success = fields.Boolean()


class CouponQueryArgsSchema(StrictSchema):
    delivery_id = fields.Integer(validate=_ID)


class CouponSchema(BaseSchema):
    id = fields.Integer()
    code = fields.String(metadata={"example": "7KQ3M-XH9PC"})
    state = fields.String(metadata={"example": "available"})
    delivery_id = fields.Integer()
    batch_id = fields.Integer()
    note = fields.String()
    capacity = fields.Integer(allow_none=True)
    expires_at = fields.DateTime(allow_none=True)
    used_by = fields.Integer(allow_none=True)
    used_at = fields.DateTime(allow_none=True)
    cancelled_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()


class CouponListSchema(BaseSchema):
    data = fields.List(fields.Nested(CouponSchema))
    success = fields.Boolean()


class ApplyCouponSchema(RequestSchema):
    coupon_code = fields.String(required=True, validate=validate.Length(min=1, max=40))


class IdSchema(BaseSchema):
    id = fields.Integer()


class ApplyCouponResultSchema(BaseSchema):
    success = fields.Boolean()
    data = fields.Nested(IdSchema)


class UserIdSchema(RequestSchema):
    user_id = fields.Integer(required=True, validate=_ID)


class MoodleCourseSchema(BaseSchema):
    id = fields.Integer()
    fullname = fields.String()
    displayname = fields.String()
    shortname = fields.String()
    summary = fields.String()
    summaryformat = fields.Integer()
    lang = fields.String()
    format = fields.String()
    category = fields.Integer()
    progress = fields.Float()
    completed = fields.Boolean()
    startdate = fields.Integer()
    enddate = fields.Integer()
    lastaccess = fields.Integer(allow_none=True)
    enrolledusercount = fields.Integer()
    enablecompletion = fields.Boolean()
    completionhascriteria = fields.Boolean()
    completionusertracked = fields.Boolean()
    hidden = fields.Boolean()
    visible = fields.Integer()
    isfavourite = fields.Boolean()
    showgrades = fields.Boolean()
    marker = fields.Integer()
    idnumber = fields.String()
    overviewfiles = fields.List(fields.Dict())
    delivery_id = fields.Integer()
    days_received = fields.Integer()
    total_days = fields.Integer()


class MoodleCoursesSchema(BaseSchema):
    data = fields.List(fields.Nested(MoodleCourseSchema))
    success = fields.Boolean()


class DeleteUsersSchema(RequestSchema):
    user_ids = fields.List(fields.Integer(validate=_ID), required=True,
                           validate=validate.Length(min=1, max=1000), metadata={"example": [28, 29, 31]})


class DeleteUsersResultSchema(BaseSchema):
    data = fields.Dict(metadata={"example": {
        "deletion_response": {"delete_learner_accounts": {"affected_rows": 1}},
        "users": [{"user_id": 28, "deleted": True}]}})
    success = fields.Boolean()


class UserDetailsQuerySchema(RequestSchema):
    user_emails = fields.List(fields.String(validate=validate.Length(max=254)), required=True,
                              validate=validate.Length(min=1, max=1000))


class UserDetailsSchema(BaseSchema):
    db_user = fields.Dict(allow_none=True)
    email = fields.String()
    idp_user = fields.Nested(IdpUserSchema, allow_none=True)


class UserDetailsListSchema(BaseSchema):
    data = fields.List(fields.Nested(UserDetailsSchema))
    success = fields.Boolean()


class CompleteCourseSchema(RequestSchema):
    user_id = fields.Integer(required=True, validate=_ID)
    course_id = fields.Integer(required=True, validate=_ID)
    force_complete = fields.Boolean(load_default=False)


class CompleteCourseResultSchema(BaseSchema):
    success = fields.Boolean()
    download_link = fields.String()
    serial = fields.String()
    verification_link = fields.String()


class CertificateSchema(BaseSchema):
    valid = fields.Boolean()
    serial = fields.String()
    learner_name = fields.String()
    course_name = fields.String()
    issued_at = fields.DateTime()
    download_link = fields.String()


# Bulk import, export and analytics ------------------------------------------------------------


class BulkLearnerSchema(BaseSchema):
    """One row of a bulk import (JSON objects and file columns alike; only external_id is required)."""

    external_id = fields.String(required=True, metadata={"description": "The partner's own id: rows "
                                "are matched by it (1 to 100 characters).", "example": "HR-00042"})
    name = fields.String(metadata={"description": "Required for a new learner.", "example": "Asha Rao"})
    email = fields.String(metadata={"example": "asha@example.org"})
    phone = fields.String(metadata={"example": "+919812345678"})
    country_code = fields.String(metadata={"description": "For a national phone number.", "example": "+91"})
    channel = fields.String(metadata={"example": "sms"})
    timezone = fields.String(metadata={"example": "Asia/Kolkata"})


class BulkRowResultSchema(BaseSchema):
    row = fields.Integer(metadata={"description": "A file's row (the header is row 1), or the position "
                                                  "in the JSON list from 1."})
    external_id = fields.String(allow_none=True)
    status = fields.String(metadata={"description": "created, updated or failed"})
    id = fields.Integer(allow_none=True,
                        metadata={"description": "The learner's user id (not for failed rows)."})
    errors = fields.Dict(allow_none=True, metadata={"description": "Field → messages (failed rows only)."})


class BulkImportResultSchema(BaseSchema):
    created = fields.Integer()
    updated = fields.Integer()
    failed = fields.Integer()
    results = fields.List(fields.Nested(BulkRowResultSchema))


class LearnerExportQuerySchema(StrictSchema):
    format = fields.String(load_default="csv", validate=validate.OneOf(["csv", "xlsx", "json"]),
                           metadata={"example": "csv"})


class AnalyticsQuerySchema(StrictSchema):
    start_date = fields.Date(load_default=None, metadata={"description": "First day (UTC), inclusive; "
                             "default: 29 days before end_date.", "example": "2026-11-01"})
    end_date = fields.Date(load_default=None, metadata={"description": "Last day (UTC), inclusive; default: "
                           "today, or 29 days after start_date. At most 366 days in all.",
                           "example": "2026-11-30"})
    group_by = fields.String(load_default="day", validate=validate.OneOf(["day", "week", "month"]))
    format = fields.String(load_default="json", validate=validate.OneOf(["json", "csv"]))


class AnalyticsTotalsSchema(BaseSchema):
    signups = fields.Integer()
    enrollments = fields.Integer()
    messages_sent = fields.Integer()
    messages_delivered = fields.Integer()
    messages_failed = fields.Integer()
    answers = fields.Integer()
    answers_correct = fields.Integer()
    correct_rate = fields.Float(allow_none=True)
    completions = fields.Integer()
    certificates = fields.Integer()


class AnalyticsPeriodSchema(AnalyticsTotalsSchema):
    period = fields.String(metadata={"description": "The period's first day (weeks start on Monday).",
                                     "example": "2026-11-02"})


class AnalyticsSchema(BaseSchema):
    start_date = fields.Date()
    end_date = fields.Date()
    group_by = fields.String()
    periods = fields.List(fields.Nested(AnalyticsPeriodSchema))
    totals = fields.Nested(AnalyticsTotalsSchema)


class BulkFileSchema(BaseSchema):
    file = Upload(metadata={"description": "A CSV (UTF-8) or an .xlsx whose first row names the "
                                           "columns: external_id, name, email, phone, country_code, "
                                           "channel, timezone."})
