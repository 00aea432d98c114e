"""A partner's learners as one file: each with their enrollments, progress, answers and
certificates, as CSV, XLSX or a JSON array, produced while it is sent.

Learners are read in pages of `EXPORT_PAGE` (by id), with a handful of set-based queries per
page, so memory stays flat whatever the number of learners. Only this partner's learners appear,
and of their enrollments only those in deliveries shared with the partner (as everywhere in the
partner API). CSV and XLSX are formula-safe (ekatra.spreadsheets).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select

from ekatra import spreadsheets
from ekatra.courses.models import Course, Day
from ekatra.deliveries.models import REMOVED, Delivery, Enrollment
from ekatra.deliveries.progress import DayCounts, day_counts
from ekatra.extensions import db
from ekatra.inbound.models import Answer
from ekatra.partners.certificates import verification_url
from ekatra.partners.models import (
    NO_PASSWORD,
    USED,
    Certificate,
    Coupon,
    CouponBatch,
    LearnerAccount,
    Partner,
)
from ekatra.partners.sharing import is_shared

EXPORT_PAGE = 500
FORMATS = ("csv", "xlsx", "json")
CONTENT_TYPES = {"csv": spreadsheets.CSV_CONTENT_TYPE, "xlsx": spreadsheets.XLSX_CONTENT_TYPE,
                 "json": "application/json"}
# One row per (learner, enrollment); a learner without enrollments has one row, its course cells empty.
COLUMNS = ("user_id", "external_id", "name", "email", "phone", "channel", "timezone", "source",
           "has_password", "created_at", "delivery_id", "course_id", "course_name", "enrollment_status",
           "enrolled_at", "days_received", "total_days", "progress_percent", "answers", "answers_correct",
           "certificate_serial", "certificate_issued_at")
VERBATIM = ("phone",)  # E.164, checked on the way in: its + is no formula


def _when(moment: datetime | None) -> str | None:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


@dataclass
class EnrollmentRecord:
    enrollment: Enrollment
    course_id: int
    course_name: str
    total_days: int
    received: DayCounts
    answers: list[tuple] = field(default_factory=list)  # (question_id, text, is_correct, answered_at)
    certificate: Certificate | None = None

    @property
    def progress_percent(self) -> float:
        return round(100 * self.received.sent / self.total_days, 1) if self.total_days else 0.0


@dataclass
class LearnerRecord:
    account: LearnerAccount
    enrollments: list[EnrollmentRecord] = field(default_factory=list)
    certificates: list[Certificate] = field(default_factory=list)


def learner_records(partner: Partner) -> Iterator[LearnerRecord]:
    """This partner's learners, by id, each with what the export shows of them."""
    after = 0
    while True:
        accounts = list(db.session.scalars(
            select(LearnerAccount).where(LearnerAccount.partner_id == partner.id, LearnerAccount.id > after)
            .order_by(LearnerAccount.id).limit(EXPORT_PAGE)))
        if not accounts:
            return
        yield from _page(partner, accounts)
        after = accounts[-1].id
        db.session.expunge_all()  # a page's objects are not kept for the whole export


def _page(partner: Partner, accounts: list[LearnerAccount]) -> list[LearnerRecord]:
    records = {account.id: LearnerRecord(account) for account in accounts}
    rows = db.session.execute(
        select(Coupon.used_by_id, Enrollment, Delivery.course_id)
        .join(Enrollment, Enrollment.student_id == Coupon.student_id)
        .join(Delivery, Delivery.id == Enrollment.delivery_id)
        .join(CouponBatch, (CouponBatch.id == Coupon.batch_id) & (CouponBatch.delivery_id == Delivery.id))
        .where(Coupon.used_by_id.in_(records), Coupon.state == USED, Enrollment.status != REMOVED,
               is_shared(Delivery.id, partner.id))
        .order_by(Enrollment.id)).all()
    course_ids = {course_id for _account, _enrollment, course_id in rows}
    names = dict(db.session.execute(select(Course.id, Course.name).where(Course.id.in_(course_ids))).all())
    days = dict(db.session.execute(select(Day.course_id, func.count()).where(Day.course_id.in_(course_ids))
                                   .group_by(Day.course_id)).all())
    received = day_counts([enrollment.id for _account, enrollment, _course in rows])
    certificates = {(c.account_id, c.course_id): c for c in db.session.scalars(
        select(Certificate).where(Certificate.account_id.in_(records)).order_by(Certificate.id))}
    by_enrollment: dict[int, EnrollmentRecord] = {}
    for account_id, enrollment, course_id in rows:
        record = EnrollmentRecord(enrollment, course_id, names.get(course_id, ""), days.get(course_id, 0),
                                  received.get(enrollment.id, DayCounts()),
                                  certificate=certificates.get((account_id, course_id)))
        by_enrollment[enrollment.id] = record
        records[account_id].enrollments.append(record)
    for enrollment_id, *answer in db.session.execute(
            select(Answer.enrollment_id, Answer.question_id, Answer.text, Answer.is_correct,
                   Answer.answered_at)
            .where(Answer.enrollment_id.in_(by_enrollment)).order_by(Answer.answered_at, Answer.id)):
        by_enrollment[enrollment_id].answers.append(tuple(answer))
    for (account_id, _course_id), certificate in certificates.items():
        records[account_id].certificates.append(certificate)
    return list(records.values())


def _account_cells(account: LearnerAccount) -> list:
    return [account.id, account.external_id, account.full_name, account.email, account.phone, account.channel,
            account.timezone, account.source, account.password_hash != NO_PASSWORD, _when(account.created_at)]


def table_rows(partner: Partner) -> Iterator[list]:
    """The export as rows of `COLUMNS`."""
    for record in learner_records(partner):
        learner = _account_cells(record.account)
        if not record.enrollments:
            yield learner + [None] * (len(COLUMNS) - len(learner))
        for item in record.enrollments:
            certificate = item.certificate
            yield learner + [
                item.enrollment.delivery_id, item.course_id, item.course_name, item.enrollment.status,
                _when(item.enrollment.created_at), item.received.sent, item.total_days, item.progress_percent,
                len(item.answers), sum(1 for answer in item.answers if answer[2]),
                certificate.serial if certificate else None,
                _when(certificate.issued_at) if certificate else None]


def _learner_json(record: LearnerRecord, base_url: str) -> dict:
    account = record.account
    return {
        "id": account.id, "external_id": account.external_id, "name": account.full_name,
        "email": account.email, "phone": account.phone, "channel": account.channel,
        "timezone": account.timezone, "source": account.source,
        "has_password": account.password_hash != NO_PASSWORD, "created_at": _when(account.created_at),
        "enrollments": [{
            "delivery_id": item.enrollment.delivery_id, "course_id": item.course_id,
            "course_name": item.course_name, "status": item.enrollment.status,
            "enrolled_at": _when(item.enrollment.created_at), "days_received": item.received.sent,
            "total_days": item.total_days, "progress_percent": item.progress_percent,
            "answers": [{"question_id": question_id, "text": text, "is_correct": is_correct,
                         "answered_at": _when(answered_at)}
                        for question_id, text, is_correct, answered_at in item.answers]}
            for item in record.enrollments],
        "certificates": [{"course_id": c.course_id, "serial": c.serial, "issued_at": _when(c.issued_at),
                          "verification_link": verification_url(base_url, c.serial)}
                         for c in record.certificates],
    }


def json_stream(partner: Partner, base_url: str) -> Iterator[bytes]:
    """A JSON array of learners, one element at a time."""
    yield b"["
    separator = b""
    for record in learner_records(partner):
        yield separator + json.dumps(_learner_json(record, base_url), ensure_ascii=False).encode("utf-8")
        separator = b",\n"
    yield b"]\n"


def export_stream(partner: Partner, file_format: str, *, base_url: str) -> Iterator[bytes]:
    """The export in `file_format` (csv, xlsx or json), as chunks of bytes."""
    if file_format == "json":
        return json_stream(partner, base_url)
    if file_format == "xlsx":
        return spreadsheets.xlsx_stream(COLUMNS, table_rows(partner), title="Learners")
    return spreadsheets.csv_stream(COLUMNS, table_rows(partner), verbatim=VERBATIM, bom=True)
