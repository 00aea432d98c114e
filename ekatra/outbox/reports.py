"""Reads of the outbox for reports: messages sent, delivered and failed per calendar period.
Read only; the outbox's writers are in `services` and `claims`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from ekatra.extensions import db
from ekatra.outbox.models import FAILED, UNDELIVERED, Message
from ekatra.periods import period_of


def counts_by_period(enrollment_ids, period: str, start: datetime,
                     end: datetime) -> dict[str, dict[str, int]]:
    """Per period (its first day, YYYY-MM-DD) of [start, end): the messages of these enrollments
    (`enrollment_ids`: a SELECT of ids) `sent` (by `sent_at`), `delivered` (by `delivered_at`) and
    `failed` (failed or undelivered, by when that was recorded)."""
    counts: dict[str, dict[str, int]] = {}
    measures = (("sent", Message.sent_at, None), ("delivered", Message.delivered_at, None),
                ("failed", Message.updated_at, Message.status.in_((FAILED, UNDELIVERED))))
    for name, column, condition in measures:
        period_column = period_of(column, period)
        statement = (select(period_column, func.count())
                     .where(Message.enrollment_id.in_(enrollment_ids), column >= start, column < end)
                     .group_by(period_column))
        if condition is not None:
            statement = statement.where(condition)
        for period_name, count in db.session.execute(statement):
            counts.setdefault(period_name, {})[name] = count
    return counts
