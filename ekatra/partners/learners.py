"""What a partner reads about its learners (courses and progress) and how it erases them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select

from ekatra.courses.models import Course, Day
from ekatra.deliveries.models import FINISHED, REMOVED, Delivery, Enrollment
from ekatra.deliveries.progress import DayCounts, day_counts
from ekatra.extensions import db
from ekatra.groups.models import Student
from ekatra.inbound.models import Answer, InboundMessage
from ekatra.outbox import services as outbox
from ekatra.partners.models import (
    USED,
    Certificate,
    Coupon,
    CouponBatch,
    LearnerAccount,
    LearnerSession,
    LoginFailure,
    Partner,
)
from ekatra.partners.services import find_account, linked_students
from ekatra.partners.sharing import is_shared
from ekatra.transactions import transaction


# Tables other packages may add that hang personal rows on a student (deleted if present).
@dataclass
class CourseProgress:
    """One course a learner is enrolled in, as the contract's Moodle course shows it."""

    course: Course
    delivery: Delivery
    enrollment: Enrollment
    total_days: int
    days_received: int
    enrolled_count: int
    last_received_at: datetime | None

    @property
    def progress(self) -> float:
        return 100.0 * self.days_received / self.total_days if self.total_days else 0.0

    @property
    def is_finished(self) -> bool:
        return self.enrollment.status == FINISHED


def enrollments_of(account: LearnerAccount) -> list[tuple[Enrollment, Delivery]]:
    """The learner's enrollments (through the coupons they applied), oldest first, in the
    deliveries shared with the learner's partner: the only ones the partner sees."""
    return list(db.session.execute(
        select(Enrollment, Delivery).join(Delivery, Delivery.id == Enrollment.delivery_id)
        .join(Coupon, Coupon.student_id == Enrollment.student_id)
        .join(CouponBatch, (CouponBatch.id == Coupon.batch_id) & (CouponBatch.delivery_id == Delivery.id))
        .where(Coupon.used_by_id == account.id, Coupon.state == USED, Enrollment.status != REMOVED,
               is_shared(Delivery.id, account.partner_id))
        .order_by(Enrollment.id)).all())


def course_progress(partner: Partner, account_id: int) -> list[CourseProgress]:
    """Progress per course: the share of the course's days whose content reached the learner."""
    account = find_account(partner, account_id)
    result = []
    for enrollment, delivery in enrollments_of(account):
        received = day_counts([enrollment.id]).get(enrollment.id, DayCounts())
        result.append(CourseProgress(
            course=db.session.get(Course, delivery.course_id), delivery=delivery, enrollment=enrollment,
            total_days=db.session.scalar(select(func.count()).select_from(Day)
                                         .where(Day.course_id == delivery.course_id)),
            days_received=received.sent, last_received_at=received.last_sent_at,
            enrolled_count=db.session.scalar(select(func.count()).select_from(Enrollment).where(
                Enrollment.delivery_id == delivery.id, Enrollment.status != REMOVED))))
    return result


def delete_accounts(partner: Partner, account_ids: list[int]) -> tuple[dict[str, int], list[dict]]:
    """Erase the partner's learners and everything personal on them, in one transaction.

    Returns (rows deleted per table, per user whether they were found). Another partner's
    learner counts as not found. Opt-outs are kept: they protect a phone, not an account."""
    accounts = [a for a in (db.session.get(LearnerAccount, i) for i in set(account_ids) if 0 < i < 2**31)
                if a is not None and a.partner_id == partner.id]
    ids = [a.id for a in accounts]
    login_ids = [a.login_id for a in accounts]
    students = [s for account_id in ids for s in linked_students(account_id)]
    student_ids = [s.id for s in students]
    counts: dict[str, int] = {}

    def remove(name: str, statement) -> None:
        counts[name] = db.session.execute(statement).rowcount or 0

    with transaction():
        enrollment_ids = select(Enrollment.id).where(Enrollment.student_id.in_(student_ids))
        # Their course messages, and the help texts sent to their phones (those have no enrollment).
        counts["messages"] = outbox.erase(enrollment_ids, [(s.phone, s.channel) for s in students])
        for model in (Answer, InboundMessage):  # a learner's replies name them
            remove(model.__tablename__, delete(model).where(model.student_id.in_(student_ids)))
        remove("enrollments", delete(Enrollment).where(Enrollment.student_id.in_(student_ids)))
        remove("students", delete(Student).where(Student.id.in_(student_ids)))
        remove("certificates", delete(Certificate).where(Certificate.account_id.in_(ids)))
        remove("learner_sessions", delete(LearnerSession).where(LearnerSession.account_id.in_(ids)))
        remove("learner_login_failures", delete(LoginFailure).where(
            LoginFailure.partner_id == partner.id, LoginFailure.login_id.in_(login_ids)))
        counts["coupons_released"] = db.session.execute(
            Coupon.__table__.update().where(Coupon.used_by_id.in_(ids))
            .values(used_by_id=None, student_id=None)).rowcount or 0
        remove("learner_accounts", delete(LearnerAccount).where(LearnerAccount.id.in_(ids)))
    users = [{"user_id": i, "deleted": i in ids} for i in account_ids]
    return counts, users
