"""Builders for delivery tests: a three-day course, learners in three timezones."""

from __future__ import annotations

from tests.factories import AuthorClient, create_course

THREE_DAYS = {
    "name": "Money basics", "author": "Ekatra", "description": "d",
    "days": [
        {"text": "Day one text.", "questions": [
            {"question": "Is a budget a plan?", "type": "boolean", "correct-answer": "yes"},
            {"question": "Second question?", "type": "Q/A", "correct-answer": "two"}]},
        {"text": "Day two text.", "questions": []},
        {"text": "दिन तीन", "questions": [{"question": "Ready?", "type": "open"}]},
    ],
}

KOLKATA = {"name": "Asha", "number": "+919812345678", "channel": "sms", "timezone": "Asia/Kolkata"}
NEW_YORK = {"name": "Maria", "number": "+12125550143", "channel": "sms", "timezone": "America/New_York"}
ACCRA = {"name": "Kofi", "number": "+233241234567", "channel": "whatsapp", "timezone": "Africa/Accra"}


def course_and_group(author: AuthorClient, students=(KOLKATA, NEW_YORK, ACCRA)) -> tuple[int, int]:
    course_id = create_course(author, THREE_DAYS)
    response = author.post("/api/group/", json={"name": "Learners", "description": "",
                                                "students": list(students)})
    assert response.status_code == 200, response.get_json()
    return course_id, response.get_json()["id"]


def create_delivery(author: AuthorClient, group_id: int, course_id: int, **body) -> int:
    body.setdefault("schedule_at", "2026-12-01 09:00:00")
    response = author.post(f"/api/delivery/group/{group_id}/{course_id}", json=body)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["id"]
