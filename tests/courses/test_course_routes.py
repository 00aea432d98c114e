"""Courses through the HTTP API: create, list, read, change, delete, and who may see them."""

from __future__ import annotations

from flask import json

from ekatra import clock
from ekatra.auth.services import Actor, make_admin
from ekatra.courses.schemas import CourseSchema
from ekatra.courses.services import find_course
from tests.factories import AuthorClient, contract_course, create_course


def test_creating_a_contract_shaped_course_returns_its_id(author):
    response = author.post("/api/course/", json=contract_course())
    assert response.status_code == 200
    body = response.get_json()
    assert body["message"] == "success"
    assert isinstance(body["id"], int)


def test_a_created_course_reads_back_in_the_contract_shape(author):
    course_id = create_course(author)
    response = author.get(f"/api/course/{course_id}")
    assert response.status_code == 200
    course = response.get_json()
    assert {key: course[key] for key in ("id", "name", "author", "description", "language")} == {
        "id": course_id, "name": "Python", "author": "Ekatra", "description": "description",
        "language": "en"}
    assert [(day["day"], day["text"]) for day in course["days"]] == [
        (1, "Introduction"), (2, "print hello world")]
    assert course["days"][0]["questions"] == []
    first, second = course["days"][1]["questions"]
    assert first == {
        "id": first["id"], "question": "What is print statement?", "type": "text",
        "correct-answer": "Python statement displays the variable or any character.",
        "accepted_answers": [], "options": [], "feedback_correct": None,
        "feedback_incorrect": None}
    assert (second["type"], second["correct-answer"]) == ("boolean", "yes")


def test_a_course_reads_back_exactly_as_its_objects_dump(app, author):
    """GET /api/course/<id> reads rows, not ORM objects: it must show what CourseSchema makes of
    the course's objects, days and questions in order, a day without questions included."""
    body = contract_course()
    body["days"].append({"text": "बचत", "questions": [
        {"question": "Pick one", "type": "choice", "options": ["save", "spend", "lend"],
         "correct-answer": "C", "accepted_answers": ["lend it"], "feedback_correct": "Yes!",
         "feedback_incorrect": "No."},
        {"question": "Why?", "type": "open"}]})
    course_id = create_course(author, body)
    (first, _) = author.get(f"/api/course/{course_id}").get_json()["days"][1]["questions"]
    assert author.delete(f"/api/course/{course_id}/2/{first['id']}").status_code == 200
    assert author.post(f"/api/course/{course_id}/days", json={"text": "Last"}).status_code == 200

    expected = CourseSchema().dump(find_course(Actor(author.id), course_id))
    assert author.get(f"/api/course/{course_id}").get_json() == json.loads(json.dumps(expected))


def test_day_numbers_are_assigned_in_order_whatever_the_client_sends(author):
    body = contract_course()
    body["days"] = [{"day": 7, "text": "first"}, {"day": "x", "text": "second"}]
    course = author.get(f"/api/course/{create_course(author, body)}").get_json()
    assert [(day["day"], day["text"]) for day in course["days"]] == [(1, "first"), (2, "second")]


def test_a_course_needs_only_a_name(author):
    course_id = create_course(author, {"name": "  Bare  "})
    course = author.get(f"/api/course/{course_id}").get_json()
    assert (course["name"], course["author"], course["description"], course["days"]) == (
        "Bare", "", "", [])


def test_listing_courses_is_an_empty_list_when_there_are_none(author):
    response = author.get("/api/course/")
    assert response.status_code == 200
    assert response.get_json() == []


def test_listing_shows_only_the_authors_own_courses(author, other_author):
    mine = create_course(author, contract_course("Mine"))
    create_course(other_author, contract_course("Theirs"))
    listed = author.get("/api/course/").get_json()
    assert [(course["id"], course["name"]) for course in listed] == [(mine, "Mine")]
    assert listed[0]["days"][1]["questions"][0]["question"] == "What is print statement?"


def test_another_authors_course_is_not_found(author, other_author):
    course_id = create_course(author)
    for response in (
        other_author.get(f"/api/course/{course_id}"),
        other_author.put(f"/api/course/{course_id}", json={"name": "Stolen"}),
        other_author.delete(f"/api/course/{course_id}"),
        other_author.get(f"/api/course/{course_id}/preview"),
        other_author.post(f"/api/course/{course_id}/days", json={"text": "x"}),
        other_author.put(f"/api/course/{course_id}/1", json={"text": "x"}),
        other_author.delete(f"/api/course/{course_id}/1"),
    ):
        assert response.status_code == 404
        assert response.get_json() == {"message": "Course not found!!"}
    assert author.get(f"/api/course/{course_id}").get_json()["name"] == "Python"
    assert len(author.get(f"/api/course/{course_id}").get_json()["days"]) == 2


def test_an_admin_sees_and_changes_every_authors_courses(app, client, author, other_author):
    theirs = create_course(other_author, contract_course("Theirs"))
    create_course(author, contract_course("Mine"))
    make_admin(email=author.email, name=None, password=None, now=clock.now(), rounds=4)
    admin = AuthorClient.login(client, author.email)
    assert sorted(course["name"] for course in admin.get("/api/course/").get_json()) == [
        "Mine", "Theirs"]
    assert admin.get(f"/api/course/{theirs}").status_code == 200
    assert admin.put(f"/api/course/{theirs}", json={"name": "Renamed"}).status_code == 200
    assert other_author.get(f"/api/course/{theirs}").get_json()["name"] == "Renamed"
    assert [course["name"] for course in other_author.get("/api/course/").get_json()] == ["Renamed"]


def test_unknown_course_is_not_found_with_the_contract_message(author):
    for path in ("/api/course/999", "/api/course/99999999999999999999", "/api/course/999/preview"):
        response = author.get(path)
        assert response.status_code == 404
        assert response.get_json() == {"message": "Course not found!!"}


def test_updating_a_course_appends_days_after_the_last(author):
    course_id = create_course(author)
    response = author.put(f"/api/course/{course_id}", json={"days": [
        {"day": "day num (readonly)", "text": "string", "questions": [
            {"question": "string", "type": "string", "correct_answer": "string"}]}]})
    assert response.status_code == 400  # "string" is not a question type
    assert "type" in response.get_json()["errors"]["days"]["0"]["questions"]["0"]

    response = author.put(f"/api/course/{course_id}", json={"days": [
        {"day": "day num (readonly)", "text": "Loops", "questions": [
            {"question": "Name a loop", "type": "Q/A", "correct_answer": "for"}]},
        {"text": "Functions"}]})
    assert response.status_code == 200
    assert response.get_json() == {"message": "success"}
    days = author.get(f"/api/course/{course_id}").get_json()["days"]
    assert [(day["day"], day["text"]) for day in days] == [
        (1, "Introduction"), (2, "print hello world"), (3, "Loops"), (4, "Functions")]
    assert days[2]["questions"][0]["correct-answer"] == "for"


def test_updating_a_course_changes_only_the_given_fields(author):
    course_id = create_course(author)
    response = author.put(f"/api/course/{course_id}",
                          json={"name": "Python 3", "language": "hi", "description": "नया"})
    assert response.status_code == 200
    course = author.get(f"/api/course/{course_id}").get_json()
    assert (course["name"], course["author"], course["description"], course["language"]) == (
        "Python 3", "Ekatra", "नया", "hi")
    assert len(course["days"]) == 2


def test_deleting_a_course_removes_it_and_its_days(author):
    course_id = create_course(author)
    response = author.delete(f"/api/course/{course_id}")
    assert response.status_code == 200
    assert response.get_json() == {"message": "success"}
    assert author.get(f"/api/course/{course_id}").status_code == 404
    assert author.delete(f"/api/course/{course_id}").status_code == 404
    assert author.get("/api/course/").get_json() == []


def test_course_routes_need_a_token(client, author):
    course_id = create_course(author)
    assert client.get("/api/course/").status_code == 401
    assert client.post("/api/course/", json=contract_course()).status_code == 401
    assert client.get(f"/api/course/{course_id}").status_code == 401
    assert client.delete(f"/api/course/{course_id}").status_code == 401
