"""The base marshmallow schema: unknown fields are ignored, so existing clients keep working."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields


class BaseSchema(Schema):
    class Meta:
        unknown = EXCLUDE
        ordered = True


class MessageSchema(BaseSchema):
    message = fields.String(metadata={"example": "success"})


class ErrorSchema(BaseSchema):
    message = fields.String(metadata={"example": "Course not found!!"})
    errors = fields.Dict(metadata={"example": {"name": ["Missing data for required field."]}})
