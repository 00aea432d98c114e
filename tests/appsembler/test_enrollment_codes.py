"""Enrollment codes are the partner's coupons: generate, enrol with one, cancel and restore."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from ekatra.deliveries.course_keys import parse_course_key
from ekatra.deliveries.models import REMOVED, Enrollment
from ekatra.extensions import db
from ekatra.partners.models import Coupon
from tests.appsembler.factories import BearerClient, shared_course


@pytest.fixture
def setting(client, author):
    partner = BearerClient.create(client)
    return partner, shared_course(author, partner), author


def _enroll(partner, email, code):
    return partner.post("/enrollment-codes/enroll-user", json={"email": email, "enrollment_code": code})


def test_generate_as_in_the_contracts_example(setting):
    partner, key, _author = setting
    response = partner.post(
        "/enrollment-codes/generate", json={"course_id": key, "total_registration_codes": "20"}
    )
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"course_id", "codes", "course_url"}
    assert body["course_id"] == key and body["course_url"] == f"/courses/{key}/about"
    assert len(set(body["codes"])) == 20
    # They are the partner's coupons, listed by the partner API.
    listed = partner.partner.get("/coupons").get_json()["data"]
    assert sorted(c["code"].replace("-", "") for c in listed) == sorted(body["codes"])


@pytest.mark.parametrize(
    ("count", "status"), [(5, 200), ("5.0", 200), (0, 400), ("lots", 400), (1001, 400), (True, 400)]
)
def test_the_number_of_codes_may_be_text_and_is_bounded(setting, count, status):
    partner, key, _author = setting
    response = partner.post(
        "/enrollment-codes/generate", json={"course_id": key, "total_registration_codes": count}
    )
    assert response.status_code == status
    if status == 400:
        assert list(response.get_json()) == ["total_registration_codes"]


@pytest.mark.parametrize("key", ["course-v1:edX+DemoX+Demo_Course", "nonsense", "course-v1:A9+C1+D1"])
def test_an_unknown_course_is_not_found(setting, key):
    partner, real_key, _author = setting
    parts = parse_course_key(real_key)
    key = key.replace("D1", f"D{parts.delivery_id}")
    response = partner.post(
        "/enrollment-codes/generate", json={"course_id": key, "total_registration_codes": 1}
    )
    assert response.status_code == 404 and response.get_json() == {"detail": "Not found."}


def test_enroll_user_as_in_the_contracts_example(setting):
    partner, key, _author = setting
    partner.learner_with_phone("staff", "staff@example.com")
    (code,) = partner.codes(key)
    response = _enroll(partner, "staff@example.com", code)
    assert response.status_code == 200 and response.get_json() == {"success": True}
    enrollment = db.session.scalars(select(Enrollment).order_by(Enrollment.id.desc())).first()
    assert enrollment.delivery_id == parse_course_key(key).delivery_id and enrollment.status == "active"


def test_enroll_user_reasons(setting, client):
    partner, key, author = setting
    delivery_id = parse_course_key(key).delivery_id
    partner.learner_with_phone("asha55", "asha55@example.org")
    partner.learner_with_phone("ravi58", "ravi58@example.org", "+919812340000")
    partner.create_account("nophone", "nophone@example.org")
    used, spare, cancelled = partner.codes(key, 3)
    assert _enroll(partner, "asha55@example.org", used).get_json() == {"success": True}
    partner.post("/enrollment-codes/status", json={"enrollment_code": cancelled, "action": "cancel"})
    (full,) = partner.partner.coupons(delivery_id, capacity=2)

    def reason(email, code):
        response = _enroll(partner, email, code)
        assert response.status_code == 400
        assert response.get_json()["success"] is False
        return response.get_json()["reason"]

    assert reason("nobody@example.org", spare) == "User not found"
    assert reason("asha55@example.org", "NOSUCHCODE") == "Enrollment code not found"
    assert reason("ravi58@example.org", used) == "Enrollment code error"
    assert reason("ravi58@example.org", cancelled) == "Enrollment code error"
    assert reason("asha55@example.org", spare) == "Already enrolled"
    assert reason("nophone@example.org", spare) == "User has no phone number"
    # The delivery holds its group's student and asha: a batch of capacity 2 is full.
    assert reason("ravi58@example.org", full) == "Course full"
    assert author.put(f"/api/delivery/{delivery_id}", json={"action": "STOP"}).status_code == 200
    assert reason("ravi58@example.org", spare) == "Enrollment closed"
    assert (
        db.session.get(Coupon, db.session.scalar(select(Coupon.id).where(Coupon.code == spare))).state
        == "available"
    )


def test_enroll_user_needs_both_fields(setting):
    partner, _key, _author = setting
    response = partner.post("/enrollment-codes/enroll-user", json={"email": "a@example.org"})
    assert response.status_code == 400
    assert response.get_json() == {"enrollment_code": ["This field is required."]}


def test_cancel_unenrols_the_learner_and_restore_frees_the_code(setting):
    partner, key, _author = setting
    partner.learner_with_phone("asha55", "asha55@example.org")
    partner.learner_with_phone("ravi58", "ravi58@example.org", "+919812340000")
    (code,) = partner.codes(key)
    assert _enroll(partner, "asha55@example.org", code).get_json() == {"success": True}

    def status(action, enrollment_code=code):
        return partner.post(
            "/enrollment-codes/status", json={"enrollment_code": enrollment_code, "action": action}
        )

    cancelled = status("cancel")
    assert cancelled.status_code == 200 and cancelled.get_json() == {"success": True}
    assert [e.status for e in db.session.scalars(select(Enrollment).order_by(Enrollment.id))][-1] == REMOVED
    assert _enroll(partner, "ravi58@example.org", code).get_json()["reason"] == "Enrollment code error"
    assert status("cancel").get_json() == {"success": True}  # again: still cancelled, no error
    assert status("restore").get_json() == {"success": True}
    assert _enroll(partner, "ravi58@example.org", code).get_json() == {"success": True}
    # Restoring a code in use unenrols its learner and frees it for another.
    assert status("restore").get_json() == {"success": True}
    assert _enroll(partner, "asha55@example.org", code).get_json() == {"success": True}


def test_code_status_errors(setting):
    partner, _key, _author = setting
    response = partner.post(
        "/enrollment-codes/status", json={"enrollment_code": "V5QBQMN6", "action": "restore"}
    )
    assert response.status_code == 400
    assert response.get_json() == {"success": False, "reason": "The enrollment code (V5QBQMN6) was not found"}
    bad = partner.post("/enrollment-codes/status", json={"enrollment_code": "V5QBQMN6", "action": "delete"})
    assert bad.status_code == 400 and list(bad.get_json()) == ["action"]
