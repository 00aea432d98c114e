"""Course certificates: issued once a learner has received every day and meets the pass mark.

The PDF is drawn with fpdf2, with HarfBuzz shaping (uharfbuzz) so that Devanagari names and
course titles render correctly, in Noto Sans (Latin) and Noto Sans Devanagari (bundled under
the SIL Open Font License in `ekatra/fonts/`). It carries a QR code of the public verification page.

Pass mark: at least `PASS_MARK_PERCENT` of the course's graded questions answered correctly,
read from the `answers` table when that table exists; without it the mark counts as met.
"""

from __future__ import annotations

import base64
import io
import secrets
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ekatra.courses.models import Course, Day, Question
from ekatra.deliveries.models import FINISHED, Delivery, Enrollment
from ekatra.errors import InvalidState, NotFound
from ekatra.extensions import db
from ekatra.inbound.models import Answer
from ekatra.partners.learners import enrollments_of
from ekatra.partners.models import Certificate, LearnerAccount, Partner
from ekatra.partners.services import find_account
from ekatra.pdfs import new_pdf
from ekatra.transactions import transaction
from ekatra.webhooks import services as webhooks

PASS_MARK_PERCENT = 50
SERIAL_BYTES = 12  # 96 random bits
NOT_ENROLLED = "This user is not enrolled in this course."


def new_serial() -> str:
    return base64.b32encode(secrets.token_bytes(SERIAL_BYTES)).decode("ascii").rstrip("=")


def verification_url(base_url: str, serial: str) -> str:
    return f"{base_url}/certificates/{serial}"


def download_url(base_url: str, serial: str) -> str:
    return f"{base_url}/certificates/{serial}.pdf"


def _course_enrollment(account: LearnerAccount, course_id: int) -> Enrollment:
    for enrollment, delivery in enrollments_of(account):
        if delivery.course_id == course_id:
            return enrollment
    raise NotFound(NOT_ENROLLED)


def meets_pass_mark(enrollment: Enrollment, course_id: int) -> bool:
    graded = db.session.scalar(select(func.count()).select_from(Question).join(Day).where(
        Day.course_id == course_id, Question.type != "open"))
    if not graded:
        return True
    correct = db.session.scalar(select(func.count()).select_from(Answer).where(
        Answer.enrollment_id == enrollment.id, Answer.is_correct.is_(True)))
    return 100 * correct >= PASS_MARK_PERCENT * graded


def complete_course(partner: Partner, account_id: int, course_id: int, *, force: bool, now: datetime,
                    base_url: str) -> Certificate:
    """The learner's certificate for the course: the existing one, or a new one if they have
    received every day and meet the pass mark (or `force`)."""
    account = find_account(partner, account_id)
    enrollment = _course_enrollment(account, course_id)
    existing = db.session.scalar(select(Certificate).where(
        Certificate.account_id == account.id, Certificate.course_id == course_id))
    if existing is not None:
        return existing
    if not force and enrollment.status != FINISHED:
        raise InvalidState("The learner has not yet received every day of this course.")
    if not force and not meets_pass_mark(enrollment, course_id):
        raise InvalidState(f"The learner has not reached the pass mark ({PASS_MARK_PERCENT}% of the "
                           "graded questions answered correctly).")
    course = db.session.get(Course, course_id)
    serial = new_serial()
    certificate = Certificate(account_id=account.id, course_id=course.id, serial=serial,
                              learner_name=account.full_name, course_name=course.name, is_forced=force,
                              issued_at=now, pdf=b"")
    certificate.pdf = render_pdf(certificate, verification_url(base_url, serial))
    delivery = db.session.get(Delivery, enrollment.delivery_id)
    try:
        with transaction():
            db.session.add(certificate)
            db.session.flush()  # a certificate issued concurrently stops here, with no event
            webhooks.record_event("course.completed", {
                "student_id": account.id, "group_student_id": enrollment.student_id, "course_id": course.id,
                "delivery_id": enrollment.delivery_id, "certificate_url": download_url(base_url, serial)},
                author_id=delivery.owner_id if delivery else None, partner_ids=[partner.id], now=now,
                livemode=partner.livemode)
    except IntegrityError:  # issued concurrently: serve that one
        return db.session.scalar(select(Certificate).where(
            Certificate.account_id == account.id, Certificate.course_id == course_id))
    return certificate


def find_certificate(serial: str) -> Certificate:
    certificate = db.session.scalar(select(Certificate).where(Certificate.serial == serial[:32]))
    if certificate is None:
        raise NotFound("No certificate has this serial.")
    return certificate


def _qr_png(url: str) -> io.BytesIO:
    import segno

    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="png", scale=8, border=2)
    buffer.seek(0)
    return buffer


def render_pdf(certificate: Certificate, verify_url: str) -> bytes:
    """An A4 landscape certificate: learner, course, date, serial and a QR code to verify it."""
    pdf = new_pdf(orientation="L", format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_title(f"Certificate {certificate.serial}")
    pdf.add_page()
    pdf.set_draw_color(40, 70, 120)
    pdf.set_line_width(1.5)
    pdf.rect(10, 10, 277, 190)

    def line(text: str, size: int, style: str = "", gap: float = 4) -> None:
        pdf.set_font("Noto", style, size)
        pdf.multi_cell(0, size * 0.55, text, align="C", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(gap)

    pdf.set_y(30)
    line("Certificate of Completion", 30, "B", 10)
    line("This certifies that", 14)
    line(certificate.learner_name, 28, "B", 8)
    line("has completed the course", 14)
    line(certificate.course_name, 22, "B", 10)
    line(f"Issued on {certificate.issued_at:%d %B %Y}", 12, gap=2)
    line(f"Serial {certificate.serial}", 10, gap=2)
    line(f"Verify at {verify_url}", 9)
    pdf.image(_qr_png(verify_url), x=238, y=152, w=40, h=40)
    return bytes(pdf.output())
