"""The CSV and XLSX files the app writes: one writer, in which no cell ever runs as a formula.

Learners choose their names and replies, so any text cell may start like a formula. In a CSV a
text cell that starts with = + - @ (or a tab or carriage return) gets a leading apostrophe:
Excel, LibreOffice and Google Sheets then show it as text and run nothing. In an XLSX every
text cell is written as an explicit string cell, which no spreadsheet evaluates, so it keeps its
exact text. Columns the app itself validated (E.164 numbers, calling codes, which start with +)
can be written verbatim.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterable, Iterator, Sequence

CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
STREAM_CHUNK_BYTES = 64 * 1024
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# A cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
SHEET_TITLE_MAX_CHARS = 31


def neutral(value):
    """A CSV cell that no spreadsheet runs: a formula-like text gets a leading apostrophe;
    numbers and booleans stay as they are; None is empty."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def restore(cell: str) -> str:
    """Undo `neutral` on a cell read back from a file the app wrote (so an export re-imports)."""
    if len(cell) > 1 and cell[0] == "'" and cell[1:].startswith(FORMULA_STARTS):
        return cell[1:]
    return cell


def _cells(header: Sequence[str], row: Sequence, verbatim: frozenset[str]) -> list:
    return [("" if value is None else value) if column in verbatim else neutral(value)
            for column, value in zip(header, row, strict=True)]


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence], *, verbatim: Iterable[str] = (),
              bom: bool = False) -> bytes:
    """UTF-8 CSV (CRLF lines) of `header` and `rows`; `bom` so that Excel reads non-Latin text."""
    keep = frozenset(verbatim)
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([neutral(column) for column in header])
    for row in rows:
        writer.writerow(_cells(header, row, keep))
    return out.getvalue().encode("utf-8-sig" if bom else "utf-8")


def csv_stream(header: Sequence[str], rows: Iterable[Sequence], *, verbatim: Iterable[str] = (),
               bom: bool = False) -> Iterator[bytes]:
    """`csv_bytes` as it is written: chunks of about 64 KB, so that a large export is sent while
    its rows are still being read."""
    keep = frozenset(verbatim)
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([neutral(column) for column in header])
    first = True
    for row in rows:
        writer.writerow(_cells(header, row, keep))
        if out.tell() >= STREAM_CHUNK_BYTES:
            yield out.getvalue().encode("utf-8-sig" if bom and first else "utf-8")
            out.seek(0)
            out.truncate()
            first = False
    yield out.getvalue().encode("utf-8-sig" if bom and first else "utf-8")


def xlsx_stream(header: Sequence[str], rows: Iterable[Sequence], *, title: str = "Sheet1",
                fallback_title: str = "Sheet1") -> Iterator[bytes]:
    """`xlsx_bytes` sent in chunks. A zip names its members at its end, so the workbook is
    written (row by row, openpyxl's write-only mode) into a temporary file first, not memory."""
    with tempfile.TemporaryFile() as spool:
        _write_xlsx(spool, header, rows, title, fallback_title)
        spool.seek(0)
        while chunk := spool.read(STREAM_CHUNK_BYTES):
            yield chunk


def xlsx_bytes(header: Sequence[str], rows: Iterable[Sequence], *, title: str = "Sheet1",
               fallback_title: str = "Sheet1") -> bytes:
    """One sheet of `header` and `rows`; every text cell an explicit string, never a formula."""
    out = io.BytesIO()
    _write_xlsx(out, header, rows, title, fallback_title)
    return out.getvalue()


def _write_xlsx(out, header: Sequence[str], rows: Iterable[Sequence], title: str,
                fallback_title: str) -> None:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=sheet_title(title, fallback_title))

    def cell(value):
        if not isinstance(value, str):
            return value
        text = WriteOnlyCell(sheet, value=value)
        text.data_type = "s"  # openpyxl would make a formula of a text starting with "="
        return text

    sheet.append([cell(column) for column in header])
    for row in rows:
        sheet.append([cell(value) for value in row])
    workbook.save(out)


def sheet_title(title: str, fallback: str = "Sheet1") -> str:
    """A sheet name Excel accepts: no []:*?/\\, at most 31 characters."""
    cleaned = "".join(" " if char in "[]:*?/\\" else char for char in title).strip()
    return (cleaned or fallback)[:SHEET_TITLE_MAX_CHARS]
