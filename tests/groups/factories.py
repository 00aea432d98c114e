"""Builders for group tests: the contract's example students and a group made through the API."""

from __future__ import annotations

from tests.factories import AuthorClient

TEJAS = {"name": "Tejas", "number": "+919380169981", "channel": "whatsapp", "is_subscribed": True,
         "timezone": "Asia/Kolkata", "country_code": "+91"}
AMIT = {"name": "Amit", "number": "+919113029491", "channel": "sms", "is_subscribed": True,
        "timezone": "Asia/Kolkata", "country_code": "+91"}
SREEVASTAV = {"name": "Sreevastav", "number": "+916360157821", "channel": "sms",
              "is_subscribed": True, "timezone": "Asia/Kolkata", "country_code": "+91"}
GROUP1 = {"name": "Group1", "description": "group1", "students": [TEJAS, AMIT]}


def create_group(author: AuthorClient, body: dict | None = None) -> int:
    response = author.post("/api/group/", json=body or GROUP1)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["message"] == "success"
    return response.get_json()["id"]


def students_of(author: AuthorClient, group_id: int) -> list[dict]:
    response = author.get(f"/api/group/{group_id}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()["students"]


def without_ids(students: list[dict]) -> list[dict]:
    """Students as a request would send them: no `id`, no `opted_out`."""
    return [{k: v for k, v in s.items() if k not in ("id", "opted_out")} for s in students]


def minimal_xlsx(sheet_rows: str, dimension: str | None = None) -> bytes:
    """An .xlsx written by hand: one sheet whose <sheetData> is `sheet_rows` (raw <row> XML,
    inline strings), with a <dimension> only if given. Spreadsheet programs write the rest."""
    import io
    import zipfile

    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rels = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    package = "http://schemas.openxmlformats.org/package/2006/relationships"
    parts = {
        "[Content_Types].xml": (
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/'
            'vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'),
        "_rels/.rels": (
            f'<Relationships xmlns="{package}"><Relationship Id="rId1" Target="xl/workbook.xml" '
            f'Type="{rels}/officeDocument"/></Relationships>'),
        "xl/workbook.xml": (
            f'<workbook xmlns="{main}" xmlns:r="{rels}"><sheets>'
            '<sheet name="Students" sheetId="1" r:id="rId1"/></sheets></workbook>'),
        "xl/_rels/workbook.xml.rels": (
            f'<Relationships xmlns="{package}"><Relationship Id="rId1" '
            f'Target="worksheets/sheet1.xml" Type="{rels}/worksheet"/></Relationships>'),
        "xl/worksheets/sheet1.xml": (
            f'<worksheet xmlns="{main}">'
            + (f'<dimension ref="{dimension}"/>' if dimension else "")
            + f"<sheetData>{sheet_rows}</sheetData></worksheet>"),
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
    return out.getvalue()


def xlsx_row(number: int, *values: str) -> str:
    """One <row> of inline-string cells, in columns A, B, …"""
    cells = "".join(f'<c r="{chr(65 + i)}{number}" t="inlineStr"><is><t>{value}</t></is></c>'
                    for i, value in enumerate(values))
    return f'<row r="{number}">{cells}</row>'
