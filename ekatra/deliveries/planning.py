"""When each day of a delivery is due, in UTC: local wall-clock schedules turned into instants.

Pure functions on the tz database (zoneinfo + tzdata), never fixed offsets. Called once per
(timezone, day) group by the planner, not once per learner.

A wall time that does not exist (spring forward) moves forward by the gap; an ambiguous one
(fall back) takes its first occurrence. A learner who is behind gets one day per regular slot:
content is never skipped and never arrives in a flood.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache, wraps
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ekatra.errors import Invalid

Cadence = Literal["daily", "weekdays", "minutes"]
CADENCES: tuple[str, ...] = ("daily", "weekdays", "minutes")
MIN_INTERVAL_MINUTES = 1
MAX_INTERVAL_MINUTES = 1440
SATURDAY = 5  # date.weekday(): Monday is 0, so 5 and 6 are the weekend
LOCAL_FORMAT = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2})?$")
# A start is a real date in this century, at most about five years ahead: the schedule's math
# (and the last day of a 1,000-day course after it) then stays far from the calendar's ends.
EARLIEST_START_DATE = date(2000, 1, 1)
MAX_START_AHEAD = timedelta(days=5 * 366)


class OutOfRange(ValueError):
    """An instant past the ends of the calendar (year 1 to 9999): the schedule cannot hold it."""


def _bounded(function):
    """Turn the OverflowError of date arithmetic at the calendar's ends into OutOfRange, a
    ValueError like every other bad schedule, so that no caller meets an OverflowError."""

    @wraps(function)
    def bounded(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except OverflowError:
            raise OutOfRange("the schedule reaches past the year 9999 or before the year 1") from None

    return bounded


@dataclass(frozen=True)
class Schedule:
    """When a delivery's days go out.

    Local: `local_start_date` + `local_send_time`, a wall-clock time applied in each learner's own
    zone. Absolute: `start_at`, one instant for everyone (stored in UTC). `interval_minutes` is set
    for the "minutes" cadence only.
    """

    cadence: Cadence
    local_start_date: date | None = None
    local_send_time: time | None = None
    start_at: datetime | None = None
    interval_minutes: int | None = None

    def __post_init__(self) -> None:
        if self.cadence not in CADENCES:
            raise ValueError(f"cadence must be one of {', '.join(CADENCES)}, not {self.cadence!r}")
        if self.cadence == "minutes":
            interval = self.interval_minutes
            if not isinstance(interval, int) or isinstance(interval, bool):
                raise ValueError("interval_minutes is required for the 'minutes' cadence")
            if not MIN_INTERVAL_MINUTES <= interval <= MAX_INTERVAL_MINUTES:
                raise ValueError(
                    f"interval_minutes must be between {MIN_INTERVAL_MINUTES} and {MAX_INTERVAL_MINUTES}"
                )
        elif self.interval_minutes is not None:
            raise ValueError("interval_minutes is only allowed with the 'minutes' cadence")

        has_local = self.local_start_date is not None or self.local_send_time is not None
        if has_local == (self.start_at is not None):
            raise ValueError(
                "a schedule is either local (local_start_date and local_send_time) or absolute "
                "(start_at), not both and not neither"
            )
        if has_local:
            if not isinstance(self.local_start_date, date) or isinstance(self.local_start_date, datetime):
                raise ValueError("local_start_date must be a date")
            if not isinstance(self.local_send_time, time):
                raise ValueError("local_send_time must be a time")
            if self.local_send_time.tzinfo is not None:
                raise ValueError("local_send_time is a wall-clock time and must not carry a timezone")
        else:
            if not isinstance(self.start_at, datetime) or self.start_at.utcoffset() is None:
                raise ValueError("start_at must be a timezone-aware datetime")
            object.__setattr__(self, "start_at", self.start_at.astimezone(UTC))

    @property
    def is_local(self) -> bool:
        return self.start_at is None


def schedule_of(delivery) -> Schedule:
    """A delivery's stored schedule (its columns) as a Schedule."""
    return Schedule(local_start_date=delivery.local_start_date, local_send_time=delivery.local_send_time,
                    start_at=delivery.start_at, cadence=delivery.cadence,
                    interval_minutes=delivery.interval_minutes)


def parse_schedule(schedule_at: str, timezone: str | None, cadence: str,
                   interval: int | None, now: datetime) -> Schedule:
    """The contract's `schedule_at`: local wall time, or one instant (offset or `timezone`),
    on a date from EARLIEST_START_DATE to MAX_START_AHEAD after `now`."""
    text = schedule_at.strip()
    if cadence == "minutes" and interval is None:
        raise Invalid("Cadence `minutes` needs an `interval` (1 to 1440).",
                      {"interval": ["Required with cadence minutes."]})
    if cadence != "minutes" and interval is not None:
        raise Invalid("`interval` goes only with cadence `minutes`.",
                      {"interval": ["Only with cadence minutes."]})
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise Invalid("schedule_at must look like 2026-12-01 09:00:00, or ISO 8601 with an offset.",
                      {"schedule_at": ["Not a date and time."]}) from None
    if moment.tzinfo is None and not LOCAL_FORMAT.match(text):
        raise Invalid("schedule_at must look like 2026-12-01 09:00:00.",
                      {"schedule_at": ["Not a date and time."]})
    # The date as written, before any conversion: year 1 or 9999 must not reach the tz math.
    latest = (now + MAX_START_AHEAD).date()
    if not EARLIEST_START_DATE <= moment.date() <= latest:
        problem = (f"schedule_at must be a date from {EARLIEST_START_DATE.isoformat()} to "
                   f"{latest.isoformat()} (at most five years ahead).")
        raise Invalid(problem, {"schedule_at": [problem]})
    try:
        if moment.tzinfo is None and timezone:
            start_at = wall_to_utc(moment.date(), moment.time(), zone(timezone))
            return Schedule(start_at=start_at, cadence=cadence, interval_minutes=interval)
        if moment.tzinfo is not None:
            return Schedule(start_at=moment.astimezone(UTC), cadence=cadence, interval_minutes=interval)
        return Schedule(local_start_date=moment.date(), local_send_time=moment.time().replace(microsecond=0),
                        cadence=cadence, interval_minutes=interval)
    except ValueError as problem:
        field_name = "timezone" if timezone and moment.tzinfo is None else "schedule_at"
        raise Invalid(str(problem), {field_name: [str(problem)]}) from None



@lru_cache(maxsize=1024)
def zone(name: str) -> ZoneInfo:
    """The tz database zone called `name` (e.g. "Asia/Kolkata"); ValueError if there is none."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError) as error:
        raise ValueError(f"unknown timezone {name!r}") from error


@_bounded
def wall_to_utc(local_date: date, local_time: time, zone: tzinfo) -> datetime:
    """The UTC instant at which clocks in `zone` show `local_time` on `local_date`.

    An ambiguous wall time (fall back) is its first occurrence. A wall time that does not exist
    (spring forward) moves forward by the gap: 02:30 on a day New York jumps from 02:00 to 03:00 is
    sent at 03:30 EDT; in a 30-minute gap (Australia/Lord_Howe) it moves 30 minutes. A day a zone
    skips entirely (Pacific/Apia jumped from 2011-12-29 to 2011-12-31) is a 24-hour gap: its time
    lands on the next day's same wall time, the same instant as that day's.
    """
    wall = datetime.combine(local_date, local_time.replace(tzinfo=None, fold=0))
    first = wall.replace(tzinfo=zone).astimezone(UTC)  # fold=0 is the first occurrence
    if first.astimezone(zone).replace(tzinfo=None) == wall:
        return first
    # The wall time is in a gap: fold=0 and fold=1 read it with the offsets in force before and after
    # the jump (PEP 495), which differ by the gap. Show wall + gap at the offset after the jump.
    offsets = {wall.replace(tzinfo=zone, fold=fold).utcoffset() for fold in (0, 1)}
    offset_before, offset_after = min(offsets), max(offsets)
    gap = offset_after - offset_before
    return (wall + gap - offset_after).replace(tzinfo=UTC)


@_bounded
def day_date(schedule: Schedule, day_number: int) -> date:
    """The learner's local date of day `day_number` of a local daily or weekdays schedule.

    Daily: day 1 is the start date, day k the (k-1)-th following day. Weekdays: the k-th Monday to
    Friday counting from the start date (a Saturday or Sunday start begins on the next Monday).
    """
    _check_day_number(day_number)
    if not schedule.is_local:
        raise ValueError("an absolute schedule has no local day date; use due_at")
    if schedule.cadence == "minutes":
        raise ValueError("a 'minutes' schedule has no day date; use due_at")
    return _nth_date(schedule.cadence, schedule.local_start_date, day_number)


@_bounded
def due_at(schedule: Schedule, day_number: int, zone: tzinfo) -> datetime:
    """The regular UTC instant of day `day_number` for a learner in `zone`.

    Local daily/weekdays: the local send time on the day's local date (see wall_to_utc). Minutes:
    day 1 at the local send time on the start date, each later day `interval_minutes` of elapsed
    time after the previous one. Absolute schedules ignore `zone` and follow the same rules in UTC:
    day 1 at start_at, daily adds whole days, weekdays skips Saturdays and Sundays as seen in UTC
    (a weekend start_at begins on the next Monday at the same UTC time), minutes adds the interval.

    Consecutive days are never out of order; they share one instant only where the zone skips a
    whole calendar day (Pacific/Apia 2011-12-30). next_due_after keeps them apart.
    """
    _check_day_number(day_number)
    start_date, send_time, tz = _frame(schedule, zone)
    if schedule.cadence == "minutes":
        return wall_to_utc(start_date, send_time, tz) + (day_number - 1) * _interval(schedule)
    return wall_to_utc(_nth_date(schedule.cadence, start_date, day_number), send_time, tz)


@_bounded
def next_due_after(schedule: Schedule, day_number: int, zone: tzinfo, after: datetime) -> datetime:
    """When day `day_number` goes to a learner in `zone` who got their previous day at `after`.

    The later of the day's regular instant and the schedule's first regular slot strictly after
    `after`: a learner who is behind gets one day per regular slot, so content is never skipped and
    two days never go out at once.
    """
    _check_aware(after, "after")
    return max(due_at(schedule, day_number, zone), _first_slot(schedule, zone, after, inclusive=False))


@_bounded
def first_due_for_joiner(schedule: Schedule, zone: tzinfo, joined_at: datetime) -> datetime:
    """When day 1 goes to a learner who joins a running delivery at `joined_at`.

    Day 1's regular instant if it has not passed yet, else the first regular slot at or after
    `joined_at` (their next local send time).
    """
    _check_aware(joined_at, "joined_at")
    return max(due_at(schedule, 1, zone), _first_slot(schedule, zone, joined_at, inclusive=True))


def _frame(schedule: Schedule, zone: tzinfo) -> tuple[date, time, tzinfo]:
    """Start date, send time and zone the rules run in: an absolute schedule is a local one in UTC."""
    if schedule.is_local:
        return schedule.local_start_date, schedule.local_send_time, zone
    start_at = schedule.start_at
    return start_at.date(), start_at.time(), UTC


def _nth_date(cadence: str, start_date: date, day_number: int) -> date:
    if cadence == "daily":
        return start_date + timedelta(days=day_number - 1)
    if start_date.weekday() >= SATURDAY:
        start_date += timedelta(days=7 - start_date.weekday())
    weeks, extra_weekdays = divmod(day_number - 1, 5)
    skipped_weekend = 2 if start_date.weekday() + extra_weekdays >= SATURDAY else 0
    return start_date + timedelta(days=7 * weeks + extra_weekdays + skipped_weekend)


def _first_slot(schedule: Schedule, zone: tzinfo, instant: datetime, *, inclusive: bool) -> datetime:
    """The schedule's first regular slot after `instant` (or at it, when inclusive).

    Slots before the start date count too; callers take the later of this and a day's due_at.
    """
    start_date, send_time, tz = _frame(schedule, zone)

    def is_late_enough(slot: datetime) -> bool:
        return slot >= instant if inclusive else slot > instant

    if schedule.cadence == "minutes":
        interval = _interval(schedule)
        first = wall_to_utc(start_date, send_time, tz)
        slot = first + ((instant - first) // interval) * interval
        while not is_late_enough(slot):
            slot += interval
        return slot
    # Slots are in date order; a gap can push one date's slot past midnight, and a fall back across
    # midnight can put a later date's slot before `instant`'s, so start two days early.
    local_date = instant.astimezone(tz).date() - timedelta(days=2)
    while True:
        if schedule.cadence == "daily" or local_date.weekday() < SATURDAY:
            slot = wall_to_utc(local_date, send_time, tz)
            if is_late_enough(slot):
                return slot
        local_date += timedelta(days=1)


def _interval(schedule: Schedule) -> timedelta:
    return timedelta(minutes=schedule.interval_minutes)


def _check_day_number(day_number: int) -> None:
    if not isinstance(day_number, int) or isinstance(day_number, bool) or day_number < 1:
        raise ValueError(f"day_number must be a whole number from 1, not {day_number!r}")


def _check_aware(instant: datetime, name: str) -> None:
    if not isinstance(instant, datetime) or instant.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime")
