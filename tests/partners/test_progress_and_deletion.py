"""A learner's courses with progress, and deleting learners with everything personal on them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import inspect, text

from ekatra import clock
from ekatra.deliveries.planner import plan_due_days
from ekatra.extensions import db
from tests.partners.factories import PartnerClient, answer_every_graded_question, running_delivery

PHONE = "+919876543210"


def _after_start(days: int) -> datetime:
    """`days` days after the test delivery's start (2026-12-01), or after now if that is later."""
    return max(clock.now(), datetime(2026, 12, 1, tzinfo=UTC)) + timedelta(days=days)


def _enrolled(client, author) -> tuple[PartnerClient, int, int]:
    partner = PartnerClient.create(client)
    delivery_id = running_delivery(author, partner)
    tokens = partner.signup("asha@example.org", phone=PHONE)
    (code,) = partner.coupons(delivery_id)
    assert partner.apply(tokens, code).status_code == 200
    return partner, tokens["db_user"]["id"], delivery_id


def test_courses_for_user_show_the_contract_fields_and_progress(client, author):
    partner, user_id, delivery_id = _enrolled(client, author)
    for days in range(1, 4):
        plan_due_days(_after_start(days))
    db.session.execute(text("UPDATE messages SET status = 'sent', sent_at = created_at"))
    db.session.commit()
    for path in ("/get_moodle_courses_for_user", "/get_courses_for_user"):
        response = partner.post(path, json={"user_id": user_id})
        assert response.status_code == 200, response.get_json()
        (course,) = response.get_json()["data"]
        assert {"id", "fullname", "displayname", "shortname", "progress", "completed", "startdate",
                "enddate", "lastaccess", "enrolledusercount"} <= set(course)
        assert course["fullname"] == "Money basics" and course["delivery_id"] == delivery_id
        assert course["total_days"] == 3 and 0 < course["progress"] <= 100
        assert course["enrolledusercount"] == 2 and course["lastaccess"] > 0
    other = PartnerClient.create(client, "Other")
    assert other.post("/get_courses_for_user", json={"user_id": user_id}).status_code == 404


def _rows_naming(values: list[str]) -> list[tuple[str, tuple]]:
    """Every row in any table whose text mentions one of `values`."""
    found = []
    connection = db.session.connection()
    for table in inspect(connection).get_table_names():
        for row in connection.execute(text(f'SELECT * FROM "{table}"')):
            if any(value in str(cell) for cell in row for value in values):
                found.append((table, tuple(row)))
    return found


def test_delete_users_removes_every_row_that_names_the_learner(client, author):
    partner, user_id, delivery_id = _enrolled(client, author)
    plan_due_days(_after_start(1))
    course_id = author.get(f"/api/delivery/{delivery_id}").get_json()["course_id"]
    answer_every_graded_question(course_id)
    assert _rows_naming([PHONE, "asha@example.org", "Asha Rao"])
    other = PartnerClient.create(client, "Other")
    untouched = other.post("/delete_users", json={"user_ids": [user_id]}).get_json()
    assert untouched["data"]["users"] == [{"user_id": user_id, "deleted": False}]
    assert untouched["data"]["deletion_response"]["delete_learner_accounts"] == {"affected_rows": 0}
    response = partner.post("/delete_users", json={"access_secret": partner.secret_key,
                                                   "user_ids": [user_id, 999]})
    assert response.status_code == 200
    body = response.get_json()
    assert body["success"] is True
    counts = body["data"]["deletion_response"]
    assert counts["delete_learner_accounts"] == {"affected_rows": 1}
    assert counts["delete_students"] == {"affected_rows": 1}
    assert counts["delete_enrollments"] == {"affected_rows": 1}
    assert counts["delete_messages"]["affected_rows"] >= 1
    assert counts["delete_answers"]["affected_rows"] >= 1
    assert body["data"]["users"] == [{"user_id": user_id, "deleted": True},
                                     {"user_id": 999, "deleted": False}]
    db.session.expire_all()
    assert _rows_naming([PHONE, "asha@example.org", "Asha Rao"]) == []
    assert partner.post("/login", json={"id": "asha@example.org", "password": "x" * 10}).status_code == 401
