"""Calendar periods in UTC (day, ISO week from Monday, month) for reports: the SQL expression that
names a timestamp's period by its first day ("2026-03-02"), on PostgreSQL and SQLite alike, and
the list of periods between two dates."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func

from ekatra.extensions import db

PERIODS = ("day", "week", "month")


def period_start(day: date, period: str) -> date:
    if period == "week":
        return day - timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    return day


def periods_between(start: date, end: date, period: str) -> list[str]:
    """The first days (ISO text) of the periods that meet [start, end], in order."""
    names, current = [], period_start(start, period)
    while current <= end:
        names.append(current.isoformat())
        if period == "month":
            current = (current.replace(day=28) + timedelta(days=4)).replace(day=1)
        else:
            current += timedelta(days=7 if period == "week" else 1)
    return names


def period_of(column, period: str):
    """SQL: the first day of `column`'s period as YYYY-MM-DD text (timestamps are stored in UTC)."""
    if db.engine.dialect.name == "postgresql":
        return func.to_char(func.date_trunc(period, column), "YYYY-MM-DD")
    if period == "week":
        return func.date(column, "weekday 0", "-6 days")  # the Sunday ending its week, less six days
    return func.strftime("%Y-%m-01" if period == "month" else "%Y-%m-%d", column)
