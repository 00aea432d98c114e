"""Students in and out of files: CSV/XLSX import (all rows or none) and export."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert

from ekatra.auth.services import Actor
from ekatra.errors import Invalid, TooLarge
from ekatra.extensions import db
from ekatra.groups import csvio
from ekatra.groups.models import Student
from ekatra.groups.phones import check_student
from ekatra.groups.services import (
    PHONE_TAKEN,
    describe,
    find_group,
    phones_in,
    summarise,
)
from ekatra.transactions import transaction


@dataclass(frozen=True)
class ExportFile:
    filename: str
    content_type: str
    content: bytes


def import_students(actor: Actor, group_id: int, content: bytes, *, now: datetime) -> int:
    """Add the students of a CSV or XLSX file: every row, or none if any row is bad.

    A bad row, a number twice in the file, or a number already in the group makes a 400
    whose `errors` maps each bad row's number in the file (the header is row 1) to its
    field errors.
    """
    group = find_group(actor, group_id)
    try:
        rows = csvio.read_students(content)
    except csvio.TooManyRows as problem:
        raise TooLarge(str(problem)) from None
    except csvio.FileProblem as problem:
        raise Invalid(str(problem), problem.errors) from None
    if not rows:
        raise Invalid("The file has a header but no students.")
    taken = phones_in(group)
    first_row_of: dict[str, int] = {}
    cleaned: list[dict] = []
    errors: dict[str, dict] = {}
    for row in rows:
        clean, row_errors = check_student(row.cells, group.default_channel, group.default_timezone)
        phone = clean.get("phone")
        if phone in taken:
            row_errors["number"] = [f"{phone} is already in this group ({taken[phone]!r})."]
        elif phone in first_row_of:
            row_errors["number"] = [f"{phone} is also on row {first_row_of[phone]}."]
        elif phone:
            first_row_of[phone] = row.row_number
        if row_errors:
            errors[str(row.row_number)] = row_errors
        cleaned.append(clean)
    if errors:
        problems = [f"row {number}: {describe(fields)}" for number, fields in errors.items()]
        count = f"{len(errors)} rows have" if len(errors) > 1 else "1 row has"
        raise Invalid(f"{count} errors; nothing was imported. {summarise(problems)}", errors)
    group.updated_at = now
    with transaction(PHONE_TAKEN):
        # A bulk INSERT: thousands of rows without building an ORM object for each.
        db.session.execute(insert(Student), [
            {**clean, "group_id": group.id, "created_at": now, "updated_at": now}
            for clean in cleaned])
    return len(cleaned)


def export_students(actor: Actor, group_id: int, file_format: str = "csv") -> ExportFile:
    """The group's students as a CSV or XLSX file in the import's columns."""
    group = find_group(actor, group_id, with_students=True)
    slug = re.sub(r"[^A-Za-z0-9]+", "-", group.name).strip("-").lower()[:40] or "students"
    filename = f"group-{group.id}-{slug}.{file_format}"
    if file_format == "xlsx":
        return ExportFile(filename, csvio.XLSX_CONTENT_TYPE,
                          csvio.write_xlsx(group.students, title=group.name))
    return ExportFile(filename, csvio.CSV_CONTENT_TYPE, csvio.write_csv(group.students))
