"""Groups and their students: create, change, import and export (with which phones opted out).

What removing students means elsewhere (their enrollments, their unsent messages) is not
this package's business: `when_students_removed` registers what to call, in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

from sqlalchemy import and_, bindparam, delete, select
from sqlalchemy.orm import selectinload

from ekatra.auth.checked_reads import CheckedSelect, Reader
from ekatra.auth.services import Actor
from ekatra.errors import Conflict, Invalid, NotFound
from ekatra.extensions import db
from ekatra.groups import models
from ekatra.groups.models import Group, Student
from ekatra.groups.phones import canonical_timezone, check_student, is_given, normalise_channel
from ekatra.outbox.models import OptOut
from ekatra.outbox.optouts import opted_out_keys
from ekatra.ownership import is_row_id, owned, visible
from ekatra.transactions import transaction

GROUP_NOT_FOUND = "Group not found!!"
STUDENT_NOT_FOUND = "Student not found"

StudentsRemoved = Callable[[list[int], datetime], None]
_on_students_removed: list[StudentsRemoved] = []


def when_students_removed(callback: StudentsRemoved) -> None:
    """Call `callback(student_ids, now)` inside the transaction that removes these students,
    before their rows go (create_app registers the deliveries' withdrawal)."""
    if callback not in _on_students_removed:
        _on_students_removed.append(callback)


def _removing(student_ids: list[int], now: datetime) -> None:
    if student_ids:
        for callback in _on_students_removed:
            callback(student_ids, now)


# Reading ----------------------------------------------------------------------------------


def _mark_opt_outs(groups: Sequence[Group]) -> None:
    students = [student for group in groups for student in group.students]
    keys = opted_out_keys(student.phone for student in students)
    for student in students:
        student.opted_out = (student.phone, student.channel, student.livemode) in keys


def find_group(actor: Actor, group_id: int, *, with_students: bool = False) -> Group:
    if not is_row_id(group_id):
        raise NotFound(GROUP_NOT_FOUND)
    statement = select(Group).where(Group.id == group_id)
    if with_students:
        statement = statement.options(selectinload(Group.students))
    group = visible(actor, db.session.scalar(statement))
    if group is None:
        raise NotFound(GROUP_NOT_FOUND)
    return group


def _student(actor: Actor, group_id: int, student_id: int) -> Student:
    group = find_group(actor, group_id)
    student = db.session.get(Student, student_id) if is_row_id(student_id) else None
    if student is None or student.group_id != group.id:
        raise NotFound(STUDENT_NOT_FOUND)
    return student


def list_groups(actor: Actor) -> list[Group]:
    """The actor's groups (an admin's: everyone's) with their students, oldest first."""
    statement = owned(select(Group), Group, actor).options(selectinload(Group.students))
    groups = list(db.session.scalars(statement.order_by(Group.id)))
    _mark_opt_outs(groups)
    return groups


_groups, _students, _opt_outs = Group.__table__, Student.__table__, OptOut.__table__
# The read path's statements are built once (plain Core: no ORM identity map, no per-request
# statement building); SQLAlchemy compiles each once per engine.
# The group with its students (oldest first) in one statement: a row per student, the group's
# columns on each (one row with no student for an empty group). opt_outs holds at most one row
# per (phone, channel, livemode), so the join never repeats a student.
_GROUP_FIELDS = ("id", "owner_id", "name", "description", "default_timezone", "default_channel")
_STUDENT_FIELDS = ("id", "name", "phone", "channel", "is_subscribed", "timezone", "country_code")
# Rows are read by position (a Row's attribute costs about a microsecond; a group of 50 would
# make 400): the group's fields, the student's, then the opt-out's id.
_STUDENT_PART = slice(len(_GROUP_FIELDS), len(_GROUP_FIELDS) + len(_STUDENT_FIELDS))
_OPT_OUT_AT = _STUDENT_PART.stop
_GROUP_WITH_STUDENTS = CheckedSelect(
    select(*(_groups.c[name] for name in _GROUP_FIELDS),
           *(_students.c[name].label(f"student_{name}") for name in _STUDENT_FIELDS),
           _opt_outs.c.id.label("opt_out_id"))
    .select_from(_groups.outerjoin(_students, _students.c.group_id == _groups.c.id)
                 .outerjoin(_opt_outs, and_(_opt_outs.c.phone == _students.c.phone,
                                            _opt_outs.c.channel == _students.c.channel,
                                            _opt_outs.c.livemode == _students.c.livemode)))
    .where(_groups.c.id == bindparam("group_id"))
    .order_by(_students.c.id))


def get_group(reader: Reader, group_id: int) -> dict:
    """The group and its students, as GroupOutSchema reads it (plain dicts from one query, which
    checks a SessionToCheck too), each student with `opted_out` as `_mark_opt_outs` sets it.

    Another author's group is not found, as with `find_group`."""
    actor, rows = reader, []
    if is_row_id(group_id):
        actor, rows = _GROUP_WITH_STUDENTS.rows(reader, {"group_id": group_id})
    if not rows or visible(actor, rows[0]) is None:
        raise NotFound(GROUP_NOT_FOUND)
    group = dict(zip(_GROUP_FIELDS, rows[0][:_STUDENT_PART.start], strict=True))
    del group["owner_id"]
    students = []
    for row in rows:
        student = dict(zip(_STUDENT_FIELDS, row[_STUDENT_PART], strict=True))
        if student["id"] is not None:  # an empty group's one row has no student
            student["opted_out"] = row[_OPT_OUT_AT] is not None
            students.append(student)
    return {**group, "students": students}


# Checking students -------------------------------------------------------------------------


def summarise(problems: list[str], limit: int = 5) -> str:
    shown = "; ".join(problems[:limit])
    return shown + (f"; and {len(problems) - limit} more" if len(problems) > limit else "")


def describe(errors: Mapping[str, list[str]]) -> str:
    return ", ".join(f"{field}: {' '.join(texts)}" for field, texts in errors.items())


def _clean_students(items: Sequence[Mapping], group: Group) -> list[dict]:
    """Every student checked; one Invalid naming each bad student (students.<i>.<field>)."""
    cleaned: list[dict] = []
    errors: dict[str, dict] = {}
    problems: list[str] = []
    for index, item in enumerate(items):
        clean, item_errors = check_student(item, group.default_channel, group.default_timezone)
        cleaned.append(clean)
        if item_errors:
            errors[str(index)] = item_errors
            problems.append(f"student {item.get('name')!r} (students.{index}): "
                            f"{describe(item_errors)}")
    if errors:
        count = f"{len(problems)} students are" if len(problems) > 1 else "A student is"
        raise Invalid(f"{count} invalid: {summarise(problems)}", {"students": errors})
    return cleaned


def _check_unique_phones(cleaned: Sequence[dict], taken: Mapping[str, str]) -> None:
    """409 for a phone twice in `cleaned`, or already held by a student named in `taken`."""
    seen: dict[str, int] = {}
    for index, clean in enumerate(cleaned):
        phone = clean["phone"]
        if phone in taken:
            raise Conflict(f"The phone {phone} is already in this group (student "
                           f"{taken[phone]!r}).",
                           {"students": {str(index): {"number": ["Already in this group."]}}})
        if phone in seen:
            raise Conflict(f"The phone {phone} is given twice (students.{seen[phone]} and "
                           f"students.{index}).",
                           {"students": {str(index): {"number": [
                               f"Same number as students.{seen[phone]}."]}}})
        seen[phone] = index


def _apply_group_fields(fields: Mapping, group: Group) -> None:
    """Name, description and defaults from `fields` onto `group`; Invalid naming bad fields."""
    errors: dict[str, list[str]] = {}
    if "name" in fields or group.name is None:
        name = fields.get("name").strip() if isinstance(fields.get("name"), str) else ""
        if not name or len(name) > models.NAME_MAX_CHARS or "\x00" in name:
            errors["name"] = [f"A name of 1 to {models.NAME_MAX_CHARS} characters (no NUL) "
                              "is required."]
        group.name = name
    if "description" in fields:
        description = fields.get("description") or ""
        if len(description) > models.DESCRIPTION_MAX_CHARS or "\x00" in description:
            errors["description"] = [f"At most {models.DESCRIPTION_MAX_CHARS} characters, "
                                     "no NUL."]
        group.description = description
    if is_given(fields.get("default_timezone")):
        try:
            group.default_timezone = canonical_timezone(fields["default_timezone"])
        except ValueError as error:
            errors["default_timezone"] = [str(error)]
    if is_given(fields.get("default_channel")):
        try:
            group.default_channel = normalise_channel(fields["default_channel"])
        except ValueError as error:
            errors["default_channel"] = [str(error)]
    if errors:
        raise Invalid("Invalid group: " + describe(errors), errors)


# A phone that a concurrent request added first: a 409, as the unique constraint says.
PHONE_TAKEN = "A student with this phone is already in the group."


def _new_student(clean: dict, now: datetime) -> Student:
    return Student(**clean, created_at=now, updated_at=now)


def _assign(student: Student, clean: Mapping, now: datetime) -> None:
    changed = {key: value for key, value in clean.items() if getattr(student, key) != value}
    for key, value in changed.items():
        setattr(student, key, value)
    if changed:
        student.updated_at = now


# Groups ------------------------------------------------------------------------------------


def create_group(actor: Actor, fields: Mapping, *, now: datetime) -> Group:
    """A new group owned by the actor, with its students (all of them valid, or nothing)."""
    group = Group(owner_id=actor.author_id, description="", default_timezone="UTC",
                  default_channel="sms", created_at=now, updated_at=now)
    _apply_group_fields(fields, group)
    cleaned = _clean_students(fields.get("students") or [], group)
    _check_unique_phones(cleaned, {})
    group.students = [_new_student(clean, now) for clean in cleaned]
    with transaction(PHONE_TAKEN):
        db.session.add(group)
    return group


def update_group(actor: Actor, group_id: int, fields: Mapping, *, now: datetime) -> Group:
    """Change name, description and defaults; a given `students` list replaces the students.

    Listed students are matched to existing ones by `id`, else by phone, and updated in place
    (keeping their progress); the others are added; existing students not listed are removed.
    """
    group = find_group(actor, group_id, with_students="students" in fields)
    with transaction(PHONE_TAKEN):
        _apply_group_fields(fields, group)
        if fields.get("students") is not None:
            _replace_students(group, fields["students"], now)
        group.updated_at = now
    return group


def _replace_students(group: Group, items: Sequence[Mapping], now: datetime) -> None:
    cleaned = _clean_students(items, group)
    existing = {student.id: student for student in group.students}
    matched: dict[int, Student] = {}  # position in `items` → the student it updates
    id_errors: dict[str, dict] = {}
    for index, item in enumerate(items):
        student_id = item.get("id")
        if student_id is None:
            continue
        if student_id not in existing:
            id_errors[str(index)] = {"id": ["No student with this id in the group."]}
        elif existing[student_id] is None:
            id_errors[str(index)] = {"id": ["This id is listed twice."]}
        else:
            matched[index] = existing[student_id]
            existing[student_id] = None
    if id_errors:
        raise Invalid("Unknown or repeated student ids: "
                      + ", ".join(f"students.{i}" for i in id_errors), {"students": id_errors})
    _check_unique_phones(cleaned, {})
    unclaimed = {student.phone: student for student in existing.values() if student is not None}
    for index, clean in enumerate(cleaned):
        if index not in matched and clean["phone"] in unclaimed:
            matched[index] = unclaimed.pop(clean["phone"])

    # The unique (group, phone) constraint is checked row by row: free the phones of removed
    # students, and of students whose phone changes, before any row takes a freed phone.
    removed = {student.id for student in unclaimed.values()}
    _removing(sorted(removed), now)
    group.students = [student for student in group.students if student.id not in removed]
    moving = [student for index, student in matched.items()
              if student.phone != cleaned[index]["phone"]]
    for student in moving:
        student.phone = f"~{student.id}"
    db.session.flush()
    for index, clean in enumerate(cleaned):
        if index in matched:
            _assign(matched[index], clean, now)
        else:
            group.students.append(_new_student(clean, now))


def delete_group(actor: Actor, group_id: int, *, now: datetime) -> None:
    """Delete the group and its students (who leave every delivery to it)."""
    group = find_group(actor, group_id)
    with transaction():
        _removing(list(db.session.scalars(select(Student.id).where(Student.group_id == group.id))), now)
        db.session.execute(delete(Student).where(Student.group_id == group.id))
        db.session.delete(group)


# Students ----------------------------------------------------------------------------------


def phones_in(group: Group) -> dict[str, str]:
    rows = db.session.execute(
        select(Student.phone, Student.name).where(Student.group_id == group.id))
    return {phone: name for phone, name in rows}


def add_students(actor: Actor, group_id: int, items: Sequence[Mapping], *,
                 now: datetime) -> list[Student]:
    """Add students to a group: all of them, or none if any is invalid or already there."""
    group = find_group(actor, group_id)
    cleaned = _clean_students(items, group)
    _check_unique_phones(cleaned, phones_in(group))
    students = [_new_student(clean, now) for clean in cleaned]
    for student in students:
        student.group_id = group.id
    with transaction(PHONE_TAKEN):
        db.session.add_all(students)
        group.updated_at = now
    return students


def update_student(actor: Actor, group_id: int, student_id: int, fields: Mapping, *,
                   now: datetime) -> Student:
    """Change the given fields of one student."""
    student = _student(actor, group_id, student_id)
    clean, errors = check_student(fields, partial=True)
    if errors:
        raise Invalid(f"Invalid student {student.name!r}: {describe(errors)}", errors)
    if "phone" in clean and clean["phone"] != student.phone:
        taken = phones_in(student.group)
        if clean["phone"] in taken:
            raise Conflict(f"The phone {clean['phone']} is already in this group (student "
                           f"{taken[clean['phone']]!r}).", {"number": ["Already in this group."]})
    with transaction(PHONE_TAKEN):
        _assign(student, clean, now)
    return student


def remove_student(actor: Actor, group_id: int, student_id: int, *, now: datetime) -> None:
    """Remove the student; their unsent messages are cancelled at once."""
    student = _student(actor, group_id, student_id)
    with transaction():
        _removing([student.id], now)
        db.session.delete(student)
