"""complete_course: certificates once every day is received (or forced), verification pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ekatra import clock
from ekatra.deliveries.planner import plan_due_days
from ekatra.extensions import db
from ekatra.partners.models import Certificate
from tests.partners.factories import PartnerClient, answer_every_graded_question, running_delivery


def _enrolled(client, author, name="आशा राव") -> tuple[PartnerClient, int, int]:
    partner = PartnerClient.create(client)
    delivery_id = running_delivery(author, partner)
    tokens = partner.signup("asha@example.org", name=name, phone="+919876543210")
    (code,) = partner.coupons(delivery_id)
    assert partner.apply(tokens, code).status_code == 200
    course_id = author.get(f"/api/delivery/{delivery_id}").get_json()["course_id"]
    return partner, tokens["db_user"]["id"], course_id


def test_a_certificate_waits_for_every_day_then_is_issued_once(client, author):
    partner, user_id, course_id = _enrolled(client, author)
    body = {"user_id": user_id, "course_id": course_id, "force_complete": False}
    assert partner.post("/complete_course", json=body).status_code == 409
    start = max(clock.now(), datetime(2026, 12, 1, tzinfo=UTC))
    for days in range(1, 5):
        plan_due_days(start + timedelta(days=days))
    below = partner.post("/complete_course", json=body)
    assert below.status_code == 409 and "pass mark" in below.get_json()["message"]
    answer_every_graded_question(course_id)
    response = partner.post("/complete_course", json=body)
    assert response.status_code == 200, response.get_json()
    first = response.get_json()
    assert first["success"] is True and first["download_link"].startswith("http://ekatra.test/certificates/")
    assert len(first["serial"]) >= 16
    again = partner.post("/complete_course", json={**body, "force_complete": True}).get_json()
    assert again["download_link"] == first["download_link"]
    assert db.session.query(Certificate).count() == 1


def test_force_complete_issues_at_once_and_the_pdf_and_page_verify_it(client, author):
    partner, user_id, course_id = _enrolled(client, author)
    response = partner.post("/complete_course", json={"access_secret": partner.secret_key, "user_id": user_id,
                                                      "course_id": course_id, "force_complete": True})
    assert response.status_code == 200, response.get_json()
    serial = response.get_json()["serial"]
    pdf = client.get(f"/certificates/{serial}.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF") and pdf.mimetype == "application/pdf"
    page = client.get(f"/certificates/{serial}", headers={"Accept": "application/json"})
    assert page.status_code == 200
    assert page.get_json() | {"issued_at": None} == {
        "valid": True, "serial": serial, "learner_name": "आशा राव", "course_name": "Money basics",
        "issued_at": None, "download_link": f"http://ekatra.test/certificates/{serial}.pdf"}
    html = client.get(f"/certificates/{serial}", headers={"Accept": "text/html"})
    assert html.mimetype == "text/html" and "आशा राव" in html.get_data(as_text=True)
    missing = client.get("/certificates/NOSUCHSERIAL", headers={"Accept": "text/html"})
    assert missing.status_code == 404 and missing.is_json


def test_no_certificate_for_a_course_the_learner_is_not_in_or_for_another_partner(client, author):
    partner, user_id, course_id = _enrolled(client, author)
    body = {"user_id": user_id, "course_id": course_id + 1, "force_complete": True}
    assert partner.post("/complete_course", json=body).status_code == 404
    other = PartnerClient.create(client, "Other")
    assert other.post("/complete_course", json={**body, "course_id": course_id}).status_code == 404
