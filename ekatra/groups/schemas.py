"""Request and response shapes of /api/group (the contract's field names)."""

from __future__ import annotations

from flask_smorest.fields import Upload
from marshmallow import fields, validate

from ekatra.groups import models
from ekatra.groups.csvio import MAX_IMPORT_ROWS
from ekatra.groups.phones import CHANNELS, MAX_NUMBER_CHARS
from ekatra.schemas import BaseSchema, MessageSchema

MAX_STUDENTS_PER_REQUEST = MAX_IMPORT_ROWS

CHANNEL_CHOICES = f"One of {', '.join(CHANNELS)} (any case)."


class StudentSchema(BaseSchema):
    """A student as sent in a request; checked further (phone, timezone) by the service."""

    name = fields.String(required=True,
                         validate=validate.Length(min=1, max=models.NAME_MAX_CHARS),
                         metadata={"example": "Amit"})
    number = fields.String(
        required=True, validate=validate.Length(min=1, max=MAX_NUMBER_CHARS),
        metadata={"description": "With + and country code, or national with `country_code`. "
                                 "Stored in E.164.", "example": "+919113029491"})
    channel = fields.String(metadata={
        "description": CHANNEL_CHOICES + " Default: the group's `default_channel`.",
        "example": "sms"})
    timezone = fields.String(
        metadata={"description": "IANA name. Default: the group's `default_timezone`.",
                  "example": "Asia/Kolkata"})
    country_code = fields.String(
        allow_none=True, validate=validate.Length(max=models.COUNTRY_CODE_MAX_CHARS),
        metadata={"description": "Calling code used to read a national `number`. The stored "
                                 "value is the number's own calling code.", "example": "+91"})
    is_subscribed = fields.Boolean(metadata={"description": "Default true.", "example": True})


class StudentUpdateSchema(StudentSchema):
    """Any subset of a student's fields."""

    name = fields.String(validate=validate.Length(min=1, max=models.NAME_MAX_CHARS),
                         metadata={"example": "Amit"})
    number = fields.String(validate=validate.Length(min=1, max=MAX_NUMBER_CHARS),
                           metadata={"example": "+919113029491"})


class GroupSchema(BaseSchema):
    name = fields.String(required=True,
                         validate=validate.Length(min=1, max=models.NAME_MAX_CHARS),
                         metadata={"example": "Morning batch"})
    description = fields.String(validate=validate.Length(max=models.DESCRIPTION_MAX_CHARS),
                                metadata={"example": "Learners who read at 7 am"})
    default_timezone = fields.String(metadata={"description": "IANA name; default UTC.",
                                               "example": "Asia/Kolkata"})
    default_channel = fields.String(metadata={"description": CHANNEL_CHOICES + " Default sms.",
                                              "example": "sms"})
    students = fields.List(fields.Nested(StudentSchema),
                           validate=validate.Length(max=MAX_STUDENTS_PER_REQUEST))


class ListedStudentSchema(StudentSchema):
    """A student in the list that replaces a group's students."""

    id = fields.Integer(metadata={"description": "The student to update in place; without it, "
                                                "a student with the same number is updated, "
                                                "else a new one is added.", "example": 1})


class GroupUpdateSchema(GroupSchema):
    """The create body; every field optional. A given `students` list replaces the students."""

    name = fields.String(validate=validate.Length(min=1, max=models.NAME_MAX_CHARS),
                         metadata={"example": "Morning batch"})
    students = fields.List(fields.Nested(ListedStudentSchema),
                           validate=validate.Length(max=MAX_STUDENTS_PER_REQUEST))


class StudentsSchema(BaseSchema):
    students = fields.List(fields.Nested(StudentSchema), required=True,
                           validate=validate.Length(min=1, max=MAX_STUDENTS_PER_REQUEST))


class StudentOutSchema(BaseSchema):
    id = fields.Integer(metadata={"example": 1})
    name = fields.String(metadata={"example": "Amit"})
    number = fields.String(attribute="phone", metadata={"example": "+919113029491"})
    channel = fields.String(metadata={"example": "sms"})
    is_subscribed = fields.Boolean(metadata={"example": True})
    timezone = fields.String(metadata={"example": "Asia/Kolkata"})
    country_code = fields.String(allow_none=True, metadata={"example": "+91"})
    opted_out = fields.Boolean(metadata={
        "description": "The phone sent STOP (or the provider reported it unsubscribed) on "
                       "this channel.", "example": False})


class GroupOutSchema(BaseSchema):
    id = fields.Integer(metadata={"example": 1})
    name = fields.String(metadata={"example": "Morning batch"})
    description = fields.String(metadata={"example": "Learners who read at 7 am"})
    default_timezone = fields.String(metadata={"example": "Asia/Kolkata"})
    default_channel = fields.String(metadata={"example": "sms"})
    students = fields.List(fields.Nested(StudentOutSchema))


class CreatedSchema(MessageSchema):
    id = fields.Integer(metadata={"example": 1})


class StudentsAddedSchema(MessageSchema):
    ids = fields.List(fields.Integer(), metadata={"example": [3, 4]})


class ImportedSchema(MessageSchema):
    imported = fields.Integer(metadata={"example": 120})


class ImportFileSchema(BaseSchema):
    file = Upload(metadata={"description": "A CSV (UTF-8) or an .xlsx whose first row names "
                                           "the columns: name, number, channel, timezone, "
                                           "country_code, is_subscribed."})


class ExportQueryArgsSchema(BaseSchema):
    format = fields.String(load_default="csv", validate=validate.OneOf(["csv", "xlsx"]),
                           metadata={"example": "csv"})
