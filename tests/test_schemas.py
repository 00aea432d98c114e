"""Responses dumped by each schema's plan are exactly what marshmallow itself dumps."""

from __future__ import annotations

from marshmallow import Schema

from ekatra.schemas import BaseSchema
from tests.factories import create_course

GROUP = {"name": "Evening batch", "description": "", "students": [
    {"name": "Asha", "number": "+919812345678", "channel": "sms", "timezone": "Asia/Kolkata"},
    {"name": "Ravi", "number": "+14155550123", "channel": "whatsapp", "timezone": "America/New_York"}]}


def _read_everything(author, course_id: int, group_id: int, delivery_id: int) -> list:
    paths = ["/api/course/", f"/api/course/{course_id}", f"/api/course/{course_id}/preview",
             "/api/group/", f"/api/group/{group_id}", "/api/retrieve-deliveries",
             f"/api/delivery/{delivery_id}", f"/api/delivery/{delivery_id}/schedule"]
    responses = [author.get(path) for path in paths]
    assert all(response.status_code == 200 for response in responses), [r.get_json() for r in responses]
    return [response.get_data(as_text=True) for response in responses]


def test_read_routes_answer_the_same_bytes_as_marshmallow_would(app, author, monkeypatch):
    course_id = create_course(author)
    group_id = author.post("/api/group/", json=GROUP).get_json()["id"]
    delivery = author.post(f"/api/delivery/group/{group_id}/{course_id}",
                           json={"schedule_at": "2026-12-01 09:00:00"})
    assert delivery.status_code == 200, delivery.get_json()
    delivery_id = author.get("/api/retrieve-deliveries").get_json()[0]["id"]

    planned = _read_everything(author, course_id, group_id, delivery_id)
    monkeypatch.setattr(BaseSchema, "_serialize", Schema._serialize)  # marshmallow's own, field by field

    assert _read_everything(author, course_id, group_id, delivery_id) == planned


def test_values_not_of_their_fields_type_dump_as_marshmallow_dumps_them():
    from datetime import datetime

    from marshmallow import fields

    class Inner(BaseSchema):
        flag = fields.Boolean()

    class Odd(BaseSchema):
        text = fields.String()
        email = fields.Email()
        count = fields.Integer()
        counted = fields.Integer(as_string=True)
        ratio = fields.Float()
        flag = fields.Boolean()
        raw = fields.Raw()
        tags = fields.List(fields.String())
        inner = fields.Nested(Inner, many=True)
        when = fields.DateTime()

    rows = [
        {"text": "plain", "email": "a@example.org", "count": 3, "counted": 3, "ratio": 1, "flag": True,
         "raw": {"k": [1]}, "tags": ["a"], "inner": [{"flag": False}], "when": datetime(2026, 1, 2, 3, 4)},
        {"text": 12, "email": None, "count": "7", "counted": "8", "ratio": "2.5", "flag": 0,
         "raw": None, "tags": [1, None], "inner": [], "when": None},
        {"text": None, "count": True, "counted": None, "ratio": None, "flag": None, "tags": None,
         "inner": None},
        {"count": 2.9, "text": b"bytes"},
    ]
    planned = Odd().dump(rows, many=True)

    class Marshmallow(Odd):
        _serialize = Schema._serialize

    assert planned == Marshmallow().dump(rows, many=True)
    assert planned[1]["text"] == "12" and planned[1]["count"] == 7 and planned[2]["count"] == 1
