"""A partner's activity per day, week or month (UTC): signups, enrollments, messages sent,
delivered and failed, answers and the share correct, completions and certificates.

Counted from the tables with one grouped query per measure, over this partner's learners and
their enrollments in deliveries shared with the partner. Messages are read through the outbox's
own report (`ekatra.outbox.reports`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import case, func, select

from ekatra.deliveries.models import FINISHED, Enrollment
from ekatra.errors import Invalid
from ekatra.extensions import db
from ekatra.inbound.models import Answer
from ekatra.outbox.reports import counts_by_period
from ekatra.partners.models import Certificate, Coupon, CouponBatch, LearnerAccount, Partner
from ekatra.partners.sharing import is_shared
from ekatra.periods import period_of, periods_between

MAX_RANGE_DAYS = 366
DEFAULT_RANGE_DAYS = 30
MEASURES = ("signups", "enrollments", "messages_sent", "messages_delivered", "messages_failed", "answers",
            "answers_correct", "correct_rate", "completions", "certificates")


@dataclass(frozen=True)
class Analytics:
    start_date: date
    end_date: date
    group_by: str
    periods: list[dict]
    totals: dict


def date_range(start: date | None, end: date | None, *, now: datetime) -> tuple[date, date]:
    """The inclusive range asked for: by default the 30 days up to today (UTC); at most 366 days."""
    try:
        end = end or (start + timedelta(days=DEFAULT_RANGE_DAYS - 1) if start else now.date())
        start = start or end - timedelta(days=DEFAULT_RANGE_DAYS - 1)
        end + timedelta(days=1)  # the range ends at the next midnight
    except OverflowError:
        raise Invalid("The dates are out of range.", {"start_date": ["Out of range."]}) from None
    if end < start:
        raise Invalid("end_date is before start_date.", {"end_date": ["Before start_date."]})
    if (end - start).days + 1 > MAX_RANGE_DAYS:
        raise Invalid(f"At most {MAX_RANGE_DAYS} days at once.", {"end_date": [
            f"At most {MAX_RANGE_DAYS} days after start_date."]})
    return start, end


def _enrollment_ids(partner: Partner):
    """This partner's learners' enrollments (through their coupons) in deliveries shared with it."""
    return (select(Enrollment.id)
            .join(Coupon, Coupon.student_id == Enrollment.student_id)
            .join(CouponBatch, (CouponBatch.id == Coupon.batch_id)
                  & (CouponBatch.delivery_id == Enrollment.delivery_id))
            .join(LearnerAccount, LearnerAccount.id == Coupon.used_by_id)
            .where(LearnerAccount.partner_id == partner.id, is_shared(Enrollment.delivery_id, partner.id)))


def _count(column, period: str, start: datetime, end: datetime, *where, value=None) -> dict[str, int]:
    bucket = period_of(column, period)
    measure = func.count() if value is None else func.sum(value)
    return {name: count or 0 for name, count in db.session.execute(
        select(bucket, measure).where(column >= start, column < end, *where).group_by(bucket))}


def partner_analytics(partner: Partner, *, start_date: date | None, end_date: date | None, group_by: str,
                      now: datetime) -> Analytics:
    """Counts per period (its first day) from start_date to end_date (inclusive, UTC), and totals."""
    start_date, end_date = date_range(start_date, end_date, now=now)
    start = datetime.combine(start_date, time(), tzinfo=UTC)
    end = datetime.combine(end_date + timedelta(days=1), time(), tzinfo=UTC)
    enrollments = _enrollment_ids(partner)
    graded = Answer.is_correct.is_not(None)
    counts = {
        "signups": _count(LearnerAccount.created_at, group_by, start, end,
                          LearnerAccount.partner_id == partner.id),
        "enrollments": _count(Enrollment.created_at, group_by, start, end, Enrollment.id.in_(enrollments)),
        "answers": _count(Answer.answered_at, group_by, start, end, Answer.enrollment_id.in_(enrollments)),
        "graded": _count(Answer.answered_at, group_by, start, end, Answer.enrollment_id.in_(enrollments),
                         graded),
        "answers_correct": _count(Answer.answered_at, group_by, start, end,
                                  Answer.enrollment_id.in_(enrollments),
                                  value=case((Answer.is_correct.is_(True), 1), else_=0)),
        # An enrollment has no finishing time of its own: it finished when it last changed.
        "completions": _count(Enrollment.updated_at, group_by, start, end, Enrollment.status == FINISHED,
                              Enrollment.id.in_(enrollments)),
        "certificates": _count(Certificate.issued_at, group_by, start, end, Certificate.account_id.in_(
            select(LearnerAccount.id).where(LearnerAccount.partner_id == partner.id))),
    }
    for period_name, messages in counts_by_period(enrollments, group_by, start, end).items():
        for name, count in messages.items():
            counts.setdefault(f"messages_{name}", {})[period_name] = count
    periods = [_row(name, counts) for name in periods_between(start_date, end_date, group_by)]
    totals = _row(None, {name: {None: sum(by_period.values())} for name, by_period in counts.items()})
    totals.pop("period")
    return Analytics(start_date, end_date, group_by, periods, totals)


def _row(period: str | None, counts: dict[str, dict]) -> dict:
    """One period's measures; `correct_rate` is correct ÷ graded answers (none graded: null)."""
    values = {name: counts.get(name, {}).get(period, 0) for name in (*MEASURES, "graded")}
    graded = values.pop("graded")
    values["correct_rate"] = round(values["answers_correct"] / graded, 4) if graded else None
    return {"period": period, **{name: values[name] for name in MEASURES}}
