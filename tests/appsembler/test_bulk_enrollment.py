"""Bulk enrollment: per course, per identifier, the state before and after, as Open edX answers."""

from __future__ import annotations

from sqlalchemy import func, select

from ekatra.extensions import db
from ekatra.partners.models import Coupon
from tests.appsembler.factories import BearerClient, shared_course

ENROLLED = {"enrollment": True, "allowed": False, "user": True, "auto_enroll": False}
NOT_ENROLLED = {**ENROLLED, "enrollment": False}


def test_bulk_enroll_as_in_the_contracts_example_then_unenroll(app, client, author):
    partner = BearerClient.create(client)
    first, second = shared_course(author, partner), shared_course(author, partner)
    partner.learner_with_phone("test", "test@appsembler.com")
    partner.learner_with_phone("test1", "test1@appsembler.com", "+919812340001")
    response = partner.post(
        "/bulk-enrollment/bulk-enroll",
        json={
            "action": "enroll",
            "auto_enroll": True,
            "email_students": True,
            "identifiers": "test@appsembler.com,test1 ,test2@appsembler.com",
            "courses": f"{first},{second} ",
        },
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["action"], body["auto_enroll"], body["email_students"]) == ("enroll", True, True)
    for key in (first, second):
        course = body["courses"][key]
        assert course["action"] == "enroll" and course["auto_enroll"] is True
        assert course["results"] == [
            {"identifier": "test@appsembler.com", "before": NOT_ENROLLED, "after": ENROLLED},
            {"identifier": "test1", "before": NOT_ENROLLED, "after": ENROLLED},
            {"identifier": "test2@appsembler.com", "invalidIdentifier": True},
        ]
    mails = app.extensions["ekatra.mailer"].sent
    assert sorted(to for to, _s, _b in mails) == ["test1@appsembler.com"] * 2 + ["test@appsembler.com"] * 2
    # Enrolled learners show in the enrollment batch like code-enrolled ones.
    batch = partner.get("/analytics/enrollment/batch").get_json()
    assert sorted((row["username"], row["course_id"]) for row in batch) == sorted(
        [("test", first), ("test1", first), ("test", second), ("test1", second)]
    )

    again = partner.post(
        "/bulk-enrollment/bulk-enroll", json={"action": "enroll", "identifiers": "test", "courses": first}
    ).get_json()
    assert again["courses"][first]["results"] == [
        {"identifier": "test", "before": ENROLLED, "after": ENROLLED}
    ]
    assert again["auto_enroll"] is False and again["email_students"] is False

    # The contract's unenroll answer.
    gone = partner.post(
        "/bulk-enrollment/bulk-enroll",
        json={
            "action": "unenroll",
            "identifiers": "test@appsembler.com",
            "courses": first,
            "auto_enroll": True,
        },
    ).get_json()
    assert gone == {
        "action": "unenroll",
        "auto_enroll": True,
        "email_students": False,
        "courses": {
            first: {
                "action": "unenroll",
                "auto_enroll": True,
                "results": [{"identifier": "test@appsembler.com", "before": ENROLLED, "after": NOT_ENROLLED}],
            }
        },
    }
    twice = partner.post(
        "/bulk-enrollment/bulk-enroll",
        json={"action": "unenroll", "identifiers": "test@appsembler.com", "courses": first},
    ).get_json()
    assert twice["courses"][first]["results"][0]["after"] == NOT_ENROLLED
    assert {
        row["username"]
        for row in partner.get("/analytics/enrollment/batch", query_string={"course_id": first}).get_json()
    } == {"test1"}


def test_a_learner_who_cannot_be_enrolled_is_an_error_row_and_leaves_no_coupon(client, author):
    partner = BearerClient.create(client)
    key = shared_course(author, partner)
    partner.create_account("nophone", "nophone@example.org")
    body = partner.post(
        "/bulk-enrollment/bulk-enroll", json={"action": "enroll", "identifiers": "nophone", "courses": key}
    ).get_json()
    assert body["courses"][key]["results"] == [
        {"identifier": "nophone", "error": True, "reason": "User has no phone number"}
    ]
    assert db.session.scalar(select(func.count()).select_from(Coupon)) == 0


def test_bulk_enroll_errors(client, author):
    partner = BearerClient.create(client)
    key = shared_course(author, partner)
    partner.learner_with_phone()
    missing = partner.post("/bulk-enrollment/bulk-enroll", json={"action": "enroll", "courses": key})
    assert missing.status_code == 400
    assert missing.get_json() == {"identifiers": ["This field is required."]}
    bad_action = partner.post(
        "/bulk-enrollment/bulk-enroll", json={"action": "add", "identifiers": "asha55", "courses": key}
    )
    assert bad_action.status_code == 400 and list(bad_action.get_json()) == ["action"]
    # One unknown course: nothing is done, in any course.
    unknown = partner.post(
        "/bulk-enrollment/bulk-enroll",
        json={
            "action": "enroll",
            "identifiers": "asha55",
            "courses": f"{key},course-v1:edX+DemoX+Demo_Course",
        },
    )
    assert unknown.status_code == 404 and unknown.get_json() == {"detail": "Not found."}
    assert partner.get("/analytics/enrollment/batch").get_json() == []
