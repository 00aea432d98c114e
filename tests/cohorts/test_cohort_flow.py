"""A cohort from creation to its first day, over the API and the student's portal."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from ekatra.deliveries.models import Delivery, Enrollment
from ekatra.extensions import db
from ekatra.groups.models import Student as GroupStudent
from ekatra.outbox.models import Message
from tests.cohorts.factories import Student, create_cohort, invite, png_data_url, sponsor_token


def _verify(author, enrollment_id, **body):
    return author.post(f"/api/v1/enrollments/{enrollment_id}/verify", json=body)


def test_a_cohort_goes_from_creation_to_its_courses_first_day(app, client, author):
    cohort = create_cohort(author)
    assert (
        cohort["state"] == "draft"
        and cohort["links"]["enrollments"] == f"/api/v1/cohorts/{cohort['id']}/enrollments"
    )
    assert cohort["templates"]["main"]["name"] == "Learnership Agreement"

    invited = invite(author, cohort["id"], message="Welcome to our Q1 2025 Learnership program!")
    assert invited["invitations_sent"] == 2 and invited["errors"] == []
    links = {link["email"]: link for link in invited["invite_links"]}
    assert links["john@example.com"]["link"].startswith("http://ekatra.test/cohorts/student/")
    texts = db.session.scalars(select(Message).order_by(Message.id)).all()
    assert [(m.to_phone, m.channel) for m in texts] == [
        ("+27821234567", "sms"),
        ("+919876543210", "whatsapp"),
    ]
    assert links["john@example.com"]["link"] in texts[0].body
    mails = app.extensions["ekatra.mailer"].sent
    assert {to for to, _s, _b in mails} == {"john@example.com", "asha@example.com", "sponsor@company.com"}

    detail = author.get(f"/api/v1/cohorts/{cohort['id']}").get_json()
    assert detail["state"] == "active" and detail["admin_signed_at"]
    assert detail["enrollment_summary"] == {
        "total": 2,
        "waiting": 2,
        "in_progress": 0,
        "complete": 0,
        "rejected": 0,
    }

    john = Student(client, links["john@example.com"]["token"])
    asha = Student(client, links["asha@example.com"]["token"])
    assert john.page().status_code == 302
    welcome = john.page("welcome").get_data(as_text=True)
    assert "Welcome, John" in welcome and "Q1 2025 Learnership" in welcome
    saved = john.post(
        "profile",
        {
            "phone": "+27821234567",
            "age": "23",
            "gender": "Male",
            "race": "Black",
            "city": "Johannesburg",
            "disability": "None",
        },
    )
    assert saved.status_code == 303
    john.complete("John Doe")
    asha.complete("आशा Rao")

    listed = author.get(f"/api/v1/cohorts/{cohort['id']}/enrollments?state=complete").get_json()
    assert listed["meta"]["total"] == 2 and listed["meta"]["filters"]["state"] == ["complete"]
    john_row = next(row for row in listed["data"] if row["student"]["email"] == "john@example.com")
    assert john_row["verification_state"] == "pending"
    assert john_row["documents"] == {"uploaded": 2, "signed": 1, "rejected": 0}
    assert john_row["student_data"] == {
        "age": 23,
        "race": "Black",
        "city": "Johannesburg",
        "gender": "Male",
        "disability": "None",
    }

    # A rejection reaches the student by text and mail with a link to resubmit.
    rejected = _verify(
        author,
        john_row["id"],
        action="reject",
        document_type="matric_certificate",
        reason="Certificate is not certified by SAQA.",
        metadata={"reviewed_by": "admin@inst.org"},
    )
    assert rejected.status_code == 200, rejected.get_json()
    assert rejected.get_json()["action"] == "rejected" and rejected.get_json()["metadata"]["reviewed_by"]
    notice = db.session.scalars(select(Message).order_by(Message.id.desc())).first()
    assert notice.to_phone == "+27821234567" and "not certified by SAQA" in notice.body
    assert f"{john.base}/resubmit" in notice.body
    assert any(f"{john.base}/resubmit" in body for to, _s, body in mails if to == "john@example.com")
    status = john.page("resubmit").get_data(as_text=True)
    assert "Certificate is not certified by SAQA." in status
    assert john.upload("matric_certificate").status_code == 200

    sponsor = sponsor_token(app.extensions["ekatra.mailer"])
    early = client.post(
        f"/api/v1/sponsors/cohorts/{sponsor}/bulk-sign",
        json={"signature": png_data_url(), "initials": png_data_url(60, 40)},
    )
    assert early.status_code == 403
    assert early.get_json()["error"] == {
        **early.get_json()["error"],
        "code": "STATE_ERROR",
        "message": "Cannot sign - some students are not ready",
        "details": {"ready": 0, "total": 2, "pending": 2},
    }
    assert client.get(f"/api/v1/sponsors/cohorts/{sponsor}").get_json()["can_sign"] is False

    for row in listed["data"]:
        assert _verify(author, row["id"], action="approve").status_code == 200
    ready_mail = [body for to, subject, body in mails if to == "sponsor@company.com" and "ready" in subject]
    assert ready_mail and sponsor in ready_mail[0]

    overview = client.get(f"/api/v1/sponsors/cohorts/{sponsor}").get_json()
    assert overview["can_sign"] is True and overview["bulk_sign_available"] is True
    assert overview["summary"]["total"] == 2 and "student_data" not in overview["students"][0]
    bad = client.post(
        f"/api/v1/sponsors/cohorts/{sponsor}/bulk-sign",
        json={"signature": "data:image/png;base64,AAAA", "initials": png_data_url()},
    )
    assert bad.status_code == 422
    assert bad.get_json()["error"]["code"] == "VALIDATION_ERROR"
    assert bad.get_json()["error"]["message"] == "Signature data is invalid or corrupted"
    assert bad.get_json()["error"]["timestamp"]

    signed = client.post(
        f"/api/v1/sponsors/cohorts/{sponsor}/bulk-sign",
        json={
            "signature": png_data_url(),
            "initials": png_data_url(60, 40),
            "sign_all": True,
            "timestamp": "2025-01-02T15:30:00Z",
        },
    )
    assert signed.status_code == 200, signed.get_json()
    result = signed.get_json()
    assert result["signed_count"] == 2 and result["failed_count"] == 0 and result["cohort_finalized"] is True
    assert {a["status"] for a in result["signatures_applied"]} == {"signed"}

    detail = author.get(f"/api/v1/cohorts/{cohort['id']}").get_json()
    assert detail["state"] == "finalised" and detail["delivery_id"] and detail["group_id"]
    delivery = db.session.get(Delivery, detail["delivery_id"])
    assert str(delivery.local_start_date) == "2030-02-01" and str(delivery.local_send_time) == "09:00:00"
    students = db.session.scalars(
        select(GroupStudent).where(GroupStudent.group_id == detail["group_id"])
    ).all()
    assert sorted(s.timezone for s in students) == ["Africa/Johannesburg", "Asia/Kolkata"]
    due = {
        e.student_id: e.next_due_at
        for e in db.session.scalars(select(Enrollment).where(Enrollment.delivery_id == delivery.id))
    }
    by_zone = {s.timezone: due[s.id] for s in students}
    assert by_zone["Africa/Johannesburg"] == datetime(2030, 2, 1, 7, 0, tzinfo=UTC)  # 09:00 SAST
    assert by_zone["Asia/Kolkata"] == datetime(2030, 2, 1, 3, 30, tzinfo=UTC)  # 09:00 IST

    pdf = author.get(f"/api/v1/enrollments/{john_row['id']}/agreement.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert john.page("agreement.pdf").data.startswith(b"%PDF")
    again = client.post(
        f"/api/v1/sponsors/cohorts/{sponsor}/bulk-sign",
        json={"signature": png_data_url(), "initials": png_data_url()},
    )
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "STATE_ERROR"
    assert "enrolled" in john.page("status").get_data(as_text=True)


def test_invalid_cohort_fields_are_the_contracts_422(author, other_author):
    other_course = create_cohort(other_author)["course_id"]
    response = author.post(
        "/api/v1/cohorts",
        json={
            "cohort": {
                "name": "",
                "program_type": "learnership",
                "sponsor_email": "not-an-email",
                "student_count": 5,
                "course_id": 1,
                "start_date": "2030-01-01",
                "end_date": "2030-02-01",
            }
        },
    )
    assert response.status_code == 422
    body = response.get_json()
    assert body["errors"]["cohort"]["name"] == ["can't be blank"]
    assert body["errors"]["cohort"]["sponsor_email"] == ["is invalid"]
    assert body["error"]["code"] == "VALIDATION_ERROR"
    from tests.cohorts.factories import cohort_fields

    fields = cohort_fields(other_course, main_template=None, main_template_id=999)
    fields.pop("main_template")
    response = author.post("/api/v1/cohorts", json={"cohort": fields})
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"course_id": ["must exist"], "main_template_id": ["must exist"]}
    bad_field = cohort_fields(
        create_cohort(author)["course_id"], main_template={"name": "A", "body": "Hello {{password}}"}
    )
    response = author.post("/api/v1/cohorts", json={"cohort": bad_field})
    assert response.status_code == 422 and "password" in response.get_json()["errors"]["main_template"][0]


def test_another_authors_cohort_enrollments_and_links_are_not_found(app, client, author, other_author):
    cohort = create_cohort(author)
    link = invite(author, cohort["id"])["invite_links"][0]
    for path in (
        f"/api/v1/cohorts/{cohort['id']}",
        f"/api/v1/cohorts/{cohort['id']}/enrollments",
        f"/api/v1/cohorts/{cohort['id']}/export?format=xlsx",
        f"/api/v1/enrollments/{link['enrollment_id']}",
    ):
        response = other_author.get(path)
        assert response.status_code == 404, path
        assert response.get_json()["error"]["code"] == "NOT_FOUND"
    response = _verify(other_author, link["enrollment_id"], action="approve")
    assert response.status_code == 404
    assert response.get_json()["error"] == {
        **response.get_json()["error"],
        "code": "NOT_FOUND",
        "message": "Enrollment not found",
    }
    assert (
        other_author.post(
            f"/api/v1/cohorts/{cohort['id']}/invitations",
            json={
                "students": [
                    {"email": "x@example.com", "first_name": "X", "last_name": "Y", "phone": "+27821234599"}
                ]
            },
        ).status_code
        == 404
    )
    assert other_author.get("/api/v1/cohorts").get_json()["meta"]["total"] == 0
    # A forged or tampered link opens nothing.
    token = link["token"]
    forged = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert client.get(f"/cohorts/student/{forged}/welcome").status_code == 401
    sponsor = sponsor_token(app.extensions["ekatra.mailer"])
    assert (
        client.get(f"/cohorts/student/{sponsor}/welcome").status_code == 401
    )  # a sponsor's token is not a student's
    refused = client.get(f"/api/v1/sponsors/cohorts/{token}")
    assert refused.status_code == 401
    assert refused.get_json()["error"] == {
        **refused.get_json()["error"],
        "code": "AUTHENTICATION_ERROR",
        "message": "Invalid or expired sponsor token",
    }


def test_reinvite_ends_the_old_link_and_revoke_ends_the_new_one(client, author):
    cohort = create_cohort(author)
    link = invite(author, cohort["id"], send_email=False)["invite_links"][0]
    again = author.post(f"/api/v1/enrollments/{link['enrollment_id']}/invitation", json={"send_email": False})
    assert again.status_code == 200
    assert client.get(f"/cohorts/student/{link['token']}/welcome").status_code == 401
    assert client.get(f"/cohorts/student/{again.get_json()['token']}/welcome").status_code == 200
    assert author.delete(f"/api/v1/enrollments/{link['enrollment_id']}/invitation").status_code == 200
    assert client.get(f"/cohorts/student/{again.get_json()['token']}/welcome").status_code == 401
    summary = author.get(f"/api/v1/cohorts/{cohort['id']}").get_json()["enrollment_summary"]
    assert summary["total"] == 1


def test_invitations_report_bad_students_and_duplicates(author):
    cohort = create_cohort(author)
    response = author.post(
        f"/api/v1/cohorts/{cohort['id']}/invitations",
        json={
            "students": [
                {
                    "email": "ok@example.com",
                    "first_name": "Ok",
                    "last_name": "Student",
                    "phone": "+27821234567",
                },
                {"email": "bad", "first_name": "Bad", "last_name": "Email", "phone": "+27821234568"},
                {
                    "email": "ok@example.com",
                    "first_name": "Twice",
                    "last_name": "Over",
                    "phone": "+27821234569",
                },
            ],
            "send_email": False,
        },
    )
    assert response.status_code == 201
    body = response.get_json()
    assert body["invitations_sent"] == 1 and [e["index"] for e in body["errors"]] == [1, 2]
    none = author.post(
        f"/api/v1/cohorts/{cohort['id']}/invitations",
        json={
            "students": [{"email": "bad", "first_name": "Bad", "last_name": "Email", "phone": "+27821234568"}]
        },
    )
    assert none.status_code == 422 and none.get_json()["error"]["code"] == "VALIDATION_ERROR"


def test_verification_errors_are_the_contracts(author, client):
    cohort = create_cohort(author)
    link = invite(author, cohort["id"], send_email=False)["invite_links"][0]
    not_complete = _verify(author, link["enrollment_id"], action="approve")
    assert not_complete.status_code == 422 and not_complete.get_json()["error"]["code"] == "STATE_ERROR"
    no_reason = _verify(author, link["enrollment_id"], action="reject", document_type="id_document")
    assert no_reason.status_code == 422 and no_reason.get_json()["errors"] == {"reason": ["can't be blank"]}
    unknown = _verify(author, link["enrollment_id"], action="reject", document_type="passport", reason="x")
    assert unknown.status_code == 422 and "document_type" in unknown.get_json()["errors"]
    bad_action = _verify(author, link["enrollment_id"], action="maybe")
    assert bad_action.status_code == 422 and bad_action.get_json()["error"]["code"] == "VALIDATION_ERROR"
    Student(client, link["token"]).complete()
    assert _verify(author, link["enrollment_id"], action="approve").status_code == 200
    complete = _verify(author, link["enrollment_id"], action="reject", reason="Changed my mind")
    assert complete.status_code == 422
    assert complete.get_json()["error"]["message"] == "Cannot reject enrollment that is already complete"


def test_list_cohorts_is_paginated_and_filtered(author):
    course_id = create_cohort(author)["course_id"]
    create_cohort(author, course_id, name="Apprentices 2030", program_type="apprenticeship")
    create_cohort(author, course_id, name="Second learnership")
    page = author.get("/api/v1/cohorts?per_page=2").get_json()
    assert page["meta"] == {"page": 1, "per_page": 2, "total": 3} and len(page["data"]) == 2
    only = author.get("/api/v1/cohorts?program_type=apprenticeship").get_json()
    assert [c["name"] for c in only["data"]] == ["Apprentices 2030"]
    assert only["data"][0]["completion_percentage"] == 0 and only["data"][0]["completed_students"] == 0
    assert author.get("/api/v1/cohorts?state=bogus").status_code == 422


def test_cancelling_ends_every_link(app, client, author):
    cohort = create_cohort(author)
    link = invite(author, cohort["id"])["invite_links"][0]
    sponsor = sponsor_token(app.extensions["ekatra.mailer"])
    assert author.post(f"/api/v1/cohorts/{cohort['id']}/cancel").get_json()["state"] == "cancelled"
    assert client.get(f"/cohorts/student/{link['token']}/welcome").status_code == 401
    assert client.get(f"/api/v1/sponsors/cohorts/{sponsor}").status_code == 401
    again = author.post(f"/api/v1/cohorts/{cohort['id']}/cancel")
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "STATE_ERROR"


def test_cohort_routes_need_an_author_before_reading_the_body(client):
    response = client.post("/api/v1/cohorts", data="not json", content_type="application/json")
    assert response.status_code == 401
