"""PDF pages in the bundled Noto fonts (Latin and Devanagari, shaped by HarfBuzz), so that a
learner's name prints the same in a certificate and in a cohort agreement. The fonts are in
`fonts/` (SIL Open Font License)."""

from __future__ import annotations

from pathlib import Path

FONTS = Path(__file__).resolve().parent / "fonts"


def new_pdf(**options):
    """An fpdf2 document (`options` as FPDF takes them) with "Noto" (regular and bold) as its
    font and Noto Sans Devanagari as the fallback for Devanagari text."""
    from fpdf import FPDF

    pdf = FPDF(**options)
    pdf.add_font("Noto", "", str(FONTS / "NotoSans-Regular.ttf"))
    pdf.add_font("Noto", "B", str(FONTS / "NotoSans-Bold.ttf"))
    pdf.add_font("NotoDeva", "", str(FONTS / "NotoSansDevanagari-Regular.ttf"))
    pdf.add_font("NotoDeva", "B", str(FONTS / "NotoSansDevanagari-Bold.ttf"))
    pdf.set_fallback_fonts(["NotoDeva"], exact_match=False)
    pdf.set_text_shaping(True)
    return pdf
