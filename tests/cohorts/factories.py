"""Builders for cohort tests: a cohort over the API, signature images, students' paperwork."""

from __future__ import annotations

import base64
import io
import re

from tests.factories import AuthorClient, create_course

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64


def png_data_url(width: int = 300, height: int = 100, *, blank: bool = False) -> str:
    """A drawn signature (a dark stroke on white), or a blank canvas."""
    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (width, height), (255, 255, 255, 0))
    if not blank:
        ImageDraw.Draw(image).line(
            [(10, 70), (80, 20), (150, 80), (290, 30)], fill=(20, 20, 20, 255), width=4
        )
    out = io.BytesIO()
    image.save(out, format="PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode("ascii")


def cohort_fields(course_id: int, **overrides) -> dict:
    fields = {
        "name": "Q1 2025 Learnership",
        "program_type": "learnership",
        "sponsor_email": "sponsor@company.com",
        "sponsor_company_name": "Acme Mining",
        "student_count": 2,
        "course_id": course_id,
        "start_date": "2030-02-01",
        "end_date": "2030-07-31",
        "send_time": "09:00",
        "default_timezone": "Africa/Johannesburg",
        "default_channel": "sms",
        "main_template": {
            "name": "Learnership Agreement",
            "body": "I, {{full_name}}, agree to take part in {{cohort_name}} from {{start_date}}.",
        },
        "supporting_templates": [
            {"name": "Code of Conduct", "body": "{{first_name}} will attend every session."}
        ],
        "required_uploads": [
            {"type": "id_document", "label": "ID"},
            {"type": "matric_certificate", "label": "Matric certificate"},
        ],
    }
    fields.update(overrides)
    return fields


def create_cohort(author: AuthorClient, course_id: int | None = None, **overrides) -> dict:
    course_id = course_id or create_course(author)
    response = author.post("/api/v1/cohorts", json={"cohort": cohort_fields(course_id, **overrides)})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


STUDENTS = [
    {
        "email": "john@example.com",
        "first_name": "John",
        "last_name": "Doe",
        "phone": "+27821234567",
        "timezone": "Africa/Johannesburg",
    },
    {
        "email": "asha@example.com",
        "first_name": "आशा",
        "last_name": "Rao",
        "phone": "+919876543210",
        "channel": "whatsapp",
        "timezone": "Asia/Kolkata",
    },
]


def invite(author: AuthorClient, cohort_id: int, students=None, **options) -> dict:
    response = author.post(
        f"/api/v1/cohorts/{cohort_id}/invitations", json={"students": students or STUDENTS, **options}
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def token_of(link: str) -> str:
    return re.search(r"/cohorts/(?:student|sponsor)/([^/\s]+)", link).group(1)


def sponsor_token(mailer) -> str:
    mail = next(body for to, _subject, body in mailer.sent if to == "sponsor@company.com")
    return token_of(mail)


class Student:
    """A student working through the portal with the test client (forms with their CSRF token)."""

    def __init__(self, client, token: str):
        self.client, self.token = client, token
        self.base = f"/cohorts/student/{token}"

    def page(self, name: str = ""):
        return self.client.get(f"{self.base}/{name}" if name else self.base)

    def _csrf(self, name: str) -> str:
        page = self.page(name)
        assert page.status_code == 200, page.get_data(as_text=True)[:300]
        return re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)

    def post(self, name: str, data: dict, **kwargs):
        return self.client.post(
            f"{self.base}/{name}", data={"csrf_token": self._csrf(name), **data}, **kwargs
        )

    def upload(self, document_type: str, content: bytes = PDF, filename: str = "scan.pdf"):
        return self.post(
            "upload",
            {"document_type": document_type, "file": (io.BytesIO(content), filename)},
            content_type="multipart/form-data",
        )

    def sign(self, name: str = "John Doe", signature: str | None = None):
        return self.post(
            "agreement", {"typed_name": name, "signature": signature or png_data_url(), "agree": "yes"}
        )

    def complete(self, name: str = "John Doe"):
        for document_type in ("id_document", "matric_certificate"):
            assert self.upload(document_type).status_code == 200
        assert self.sign(name).status_code == 303
