"""Schedules stay inside the calendar: bad dates are refused at the API, and one delivery whose
stored schedule cannot be computed never stops the planner for the others."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import select, update

from ekatra import clock
from ekatra.deliveries import planning
from ekatra.deliveries.models import Delivery, Enrollment
from ekatra.deliveries.planner import plan_due_days
from ekatra.extensions import db
from ekatra.outbox.models import Message
from tests.deliveries.factories import KOLKATA, NEW_YORK, course_and_group, create_delivery


@pytest.mark.parametrize("schedule_at", [
    "9999-12-31 23:00:00", "0001-01-01 00:00:00", "9999-12-31T23:00:00-05:00",
    "0001-01-01T00:00:00+05:00", "1999-12-31 09:00:00"])
def test_a_schedule_outside_the_calendar_range_is_a_400_naming_schedule_at(author, schedule_at):
    course_id, group_id = course_and_group(author, students=(NEW_YORK,))

    response = author.post(f"/api/delivery/group/{group_id}/{course_id}", json={"schedule_at": schedule_at})

    assert response.status_code == 400
    body = response.get_json()
    assert "schedule_at" in body["errors"] and "2000-01-01" in body["message"]
    assert author.get("/api/retrieve-deliveries").get_json() == []


def test_a_schedule_in_a_fixed_timezone_in_year_9999_is_a_400(author):
    course_id, group_id = course_and_group(author, students=(NEW_YORK,))
    response = author.post(f"/api/delivery/group/{group_id}/{course_id}",
                           json={"schedule_at": "9999-12-31 23:00:00", "timezone": "America/New_York"})
    assert response.status_code == 400
    assert "schedule_at" in response.get_json()["errors"]


def test_a_start_more_than_five_years_ahead_is_refused_and_five_years_is_accepted(author):
    course_id, group_id = course_and_group(author, students=(NEW_YORK,))
    today = clock.now().date()
    too_far = today + timedelta(days=5 * 366 + 2)
    refused = author.post(f"/api/delivery/group/{group_id}/{course_id}",
                          json={"schedule_at": f"{too_far.isoformat()} 09:00:00"})
    assert refused.status_code == 400 and "schedule_at" in refused.get_json()["errors"]
    in_range = today.replace(year=today.year + 5, day=min(today.day, 28))
    create_delivery(author, group_id, course_id, schedule_at=f"{in_range.isoformat()} 09:00:00",
                    cadence="weekdays")


def test_the_last_day_of_a_long_course_at_the_latest_start_stays_in_the_calendar():
    latest = date(2026, 1, 1) + timedelta(days=5 * 366)
    schedule = planning.Schedule(cadence="weekdays", local_start_date=latest, local_send_time=time(23, 59))
    last = planning.due_at(schedule, 1000, planning.zone("Pacific/Kiritimati"))
    assert last.year < 2040


def test_schedule_math_past_the_year_9999_is_a_value_error_not_an_overflow():
    schedule = planning.Schedule(cadence="daily", local_start_date=date(9999, 12, 31),
                                 local_send_time=time(23, 0))
    with pytest.raises(planning.OutOfRange):
        planning.due_at(schedule, 2, planning.zone("America/New_York"))
    with pytest.raises(planning.OutOfRange):
        planning.next_due_after(schedule, 2, planning.zone("America/New_York"),
                                datetime(2026, 12, 1, tzinfo=UTC))


def _poison(delivery_id: int, start: date, send_time: time = time(23, 0)) -> None:
    """What a row written before schedules were bounded looks like: bypasses the API's checks."""
    db.session.execute(update(Delivery).where(Delivery.id == delivery_id)
                       .values(local_start_date=start, local_send_time=send_time))
    db.session.commit()


def _days_planned(delivery_id: int) -> list[tuple[str, int]]:
    db.session.expire_all()
    return sorted({(m.to_phone, m.day_number) for m in db.session.scalars(
        select(Message).where(Message.delivery_id == delivery_id))})


# 23:00 on 9999-12-31 west of UTC is in the year 10000; 00:00 on 0001-01-01 east of it, in the year 0.
@pytest.mark.parametrize(("start", "send_time", "late_zone"), [
    (date(9999, 12, 31), time(23, 0), "America/Los_Angeles"),
    (date(1, 1, 1), time(0, 0), "Asia/Kolkata")])
def test_a_poisoned_delivery_does_not_stop_the_planner_for_the_others(author, other_author, start,
                                                                      send_time, late_zone):
    good_course, good_group = course_and_group(author, students=(KOLKATA,))
    good = create_delivery(author, good_group, good_course)
    bad_course, bad_group = course_and_group(other_author, students=(NEW_YORK,))
    bad = create_delivery(other_author, bad_group, bad_course)
    _poison(bad, start, send_time)
    # A student who joins the poisoned delivery's group has to be enrolled from its schedule too.
    other_author.post(f"/api/group/{bad_group}/students", json={"students": [
        {"name": "Late", "number": "+12125550199", "timezone": late_zone}]})
    now = datetime(2026, 12, 1, 23, 0, tzinfo=UTC)

    stats = plan_due_days(now)

    assert _days_planned(good) == [(KOLKATA["number"], 1)]
    assert _days_planned(bad) == []
    assert [problem.split(":")[0] for problem in stats.problems] == [f"delivery {bad}"]
    shown = other_author.get(f"/api/delivery/{bad}").get_json()
    assert shown["planning_error"] and shown["planning_failed_at"]
    assert author.get(f"/api/delivery/{good}").get_json()["planning_error"] is None
    listed = {d["id"]: d for d in other_author.get("/api/retrieve-deliveries").get_json()}
    assert listed[bad]["planning_error"] == shown["planning_error"]
    # Nothing of the poisoned delivery's tick was kept: its enrollments are as they were.
    enrollments = db.session.scalars(select(Enrollment).where(Enrollment.delivery_id == bad)).all()
    assert [e.next_day for e in enrollments] == [1]

    # Its schedule view answers (no 500) with what the calendar can show.
    assert other_author.get(f"/api/delivery/{bad}/schedule").status_code == 200

    # The next tick goes on with the good one, day 2.
    plan_due_days(now + timedelta(days=1))
    assert _days_planned(good) == [(KOLKATA["number"], 1), (KOLKATA["number"], 2)]


def test_a_delivery_that_plans_again_loses_its_planning_error(author):
    course_id, group_id = course_and_group(author, students=(NEW_YORK,))
    delivery_id = create_delivery(author, group_id, course_id)
    _poison(delivery_id, date(9999, 12, 31))
    now = datetime(2026, 12, 1, 23, 0, tzinfo=UTC)
    plan_due_days(now)
    assert author.get(f"/api/delivery/{delivery_id}").get_json()["planning_error"]

    db.session.execute(update(Delivery).where(Delivery.id == delivery_id)
                       .values(local_start_date=date(2026, 12, 1), local_send_time=time(9, 0)))
    db.session.commit()
    plan_due_days(now)

    shown = author.get(f"/api/delivery/{delivery_id}").get_json()
    assert (shown["planning_error"], shown["planning_failed_at"]) == (None, None)
    assert _days_planned(delivery_id) == [(NEW_YORK["number"], 1)]
