"""The schedule math of a delivery: local wall-clock times to UTC instants, gaps, folds, catch-up."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ekatra.deliveries.planning import (
    CADENCES,
    Schedule,
    day_date,
    due_at,
    first_due_for_joiner,
    next_due_after,
    wall_to_utc,
    zone,
)

NEW_YORK = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")
APIA = ZoneInfo("Pacific/Apia")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def local_daily(start: date, send: time, cadence: str = "daily", **kwargs) -> Schedule:
    return Schedule(cadence, local_start_date=start, local_send_time=send, **kwargs)


# ---- examples: one wall time ----


def test_spring_forward_gap_moves_send_forward_in_new_york():
    sent = wall_to_utc(date(2024, 3, 10), time(2, 30), NEW_YORK)

    assert sent == utc(2024, 3, 10, 7, 30)
    assert sent.astimezone(NEW_YORK).time() == time(3, 30)


def test_spring_forward_gap_moves_send_forward_in_london():
    sent = wall_to_utc(date(2024, 3, 31), time(1, 30), LONDON)

    assert sent == utc(2024, 3, 31, 1, 30)
    assert sent.astimezone(LONDON).time() == time(2, 30)


def test_fall_back_fold_takes_the_first_occurrence():
    assert wall_to_utc(date(2024, 11, 3), time(1, 30), NEW_YORK) == utc(2024, 11, 3, 5, 30)
    assert wall_to_utc(date(2024, 4, 7), time(1, 45), LORD_HOWE) == utc(2024, 4, 6, 14, 45)


def test_thirty_minute_gap_moves_send_forward_by_thirty_minutes():
    sent = wall_to_utc(date(2024, 10, 6), time(2, 15), LORD_HOWE)

    assert sent == utc(2024, 10, 5, 15, 45)
    assert sent.astimezone(LORD_HOWE).time() == time(2, 45)


def test_half_and_quarter_hour_offsets_come_from_the_tz_database():
    assert wall_to_utc(date(2024, 6, 1), time(9, 0), ZoneInfo("Asia/Kolkata")) == utc(2024, 6, 1, 3, 30)
    assert wall_to_utc(date(2024, 6, 1), time(9, 0), ZoneInfo("Asia/Kathmandu")) == utc(2024, 6, 1, 3, 15)


def test_a_skipped_calendar_day_lands_on_the_next_days_same_wall_time():
    # Samoa jumped from 2011-12-29 to 2011-12-31: the 30th is a 24-hour gap.
    sent = wall_to_utc(date(2011, 12, 30), time(9, 0), APIA)

    assert sent.astimezone(APIA).replace(tzinfo=None) == datetime(2011, 12, 31, 9, 0)
    assert sent == wall_to_utc(date(2011, 12, 31), time(9, 0), APIA)


# ---- examples: days of a schedule ----


def test_learner_whose_date_differs_from_utc_gets_their_own_local_day():
    schedule = local_daily(date(2024, 6, 3), time(7, 0))

    auckland = due_at(schedule, 3, ZoneInfo("Pacific/Auckland"))
    los_angeles = due_at(schedule, 3, ZoneInfo("America/Los_Angeles"))

    assert auckland == utc(2024, 6, 4, 19, 0)
    assert auckland.astimezone(ZoneInfo("Pacific/Auckland")).date() == date(2024, 6, 5)
    assert los_angeles == utc(2024, 6, 5, 14, 0)


def test_daily_days_keep_the_local_send_time_across_a_dst_change():
    schedule = local_daily(date(2024, 3, 9), time(9, 0))

    assert [due_at(schedule, day, NEW_YORK) for day in (1, 2)] == [utc(2024, 3, 9, 14), utc(2024, 3, 10, 13)]


def test_weekdays_cadence_skips_the_weekend():
    schedule = local_daily(date(2024, 6, 6), time(9, 0), cadence="weekdays")  # a Thursday

    dates = [day_date(schedule, day) for day in range(1, 7)]

    assert dates == [
        date(2024, 6, 6),
        date(2024, 6, 7),
        date(2024, 6, 10),
        date(2024, 6, 11),
        date(2024, 6, 12),
        date(2024, 6, 13),
    ]
    assert due_at(schedule, 3, NEW_YORK) == utc(2024, 6, 10, 13, 0)


def test_weekdays_cadence_starting_on_a_saturday_begins_on_monday():
    schedule = local_daily(date(2024, 6, 8), time(9, 0), cadence="weekdays")

    assert [day_date(schedule, day) for day in (1, 5, 6)] == [
        date(2024, 6, 10),
        date(2024, 6, 14),
        date(2024, 6, 17),
    ]


def test_minutes_cadence_counts_elapsed_time_from_day_one():
    schedule = local_daily(date(2024, 3, 10), time(1, 0), cadence="minutes", interval_minutes=90)

    due = [due_at(schedule, day, NEW_YORK) for day in (1, 2, 3)]

    assert due == [utc(2024, 3, 10, 6, 0), utc(2024, 3, 10, 7, 30), utc(2024, 3, 10, 9, 0)]
    with pytest.raises(ValueError):
        day_date(schedule, 1)


def test_absolute_schedule_is_one_instant_for_everyone():
    schedule = Schedule("daily", start_at=datetime(2024, 6, 1, 14, 0, tzinfo=timezone(timedelta(hours=2))))

    assert schedule.start_at == utc(2024, 6, 1, 12, 0)
    assert due_at(schedule, 3, NEW_YORK) == due_at(schedule, 3, ZoneInfo("Asia/Tokyo")) == utc(2024, 6, 3, 12)


def test_absolute_weekdays_schedule_starting_on_a_saturday_begins_on_monday():
    schedule = Schedule("weekdays", start_at=utc(2024, 6, 8, 12, 0))

    assert [due_at(schedule, day, NEW_YORK) for day in (1, 6)] == [utc(2024, 6, 10, 12), utc(2024, 6, 17, 12)]


def test_learner_behind_gets_the_overdue_day_and_then_one_day_per_regular_slot():
    schedule = local_daily(date(2024, 6, 1), time(9, 0))
    now = utc(2024, 6, 5, 15, 0)  # 11:00 in New York; the learner only had day 1

    assert due_at(schedule, 2, NEW_YORK) < now  # overdue: the planner sends day 2 at once
    day_3 = next_due_after(schedule, 3, NEW_YORK, after=now)
    day_4 = next_due_after(schedule, 4, NEW_YORK, after=day_3)

    assert day_3 == utc(2024, 6, 6, 13, 0)
    assert day_4 == utc(2024, 6, 7, 13, 0)


def test_learner_on_time_gets_the_next_day_at_its_regular_time():
    schedule = local_daily(date(2024, 6, 1), time(9, 0))

    assert next_due_after(schedule, 2, NEW_YORK, after=utc(2024, 6, 1, 13, 0)) == utc(2024, 6, 2, 13, 0)


def test_a_skipped_calendar_day_never_sends_two_days_at_once():
    schedule = local_daily(date(2011, 12, 29), time(9, 0))
    day_2 = due_at(schedule, 2, APIA)

    assert due_at(schedule, 3, APIA) == day_2
    day_3 = next_due_after(schedule, 3, APIA, after=day_2)
    assert day_3.astimezone(APIA).replace(tzinfo=None) == datetime(2012, 1, 1, 9, 0)


def test_catch_up_takes_a_slot_that_a_gap_pushed_past_midnight():
    # Nuuk jumped from 2024-03-30 23:00 to 2024-03-31 00:00: the 30th's 23:30 send is at 00:30 on the 31st.
    nuuk = ZoneInfo("America/Nuuk")
    schedule = local_daily(date(2024, 3, 20), time(23, 30))
    after = datetime(2024, 3, 31, 0, 10, tzinfo=nuuk)

    sent = next_due_after(schedule, 5, nuuk, after)

    assert sent.astimezone(nuuk).replace(tzinfo=None) == datetime(2024, 3, 31, 0, 30)


def test_late_joiner_after_todays_send_time_starts_tomorrow():
    schedule = local_daily(date(2024, 6, 1), time(9, 0))

    assert first_due_for_joiner(schedule, NEW_YORK, utc(2024, 6, 5, 14, 0)) == utc(2024, 6, 6, 13, 0)


def test_late_joiner_before_todays_send_time_starts_today():
    schedule = local_daily(date(2024, 6, 1), time(9, 0))

    assert first_due_for_joiner(schedule, NEW_YORK, utc(2024, 6, 5, 12, 0)) == utc(2024, 6, 5, 13, 0)


def test_joiner_before_the_start_gets_day_one_at_its_regular_time():
    schedule = local_daily(date(2024, 6, 1), time(9, 0))

    assert first_due_for_joiner(schedule, NEW_YORK, utc(2024, 5, 20)) == utc(2024, 6, 1, 13, 0)


def test_late_joiner_of_a_minutes_schedule_starts_at_the_next_interval():
    schedule = Schedule("minutes", start_at=utc(2024, 6, 1, 12, 0), interval_minutes=30)

    assert first_due_for_joiner(schedule, NEW_YORK, utc(2024, 6, 1, 13, 10)) == utc(2024, 6, 1, 13, 30)
    assert first_due_for_joiner(schedule, NEW_YORK, utc(2024, 6, 1, 13, 30)) == utc(2024, 6, 1, 13, 30)


# ---- validation ----


@pytest.mark.parametrize(
    "kwargs",
    [
        {"cadence": "hourly", "start_at": utc(2024, 6, 1)},
        {"cadence": "daily"},
        {
            "cadence": "daily",
            "start_at": utc(2024, 6, 1),
            "local_start_date": date(2024, 6, 1),
            "local_send_time": time(9),
        },
        {"cadence": "daily", "local_start_date": date(2024, 6, 1)},
        {"cadence": "daily", "local_start_date": datetime(2024, 6, 1), "local_send_time": time(9)},
        {"cadence": "daily", "local_start_date": date(2024, 6, 1), "local_send_time": time(9, tzinfo=UTC)},
        {"cadence": "daily", "start_at": datetime(2024, 6, 1)},
        {"cadence": "daily", "start_at": utc(2024, 6, 1), "interval_minutes": 30},
        {"cadence": "minutes", "start_at": utc(2024, 6, 1)},
        {"cadence": "minutes", "start_at": utc(2024, 6, 1), "interval_minutes": 0},
        {"cadence": "minutes", "start_at": utc(2024, 6, 1), "interval_minutes": 1441},
        {"cadence": "minutes", "start_at": utc(2024, 6, 1), "interval_minutes": True},
    ],
)
def test_an_invalid_schedule_is_refused(kwargs):
    with pytest.raises(ValueError):
        Schedule(**kwargs)


def test_day_numbers_start_at_one_and_instants_must_be_aware():
    schedule = local_daily(date(2024, 6, 1), time(9, 0))

    with pytest.raises(ValueError):
        due_at(schedule, 0, NEW_YORK)
    with pytest.raises(ValueError):
        next_due_after(schedule, 2, NEW_YORK, after=datetime(2024, 6, 2))
    with pytest.raises(ValueError):
        day_date(Schedule("daily", start_at=utc(2024, 6, 1)), 1)


def test_zone_looks_up_the_tz_database_and_refuses_unknown_names():
    assert zone("Asia/Kolkata") == ZoneInfo("Asia/Kolkata")
    for name in ("Mars/Olympus_Mons", "", "../etc/passwd"):
        with pytest.raises(ValueError):
            zone(name)


# ---- properties, against zoneinfo ----

TRICKY_ZONES = [
    "America/New_York",
    "Europe/London",
    "Europe/Dublin",
    "Europe/Lisbon",
    "Europe/Moscow",
    "Australia/Lord_Howe",
    "Australia/Adelaide",
    "Pacific/Chatham",
    "Pacific/Auckland",
    "Pacific/Apia",
    "Pacific/Kiritimati",
    "Pacific/Kwajalein",
    "Pacific/Fakaofo",
    "Pacific/Kanton",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Asia/Tehran",
    "Asia/Pyongyang",
    "Asia/Gaza",
    "Asia/Beirut",
    "Asia/Amman",
    "Asia/Dhaka",
    "Africa/Casablanca",
    "Africa/Monrovia",
    "America/St_Johns",
    "America/Sao_Paulo",
    "America/Santiago",
    "America/Havana",
    "America/Asuncion",
    "America/Caracas",
    "America/Metlakatla",
    "America/Nuuk",
    "Antarctica/Troll",
    "Etc/GMT+12",
    "Etc/GMT-14",
]
ZONES_WITH_OFFSET_CHANGES = [name for name in TRICKY_ZONES if name != "Asia/Kolkata" and "/GMT" not in name]
ALL_ZONES = sorted(available_timezones() - {"localtime"})
zone_names = st.one_of(st.sampled_from(TRICKY_ZONES), st.sampled_from(ALL_ZONES))


@cache
def offset_changes(name: str) -> tuple[tuple[datetime, timedelta], ...]:
    """(instant, offset before) of each offset change of the zone in 1970–2037, to the second."""
    tz = ZoneInfo(name)

    def offset(seconds: int) -> timedelta:
        return datetime.fromtimestamp(seconds, UTC).astimezone(tz).utcoffset()

    changes, week = [], 7 * 86400
    for start in range(0, int(utc(2038, 1, 1).timestamp()), week):
        before = offset(start)
        if offset(start + week) != before:
            low, high = start, start + week
            while high - low > 1:
                middle = (low + high) // 2
                low, high = (middle, high) if offset(middle) == before else (low, middle)
            changes.append((datetime.fromtimestamp(high, UTC), before))
    return tuple(changes)


@st.composite
def wall_times_near_offset_changes(draw) -> tuple[str, datetime]:
    name = draw(st.sampled_from(ZONES_WITH_OFFSET_CHANGES))
    instant, offset_before = draw(st.sampled_from(offset_changes(name)))
    wall = (instant + offset_before).replace(tzinfo=None, second=0)
    return name, wall + timedelta(minutes=draw(st.integers(-150, 150)))


walls_1970_to_2037 = st.datetimes(datetime(1970, 1, 2), datetime(2037, 12, 30))
any_wall_times = st.tuples(zone_names, walls_1970_to_2037.map(lambda wall: wall.replace(microsecond=0)))


def instants_showing(wall: datetime, tz: ZoneInfo) -> list[datetime]:
    """Every instant at which clocks in `tz` show `wall`, earliest first (brute force over nearby offsets)."""
    guess = wall.replace(tzinfo=UTC)
    offsets = {(guess + timedelta(minutes=30 * step)).astimezone(tz).utcoffset() for step in range(-60, 61)}
    candidates = {(wall - offset).replace(tzinfo=UTC) for offset in offsets}
    return sorted(instant for instant in candidates if instant.astimezone(tz).replace(tzinfo=None) == wall)


@settings(max_examples=400, deadline=None)
@given(st.one_of(wall_times_near_offset_changes(), any_wall_times))
def test_wall_time_is_its_first_occurrence_or_moves_forward_by_the_gap(case):
    name, wall = case
    tz = ZoneInfo(name)

    sent = wall_to_utc(wall.date(), wall.time(), tz)

    assert sent.utcoffset() == timedelta(0)
    showing = instants_showing(wall, tz)
    if showing:
        assert sent == showing[0]
    else:
        shown = sent.astimezone(tz)
        shift = shown.replace(tzinfo=None) - wall
        assert timedelta(0) < shift <= timedelta(hours=24)
        # The zone's clock jumped forward by exactly `shift` in the `shift` of time before the send.
        assert shown.utcoffset() - (sent - shift).astimezone(tz).utcoffset() == shift


@st.composite
def schedules(draw) -> Schedule:
    cadence = draw(st.sampled_from(CADENCES))
    interval = draw(st.integers(1, 1440)) if cadence == "minutes" else None
    if draw(st.booleans()):
        start = draw(walls_1970_to_2037).replace(second=0, microsecond=0)
        return Schedule(
            cadence, local_start_date=start.date(), local_send_time=start.time(), interval_minutes=interval
        )
    start_at = draw(walls_1970_to_2037).replace(tzinfo=UTC)
    return Schedule(cadence, start_at=start_at, interval_minutes=interval)


day_numbers = st.integers(1, 400)


def skips_day_date(schedule: Schedule, day: int, tz: ZoneInfo) -> bool:
    """True when the zone skips the local date of the day entirely, so its send moves to the next day."""
    if not schedule.is_local or schedule.cadence == "minutes":
        return False
    return due_at(schedule, day, tz).astimezone(tz).date() != day_date(schedule, day)


@settings(max_examples=300, deadline=None)
@given(schedules(), day_numbers, zone_names)
def test_due_at_increases_with_the_day_number(schedule, day, name):
    tz = ZoneInfo(name)

    earlier, later = due_at(schedule, day, tz), due_at(schedule, day + 1, tz)

    assert later > earlier or (later == earlier and skips_day_date(schedule, day, tz))


@settings(max_examples=300, deadline=None)
@given(schedules(), day_numbers, zone_names)
def test_daily_and_weekdays_days_keep_their_wall_time_except_in_a_gap(schedule, day, name):
    tz = ZoneInfo(name)
    sent = due_at(schedule, day, tz)

    if schedule.cadence == "minutes":
        assert sent - due_at(schedule, 1, tz) == (day - 1) * timedelta(minutes=schedule.interval_minutes)
    elif schedule.is_local:
        wall = datetime.combine(day_date(schedule, day), schedule.local_send_time)
        shown = sent.astimezone(tz).replace(tzinfo=None)
        assert shown == wall if instants_showing(wall, tz) else shown > wall
        if schedule.cadence == "weekdays":
            assert day_date(schedule, day).weekday() < 5
    else:
        assert sent.timetz() == schedule.start_at.timetz()
        assert sent >= schedule.start_at
        if schedule.cadence == "weekdays":
            assert sent.weekday() < 5


def catch_up_offsets(schedule: Schedule) -> st.SearchStrategy[timedelta]:
    step = schedule.interval_minutes if schedule.cadence == "minutes" else 1440
    return st.integers(-3 * step, 20 * step).map(lambda minutes: timedelta(minutes=minutes))


def first_regular_due(schedule: Schedule, from_day: int, tz: ZoneInfo, accepts) -> datetime:
    day = from_day
    while not accepts(due_at(schedule, day, tz)):
        day += 1
    return due_at(schedule, day, tz)


@settings(max_examples=300, deadline=None)
@given(st.data(), schedules(), day_numbers, zone_names)
def test_next_due_after_is_the_first_regular_due_from_that_day_on_strictly_after(data, schedule, day, name):
    tz = ZoneInfo(name)
    after = due_at(schedule, day, tz) + data.draw(catch_up_offsets(schedule))

    sent = next_due_after(schedule, day, tz, after)

    assert sent > after
    assert sent >= due_at(schedule, day, tz)
    assert sent == first_regular_due(schedule, day, tz, lambda due: due > after)


@settings(max_examples=200, deadline=None)
@given(st.data(), schedules(), zone_names)
def test_joiner_starts_at_the_first_regular_due_at_or_after_joining(data, schedule, name):
    tz = ZoneInfo(name)
    joined_at = due_at(schedule, 1, tz) + data.draw(catch_up_offsets(schedule))

    sent = first_due_for_joiner(schedule, tz, joined_at)

    assert sent >= joined_at
    assert sent == first_regular_due(schedule, 1, tz, lambda due: due >= joined_at)
