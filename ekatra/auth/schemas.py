"""Request and response shapes of /api/auth (the contract's field names)."""

from __future__ import annotations

from marshmallow import fields, validate

from ekatra.schemas import BaseSchema, MessageSchema


class SignupSchema(BaseSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200),
                         metadata={"example": "Asha Rao"})
    email = fields.Email(required=True, validate=validate.Length(max=254),
                         metadata={"example": "asha@example.org"})
    contact = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=40),
                            metadata={"example": "9999999999"})
    password = fields.String(required=True, load_only=True, metadata={"example": "correct horse"})


class SignupResponseSchema(MessageSchema):
    id = fields.String(metadata={"example": "1"})


class LoginSchema(BaseSchema):
    email = fields.String(required=True, validate=validate.Length(min=1, max=254),
                          metadata={"example": "asha@example.org"})
    password = fields.String(required=True, load_only=True, validate=validate.Length(max=1000),
                             metadata={"example": "correct horse"})


class TokenResponseSchema(MessageSchema):
    token = fields.String(metadata={"description": "The access token (the contract's field)."})
    access_token = fields.String()
    refresh_token = fields.String()


class LogoutSchema(BaseSchema):
    pass


class ForgotSchema(BaseSchema):
    email = fields.String(required=True, validate=validate.Length(min=1, max=254),
                          metadata={"example": "asha@example.org"})


class ResetSchema(BaseSchema):
    new_password = fields.String(required=True, data_key="new-password", load_only=True,
                                 validate=validate.Length(max=1000))
    confirm_password = fields.String(required=True, data_key="confirm-password", load_only=True,
                                     validate=validate.Length(max=1000))
