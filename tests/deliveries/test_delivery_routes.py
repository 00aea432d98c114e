"""Deliveries through the HTTP API: create, list, read, schedule, pause/resume/stop."""

from __future__ import annotations

from datetime import UTC, datetime

from ekatra import clock
from ekatra.auth.services import make_admin
from ekatra.deliveries.planner import plan_due_days
from tests.deliveries.factories import ACCRA, KOLKATA, NEW_YORK, course_and_group, create_delivery
from tests.factories import AuthorClient, create_course


def test_creating_a_delivery_enrolls_every_student_and_lists_it_in_the_contract_shape(author):
    course_id, group_id = course_and_group(author)
    delivery_id = create_delivery(author, group_id, course_id)

    (listed,) = author.get("/api/retrieve-deliveries").get_json()
    assert {k: listed[k] for k in ("id", "group_id", "group_name", "course_id", "course_name",
                                   "day_id", "added_by", "status", "scheduled_time")} == {
        "id": delivery_id, "group_id": group_id, "group_name": "Learners", "course_id": course_id,
        "course_name": "Money basics", "day_id": 0, "added_by": author.id, "status": "SCHEDULED",
        "scheduled_time": "2026-12-01 09:00:00"}
    assert listed["counts"]["students"] == 3

    detail = author.get(f"/api/delivery/{delivery_id}").get_json()
    assert detail["days"] == 3
    assert {s["name"]: s["next_day"] for s in detail["students"]} == {
        "Asha": 1, "Maria": 1, "Kofi": 1}


def test_the_list_counts_planned_messages_and_days_as_the_detail_does(author):
    course_id, group_id = course_and_group(author)
    delivery_id = create_delivery(author, group_id, course_id)
    plan_due_days(datetime(2026, 12, 2, 12, tzinfo=UTC))  # day 1 is due in every timezone

    (listed,) = author.get("/api/retrieve-deliveries").get_json()
    detail = author.get(f"/api/delivery/{delivery_id}").get_json()
    assert listed["day_id"] == detail["day_id"] == 1
    assert listed["counts"]["messages"] and listed["counts"] == detail["counts"]
    assert sum(listed["counts"]["messages"].values()) == sum(
        sum(student["messages"].values()) for student in detail["students"])
    assert {key: detail[key] for key in listed} == listed


def test_an_admin_lists_every_authors_deliveries(client, author, other_author):
    mine = create_delivery(author, *reversed(course_and_group(author)))
    theirs = create_delivery(other_author, *reversed(course_and_group(other_author)))
    make_admin(email=author.email, name=None, password=None, now=clock.now(), rounds=4)
    admin = AuthorClient.login(client, author.email)
    assert [d["id"] for d in admin.get("/api/retrieve-deliveries").get_json()] == [mine, theirs]
    assert admin.get(f"/api/delivery/{theirs}").get_json()["group_name"] == "Learners"
    assert [d["id"] for d in other_author.get("/api/retrieve-deliveries").get_json()] == [theirs]


def test_schedule_applies_the_wall_time_in_each_students_zone(author):
    course_id, group_id = course_and_group(author)
    delivery_id = create_delivery(author, group_id, course_id, schedule_at="2026-12-01 09:00:00")
    students = {s["name"]: s for s in
                author.get(f"/api/delivery/{delivery_id}/schedule").get_json()["students"]}
    asha = students["Asha"]["days"]
    assert [d["day"] for d in asha] == [1, 2, 3]
    assert asha[0]["local"] == "2026-12-01T09:00:00+05:30"
    assert asha[0]["utc"] == "2026-12-01T03:30:00Z"
    assert asha[2]["utc"] == "2026-12-03T03:30:00Z"
    assert students["Maria"]["days"][0]["utc"] == "2026-12-01T14:00:00Z"
    assert students["Kofi"]["days"][1]["utc"] == "2026-12-02T09:00:00Z"


def test_an_offset_or_timezone_makes_one_instant_for_everyone(author):
    course_id, group_id = course_and_group(author)
    for body in ({"schedule_at": "2026-12-01T09:00:00+05:30"},
                 {"schedule_at": "2026-12-01 09:00:00", "timezone": "Asia/Kolkata"}):
        delivery_id = create_delivery(author, group_id, course_id, **body)
        schedule = author.get(f"/api/delivery/{delivery_id}/schedule").get_json()["students"]
        assert {s["days"][0]["utc"] for s in schedule} == {"2026-12-01T03:30:00Z"}


def test_minutes_cadence_spaces_days_by_the_interval(author):
    course_id, group_id = course_and_group(author, students=(KOLKATA,))
    delivery_id = create_delivery(author, group_id, course_id, cadence="minutes", interval=30,
                                  schedule_at="2026-12-01T09:00:00Z")
    (student,) = author.get(f"/api/delivery/{delivery_id}/schedule").get_json()["students"]
    assert [d["utc"] for d in student["days"]] == [
        "2026-12-01T09:00:00Z", "2026-12-01T09:30:00Z", "2026-12-01T10:00:00Z"]


def test_bad_schedules_are_400_naming_the_field(author):
    course_id, group_id = course_and_group(author)
    path = f"/api/delivery/group/{group_id}/{course_id}"
    cases = [({"schedule_at": "tomorrow"}, "schedule_at"),
             ({"schedule_at": "2026-13-01 09:00:00"}, "schedule_at"),
             ({"schedule_at": "2026-12-01 09:00:00", "timezone": "Mars/Base"}, "timezone"),
             ({"schedule_at": "2026-12-01 09:00:00", "cadence": "minutes"}, "interval"),
             ({"schedule_at": "2026-12-01 09:00:00", "cadence": "hourly"}, "cadence"),
             ({"schedule_at": "2026-12-01 09:00:00", "cadence": "minutes", "interval": 0}, "interval"),
             ({}, "schedule_at")]
    for body, field in cases:
        response = author.post(path, json=body)
        assert response.status_code == 400, (body, response.get_json())
        assert field in response.get_json()["errors"], (body, response.get_json())


def test_empty_course_or_empty_group_is_400(author):
    course_id, group_id = course_and_group(author)
    empty_course = create_course(author, {"name": "Empty", "author": "a", "description": "", "days": []})
    empty_group = author.post("/api/group/", json={"name": "Nobody", "description": ""}).get_json()["id"]
    assert author.post(f"/api/delivery/group/{group_id}/{empty_course}",
                       json={"schedule_at": "2026-12-01 09:00:00"}).status_code == 400
    assert author.post(f"/api/delivery/group/{empty_group}/{course_id}",
                       json={"schedule_at": "2026-12-01 09:00:00"}).status_code == 400


def test_another_authors_delivery_group_or_course_is_404(author, other_author):
    course_id, group_id = course_and_group(author)
    delivery_id = create_delivery(author, group_id, course_id)
    theirs = course_and_group(other_author, students=(NEW_YORK,))
    assert other_author.get(f"/api/delivery/{delivery_id}").status_code == 404
    assert other_author.put(f"/api/delivery/{delivery_id}", json={"action": "STOP"}).status_code == 404
    assert other_author.get(f"/api/delivery/{delivery_id}/schedule").status_code == 404
    assert other_author.get(f"/api/delivery/{delivery_id}/messages").status_code == 404
    assert other_author.get("/api/retrieve-deliveries").get_json() == []
    response = author.post(f"/api/delivery/group/{theirs[1]}/{course_id}",
                           json={"schedule_at": "2026-12-01 09:00:00"})
    assert response.status_code == 404 and response.get_json()["message"] == "Group not found!!"
    response = author.post(f"/api/delivery/group/{group_id}/{theirs[0]}",
                           json={"schedule_at": "2026-12-01 09:00:00"})
    assert response.status_code == 404 and response.get_json()["message"] == "Course not found!!"


def test_pause_resume_stop_and_impossible_transitions(author):
    course_id, group_id = course_and_group(author, students=(ACCRA,))
    delivery_id = create_delivery(author, group_id, course_id)
    path = f"/api/delivery/{delivery_id}"

    def act(body):
        return author.put(path, json=body)

    assert act({"action": "RESUME"}).status_code == 409
    response = act({"action": "PAUSE"})
    assert response.status_code == 200 and response.get_json()["status"] == "PAUSED"
    assert act({"action": "PAUSE"}).status_code == 409
    assert act({"status": "resume"}).get_json()["status"] == "SCHEDULED"  # the contract's key
    assert act({"action": "STOP"}).get_json()["status"] == "STOPPED"
    conflict = act({"action": "RESUME"})
    assert conflict.status_code == 409 and "STOP is final" in conflict.get_json()["message"]
    assert act({"action": "JUMP"}).status_code == 400
    assert author.get(path).get_json()["status"] == "STOPPED"
