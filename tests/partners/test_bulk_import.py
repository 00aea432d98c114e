"""POST /api/partner/students/bulk: learners upserted by external_id, every row reported, a bad
row writing nothing, 10,000 rows at once, from JSON, CSV and XLSX."""

from __future__ import annotations

import io
import json

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from ekatra.extensions import db
from ekatra.groups.models import Student
from ekatra.partners.models import LearnerAccount
from ekatra.webhooks.models import WebhookEvent
from tests.partners.factories import LEARNER_PASSWORD, PartnerClient, running_delivery

BULK = "/students/bulk"


@pytest.fixture
def partner(client) -> PartnerClient:
    return PartnerClient.create(client)


def _accounts(partner: PartnerClient) -> dict[str, LearnerAccount]:
    db.session.expire_all()
    return {account.external_id: account for account in db.session.scalars(
        select(LearnerAccount).where(LearnerAccount.partner_id == partner.id))}


def test_json_rows_create_learners_and_a_second_import_updates_them_by_external_id(partner):
    first = partner.post(BULK, json=[
        {"external_id": "HR-1", "name": "Asha Rao", "email": "Asha@Example.org", "phone": "+919812345678",
         "channel": "WhatsApp", "timezone": "asia/kolkata"},
        {"external_id": "HR-2", "name": "Ravi", "phone": "9812345679", "country_code": "+91"}])
    assert first.status_code == 200, first.get_json()
    body = first.get_json()
    assert (body["created"], body["updated"], body["failed"]) == (2, 0, 0)
    assert [(r["row"], r["external_id"], r["status"]) for r in body["results"]] == [
        (1, "HR-1", "created"), (2, "HR-2", "created")]
    accounts = _accounts(partner)
    asha = accounts["HR-1"]
    assert (asha.email, asha.login_id, asha.phone, asha.channel, asha.timezone) == (
        "asha@example.org", "asha@example.org", "+919812345678", "whatsapp", "Asia/Kolkata")
    assert accounts["HR-2"].login_id == "+919812345679" and body["results"][0]["id"] == asha.id

    again = partner.post(BULK, json=[{"external_id": "HR-1", "name": "Asha R.", "timezone": "Europe/London"},
                                     {"external_id": "HR-3", "name": "Meera", "email": "meera@example.org"}])
    body = again.get_json()
    assert (body["created"], body["updated"], body["failed"]) == (1, 1, 0)
    assert body["results"][0] == {"row": 1, "external_id": "HR-1", "status": "updated", "id": asha.id,
                                  "errors": None}
    accounts = _accounts(partner)
    assert len(accounts) == 3
    # Named fields change; fields left out stay as they were.
    assert (accounts["HR-1"].full_name, accounts["HR-1"].timezone, accounts["HR-1"].phone) == (
        "Asha R.", "Europe/London", "+919812345678")


def test_bad_rows_are_reported_with_their_errors_and_write_nothing(partner):
    partner.post(BULK, json=[{"external_id": "OLD", "name": "Old", "email": "taken@example.org"}])
    response = partner.post(BULK, json=[
        {"external_id": "A", "name": "Good", "email": "good@example.org"},
        {"external_id": "B", "name": "Bad phone", "phone": "12"},
        {"external_id": "C", "name": "Taken", "email": "TAKEN@example.org"},
        {"external_id": "D", "name": "Twice", "email": "good@example.org"},
        {"external_id": "A", "name": "Same id", "email": "other@example.org"},
        {"name": "No id", "email": "noid@example.org"},
        {"external_id": "E", "email": "noname@example.org"},
        {"external_id": "F", "name": "Nowhere"},
        {"external_id": "G", "name": "Zone", "email": "g@example.org", "timezone": "Mars/Base", "x": 1},
        {"external_id": "H", "name": "Bad\x00name", "email": "h@example.org"},
        "not an object"])
    assert response.status_code == 200
    body = response.get_json()
    assert (body["created"], body["updated"], body["failed"]) == (1, 0, 10)
    errors = {result["row"]: result["errors"] for result in body["results"]}
    assert errors[1] is None
    assert set(errors[2]) == {"phone"}
    assert "Another of your learners" in errors[3]["email"][0]
    assert errors[4] == {"email": ["This email is also on row 1."]}
    assert errors[5] == {"external_id": ["'A' is also on row 1."]}
    assert set(errors[6]) == {"external_id"} and set(errors[7]) == {"name"} and set(errors[8]) == {"email"}
    assert set(errors[9]) == {"timezone", "x"} and set(errors[10]) == {"name"}
    assert set(errors[11]) == {"_schema"}
    assert set(_accounts(partner)) == {"OLD", "A"}  # nothing of the bad rows was written
    assert _accounts(partner)["OLD"].full_name == "Old"


def test_a_csv_upload_and_an_xlsx_upload_are_imported_with_row_numbers(partner):
    csv_text = ("External ID;Full Name;Email;Phone;Channel;Timezone;Notes\r\n"
                "X1;Asha;asha@example.org;+919812345678;sms;Asia/Kolkata;vip\r\n"
                ";;;;;;\r\n"
                "X2;'=SUM(A1);ravi@example.org;;;;\r\n"
                "X3;Bad;;+1;;;\r\n")
    response = partner.post(BULK, data={"file": (io.BytesIO(csv_text.encode()), "learners.csv")},
                            content_type="multipart/form-data")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert [(r["row"], r["status"]) for r in body["results"]] == [
        (2, "created"), (4, "created"), (5, "failed")]
    assert _accounts(partner)["X2"].full_name == "=SUM(A1)"  # the export's apostrophe is undone

    workbook = Workbook()
    workbook.active.append(["external_id", "name", "phone", "country_code"])
    workbook.active.append([1, "Asha Rao", 9812345678, "+91"])  # number cells, as spreadsheets store them
    workbook.active.append(["X1", "Asha Rao", "+919812345678"])
    out = io.BytesIO()
    workbook.save(out)
    response = partner.post(BULK, data={"file": (io.BytesIO(out.getvalue()), "learners.xlsx")},
                            content_type="multipart/form-data")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert [(r["row"], r["status"]) for r in body["results"]] == [(2, "created"), (3, "updated")]
    accounts = _accounts(partner)
    assert accounts["1"].phone == "+919812345678" and accounts["X1"].full_name == "Asha Rao"

    raw = partner.post(BULK, data=b"external_id,name,email\nX9,Nine,nine@example.org\n",
                       headers={"Content-Type": "text/csv"})
    assert raw.status_code == 200 and raw.get_json()["created"] == 1


def test_whole_file_problems_are_refused(partner):
    no_column = partner.post(BULK, data=b"name,email\nA,a@example.org\n",
                             headers={"Content-Type": "text/csv"})
    assert no_column.status_code == 400 and "external_id" in no_column.get_json()["message"]
    assert partner.post(BULK, json={"external_id": "A"}).status_code == 400
    assert partner.post(BULK, json=[]).status_code == 400
    assert partner.post(BULK, data=b"<xml/>", headers={"Content-Type": "application/xml"}).status_code == 415
    too_many = partner.post(BULK, json=[{"external_id": str(i)} for i in range(10_001)])
    assert too_many.status_code == 413
    assert _accounts(partner) == {}


def test_ten_thousand_rows_in_one_request_with_an_idempotency_key(partner):
    rows = [{"external_id": f"E{i:05d}", "name": f"Learner {i}", "email": f"learner{i}@example.org",
             "phone": f"+9198{i:08d}", "channel": "sms", "timezone": "Asia/Kolkata"} for i in range(10_000)]
    assert len(json.dumps(rows)) > 1024 * 1024  # over the limit of every other route:
    assert partner.post("/delete_users", data=json.dumps(rows),
                        headers={"Content-Type": "application/json"}).status_code == 413
    response = partner.post(BULK, json=rows, headers={"Idempotency-Key": "roster-2026-11"})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["created"], body["failed"], len(body["results"])) == (10_000, 0, 10_000)
    assert db.session.scalar(select(func.count()).select_from(LearnerAccount)) == 10_000
    replay = partner.post(BULK, json=rows, headers={"Idempotency-Key": "roster-2026-11"})
    assert replay.headers.get("Idempotent-Replayed") == "true" and replay.get_json() == body
    rows[0]["name"] = "Renamed"
    updated = partner.post(BULK, json=rows)
    assert updated.get_json()["updated"] == 10_000
    assert _accounts(partner)["E00000"].full_name == "Renamed"


def test_created_rows_send_student_created_webhooks(client, partner):
    registered = client.post("/api/webhooks", headers=partner.headers, json={
        "url": "http://127.0.0.1:9/hook", "events": ["student.created"]})
    assert registered.status_code == 201, registered.get_json()
    partner.post(BULK, json=[{"external_id": "W1", "name": "Web", "email": "w1@example.org"},
                             {"external_id": "W2", "name": "Bad", "phone": "1"}])
    partner.post(BULK, json=[{"external_id": "W1", "name": "Web again"}])  # an update: no event
    events = db.session.scalars(select(WebhookEvent)).all()
    assert len(events) == 1 and '"external_id": "W1"' in events[0].body.replace('":"', '": "')


def test_an_imported_learner_has_no_password_until_signup_sets_one(partner):
    partner.post(BULK, json=[{"external_id": "P1", "name": "Asha", "email": "asha@example.org"}])
    refused = partner.post("/login", json={"id": "asha@example.org", "password": ""})
    assert refused.status_code == 400 or refused.status_code == 401
    guessed = partner.post("/login", json={"id": "asha@example.org", "password": "anything at all"})
    assert guessed.status_code == 401
    signup = partner.post("/signup", json={"full_name": "Asha Rao", "id": "asha@example.org",
                                           "password": LEARNER_PASSWORD, "source": "Acme LMS"})
    assert signup.status_code == 200, signup.get_json()
    account = _accounts(partner)["P1"]
    assert signup.get_json()["db_user"]["id"] == account.id and account.full_name == "Asha Rao"
    logged_in = partner.post("/login", json={"id": "asha@example.org", "password": LEARNER_PASSWORD})
    assert logged_in.status_code == 200
    second = partner.post("/signup", json={"full_name": "Mallory", "id": "asha@example.org",
                                           "password": "another password", "source": "x"})
    assert second.status_code == 409


def test_another_partners_learners_are_neither_matched_nor_changed(client, partner):
    other = PartnerClient.create(client, "Other LMS")
    other.post(BULK, json=[{"external_id": "SAME", "name": "Theirs", "email": "same@example.org"}])
    response = partner.post(BULK, json=[{"external_id": "SAME", "name": "Mine", "email": "same@example.org"}])
    assert response.get_json()["created"] == 1
    assert _accounts(other)["SAME"].full_name == "Theirs" and _accounts(partner)["SAME"].full_name == "Mine"
    assert client.post("/api/partner/students/bulk", json=[{"external_id": "Z", "name": "Z",
                                                            "email": "z@example.org"}]).status_code == 401


def test_a_phone_change_moves_into_the_learners_groups_unless_taken_there(client, author, partner):
    delivery_id = running_delivery(author, partner)  # its group holds Asha, +919812345678
    code, = partner.coupons(delivery_id)
    partner.post(BULK, json=[{"external_id": "S1", "name": "Ravi", "email": "ravi@example.org",
                              "phone": "+919811111111"}])
    tokens = partner.post("/signup", json={"full_name": "Ravi", "id": "ravi@example.org",
                                           "password": LEARNER_PASSWORD}).get_json()
    assert partner.apply(tokens, code).status_code == 200
    taken = partner.post(BULK, json=[{"external_id": "S1", "phone": "+919812345678"}]).get_json()
    assert taken["failed"] == 1 and "group" in taken["results"][0]["errors"]["phone"][0]
    assert _accounts(partner)["S1"].phone == "+919811111111"
    moved = partner.post(BULK, json=[{"external_id": "S1", "name": "Ravi Kumar", "phone": "+919800000001"}])
    assert moved.get_json()["updated"] == 1
    db.session.expire_all()
    student = db.session.scalar(select(Student).where(Student.phone == "+919800000001"))
    assert student is not None and student.name == "Ravi Kumar"
