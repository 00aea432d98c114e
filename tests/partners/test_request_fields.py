"""Signup keeps the learner's phone, channel and timezone; unknown fields are refused, not lost."""

from __future__ import annotations

from tests.partners.factories import LEARNER_PASSWORD, PartnerClient, running_delivery

SIGNUP = {"full_name": "Asha Rao", "id": "asha@example.org", "password": LEARNER_PASSWORD,
          "source": "Acme LMS"}


def test_a_learner_signed_up_with_a_phone_can_apply_a_coupon_at_once(client, author):
    partner = PartnerClient.create(client)
    delivery_id = running_delivery(author, partner)
    (code,) = partner.coupons(delivery_id)
    response = partner.post("/signup", json={**SIGNUP, "phone": "098765 43210", "country_code": "+91",
                                             "channel": "WhatsApp", "timezone": "asia/kolkata"})
    assert response.status_code == 200, response.get_json()
    tokens = response.get_json()
    user = tokens["db_user"]
    assert (user["mobile_number"], user["channel"], user["timezone"]) == (
        "+919876543210", "whatsapp", "Asia/Kolkata")
    assert partner.apply(tokens, code).status_code == 200


def test_signup_checks_phone_channel_and_timezone_as_the_profile_update_does(client):
    partner = PartnerClient.create(client)
    response = partner.post("/signup", json={**SIGNUP, "phone": "12", "channel": "pigeon",
                                             "timezone": "Mars/Base"})
    assert response.status_code == 400
    assert {"phone", "channel", "timezone"} <= set(response.get_json()["errors"])
    assert partner.post("/login", json={"id": SIGNUP["id"], "password": LEARNER_PASSWORD}).status_code == 401


def test_signup_with_a_phone_id_reaches_that_phone_unless_another_is_given(client):
    partner = PartnerClient.create(client)
    by_phone = partner.post("/signup", json={**SIGNUP, "id": "+919876543210"}).get_json()
    assert by_phone["db_user"]["mobile_number"] == "+919876543210"
    other = partner.post("/signup", json={**SIGNUP, "id": "+919876543211", "phone": "+14155550100"})
    assert other.get_json()["db_user"]["mobile_number"] == "+14155550100"


def test_an_unknown_field_in_a_partner_body_is_a_400_naming_it(client, author):
    partner = PartnerClient.create(client)
    delivery_id = running_delivery(author, partner)
    refused = partner.post("/signup", json={**SIGNUP, "mobile": "+919876543210"})
    assert refused.status_code == 400 and refused.get_json()["errors"] == {"mobile": ["Unknown field."]}
    assert "mobile" in refused.get_json()["message"]
    typo = partner.post("/coupons", json={"delivery_id": delivery_id, "count": 1, "capacty": 1})
    assert typo.status_code == 400 and "capacty" in typo.get_json()["errors"]
    assert partner.get("/coupons").get_json()["data"] == []
    query = partner.get("/coupons", query_string={"delivery": delivery_id})
    assert query.status_code == 400 and "delivery" in query.get_json()["errors"]
    by_author = author.post(f"/api/delivery/{delivery_id}/coupons", json={"count": 1, "seats": 3})
    assert by_author.status_code == 400 and "seats" in by_author.get_json()["errors"]


def test_the_contracts_access_secret_is_accepted_in_any_partner_body(client, author):
    partner = PartnerClient.create(client)
    delivery_id = running_delivery(author, partner)
    keys_in_body = {"ST-ACCESS-KEY": partner.access_key}
    signup = client.post("/api/partner/signup", headers=keys_in_body,
                         json={**SIGNUP, "access_secret": partner.secret_key})
    assert signup.status_code == 200, signup.get_json()
    coupons = client.post("/api/partner/coupons", headers=keys_in_body,
                          json={"delivery_id": delivery_id, "access_secret": partner.secret_key})
    assert coupons.status_code == 201, coupons.get_json()
