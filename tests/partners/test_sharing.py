"""Deliveries reach a partner only when their author shares them: coupons, listings, progress
and certificates; another author's or an unshared delivery is a 404 to everyone else."""

from __future__ import annotations

from tests.deliveries.factories import KOLKATA, course_and_group, create_delivery
from tests.partners.factories import PartnerClient, running_delivery, share

PHONE = "+919876543210"


def _unshared_delivery(author) -> int:
    course_id, group_id = course_and_group(author, students=(KOLKATA,))
    return create_delivery(author, group_id, course_id)


def test_a_partner_cannot_make_or_list_coupons_for_a_delivery_not_shared_with_it(client, author):
    partner = PartnerClient.create(client)
    delivery_id = _unshared_delivery(author)
    made = partner.post("/coupons", json={"delivery_id": delivery_id, "count": 5})
    assert made.status_code == 404 and made.get_json()["message"] == "Delivery not found!!"
    assert partner.get("/coupons", query_string={"delivery_id": delivery_id}).status_code == 404
    assert partner.get("/coupons", query_string={"delivery_id": 999_999}).status_code == 404
    assert share(author, delivery_id, partner).status_code == 200
    assert len(partner.coupons(delivery_id, count=2)) == 2
    listed = partner.get("/coupons", query_string={"delivery_id": delivery_id})
    assert listed.status_code == 200 and len(listed.get_json()["data"]) == 2


def test_an_author_shares_lists_and_unshares_their_delivery(client, author):
    partner, other = PartnerClient.create(client), PartnerClient.create(client, "Other LMS")
    delivery_id = _unshared_delivery(author)
    assert author.get(f"/api/delivery/{delivery_id}/partners").get_json()["data"] == []
    share(author, delivery_id, partner)
    shared = share(author, delivery_id, other)
    assert shared.status_code == 200
    assert [(p["partner_id"], p["name"]) for p in shared.get_json()["data"]] == [
        (partner.id, "Acme LMS"), (other.id, "Other LMS")]
    assert len(share(author, delivery_id, partner).get_json()["data"]) == 2  # sharing again changes nothing
    left = author.delete(f"/api/delivery/{delivery_id}/partners/{partner.id}")
    assert left.status_code == 200 and [p["partner_id"] for p in left.get_json()["data"]] == [other.id]
    assert author.delete(f"/api/delivery/{delivery_id}/partners/{partner.id}").status_code == 404
    assert author.delete(f"/api/delivery/{delivery_id}/partners/{2**40}").status_code == 404


def test_sharing_names_the_partner_by_its_access_key_only(client, author):
    partner = PartnerClient.create(client)
    delivery_id = _unshared_delivery(author)
    unknown = author.post(f"/api/delivery/{delivery_id}/partners", json={"access_key": "pk_nobody"})
    assert unknown.status_code == 404
    by_id = author.post(f"/api/delivery/{delivery_id}/partners", json={"partner_id": partner.id})
    assert by_id.status_code == 400 and "partner_id" in by_id.get_json()["errors"]


def test_another_authors_delivery_cannot_be_shared_or_seen(client, author, other_author):
    partner = PartnerClient.create(client)
    delivery_id = _unshared_delivery(author)
    share(author, delivery_id, partner)
    assert share(other_author, delivery_id, partner).status_code == 404
    assert other_author.get(f"/api/delivery/{delivery_id}/partners").status_code == 404
    assert other_author.delete(f"/api/delivery/{delivery_id}/partners/{partner.id}").status_code == 404
    assert len(author.get(f"/api/delivery/{delivery_id}/partners").get_json()["data"]) == 1


def test_a_partner_sees_nothing_of_a_delivery_once_unshared(client, author):
    partner = PartnerClient.create(client)
    delivery_id = running_delivery(author, partner)
    used, spare = partner.coupons(delivery_id, count=2)
    tokens = partner.signup(phone=PHONE)
    user_id = tokens["db_user"]["id"]
    assert partner.apply(tokens, used).status_code == 200
    course_id = author.get(f"/api/delivery/{delivery_id}").get_json()["course_id"]
    certificate = {"user_id": user_id, "course_id": course_id, "force_complete": True}
    assert len(partner.post("/get_courses_for_user", json={"user_id": user_id}).get_json()["data"]) == 1

    assert author.delete(f"/api/delivery/{delivery_id}/partners/{partner.id}").status_code == 200
    assert partner.get("/coupons").get_json()["data"] == []
    assert partner.post(f"/coupons/{spare}/cancel").status_code == 404
    assert partner.post("/get_courses_for_user", json={"user_id": user_id}).get_json()["data"] == []
    assert partner.post("/complete_course", json=certificate).status_code == 404
    second = partner.signup("b@example.org", phone="+919876543211")
    withdrawn = partner.apply(second, spare)
    assert withdrawn.status_code == 409 and "no longer offered" in withdrawn.get_json()["message"]

    share(author, delivery_id, partner)  # sharing again revives the partner's view and coupons
    assert len(partner.get("/coupons").get_json()["data"]) == 2
    assert partner.apply(second, spare).status_code == 200
    assert partner.post("/complete_course", json=certificate).status_code == 200


def test_a_learner_enrolled_with_an_authors_coupon_stays_hidden_from_the_partner(client, author):
    partner = PartnerClient.create(client)
    delivery_id = _unshared_delivery(author)
    code = author.post(f"/api/delivery/{delivery_id}/coupons", json={}).get_json()["data"][0]["code"]
    tokens = partner.signup(phone=PHONE)
    assert partner.apply(tokens, code).status_code == 200
    courses = partner.post("/get_courses_for_user", json={"user_id": tokens["db_user"]["id"]})
    assert courses.status_code == 200 and courses.get_json()["data"] == []
