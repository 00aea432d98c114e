"""What /api/v1/me answers: the learner, as far as the token's scopes reach."""

from __future__ import annotations

from marshmallow import fields

from ekatra.schemas import BaseSchema

OAUTH_BEARER = [{"oauthBearer": []}]


class CourseProgressSchema(BaseSchema):
    course_id = fields.Integer(metadata={"example": 3})
    course_name = fields.String(metadata={"example": "स्वास्थ्य और स्वच्छता"})
    delivery_id = fields.Integer(metadata={"example": 7})
    progress = fields.Float(metadata={"example": 33.3,
                                      "description": "Percent of the course's days received."})
    days_received = fields.Integer(metadata={"example": 1})
    total_days = fields.Integer(metadata={"example": 3})
    is_finished = fields.Boolean(metadata={"example": False})
    last_received_at = fields.String(allow_none=True, metadata={"example": "2026-12-01T03:30:00+00:00"})


class MeSchema(BaseSchema):
    id = fields.Integer(metadata={"example": 12, "description": "The learner account's id."})
    name = fields.String(metadata={"example": "आशा राव", "description": "With the `profile` scope."})
    email = fields.String(allow_none=True, metadata={"example": "asha@example.org",
                                                      "description": "With the `email` scope."})
    courses = fields.List(fields.Nested(CourseProgressSchema),
                          metadata={"description": "With the `courses` scope."})


def register_security_scheme(api) -> None:
    api.spec.components.security_scheme("oauthBearer", {
        "type": "http", "scheme": "bearer",
        "description": 'An access token from POST /oauth/token ("Log in with Ekatra").'})
