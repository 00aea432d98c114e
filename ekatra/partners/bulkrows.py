"""The rows of a bulk import of learner accounts: read from JSON or a CSV/XLSX file, and each
row's fields checked as signup and `PATCH /users/<id>` check them (no database here)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ekatra.errors import Invalid, TooLarge
from ekatra.groups import csvio
from ekatra.partners.models import EXTERNAL_ID_MAX_CHARS
from ekatra.partners.services import clean_profile, normalise_login_id

MAX_BULK_ROWS = csvio.MAX_IMPORT_ROWS
FIELDS = ("external_id", "name", "email", "phone", "country_code", "channel", "timezone")
LEARNERS = csvio.Layout(
    columns=FIELDS, required=("external_id",),
    aliases={"full_name": "name", "number": "phone", "phone_number": "phone", "mobile": "phone",
             "mobile_number": "phone", "externalid": "external_id"},
    noun="learners",
    optional_note="name is needed for a new learner, with an email or a phone; the others may be "
                  "left out")
MAX_CHARS = {"name": 200, "email": 254, "phone": 40, "country_code": 8, "channel": 16, "timezone": 64,
             "external_id": EXTERNAL_ID_MAX_CHARS}
BAD_TEXT = re.compile("[\x00\ud800-\udfff]")
BAD_TEXT_MESSAGE = "Contains a NUL character or a lone UTF-16 surrogate, which cannot be stored."


@dataclass
class CheckedRow:
    """One row: its number (a file's row as a spreadsheet shows it, the header being row 1; a
    JSON list's position from 1), its normalised fields (only those given) and its errors."""

    row: int
    external_id: str | None
    fields: dict = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)

    def fail(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)


def rows_from_json(body) -> list[CheckedRow]:
    """The rows of a JSON body: a list of objects with the file's column names."""
    if not isinstance(body, list):
        raise Invalid("The body must be a JSON list of learners (or a CSV/XLSX file).",
                      {"_schema": ["Expected a list."]})
    _check_count(len(body))
    rows = []
    for position, item in enumerate(body, start=1):
        if not isinstance(item, dict):
            row = CheckedRow(position, None)
            row.fail("_schema", "Expected an object.")
            rows.append(row)
            continue
        unknown = [name for name in item if name not in FIELDS]
        row = check_row(position, {name: item[name] for name in FIELDS if name in item})
        for name in unknown:
            row.fail(_printable(str(name)), "Unknown field.")
        rows.append(row)
    return rows


def rows_from_file(content: bytes) -> list[CheckedRow]:
    """The rows of a CSV or XLSX file (the group import's reader; unknown columns are ignored)."""
    try:
        rows = csvio.read_rows(content, LEARNERS)
    except csvio.TooManyRows as problem:
        raise TooLarge(str(problem)) from None
    except csvio.FileProblem as problem:
        raise Invalid(str(problem), problem.errors) from None
    return [check_row(row.row_number, row.cells) for row in rows]


def _check_count(count: int) -> None:
    if count == 0:
        raise Invalid("There are no learners to import.", {"_schema": ["Empty list."]})
    if count > MAX_BULK_ROWS:
        raise TooLarge(f"At most {MAX_BULK_ROWS:,} learners at once; this list has {count:,}.")


def _printable(text: str) -> str:
    return BAD_TEXT.sub(lambda match: f"\\u{ord(match.group()):04x}", text)[:100]


def check_row(number: int, cells: dict) -> CheckedRow:
    """A row's given fields normalised (phone E.164, channel, IANA timezone, case-folded email),
    or its errors by field. A blank or null cell is a field not given."""
    given: dict[str, str] = {}
    row = CheckedRow(number, None)
    for name, value in cells.items():
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        if not isinstance(value, str):
            row.fail(name, "Not a string.")
        elif BAD_TEXT.search(value):
            row.fail(name, BAD_TEXT_MESSAGE)
        elif len(value) > MAX_CHARS[name]:
            row.fail(name, f"At most {MAX_CHARS[name]} characters.")
        else:
            given[name] = value.strip()
    row.external_id = given.get("external_id")
    if row.external_id is None and "external_id" not in row.errors:
        row.fail("external_id", "Required: the partner's own id for this learner.")
    if "email" in given:
        try:
            login_id, email, _phone = normalise_login_id(given["email"])
            if email is None:
                raise Invalid("Not an email.", {"id": ["Not an email."]})
            row.fields["email"] = login_id
        except Invalid:
            row.fail("email", "Not an email address.")
    profile = {"phone": given.get("phone"), "country_code": given.get("country_code"),
               "channel": given.get("channel"), "timezone": given.get("timezone"),
               "full_name": given.get("name")}
    try:
        row.fields.update(clean_profile(profile))
    except Invalid as problem:
        for name, messages in (problem.errors or {}).items():
            for message in messages:
                row.fail("name" if name == "full_name" else name, message)
    return row
