"""Builders for group tests: the contract's example students and a group made through the API."""

from __future__ import annotations

from tests.factories import AuthorClient

TEJAS = {"name": "Tejas", "number": "+919380169981", "channel": "whatsapp", "is_subscribed": True,
         "timezone": "Asia/Kolkata", "country_code": "+91"}
AMIT = {"name": "Amit", "number": "+919113029491", "channel": "sms", "is_subscribed": True,
        "timezone": "Asia/Kolkata", "country_code": "+91"}
SREEVASTAV = {"name": "Sreevastav", "number": "+916360157821", "channel": "sms",
              "is_subscribed": True, "timezone": "Asia/Kolkata", "country_code": "+91"}
GROUP1 = {"name": "Group1", "description": "group1", "students": [TEJAS, AMIT]}


def create_group(author: AuthorClient, body: dict | None = None) -> int:
    response = author.post("/api/group/", json=body or GROUP1)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["message"] == "success"
    return response.get_json()["id"]


def students_of(author: AuthorClient, group_id: int) -> list[dict]:
    response = author.get(f"/api/group/{group_id}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()["students"]


def without_ids(students: list[dict]) -> list[dict]:
    """Students as a request would send them: no `id`, no `opted_out`."""
    return [{k: v for k, v in s.items() if k not in ("id", "opted_out")} for s in students]
