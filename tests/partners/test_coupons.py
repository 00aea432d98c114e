"""Coupons: generation, listing, applying (enrolment), every refusal, cancel and restore."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from ekatra import clock
from ekatra.deliveries.models import ACTIVE, REMOVED, Enrollment
from ekatra.errors import Invalid
from ekatra.extensions import db
from ekatra.groups.models import Student
from ekatra.partners import coupons as coupon_service
from ekatra.partners.coupons import ALPHABET
from ekatra.partners.models import LearnerAccount
from tests.partners.factories import PartnerClient, running_delivery

CODE = re.compile(f"^[{ALPHABET}]{{5}}-[{ALPHABET}]{{5}}$")


def _learner(partner: PartnerClient, login="asha@example.org", phone="+919876543210") -> dict:
    return partner.signup(login, phone=phone)


def test_partners_and_authors_generate_unambiguous_codes(client, author):
    partner = PartnerClient.create(client)
    delivery_id = running_delivery(author, partner)
    codes = partner.coupons(delivery_id, count=20, note="March")
    response = author.post(f"/api/delivery/{delivery_id}/coupons", json={"count": 3})
    assert response.status_code == 201
    codes += [c["code"] for c in response.get_json()["data"]]
    assert len(set(codes)) == 23 and all(CODE.match(code) for code in codes)
    assert not set("".join(codes)) & set("0O1IL")


def test_coupons_are_listed_with_their_state(client, author):
    partner = PartnerClient.create(client)
    delivery_id = running_delivery(author, partner)
    code, _ = partner.coupons(delivery_id, count=2)
    assert partner.apply(_learner(partner), code).status_code == 200
    listed = {c["code"]: c for c in partner.get("/coupons").get_json()["data"]}
    assert listed[code]["state"] == "used" and listed[code]["used_by"] is not None
    assert sorted(c["state"] for c in listed.values()) == ["available", "used"]
    by_author = author.get(f"/api/delivery/{delivery_id}/coupons").get_json()["data"]
    assert len(by_author) == 2
    assert PartnerClient.create(client, "Other").get("/coupons").get_json()["data"] == []


def test_applying_a_coupon_enrols_the_learner_at_day_one(client, author):
    partner = PartnerClient.create(client)
    delivery_id = running_delivery(author, partner)
    (code,) = partner.coupons(delivery_id)
    tokens = _learner(partner)
    response = partner.apply(tokens, code.lower().replace("-", " "))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["success"] is True and isinstance(body["data"]["id"], int)
    student = db.session.query(Student).filter_by(phone="+919876543210").one()
    assert (student.name, student.timezone, student.channel) == ("Asha Rao", "Asia/Kolkata", "sms")
    enrollment = db.session.query(Enrollment).filter_by(student_id=student.id).one()
    assert enrollment.delivery_id == delivery_id and enrollment.next_day == 1 and enrollment.status == ACTIVE
    assert enrollment.next_due_at > clock.now() - timedelta(minutes=1)


def _error(response, status: int) -> str:
    assert response.status_code == status, (response.status_code, response.get_json())
    return response.get_json()["message"]


def test_every_refusal_has_its_own_status_and_message(client, author):
    partner = PartnerClient.create(client)
    delivery_id = running_delivery(author, partner)
    used, cancelled, expiring, spare = partner.coupons(delivery_id, count=4)
    first, second = _learner(partner), _learner(partner, "b@example.org", "+919876543211")
    no_phone = partner.signup("c@example.org")
    messages = set()
    messages.add(_error(partner.apply(first, "ZZZZZ-ZZZZZ"), 400))
    assert partner.apply(first, used).status_code == 200
    messages.add(_error(partner.apply(second, used), 409))
    messages.add(_error(partner.apply(first, spare), 409))  # already enrolled
    assert partner.post(f"/coupons/{cancelled}/cancel").status_code == 200
    messages.add(_error(partner.apply(second, cancelled), 409))
    messages.add(_error(partner.apply(no_phone, spare), 400))
    (short_lived,) = partner.coupons(delivery_id, expires_at=(clock.now() + timedelta(seconds=1)).isoformat())
    account = db.session.get(LearnerAccount, second["db_user"]["id"])
    with pytest.raises(Invalid) as expired:
        coupon_service.apply(account, short_lived, now=clock.now() + timedelta(minutes=1))
    messages.add(expired.value.message)
    (full,) = partner.coupons(delivery_id, capacity=2)  # the group's student and the first learner
    messages.add(_error(partner.apply(second, full), 409))
    assert author.put(f"/api/delivery/{delivery_id}", json={"action": "STOP"}).status_code == 200
    messages.add(_error(partner.apply(second, expiring), 409))
    assert len(messages) == 8, messages


def test_a_partner_cannot_apply_another_partners_coupon_or_enrol_its_learners(client, author):
    partner, other = PartnerClient.create(client), PartnerClient.create(client, "Other")
    delivery_id = running_delivery(author, partner, other)
    (code,) = partner.coupons(delivery_id)
    other_learner = _learner(other)
    assert other.apply(other_learner, code).status_code == 400  # unknown to this partner
    mine = _learner(partner, "b@example.org", "+919876543211")
    assert other.apply(mine, code).status_code == 401  # tokens of another partner's learner
    assert other.post(f"/coupons/{code}/cancel").status_code == 404


def test_an_authors_coupon_serves_any_partners_learner(client, author):
    delivery_id = running_delivery(author)
    code = author.post(f"/api/delivery/{delivery_id}/coupons", json={}).get_json()["data"][0]["code"]
    partner = PartnerClient.create(client)
    assert partner.apply(_learner(partner), code).status_code == 200


def test_cancelling_a_used_coupon_withdraws_the_learner_and_restore_makes_it_available(client, author):
    partner = PartnerClient.create(client)
    delivery_id = running_delivery(author, partner)
    (code,) = partner.coupons(delivery_id)
    tokens = _learner(partner)
    assert partner.apply(tokens, code).status_code == 200
    enrollment_id = db.session.query(Enrollment.id).filter(Enrollment.student_id.isnot(None)).order_by(
        Enrollment.id.desc()).first()[0]
    response = author.post(f"/api/delivery/{delivery_id}/coupons/{code}/cancel")
    assert response.status_code == 200 and response.get_json()["state"] == "cancelled"
    db.session.expire_all()
    assert db.session.get(Enrollment, enrollment_id).status == REMOVED
    assert db.session.query(Student).filter_by(phone="+919876543210").count() == 0
    assert partner.post(f"/coupons/{code}/cancel").status_code == 409
    restored = partner.post(f"/coupons/{code}/restore")
    assert restored.status_code == 200 and restored.get_json()["state"] == "available"
    assert partner.post(f"/coupons/{code}/restore").status_code == 409
    assert partner.apply(tokens, code).status_code == 200


def test_another_authors_delivery_has_no_coupons_for_you(client, author, other_author):
    delivery_id = running_delivery(author)
    assert other_author.post(f"/api/delivery/{delivery_id}/coupons", json={"count": 1}).status_code == 404
    assert other_author.get(f"/api/delivery/{delivery_id}/coupons").status_code == 404
