"""Students to and from files: CSV (UTF-8, a header row) and XLSX, in the API's column names.

Reading gives each row's cells as text with its row number as a spreadsheet shows it (the
header is row 1); checking the values is the service's job. `read_rows` reads any such list
given its `Layout` (the partner API's bulk import reads learner accounts with it). Writing goes
through ekatra.spreadsheets, which neutralises cells that a spreadsheet would run as a formula.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice

from ekatra import spreadsheets

COLUMNS = ("name", "number", "channel", "timezone", "country_code", "is_subscribed")
REQUIRED_COLUMNS = ("name", "number")
_ALIASES = {"phone": "number", "phone_number": "number", "subscribed": "is_subscribed"}
MAX_IMPORT_ROWS = 10_000
# The header and then the students: no row past this one is read, blank or not. A sheet may
# number one row 50,000,000; reading stops (and refuses) at the first row past the limit
# instead of walking every empty row in between.
LAST_IMPORT_ROW = MAX_IMPORT_ROWS + 1
# An .xlsx is a zip: refuse one that would unpack into more than this (a "zip bomb"). A sheet
# of 10,000 students unpacks to about 3 MB.
MAX_XLSX_UNPACKED_BYTES = 16 * 1024 * 1024
# openpyxl spends about 10 µs on every cell and row element it meets, even empty ones past the
# columns we read (a few KB of zip can hold millions). Counted before it starts: room for the
# known columns and as many others on every row, and for a second sheet of notes.
MAX_XLSX_CELLS = 12 * LAST_IMPORT_ROW
MAX_XLSX_ROW_ELEMENTS = 2 * LAST_IMPORT_ROW
_CELL_ELEMENT = re.compile(rb"<(?:[\w.-]+:)?c[\s/>]")
_ROW_ELEMENT = re.compile(rb"<(?:[\w.-]+:)?row[\s/>]")
MAX_COLUMNS = 64

CSV_CONTENT_TYPE = spreadsheets.CSV_CONTENT_TYPE
XLSX_CONTENT_TYPE = spreadsheets.XLSX_CONTENT_TYPE

# Checked on the way in (E.164 numbers and calling codes start with +): exported as they are.
_VALIDATED_COLUMNS = ("number", "country_code")


class FileProblem(ValueError):
    """The file as a whole cannot be read as a student list (encoding, header, format)."""

    def __init__(self, message: str, errors: dict | None = None):
        super().__init__(message)
        self.errors = errors


class TooManyRows(FileProblem):
    pass


@dataclass(frozen=True)
class Layout:
    """The columns a kind of file has: their names, the required ones, other spellings of them,
    and what one row is called in messages ("students")."""

    columns: tuple[str, ...]
    required: tuple[str, ...]
    aliases: dict[str, str]
    noun: str
    optional_note: str


STUDENTS = Layout(COLUMNS, REQUIRED_COLUMNS, _ALIASES, "students",
                  "channel, timezone, country_code and is_subscribed may be left out")


@dataclass(frozen=True)
class Row:
    """One student's cells by column name; `row_number` as a spreadsheet shows it."""

    row_number: int
    cells: dict[str, str]


def read_students(content: bytes) -> list[Row]:
    """The non-blank rows of a CSV or XLSX file with the known columns of its header."""
    return read_rows(content, STUDENTS)


def read_rows(content: bytes, layout: Layout) -> list[Row]:
    """The non-blank rows of a CSV or XLSX file with the `layout`'s columns found in its header."""
    records = (_xlsx_records(content, layout) if content[:4] == b"PK\x03\x04"
               else _csv_records(content, layout))
    try:
        header = next(records, None)
        if header is None or not any(_text(cell) for cell in header):
            raise FileProblem("The file is empty; its first row must name the columns: "
                              + ", ".join(layout.columns) + ".")
        positions = _columns(header, layout)
        rows: list[Row] = []
        for row_number, record in enumerate(records, start=2):
            if row_number > LAST_IMPORT_ROW:
                raise TooManyRows(
                    f"A file may hold at most {MAX_IMPORT_ROWS:,} {layout.noun}, on rows 2 to "
                    f"{LAST_IMPORT_ROW:,} (blank rows count); this one goes on past row "
                    f"{LAST_IMPORT_ROW:,}.")
            cells = {column: spreadsheets.restore(_text(record[i]) if i < len(record) else "")
                     for column, i in positions.items()}
            if not any(cells.values()):
                continue  # a blank row, or one with only columns we do not read
            rows.append(Row(row_number, cells))
    except csv.Error as error:
        raise FileProblem(f"Not a readable CSV file: {error}.") from None
    finally:
        if hasattr(records, "close"):
            records.close()  # an .xlsx reader left early closes its workbook now
    return rows


def _columns(header: list, layout: Layout) -> dict[str, int]:
    positions: dict[str, int] = {}
    for i, cell in enumerate(header[:MAX_COLUMNS]):
        name = _text(cell).casefold().replace(" ", "_").replace("-", "_")
        name = layout.aliases.get(name, name)
        if name not in layout.columns:
            continue  # other columns (notes, …) are ignored
        if name in positions:
            raise FileProblem(f"The column {name!r} appears twice in the header.",
                              {"header": [f"Column {name!r} appears twice."]})
        positions[name] = i
    missing = [column for column in layout.required if column not in positions]
    if missing:
        raise FileProblem(
            "The header row (row 1) lacks the column(s) " + ", ".join(missing)
            + "; expected: " + ", ".join(layout.columns) + f" ({layout.optional_note}).",
            {"header": [f"Missing column {column!r}." for column in missing]})
    return positions


def _text(cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, bool):
        return "true" if cell else "false"
    if isinstance(cell, float) and cell.is_integer():
        cell = int(cell)  # a spreadsheet stores 9113029491 as 9113029491.0
    return str(cell).strip()


def _decode(content: bytes) -> str:
    # A UTF-16 byte order mark: Excel's "Unicode text".
    encoding = "utf-16" if content[:2] in (b"\xff\xfe", b"\xfe\xff") else "utf-8-sig"
    try:
        return content.decode(encoding)
    except UnicodeDecodeError:
        raise FileProblem("The file is not UTF-8 text; save it as \"CSV UTF-8\".") from None


def _csv_records(content: bytes, layout: Layout) -> Iterator[list[str]]:
    text = _decode(content)
    first_line = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=lambda d: _known_columns(first_line, d, layout))
    return csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)


def _known_columns(line: str, delimiter: str, layout: Layout) -> int:
    """How many cells of a header line name a column: picks the delimiter (Excel may use ;)."""
    try:
        cells = next(csv.reader([line], delimiter=delimiter), [])
    except csv.Error:
        return 0
    names = {cell.strip().casefold().replace(" ", "_") for cell in cells}
    return len(names & (set(layout.columns) | set(layout.aliases))) * 2 + (len(cells) > 1)


def _xlsx_records(content: bytes, layout: Layout) -> Iterator[list]:
    from openpyxl import load_workbook

    unreadable = "Not a readable .xlsx file."
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            _check_xlsx_size(archive, layout)
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except FileProblem:
        raise
    except Exception:  # zipfile and openpyxl raise many kinds for a damaged file
        raise FileProblem(unreadable) from None
    try:
        if not workbook.worksheets:
            return
        # max_row bounds the walk: openpyxl stops at the first row numbered past it (it would
        # otherwise yield every empty row up to it), and yields a row at max_row only when the
        # sheet has a row there or later, which read_students refuses.
        for row in workbook.worksheets[0].iter_rows(max_row=LAST_IMPORT_ROW + 1, max_col=MAX_COLUMNS,
                                                    values_only=True):
            yield list(row)
    except Exception:
        raise FileProblem(unreadable) from None
    finally:
        workbook.close()


def _check_xlsx_size(archive: zipfile.ZipFile, layout: Layout) -> None:
    """TooManyRows for a workbook whose XML unpacks too large or holds more cell or row elements
    than a full student list could: counted on the raw XML (milliseconds), before openpyxl reads
    it. zipfile never unpacks a member past the size its directory declares."""
    if sum(info.file_size for info in archive.infolist()) > MAX_XLSX_UNPACKED_BYTES:
        raise TooManyRows(f"The .xlsx file unpacks to more than {MAX_XLSX_UNPACKED_BYTES // 2**20} MB.")
    cells = rows = 0
    for info in archive.infolist():
        if info.filename.endswith(".xml"):
            xml = archive.read(info)
            # Counted up to one past the limit only: millions of matches are not walked.
            cells += sum(1 for _ in islice(_CELL_ELEMENT.finditer(xml), MAX_XLSX_CELLS + 1))
            rows += sum(1 for _ in islice(_ROW_ELEMENT.finditer(xml), MAX_XLSX_ROW_ELEMENTS + 1))
        if cells > MAX_XLSX_CELLS or rows > MAX_XLSX_ROW_ELEMENTS:
            raise TooManyRows(
                f"The .xlsx file holds more than {MAX_XLSX_CELLS:,} cells or "
                f"{MAX_XLSX_ROW_ELEMENTS:,} rows, more than a list of at most {MAX_IMPORT_ROWS:,} "
                f"{layout.noun} (rows 2 to {LAST_IMPORT_ROW:,}) needs. Remove other sheets and "
                "columns, or split the file.")


def _export_cells(students: Iterable) -> Iterator[list[str]]:
    for student in students:
        yield [student.name, student.phone, student.channel, student.timezone,
               student.country_code or "", "true" if student.is_subscribed else "false"]


def write_csv(students: Iterable) -> bytes:
    """The students in the import's columns; a BOM so that Excel reads UTF-8 (Hindi) names."""
    return spreadsheets.csv_bytes(COLUMNS, _export_cells(students), verbatim=_VALIDATED_COLUMNS, bom=True)


def write_xlsx(students: Iterable, title: str = "Students") -> bytes:
    """The students in the import's columns, every cell text: never a formula, never a number."""
    return spreadsheets.xlsx_bytes(COLUMNS, _export_cells(students), title=title, fallback_title="Students")
