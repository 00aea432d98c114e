"""GET /api/partner/export/students (CSV, XLSX, JSON; formula-safe; only the partner's own
learners) and GET /api/partner/analytics (counts per period, JSON or CSV)."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import text

from ekatra import clock
from ekatra.deliveries.planner import plan_due_days
from ekatra.extensions import db
from tests.partners.factories import PartnerClient, answer_every_graded_question, running_delivery

FORMULA_NAME = "=HYPERLINK(\"http://evil.example\",\"x\")"


def _after_start(days: int) -> datetime:
    return max(clock.now(), datetime(2026, 12, 1, tzinfo=UTC)) + timedelta(days=days)


@pytest.fixture
def enrolled(client, author):
    """A partner with two learners (one enrolled, answering, certified; one only imported), and
    another partner with a learner of its own."""
    partner = PartnerClient.create(client)
    delivery_id = running_delivery(author, partner)
    tokens = partner.signup("asha@example.org", name=FORMULA_NAME, phone="+919876543210")
    (code,) = partner.coupons(delivery_id)
    assert partner.apply(tokens, code).status_code == 200
    for days in range(1, 4):
        plan_due_days(_after_start(days))
    db.session.execute(text("UPDATE messages SET status = 'delivered', sent_at = :now, delivered_at = :now"),
                       {"now": clock.now().replace(tzinfo=None)})
    db.session.commit()
    course_id = author.get(f"/api/delivery/{delivery_id}").get_json()["course_id"]
    answer_every_graded_question(course_id)
    user_id = tokens["db_user"]["id"]
    certified = partner.post("/complete_course", json={"user_id": user_id, "course_id": course_id,
                                                       "force_complete": True})
    assert certified.status_code == 200, certified.get_json()
    imported = partner.post("/students/bulk", json=[{"external_id": "HR-7", "name": "@Ravi",
                                                     "email": "ravi@example.org"}])
    assert imported.status_code == 200
    other = PartnerClient.create(client, "Other LMS")
    other.signup("secret-learner@example.org", name="Not yours")
    return partner, other, user_id, delivery_id, course_id


def test_csv_export_lists_learners_with_enrollments_and_neutralises_formulas(enrolled):
    partner, _other, user_id, delivery_id, course_id = enrolled
    response = partner.get("/export/students?format=csv")
    assert response.status_code == 200 and response.is_streamed
    assert response.mimetype == "text/csv" and "attachment" in response.headers["Content-Disposition"]
    text_body = response.get_data().decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text_body)))
    assert [row["user_id"] for row in rows] == [str(user_id), str(user_id + 1)]
    asha, ravi = rows
    assert asha["name"] == "'" + FORMULA_NAME and ravi["name"] == "'@Ravi"
    assert (asha["delivery_id"], asha["course_id"], asha["course_name"]) == (str(delivery_id), str(course_id),
                                                                            "Money basics")
    assert asha["days_received"] == "3" and asha["total_days"] == "3" and asha["progress_percent"] == "100.0"
    assert int(asha["answers"]) > 0 and asha["answers"] == asha["answers_correct"]
    assert asha["certificate_serial"] and asha["phone"] == "+919876543210"
    assert ravi["external_id"] == "HR-7" and ravi["has_password"] == "False" and ravi["delivery_id"] == ""
    assert "secret-learner" not in text_body and "Not yours" not in text_body


def test_xlsx_and_json_exports_hold_the_same_learners(enrolled):
    partner, _other, user_id, _delivery_id, _course_id = enrolled
    response = partner.get("/export/students?format=xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.get_data()), read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("user_id", "external_id", "name") and len(rows) == 3
    assert rows[1][2] == FORMULA_NAME  # a string cell, not a formula
    cell = load_workbook(io.BytesIO(response.get_data())).active["C2"]
    assert cell.data_type == "s"

    learners = json.loads(partner.get("/export/students?format=json").get_data())
    assert [learner["id"] for learner in learners] == [user_id, user_id + 1]
    (enrollment,) = learners[0]["enrollments"]
    assert enrollment["answers"] and all(answer["is_correct"] for answer in enrollment["answers"])
    assert learners[0]["certificates"][0]["verification_link"].startswith("http")
    assert learners[1]["external_id"] == "HR-7" and learners[1]["enrollments"] == []


def test_another_partner_exports_only_its_own_learners(enrolled):
    _partner, other, *_ = enrolled
    learners = json.loads(other.get("/export/students?format=json").get_data())
    assert [learner["email"] for learner in learners] == ["secret-learner@example.org"]
    assert learners[0]["enrollments"] == [] and learners[0]["certificates"] == []


def test_export_needs_partner_keys_and_a_known_format(client, enrolled):
    partner, *_ = enrolled
    assert client.get("/api/partner/export/students").status_code == 401
    assert client.get("/api/partner/analytics").status_code == 401
    wrong = {"ST-ACCESS-KEY": partner.access_key, "ST-SECRET-KEY": "not-the-secret"}
    assert client.get("/api/partner/export/students?format=json", headers=wrong).status_code == 401
    assert partner.get("/export/students?format=pdf").status_code == 400
    assert partner.get("/export/students?format=csv&limit=1").status_code == 400


def test_analytics_count_the_partners_activity_per_day(enrolled):
    partner, other, *_ = enrolled
    today = clock.now().date().isoformat()
    response = partner.get(f"/analytics?start_date={today}&end_date={today}")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    (day,) = body["periods"]
    assert day["period"] == today and body["group_by"] == "day"
    assert day["signups"] == 2 and day["enrollments"] == 1 and day["certificates"] == 1
    assert day["messages_sent"] >= 3 and day["messages_delivered"] == day["messages_sent"]
    assert day["messages_failed"] == 0 and day["answers"] > 0 and day["correct_rate"] == 1.0
    assert body["totals"] == {name: value for name, value in day.items() if name != "period"}

    theirs = other.get(f"/analytics?start_date={today}&end_date={today}").get_json()
    assert theirs["totals"]["signups"] == 1 and theirs["totals"]["messages_sent"] == 0
    assert theirs["totals"]["correct_rate"] is None


def test_analytics_by_week_and_month_and_as_csv(enrolled):
    partner, *_ = enrolled
    now = clock.now().date()
    weeks = partner.get(f"/analytics?start_date={now - timedelta(days=20)}&end_date={now}&group_by=week")
    periods = weeks.get_json()["periods"]
    assert all(datetime.fromisoformat(p["period"]).weekday() == 0 for p in periods)
    assert sum(p["signups"] for p in periods) == 2 and len(periods) in (3, 4)
    first = now.replace(day=1)
    months = partner.get(f"/analytics?start_date={first}&end_date={now}&group_by=month").get_json()
    assert [p["period"] for p in months["periods"]] == [now.replace(day=1).isoformat()]
    table = partner.get(f"/analytics?start_date={now}&end_date={now}&format=csv")
    assert table.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(table.get_data(as_text=True))))
    assert rows[0]["period"] == now.isoformat() and rows[0]["signups"] == "2"


@pytest.mark.parametrize("query", ["start_date=2026-02-30", "start_date=2026-03-02&end_date=2026-03-01",
                                   "start_date=2025-01-01&end_date=2026-12-31", "group_by=year",
                                   "format=xml", "start_date=yesterday", "end_date=0001-01-01",
                                   "start_date=9999-12-31"])
def test_bad_analytics_ranges_are_a_400(client, query):
    partner = PartnerClient.create(client)
    response = partner.get(f"/analytics?{query}")
    assert response.status_code == 400 and response.get_json()["message"]
