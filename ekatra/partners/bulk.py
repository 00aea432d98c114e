"""Bulk import of a partner's learner accounts: rows upserted by the partner's `external_id`.

Every row is reported; each is written whole or not at all. All rows are checked first (their
fields, duplicates within the list, clashes with this partner's other accounts and with the
groups the learner is in), with a few set-based queries whatever the number of rows; then the
good rows are written together in one transaction (one INSERT for the new accounts, one
executemany UPDATE for the others and their students) with their `student.created` events. A
bad row writes nothing and is reported with its field errors. Imports of one partner take turns
(a lock); should a concurrent signup still take an email between the check and the write, the
import is checked and written again, and that row is then reported.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import String, bindparam, func, insert, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError

from ekatra.errors import Conflict, Invalid
from ekatra.extensions import db
from ekatra.groups.models import Student
from ekatra.groups.phones import calling_code
from ekatra.partners.bulkrows import CheckedRow, rows_from_file, rows_from_json
from ekatra.partners.locks import lock_name
from ekatra.partners.models import NO_PASSWORD, Coupon, LearnerAccount, Partner
from ekatra.webhooks import services as webhooks

CREATED, UPDATED, FAILED = "created", "updated", "failed"
IMPORT_SOURCE = "bulk import"
IN_CHUNK = 900  # values per IN (...): well under SQLite's limit on bound parameters
WRITE_ATTEMPTS = 3
PROFILE = ("full_name", "email", "phone", "channel", "timezone")


@dataclass(frozen=True)
class RowResult:
    row: int
    external_id: str | None
    status: str
    id: int | None = None
    errors: dict | None = None


@dataclass(frozen=True)
class ImportReport:
    created: int
    updated: int
    failed: int
    results: list[RowResult]


@dataclass(frozen=True)
class _Existing:
    id: int
    external_id: str | None
    login_id: str
    full_name: str
    email: str | None
    phone: str | None
    channel: str
    timezone: str


def _chunks(values: list, size: int = IN_CHUNK) -> Iterable[list]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


def _accounts_where(partner: Partner, column, values: set) -> list[_Existing]:
    """The partner's accounts whose `column` is one of `values`.

    On PostgreSQL the values are one array, joined (unnest) to the table: each is looked up in
    the (partner_id, column) unique index. A long IN list of a prepared statement is instead
    checked value by value against every one of the partner's rows (0.3 s per 900 values with
    10,000 accounts)."""
    columns = (LearnerAccount.id, LearnerAccount.external_id, LearnerAccount.login_id,
               LearnerAccount.full_name, LearnerAccount.email, LearnerAccount.phone,
               LearnerAccount.channel, LearnerAccount.timezone)
    if not values:
        return []
    if db.engine.dialect.name == "postgresql":
        wanted = (func.unnest(bindparam("wanted", sorted(values), type_=ARRAY(String)))
                  .table_valued("value").render_derived("wanted"))
        return [_Existing(*row) for row in db.session.execute(
            select(*columns).join(wanted, column == wanted.c.value)
            .where(LearnerAccount.partner_id == partner.id))]
    found = []
    for chunk in _chunks(sorted(values)):
        found.extend(_Existing(*row) for row in db.session.execute(
            select(*columns).where(LearnerAccount.partner_id == partner.id, column.in_(chunk))))
    return found


@dataclass
class _Plan:
    """What the checked rows become: new accounts, changes to existing ones, and failed rows."""

    creates: list[tuple[CheckedRow, dict]]
    updates: list[tuple[CheckedRow, _Existing, dict]]


def _plan(partner: Partner, rows: list[CheckedRow]) -> _Plan:
    good = [row for row in rows if not row.errors]
    by_external = {account.external_id: account for account in _accounts_where(
        partner, LearnerAccount.external_id, {row.external_id for row in good})}
    wanted: dict[int, str] = {}
    first_row_of: dict[str, int] = {}
    for row in good:
        if row.external_id in first_row_of:
            row.fail("external_id", f"{row.external_id!r} is also on row {first_row_of[row.external_id]}.")
            continue
        first_row_of[row.external_id] = row.row
        existing = by_external.get(row.external_id)
        email = row.fields.get("email", existing.email if existing else None)
        phone = row.fields.get("phone", existing.phone if existing else None)
        if existing is None and "full_name" not in row.fields:
            row.fail("name", "Required for a new learner.")
        if not email and not phone:
            row.fail("email", "A new learner needs an email or a phone.")
        if not row.errors:
            wanted[row.row] = email or phone
    by_login = {account.login_id: account for account in _accounts_where(
        partner, LearnerAccount.login_id, set(wanted.values()))}
    login_row: dict[str, int] = {}
    plan = _Plan([], [])
    for row in good:
        if row.errors:
            continue
        login_id, existing = wanted[row.row], by_external.get(row.external_id)
        field = "email" if "@" in login_id else "phone"
        holder = by_login.get(login_id)
        if holder is not None and (existing is None or holder.id != existing.id):
            row.fail(field, f"Another of your learners (id {holder.id}) has this {field}.")
        elif login_id in login_row:
            row.fail(field, f"This {field} is also on row {login_row[login_id]}.")
        else:
            login_row[login_id] = row.row
            values = {**row.fields, "login_id": login_id}
            if existing is None:
                plan.creates.append((row, values))
            else:
                plan.updates.append((row, existing, values))
    _check_group_phones(plan)
    return plan


def _check_group_phones(plan: _Plan) -> None:
    """A learner whose phone changes takes it into the groups they are in (as PATCH does): a row
    whose new phone another student of one of those groups has fails, as does a second row
    taking the same phone into the same group."""
    moving = {existing.id: (row, values["phone"]) for row, existing, values in plan.updates
              if values.get("phone") and values["phone"] != existing.phone}
    if not moving:
        return
    groups_of: dict[int, set[int]] = {}
    for chunk in _chunks(list(moving)):
        for account_id, group_id in db.session.execute(
                select(Coupon.used_by_id, Student.group_id).join(Student, Student.id == Coupon.student_id)
                .where(Coupon.used_by_id.in_(chunk))):
            groups_of.setdefault(account_id, set()).add(group_id)
    if not groups_of:
        return
    taken: set[tuple[int, str]] = set()
    phones = sorted({moving[account_id][1] for account_id in groups_of})
    group_ids = sorted({group for groups in groups_of.values() for group in groups})
    for phone_chunk in _chunks(phones):
        for group_chunk in _chunks(group_ids):
            taken.update(db.session.execute(select(Student.group_id, Student.phone).where(
                Student.group_id.in_(group_chunk), Student.phone.in_(phone_chunk))).all())
    for account_id, groups in groups_of.items():
        row, phone = moving[account_id]
        clash = sorted(group for group in groups if (group, phone) in taken)
        if clash:
            row.fail("phone", f"Another learner in group {clash[0]}, which this learner is in, "
                              "has this phone.")
        taken.update((group, phone) for group in groups)
    plan.updates = [update_ for update_ in plan.updates if not update_[0].errors]


def _write(partner: Partner, plan: _Plan, now: datetime) -> dict[int, int]:
    """Insert and update the planned rows (no commit); row number → account id."""
    ids: dict[int, int] = {}
    if plan.creates:
        values = [{"partner_id": partner.id, "login_id": fields["login_id"], "email": fields.get("email"),
                   "full_name": fields["full_name"], "password_hash": NO_PASSWORD, "source": IMPORT_SOURCE,
                   "idp_user_id": str(uuid.uuid4()), "phone": fields.get("phone"),
                   "channel": fields.get("channel", "sms"), "timezone": fields.get("timezone", "UTC"),
                   "external_id": row.external_id, "created_at": now, "updated_at": now}
                  for row, fields in plan.creates]
        inserted = db.session.execute(
            insert(LearnerAccount).returning(LearnerAccount.id, sort_by_parameter_order=True), values)
        new_ids = list(inserted.scalars())
        ids.update((row.row, account_id)
                   for (row, _fields), account_id in zip(plan.creates, new_ids, strict=True))
        webhooks.record_events("student.created", [
            webhooks.EventFor({"student_id": account_id, "name": fields["full_name"],
                               "email": fields.get("email"), "phone": fields.get("phone"),
                               "external_id": row.external_id}, partner_ids=(partner.id,))
            for (row, fields), account_id in zip(plan.creates, new_ids, strict=True)], now=now)
    changes, students = [], {}
    for row, existing, fields in plan.updates:
        ids[row.row] = existing.id
        change = {name: fields[name] for name in (*PROFILE, "login_id")
                  if name in fields and fields[name] != getattr(existing, name)}
        if change:
            changes.append({"id": existing.id, **change, "updated_at": now})
            students[existing.id] = {name: fields.get(name, getattr(existing, name))
                                     for name in ("full_name", "phone", "channel", "timezone")}
    if changes:
        db.session.execute(update(LearnerAccount), changes)
        _students_follow(students, now)
    return ids


def _students_follow(accounts: dict[int, dict], now: datetime) -> None:
    """The students the changed learners became (by coupons) take their name, phone, channel and
    timezone, as with `PATCH /users/<id>`."""
    rows = []
    for chunk in _chunks(list(accounts)):
        for student_id, account_id in db.session.execute(
                select(Coupon.student_id, Coupon.used_by_id).where(
                    Coupon.used_by_id.in_(chunk), Coupon.student_id.is_not(None))):
            profile = accounts[account_id]
            row = {"id": student_id, "name": profile["full_name"], "channel": profile["channel"],
                   "timezone": profile["timezone"], "updated_at": now}
            if profile["phone"]:
                row.update(phone=profile["phone"], country_code=calling_code(profile["phone"]))
            rows.append(row)
    if rows:
        db.session.execute(update(Student), rows)


def import_learners(partner: Partner, rows: list[CheckedRow], *, now: datetime) -> ImportReport:
    """Create or update this partner's learners from checked rows, matched by `external_id`;
    every row is reported (`created`, `updated` or `failed` with its errors)."""
    field_errors = [{name: list(messages) for name, messages in row.errors.items()} for row in rows]
    for _attempt in range(WRITE_ATTEMPTS):
        for row, errors in zip(rows, field_errors, strict=True):  # each attempt checks afresh
            row.errors = {name: list(messages) for name, messages in errors.items()}
        try:
            lock_name(f"learner-import:{partner.id}")
            plan = _plan(partner, rows)
            ids = _write(partner, plan, now)
            db.session.commit()
            break
        except IntegrityError:  # a concurrent signup took an email or phone after the check
            db.session.rollback()
        except BaseException:
            db.session.rollback()
            raise
    else:
        raise Conflict("Learners of this partner kept changing during the import; send it again.")
    updated = {row.row for row, _existing, _fields in plan.updates}
    results = []
    for row in rows:
        if row.errors:
            results.append(RowResult(row.row, row.external_id, FAILED, errors=row.errors))
        else:
            results.append(RowResult(row.row, row.external_id, UPDATED if row.row in updated else CREATED,
                                     id=ids[row.row]))
    counts = {status: sum(result.status == status for result in results)
              for status in (CREATED, UPDATED, FAILED)}
    return ImportReport(counts[CREATED], counts[UPDATED], counts[FAILED], results)


def import_json(partner: Partner, body, *, now: datetime) -> ImportReport:
    """`import_learners` for a JSON body: a list of objects."""
    return import_learners(partner, rows_from_json(body), now=now)


def import_file(partner: Partner, content: bytes, *, now: datetime) -> ImportReport:
    """`import_learners` for a CSV or XLSX file (the header is row 1)."""
    rows = rows_from_file(content)
    if not rows:
        raise Invalid("The file has a header but no learners.")
    return import_learners(partner, rows, now=now)
