"""Request and response shapes of /api/partner (the SkillsTrainer partner contract's names)."""

from __future__ import annotations

from marshmallow import fields, validate

from ekatra.extensions import MAX_ID
from ekatra.partners.coupons import MAX_COUPONS_PER_BATCH
from ekatra.schemas import BaseSchema

_ID = validate.Range(min=1, max=MAX_ID)


class PartnerCreateSchema(BaseSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200),
                         metadata={"example": "Acme LMS"})


class PartnerKeysSchema(BaseSchema):
    id = fields.Integer()
    name = fields.String()
    access_key = fields.String(metadata={"description": "Send as the ST-ACCESS-KEY header."})
    secret_key = fields.String(metadata={"description": "Send as ST-SECRET-KEY. Shown only once."})


class LearnerSignupSchema(BaseSchema):
    full_name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    id = fields.String(required=True, validate=validate.Length(min=1, max=254),
                       metadata={"description": "An email, or a phone number with its + and country code."})
    password = fields.String(required=True, load_only=True, validate=validate.Length(max=1000))
    source = fields.String(load_default="", validate=validate.Length(max=200))


class LearnerLoginSchema(BaseSchema):
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


class UserUpdateSchema(BaseSchema):
    full_name = fields.String(validate=validate.Length(min=1, max=200))
    phone = fields.String(validate=validate.Length(min=1, max=40), metadata={"example": "+919812345678"})
    country_code = fields.String(validate=validate.Length(max=8), metadata={"example": "+91"})
    channel = fields.String(validate=validate.Length(max=16), metadata={"example": "whatsapp"})
    timezone = fields.String(validate=validate.Length(max=64), metadata={"example": "Asia/Kolkata"})


class CouponCreateSchema(BaseSchema):
    count = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_COUPONS_PER_BATCH))
    expires_at = fields.AwareDateTime(load_default=None, allow_none=True,
                                      metadata={"example": "2027-01-31T23:59:00+05:30"})
    note = fields.String(load_default="", validate=validate.Length(max=500))
    capacity = fields.Integer(load_default=None, allow_none=True, validate=_ID, metadata={
        "description": "Applying a coupon of this batch fails once the delivery holds this many learners."})


class PartnerCouponCreateSchema(CouponCreateSchema):
    delivery_id = fields.Integer(required=True, validate=_ID)


class CouponQueryArgsSchema(BaseSchema):
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


class ApplyCouponSchema(BaseSchema):
    coupon_code = fields.String(required=True, validate=validate.Length(min=1, max=40))


class IdSchema(BaseSchema):
    id = fields.Integer()


class ApplyCouponResultSchema(BaseSchema):
    success = fields.Boolean()
    data = fields.Nested(IdSchema)


class UserIdSchema(BaseSchema):
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


class DeleteUsersSchema(BaseSchema):
    user_ids = fields.List(fields.Integer(validate=_ID), required=True,
                           validate=validate.Length(min=1, max=1000), metadata={"example": [28, 29, 31]})


class DeleteUsersResultSchema(BaseSchema):
    data = fields.Dict(metadata={"example": {
        "deletion_response": {"delete_learner_accounts": {"affected_rows": 1}},
        "users": [{"user_id": 28, "deleted": True}]}})
    success = fields.Boolean()


class UserDetailsQuerySchema(BaseSchema):
    user_emails = fields.List(fields.String(validate=validate.Length(max=254)), required=True,
                              validate=validate.Length(min=1, max=1000))


class UserDetailsSchema(BaseSchema):
    db_user = fields.Dict(allow_none=True)
    email = fields.String()
    idp_user = fields.Nested(IdpUserSchema, allow_none=True)


class UserDetailsListSchema(BaseSchema):
    data = fields.List(fields.Nested(UserDetailsSchema))
    success = fields.Boolean()


class CompleteCourseSchema(BaseSchema):
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
