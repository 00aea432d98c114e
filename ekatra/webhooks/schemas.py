"""Request and response shapes of the webhook routes."""

from __future__ import annotations

import json

from marshmallow import RAISE, fields, validate

from ekatra.schemas import BaseSchema
from ekatra.webhooks.services import ALL_EVENTS, EVENTS

EVENT_NAMES = (ALL_EVENTS, *EVENTS)


class StrictSchema(BaseSchema):
    class Meta:
        unknown = RAISE
        ordered = True


class EndpointCreateSchema(StrictSchema):
    url = fields.String(required=True, validate=validate.Length(min=1, max=2048),
                        metadata={"example": "https://lms.example.org/webhooks/ekatra"})
    events = fields.List(fields.String(validate=validate.OneOf(EVENT_NAMES)), required=True,
                         validate=validate.Length(min=1, max=len(EVENT_NAMES)),
                         metadata={"example": ["student.enrolled", "course.completed"],
                                   "description": "Event names, or [\"*\"] for every event."})
    description = fields.String(load_default="", validate=validate.Length(max=500),
                                metadata={"example": "Our LMS"})


class EndpointUpdateSchema(StrictSchema):
    url = fields.String(validate=validate.Length(min=1, max=2048))
    events = fields.List(fields.String(validate=validate.OneOf(EVENT_NAMES)),
                         validate=validate.Length(min=1, max=len(EVENT_NAMES)))
    description = fields.String(validate=validate.Length(max=500))
    enabled = fields.Boolean()


class SecretSchema(BaseSchema):
    id = fields.Integer(metadata={"example": 1})
    secret = fields.String(metadata={
        "example": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "description": "Shown only here: keep it to verify the signatures."})


class EndpointSchema(BaseSchema):
    id = fields.Integer()
    url = fields.String()
    events = fields.Function(lambda endpoint: json.loads(endpoint.events))
    description = fields.String()
    enabled = fields.Boolean(attribute="is_enabled")
    livemode = fields.Boolean(metadata={
        "description": "false: registered with a test key; receives test events only."})
    disabled_reason = fields.String(allow_none=True, metadata={
        "description": "Why the endpoint was disabled (410 Gone, failing for days, or its owner)."})
    disabled_at = fields.DateTime(allow_none=True)
    failing_since = fields.DateTime(allow_none=True, metadata={
        "description": "The first failed attempt since the last success, if any."})
    previous_secret_expires_at = fields.DateTime(allow_none=True, metadata={
        "description": "Until when the secret before the last rotation still signs."})
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class EndpointListSchema(BaseSchema):
    data = fields.List(fields.Nested(EndpointSchema))


class AttemptSchema(BaseSchema):
    id = fields.Integer()
    event_id = fields.String()
    event = fields.String()
    attempt = fields.Integer(metadata={"description": "1 for the first try, 2 for the first retry, …"})
    status = fields.Function(lambda attempt: "succeeded" if attempt.is_success else "failed")
    response_code = fields.Integer(allow_none=True)
    error = fields.String(allow_none=True)
    attempted_at = fields.DateTime()
    duration_ms = fields.Integer()


class AttemptQueryArgsSchema(StrictSchema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    event_id = fields.String(load_default=None, validate=validate.Length(max=40))


class AttemptPageSchema(BaseSchema):
    data = fields.List(fields.Nested(AttemptSchema), attribute="attempts")
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()


class DeliverySchema(BaseSchema):
    event_id = fields.String()
    status = fields.String(metadata={"example": "pending"})
    attempts = fields.Integer()
    next_attempt_at = fields.DateTime(allow_none=True)
    last_response_code = fields.Integer(allow_none=True)
    last_error = fields.String(allow_none=True)


class PingResultSchema(AttemptSchema):
    pass
