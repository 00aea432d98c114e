"""The student's uploads and signature, the portal's CSRF check, the sponsor's per-student pages,
and the export: what a hostile or careless visitor cannot do."""

from __future__ import annotations

import io

from openpyxl import load_workbook
from sqlalchemy import select

from ekatra.auth.models import Author
from ekatra.cohorts.models import CohortDocument
from ekatra.extensions import db
from tests.cohorts.factories import JPEG, PDF, Student, create_cohort, invite, png_data_url, sponsor_token
from tests.factories import AuthorClient


def _student(client, author, **cohort_overrides) -> tuple[Student, dict, dict]:
    cohort = create_cohort(author, **cohort_overrides)
    link = invite(author, cohort["id"])["invite_links"][0]
    return Student(client, link["token"]), cohort, link


def test_uploads_are_sniffed_size_limited_and_kept_on_disk(app, client, author, uploads_dir):
    student, _cohort, link = _student(client, author)
    exe = student.upload("id_document", b"MZ\x90\x00 not a document", "id.pdf")
    assert exe.status_code == 422 and "Only PDF, JPEG and PNG" in exe.get_data(as_text=True)
    app.config["COHORT_UPLOAD_MAX_BYTES"] = 1024
    big = student.upload("id_document", PDF + b"0" * 2048, "id.pdf")
    assert big.status_code == 422 and "larger than" in big.get_data(as_text=True)
    app.config["COHORT_UPLOAD_MAX_BYTES"] = 5 * 1024 * 1024
    assert student.upload("id_document", JPEG, "photo.jpg").status_code == 200
    document = db.session.scalar(select(CohortDocument))
    assert document.content_type == "image/jpeg" and document.storage_key.endswith(".jpg")
    first_file = uploads_dir / document.storage_key
    assert first_file.read_bytes() == JPEG
    assert student.upload("id_document", PDF, "id.pdf").status_code == 200  # replaces the photo
    db.session.expire_all()
    document = db.session.scalar(select(CohortDocument))
    assert not first_file.exists() and (uploads_dir / document.storage_key).read_bytes() == PDF
    download = AuthorClient.login(client, author.email).get(
        f"/api/v1/enrollments/{link['enrollment_id']}/documents/{document.id}"
    )
    assert download.status_code == 200 and download.data == PDF
    unknown = student.upload("passport", PDF)
    assert unknown.status_code == 422


def test_a_form_without_the_portals_csrf_token_is_refused(client, author):
    student, _cohort, _link = _student(client, author)
    student.page("profile")
    response = client.post(f"{student.base}/profile", data={"phone": "+27821234567", "csrf_token": "forged"})
    assert response.status_code == 403
    fresh = type(client)(client.application)  # another browser: no cookie
    response = fresh.post(f"{student.base}/profile", data={"phone": "+27821234567"})
    assert response.status_code == 403


def test_a_blank_or_missing_signature_is_not_a_signature(client, author):
    student, _cohort, _link = _student(client, author)
    blank = student.sign(signature=png_data_url(blank=True))
    assert blank.status_code == 422 and "empty" in blank.get_data(as_text=True)
    missing = student.post("agreement", {"typed_name": "John Doe", "agree": "yes"})
    assert missing.status_code == 422
    unticked = student.post("agreement", {"typed_name": "John Doe", "signature": png_data_url()})
    assert unticked.status_code == 422


def test_the_agreement_shows_the_learners_fields(client, author):
    student, _cohort, _link = _student(client, author)
    page = student.page("agreement").get_data(as_text=True)
    assert "I, John Doe, agree to take part in Q1 2025 Learnership from 01 February 2030." in page
    assert "John will attend every session." in page
    assert 'src="/cohorts/static/signature.js"' in page and "<script>" not in page


def test_a_sponsor_sees_only_their_cohorts_students(app, client, author):
    _student(client, author)
    sponsor = sponsor_token(app.extensions["ekatra.mailer"])
    other = create_cohort(author, sponsor_email="other-sponsor@company.com")
    other_link = invite(
        author,
        other["id"],
        students=[
            {"email": "z@example.com", "first_name": "Zed", "last_name": "Other", "phone": "+27821239999"}
        ],
        send_email=False,
    )["invite_links"][0]
    page = client.get(f"/cohorts/sponsor/{sponsor}")
    assert page.status_code == 200 and "John Doe" in page.get_data(as_text=True)
    assert "Sign all agreements" not in page.get_data(as_text=True)
    assert client.get(f"/cohorts/sponsor/{sponsor}/student/{other_link['enrollment_id']}").status_code == 404
    overview = client.get(f"/api/v1/sponsors/cohorts/{sponsor}").get_json()
    assert [s["name"] for s in overview["students"]] == ["John Doe", "आशा Rao"][: len(overview["students"])]


def test_the_export_has_the_contracts_columns_and_runs_no_formula(client, author):
    student, cohort, _link = _student(client, author, name='=HYPERLINK("http://evil")')
    student.post(
        "profile",
        {"age": "23", "gender": "Male", "race": "Black", "city": "=cmd|' /C calc'!A0", "disability": "None"},
    )
    response = author.get(f"/api/v1/cohorts/{cohort['id']}/export?format=xlsx")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith(
        f'attachment; filename="cohort_{cohort["id"]}_export_'
    )
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows[0] == [
        "cohort_name",
        "student_name",
        "student_surname",
        "student_age",
        "student_race",
        "student_city",
        "program_type",
        "sponsor_company_name",
        "disability_status",
        "gender",
    ]
    john = next(row for row in rows if row[1] == "John")
    assert john[0] == '=HYPERLINK("http://evil")' and john[5] == "=cmd|' /C calc'!A0"
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    only = author.get(f"/api/v1/cohorts/{cohort['id']}/export?format=xlsx&include=program_details")
    assert load_workbook(io.BytesIO(only.data)).active["D1"].value == "program_type"
    assert author.get(f"/api/v1/cohorts/{cohort['id']}/export?format=csv").status_code == 422


def test_an_admin_who_does_not_own_the_cohort_gets_no_demographics(client, author):
    _student_, cohort, _link = _student(client, author)
    admin = AuthorClient.signup(client, "admin@example.org", "Admin")
    db.session.execute(Author.__table__.update().where(Author.id == admin.id).values(is_admin=True))
    db.session.commit()
    listed = admin.get(f"/api/v1/cohorts/{cohort['id']}/enrollments").get_json()
    assert "student_data" not in listed["data"][0]
    refused = admin.get(f"/api/v1/cohorts/{cohort['id']}/export?format=xlsx&include=student_demographics")
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "AUTHORIZATION_ERROR"
    default = admin.get(f"/api/v1/cohorts/{cohort['id']}/export?format=xlsx")
    assert "student_age" not in [c.value for c in load_workbook(io.BytesIO(default.data)).active[1]]
