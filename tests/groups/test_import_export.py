"""CSV/XLSX import (all rows or none) and export of a group's students."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import Workbook, load_workbook

from ekatra.groups.csvio import LAST_IMPORT_ROW, MAX_IMPORT_ROWS, MAX_XLSX_CELLS
from tests.factories import AuthorClient
from tests.groups.factories import (
    AMIT,
    GROUP1,
    TEJAS,
    minimal_xlsx,
    students_of,
    without_ids,
    xlsx_row,
)
from tests.groups.factories import create_group as create

HEADER = "name,number,channel,timezone,country_code\n"
GOOD_CSV = (HEADER
            + "Tejas,+919380169981,whatsapp,Asia/Kolkata,+91\n"
            + "Amit,9113029491,SMS,asia/kolkata,+91\n"
            + "Sreevastav,06360157821,sms,Asia/Kolkata,91\n")


def upload(author: AuthorClient, group_id: int, content: bytes | str, filename="learners.csv"):
    data = content.encode("utf-8") if isinstance(content, str) else content
    return author.post(f"/api/group/{group_id}/import",
                       data={"file": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")


def post_csv(author: AuthorClient, group_id: int, content: str, content_type="text/csv"):
    return author.post(f"/api/group/{group_id}/import", data=content.encode("utf-8"),
                       content_type=content_type)


def test_multipart_upload_imports_every_row_normalised(author):
    group_id = create(author, {"name": "G"})
    response = upload(author, group_id, GOOD_CSV)
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"message": "success", "imported": 3}
    students = students_of(author, group_id)
    assert [(s["name"], s["number"], s["channel"], s["timezone"], s["country_code"])
            for s in students] == [
        ("Tejas", "+919380169981", "whatsapp", "Asia/Kolkata", "+91"),
        ("Amit", "+919113029491", "sms", "Asia/Kolkata", "+91"),
        ("Sreevastav", "+916360157821", "sms", "Asia/Kolkata", "+91"),
    ]


def test_raw_text_csv_body_imports(author):
    group_id = create(author, {"name": "G"})
    response = post_csv(author, group_id, GOOD_CSV)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["imported"] == 3


def test_header_is_case_insensitive_bom_tolerated_and_optional_columns_default(author):
    group_id = create(author, {"name": "G", "default_timezone": "Europe/London",
                               "default_channel": "whatsapp"})
    content = "\ufeffName;NUMBER;Notes\nआशा;+442079460958;likes mornings\n"
    response = post_csv(author, group_id, content)
    assert response.status_code == 200, response.get_json()
    (asha,) = students_of(author, group_id)
    assert (asha["name"], asha["number"], asha["channel"], asha["timezone"]) == (
        "आशा", "+442079460958", "whatsapp", "Europe/London")


def test_blank_lines_are_skipped_and_row_numbers_count_them(author):
    group_id = create(author, {"name": "G"})
    content = HEADER + "Tejas,+919380169981,sms,UTC,\n\n,,,,\nAmit,12,sms,UTC,\n"
    response = post_csv(author, group_id, content)
    assert response.status_code == 400
    assert list(response.get_json()["errors"]) == ["5"]


def test_any_bad_row_imports_nothing_and_every_bad_row_is_reported(author):
    group_id = create(author)
    content = (HEADER
               + "Good,+916360157821,sms,Asia/Kolkata,\n"         # row 2
               + "Bad number,12345,sms,Asia/Kolkata,+91\n"        # row 3
               + ",+919876543210,sms,Asia/Kolkata,\n"             # row 4: no name
               + "Bad tz,+919876543211,sms,Asia/Bangalore,\n"     # row 5
               + "Bad channel,+919876543212,fax,UTC,\n"          # row 6
               + "In group,+919113029491,sms,UTC,\n"              # row 7: Amit's number
               + "Twice,+916360157821,sms,UTC,\n"                 # row 8: same as row 2
               + "Bad code,9876543213,sms,UTC,+999\n")            # row 9
    response = post_csv(author, group_id, content)
    assert response.status_code == 400
    body = response.get_json()
    assert body["errors"] == {
        "3": {"number": body["errors"]["3"]["number"]},
        "4": {"name": ["A name is required."]},
        "5": {"timezone": body["errors"]["5"]["timezone"]},
        "6": {"channel": body["errors"]["6"]["channel"]},
        "7": {"number": ["+919113029491 is already in this group ('Amit')."]},
        "8": {"number": ["+916360157821 is also on row 2."]},
        "9": {"country_code": body["errors"]["9"]["country_code"]},
    }
    assert body["message"].startswith("7 rows have errors; nothing was imported.")
    assert len(students_of(author, group_id)) == 2


def test_missing_required_column_is_400_naming_it(author):
    group_id = create(author, {"name": "G"})
    response = post_csv(author, group_id, "name,channel\nTejas,sms\n")
    assert response.status_code == 400
    assert "number" in response.get_json()["message"]
    assert response.get_json()["errors"] == {"header": ["Missing column 'number'."]}


def test_empty_file_header_only_and_non_utf8_are_400(author):
    group_id = create(author, {"name": "G"})
    for content in (b"", HEADER.encode(), "name,number\nJosé,+919876543210\n".encode("latin-1"),
                    b"PK\x03\x04 not really a zip"):
        response = upload(author, group_id, content)
        assert response.status_code == 400, (content, response.get_json())
        assert response.is_json and response.get_json()["message"]


def test_multipart_without_file_field_is_400(author):
    group_id = create(author, {"name": "G"})
    response = author.post(f"/api/group/{group_id}/import", data={"other": "x"},
                           content_type="multipart/form-data")
    assert response.status_code == 400
    assert "file" in response.get_json()["errors"]


def test_json_or_form_body_is_415_json(author):
    group_id = create(author, {"name": "G"})
    for response in (
        author.post(f"/api/group/{group_id}/import", json={"students": []}),
        post_csv(author, group_id, GOOD_CSV, content_type="application/x-www-form-urlencoded"),
        post_csv(author, group_id, GOOD_CSV, content_type="text/html"),
    ):
        assert response.status_code == 415
        assert response.is_json and "multipart/form-data" in response.get_json()["message"]


def test_more_than_the_row_limit_is_413(author):
    group_id = create(author, {"name": "G"})
    rows = "".join(f"S{i},+91987{i:07d}\n" for i in range(MAX_IMPORT_ROWS + 1))
    response = post_csv(author, group_id, "name,number\n" + rows)
    assert response.status_code == 413
    assert f"{MAX_IMPORT_ROWS:,}" in response.get_json()["message"]


@pytest.mark.parametrize("dimension", [None, "A1:B50000000"])
def test_an_xlsx_row_numbered_fifty_million_is_refused_without_reading_the_rows_between(author, dimension):
    group_id = create(author, {"name": "G"})
    sheet = (xlsx_row(1, "name", "number") + xlsx_row(2, "Asha", "+919812345678")
             + xlsx_row(50_000_000, "Late", "+919812345679"))

    response = upload(author, group_id, minimal_xlsx(sheet, dimension), "learners.xlsx")

    assert response.status_code == 413
    message = response.get_json()["message"]
    assert f"{MAX_IMPORT_ROWS:,}" in message and f"{LAST_IMPORT_ROW:,}" in message
    assert students_of(author, group_id) == []


def test_an_xlsx_up_to_the_last_allowed_row_imports(author):
    group_id = create(author, {"name": "G"})
    sheet = (xlsx_row(1, "name", "number") + xlsx_row(2, "Asha", "+919812345678")
             + xlsx_row(LAST_IMPORT_ROW, "Last", "+919812345679"))
    response = upload(author, group_id, minimal_xlsx(sheet), "learners.xlsx")
    assert response.status_code == 200, response.get_json()
    assert [s["name"] for s in students_of(author, group_id)] == ["Asha", "Last"]


def test_an_xlsx_with_millions_of_empty_cells_is_refused_before_they_are_read(author):
    group_id = create(author, {"name": "G"})
    empty_cells = "<c/>" * (MAX_XLSX_CELLS + 1)
    sheet = xlsx_row(1, "name", "number") + f'<row r="2">{empty_cells}</row>'
    response = upload(author, group_id, minimal_xlsx(sheet), "learners.xlsx")
    assert response.status_code == 413
    assert f"{MAX_XLSX_CELLS:,} cells" in response.get_json()["message"]


def test_a_csv_whose_blank_lines_run_past_the_row_limit_is_refused(author):
    group_id = create(author, {"name": "G"})
    response = post_csv(author, group_id, "name,number\nAsha,+919812345678\n" + "\n" * (MAX_IMPORT_ROWS + 5)
                        + "Late,+919812345679\n")
    assert response.status_code == 413
    assert f"{LAST_IMPORT_ROW:,}" in response.get_json()["message"]


def test_import_to_unknown_group_is_404(author):
    response = post_csv(author, 999, GOOD_CSV)
    assert response.status_code == 404
    assert response.get_json() == {"message": "Group not found!!"}


# Export ------------------------------------------------------------------------------------


def test_export_csv_has_the_import_columns_and_an_attachment_name(author):
    group_id = create(author)
    author.put(f"/api/group/{group_id}/{students_of(author, group_id)[1]['id']}",
               json={"is_subscribed": False})
    response = author.get(f"/api/group/{group_id}/export")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == (
        f"attachment; filename=group-{group_id}-group1.csv")
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows == [
        ["name", "number", "channel", "timezone", "country_code", "is_subscribed"],
        ["Tejas", "+919380169981", "whatsapp", "Asia/Kolkata", "+91", "true"],
        ["Amit", "+919113029491", "sms", "Asia/Kolkata", "+91", "false"],
    ]


def test_export_xlsx_is_a_workbook_with_text_cells(author):
    group_id = create(author)
    response = author.get(f"/api/group/{group_id}/export?format=xlsx")
    assert response.status_code == 200
    assert response.mimetype == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert response.headers["Content-Disposition"].endswith(".xlsx")
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows[0] == ["name", "number", "channel", "timezone", "country_code", "is_subscribed"]
    assert rows[1] == ["Tejas", "+919380169981", "whatsapp", "Asia/Kolkata", "+91", "true"]


def test_unknown_export_format_is_400(author):
    group_id = create(author)
    response = author.get(f"/api/group/{group_id}/export?format=pdf")
    assert response.status_code == 400
    assert "format" in response.get_json()["errors"]


FORMULA_NAMES = ["=HYPERLINK(\"http://x\")", "+cmd", "-2+3", "@SUM(A1)", "Plain", "अमित"]


def _group_with_tricky_names(author) -> int:
    students = [{"name": name, "number": f"+91987654321{i}", "channel": "sms",
                 "timezone": "UTC", "is_subscribed": i % 2 == 0}
                for i, name in enumerate(FORMULA_NAMES)]
    return create(author, {"name": "Tricky", "students": students})


def test_export_csv_neutralises_formulas_but_not_phone_numbers(author):
    group_id = _group_with_tricky_names(author)
    response = author.get(f"/api/group/{group_id}/export")
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))[1:]
    assert [row[0] for row in rows] == [
        "'=HYPERLINK(\"http://x\")", "'+cmd", "'-2+3", "'@SUM(A1)", "Plain", "अमित"]
    assert all(row[1].startswith("+91") and row[4] == "+91" for row in rows)


def test_xlsx_export_has_no_formula_cells(author):
    group_id = _group_with_tricky_names(author)
    response = author.get(f"/api/group/{group_id}/export?format=xlsx")
    sheet = load_workbook(io.BytesIO(response.data)).active
    cells = [cell for row in sheet.iter_rows() for cell in row]
    assert all(cell.data_type == "s" for cell in cells)
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == FORMULA_NAMES


def test_csv_and_xlsx_exports_reimport_into_an_empty_group_unchanged(author):
    source = _group_with_tricky_names(author)
    expected = without_ids(students_of(author, source))
    for file_format in ("csv", "xlsx"):
        exported = author.get(f"/api/group/{source}/export?format={file_format}")
        target = create(author, {"name": f"Copy {file_format}"})
        response = upload(author, target, exported.data, f"copy.{file_format}")
        assert response.status_code == 200, response.get_json()
        assert response.get_json()["imported"] == len(FORMULA_NAMES)
        assert without_ids(students_of(author, target)) == expected


def test_an_edited_xlsx_with_numeric_cells_imports(author):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Name", "Number", "Country Code", "Timezone", "Is Subscribed"])
    sheet.append(["Amit", 9113029491, 91, "Asia/Kolkata", False])
    out = io.BytesIO()
    workbook.save(out)
    group_id = create(author, {"name": "G"})
    response = upload(author, group_id, out.getvalue(), "learners.xlsx")
    assert response.status_code == 200, response.get_json()
    (amit,) = students_of(author, group_id)
    assert (amit["number"], amit["is_subscribed"]) == ("+919113029491", False)


def test_export_of_contract_group_matches_its_students(author):
    group_id = create(author, GROUP1)
    response = author.get(f"/api/group/{group_id}/export")
    reader = csv.DictReader(io.StringIO(response.data.decode("utf-8-sig")))
    assert [(r["name"], r["number"]) for r in reader] == [
        (TEJAS["name"], TEJAS["number"]), (AMIT["name"], AMIT["number"])]


def test_utf16_tab_separated_text_from_excel_imports(author):
    group_id = create(author, {"name": "G"})
    content = "name\tnumber\tcountry_code\nअमित\t9113029491\t+91\n".encode("utf-16")
    response = upload(author, group_id, content, "learners.txt")
    assert response.status_code == 200, response.get_json()
    assert students_of(author, group_id)[0]["name"] == "अमित"
