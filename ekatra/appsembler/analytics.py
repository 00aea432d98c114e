"""The analytics batches: a partner's accounts, and its learners' enrollments with their
certificates, filtered by date and paged.

Open edX returns every row at once; a large partner's batch would be one huge response, so
batches come in pages (`page`, `page_size`, ordered by id). A client that sends neither gets
the first page of `DEFAULT_PAGE_SIZE` rows, and a `Link: <…>; rel="next"` header while more
follow (see the README). Dates are compared strictly, as Open edX does (`> updated_min`,
`< updated_max`): accounts by when they joined, enrollments by when they were made.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from ekatra.appsembler.enrollment import delivery_for_key, key_of
from ekatra.courses.models import Day, Question
from ekatra.deliveries.models import Delivery, Enrollment
from ekatra.extensions import db
from ekatra.inbound.models import Answer
from ekatra.partners.certificates import download_url
from ekatra.partners.models import USED, Certificate, Coupon, CouponBatch, LearnerAccount, Partner
from ekatra.partners.sharing import is_shared

DEFAULT_PAGE_SIZE = 1000
MAX_PAGE_SIZE = 1000


@dataclass(frozen=True)
class Page:
    rows: list[dict]
    total: int
    page: int
    page_size: int

    @property
    def has_next(self) -> bool:
        return self.page * self.page_size < self.total


def _window(statement, column, updated_min: datetime | None, updated_max: datetime | None):
    if updated_min is not None:
        statement = statement.where(column > updated_min)
    if updated_max is not None:
        statement = statement.where(column < updated_max)
    return statement


def _page(statement, order_by, page: int, page_size: int) -> tuple[list, int]:
    total = db.session.scalar(select(func.count()).select_from(statement.order_by(None).subquery()))
    rows = db.session.execute(statement.order_by(order_by).limit(page_size)
                              .offset((page - 1) * page_size)).all()
    return rows, total


def accounts_batch(partner: Partner, *, updated_min: datetime | None, updated_max: datetime | None,
                   page: int = 1, page_size: int = DEFAULT_PAGE_SIZE) -> Page:
    statement = _window(select(LearnerAccount).where(LearnerAccount.partner_id == partner.id),
                        LearnerAccount.created_at, updated_min, updated_max)
    rows, total = _page(statement, LearnerAccount.id, page, page_size)
    return Page([{"id": account.id, "username": account.username or account.login_id,
                  "email": account.email, "is_active": account.is_active,
                  "date_joined": account.created_at} for (account,) in rows], total, page, page_size)


def _grades(pairs: set[tuple[int, int]]) -> dict[int, str]:
    """enrollment id → the share of its course's graded questions the learner answered
    correctly, "0.00"–"1.00", for (enrollment id, course id) pairs: two grouped queries."""
    if not pairs:
        return {}
    graded = dict(db.session.execute(
        select(Day.course_id, func.count()).select_from(Question).join(Day)
        .where(Day.course_id.in_({course for _, course in pairs}), Question.type != "open")
        .group_by(Day.course_id)).all())
    correct = dict(db.session.execute(
        select(Answer.enrollment_id, func.count(func.distinct(Answer.question_id)))
        .where(Answer.enrollment_id.in_({enrollment for enrollment, _ in pairs}),
               Answer.is_correct.is_(True))
        .group_by(Answer.enrollment_id)).all())
    return {enrollment: (f"{min(correct.get(enrollment, 0), graded[course]) / graded[course]:.2f}"
                         if graded.get(course) else "1.00")
            for enrollment, course in pairs}


def enrollments_batch(partner: Partner, *, course_key: str | None, username: str | None,
                      updated_min: datetime | None, updated_max: datetime | None, base_url: str,
                      page: int = 1, page_size: int = DEFAULT_PAGE_SIZE) -> Page:
    """The partner's learners' enrollments (made by a code or bulk enrollment) in deliveries
    shared with it; a certificate the learner holds for the course is included."""
    statement = (
        select(Enrollment, Delivery, LearnerAccount)
        .join(Coupon, (Coupon.student_id == Enrollment.student_id) & (Coupon.state == USED))
        .join(CouponBatch, (CouponBatch.id == Coupon.batch_id)
              & (CouponBatch.delivery_id == Enrollment.delivery_id))
        .join(Delivery, Delivery.id == Enrollment.delivery_id)
        .join(LearnerAccount, LearnerAccount.id == Coupon.used_by_id)
        .where(LearnerAccount.partner_id == partner.id, is_shared(Delivery.id, partner.id)))
    if course_key:
        statement = statement.where(Delivery.id == delivery_for_key(partner, course_key).id)
    if username:
        statement = statement.where((LearnerAccount.username == username) | (
            LearnerAccount.username.is_(None) & (LearnerAccount.login_id == username)))
    statement = _window(statement, Enrollment.created_at, updated_min, updated_max)
    rows, total = _page(statement, Enrollment.id, page, page_size)
    certificates = {}
    if rows:
        pairs = {(account.id, delivery.course_id) for _, delivery, account in rows}
        for certificate in db.session.scalars(select(Certificate).where(
                Certificate.account_id.in_({a for a, _ in pairs}),
                Certificate.course_id.in_({c for _, c in pairs}))):
            certificates[(certificate.account_id, certificate.course_id)] = certificate
    grades = _grades({(enrollment.id, delivery.course_id) for enrollment, delivery, account in rows
                      if (account.id, delivery.course_id) in certificates})
    result = []
    for enrollment, delivery, account in rows:
        row = {"enrollment_id": enrollment.id, "user_id": account.id,
               "username": account.username or account.login_id, "course_id": key_of(delivery),
               "date_enrolled": enrollment.created_at}
        certificate = certificates.get((account.id, delivery.course_id))
        if certificate is not None:
            row["certificate"] = {"completion_date": str(certificate.issued_at),
                                  "grade": grades[enrollment.id],
                                  "url": download_url(base_url, certificate.serial)}
        result.append(row)
    return Page(result, total, page, page_size)


