"""The signed agreement of one student as a PDF: the agreement and supporting documents as the
student read them, the student's typed name and drawn signature, the sponsor's signature and
initials, the times of both, and the SHA-256 of the signed text.

Drawn like the certificates (ekatra/partners/certificates.py): fpdf2 with HarfBuzz shaping
(uharfbuzz) in the bundled Noto Sans and Noto Sans Devanagari, so that names and texts in
Devanagari are shaped correctly.
"""

from __future__ import annotations

import hashlib
import io
from datetime import datetime

from ekatra.cohorts.models import Cohort, CohortEnrollment
from ekatra.pdfs import new_pdf


def _iso(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC") if moment else "-"


def content_hash(cohort: Cohort, enrollment: CohortEnrollment, texts: list[tuple[str, str, str]]) -> str:
    """SHA-256 over what was signed: the texts, who signed, when, and both signature images."""
    digest = hashlib.sha256()
    for part in [
        cohort.uuid,
        enrollment.uuid,
        *(f"{kind}\x1f{name}\x1f{text}" for kind, name, text in texts),
        enrollment.signed_name or "",
        _iso(enrollment.signed_at),
        _iso(enrollment.sponsor_signed_at),
    ]:
        digest.update(part.encode("utf-8") + b"\x1e")
    for image in (
        enrollment.signature or b"",
        cohort.sponsor_signature or b"",
        cohort.sponsor_initials or b"",
    ):
        digest.update(hashlib.sha256(image).digest())
    return digest.hexdigest()


def render_agreement(
    cohort: Cohort, enrollment: CohortEnrollment, texts: list[tuple[str, str, str]], now: datetime
) -> tuple[bytes, str]:
    """(the PDF, the hex SHA-256 of the signed content printed in it)."""
    digest = content_hash(cohort, enrollment, texts)
    pdf = new_pdf(format="A4")
    pdf.set_title(f"{cohort.name}: agreement of {enrollment.full_name}")
    pdf.set_auto_page_break(True, margin=18)

    def footer_text() -> str:
        return f"SHA-256 {digest}"

    pdf.footer = lambda: (
        pdf.set_y(-12),
        pdf.set_font("Noto", "", 7),  # type: ignore[method-assign]
        pdf.cell(0, 5, f"{footer_text()}  ·  page {pdf.page_no()}", align="C"),
    )
    pdf.add_page()

    def write(text: str, size: float = 10, style: str = "", gap: float = 2) -> None:
        pdf.set_font("Noto", style, size)
        pdf.multi_cell(0, size * 0.5, text, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(gap)

    write(cohort.name, 18, "B")
    write(
        f"{cohort.program_type.replace('_', ' ').title()} · {cohort.start_date:%d %B %Y} – "
        f"{cohort.end_date:%d %B %Y}"
        + (f" · Sponsor: {cohort.sponsor_company_name}" if cohort.sponsor_company_name else ""),
        10,
        gap=4,
    )
    write(f"Student: {enrollment.full_name} <{enrollment.email}>", 11, "B", 6)
    for _kind, name, text in texts:
        write(name, 13, "B")
        write(text, 10, gap=6)
    write("Signatures", 13, "B")
    write(f"Accepted by {enrollment.signed_name} (typed name) on {_iso(enrollment.signed_at)}", 10)
    if enrollment.signature:
        pdf.image(io.BytesIO(enrollment.signature), h=25)
        pdf.ln(2)
    write(f"Signed for the sponsor ({cohort.sponsor_email}) on {_iso(enrollment.sponsor_signed_at)}", 10)
    if pdf.get_y() > pdf.h - 60:
        pdf.add_page()
    y = pdf.get_y()
    if cohort.sponsor_signature:
        pdf.image(io.BytesIO(cohort.sponsor_signature), x=pdf.l_margin, y=y, h=25)
    if cohort.sponsor_initials:
        pdf.image(io.BytesIO(cohort.sponsor_initials), x=pdf.l_margin + 90, y=y, h=25)
    pdf.set_y(y + 28)
    write(f"Document generated {_iso(now)}. SHA-256 of the signed content: {digest}", 8)
    return bytes(pdf.output()), digest
