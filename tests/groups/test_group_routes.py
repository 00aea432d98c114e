"""Groups and students through /api/group: the contract's payloads, validation, ownership."""

from __future__ import annotations

from ekatra import clock
from ekatra.auth.services import make_admin
from ekatra.extensions import db
from ekatra.outbox.models import OptOut
from tests.factories import PASSWORD, AuthorClient
from tests.groups.factories import (
    AMIT,
    GROUP1,
    SREEVASTAV,
    TEJAS,
    students_of,
    without_ids,
)
from tests.groups.factories import create_group as create

# Create and read ---------------------------------------------------------------------------


def test_create_then_get_returns_the_contract_shape(author):
    group_id = create(author)
    response = author.get(f"/api/group/{group_id}")
    assert response.status_code == 200
    body = response.get_json()
    assert body["id"] == group_id
    assert body["name"] == "Group1" and body["description"] == "group1"
    assert body["default_timezone"] == "UTC" and body["default_channel"] == "sms"
    assert without_ids(body["students"]) == [TEJAS, AMIT]
    assert all(isinstance(s["id"], int) and s["opted_out"] is False for s in body["students"])


def test_list_shows_groups_with_students_and_is_empty_list_when_none(author):
    assert author.get("/api/group/").get_json() == []
    first = create(author)
    second = create(author, {"name": "Group2", "description": "group2",
                             "students": [TEJAS, AMIT, SREEVASTAV]})
    response = author.get("/api/group/")
    assert response.status_code == 200
    groups = response.get_json()
    assert [g["id"] for g in groups] == [first, second]
    assert [len(g["students"]) for g in groups] == [2, 3]


def test_national_number_is_read_with_country_code_and_stored_in_e164(author):
    group_id = create(author, {"name": "G", "students": [
        {"name": "Amit", "number": "09113029491", "country_code": "+91", "channel": "sms",
         "timezone": "Asia/Kolkata"},
        {"name": "Jo", "number": "(415) 555-2671", "country_code": "1", "channel": "SMS",
         "timezone": "america/new_york"}]})
    amit, jo = students_of(author, group_id)
    assert amit["number"] == "+919113029491" and amit["country_code"] == "+91"
    assert jo["number"] == "+14155552671" and jo["country_code"] == "+1"
    assert jo["channel"] == "sms" and jo["timezone"] == "America/New_York"


def test_channel_and_timezone_default_to_the_groups_defaults(author):
    group_id = create(author, {"name": "G", "default_timezone": "Asia/Kolkata",
                               "default_channel": "WhatsApp",
                               "students": [{"name": "Amit", "number": "+919113029491"}]})
    body = author.get(f"/api/group/{group_id}").get_json()
    assert body["default_channel"] == "whatsapp"
    (amit,) = body["students"]
    assert (amit["channel"], amit["timezone"], amit["is_subscribed"]) == (
        "whatsapp", "Asia/Kolkata", True)


def test_group_may_be_created_without_students(author):
    group_id = create(author, {"name": "Empty"})
    assert students_of(author, group_id) == []


def test_opted_out_shows_the_opt_outs_table(app, author):
    group_id = create(author)
    db.session.add(OptOut(phone=TEJAS["number"], channel="whatsapp", since_at=clock.now(),
                          source="keyword"))
    db.session.add(OptOut(phone=AMIT["number"], channel="whatsapp", since_at=clock.now(),
                          source="api"))  # Amit is on sms: not opted out there
    db.session.commit()
    flags = {s["name"]: s["opted_out"] for s in students_of(author, group_id)}
    assert flags == {"Tejas": True, "Amit": False}
    listed = author.get("/api/group/").get_json()[0]["students"]
    assert {s["name"]: s["opted_out"] for s in listed} == flags


def test_a_group_reads_back_exactly_as_the_list_shows_it(app, author):
    """GET /api/group/<id> reads rows, the list reads objects: both show the same group."""
    group_id = create(author)
    author.post(f"/api/group/{group_id}/students", json={"students": [SREEVASTAV]})
    author.put(f"/api/group/{group_id}", json={"description": "changed"})
    db.session.add(OptOut(phone=TEJAS["number"], channel="whatsapp", since_at=clock.now(),
                          source="keyword"))
    db.session.commit()
    (listed,) = author.get("/api/group/").get_json()
    assert author.get(f"/api/group/{group_id}").get_json() == listed


# Validation --------------------------------------------------------------------------------


def test_missing_name_is_400_naming_the_field(author):
    response = author.post("/api/group/", json={"description": "d", "students": []})
    assert response.status_code == 400
    assert "name" in response.get_json()["errors"]


def test_invalid_number_names_the_student_and_field(author):
    bad = {**AMIT, "number": "12345"}
    response = author.post("/api/group/", json={"name": "G", "students": [TEJAS, bad]})
    assert response.status_code == 400
    body = response.get_json()
    assert list(body["errors"]["students"]["1"]) == ["number"]
    assert "Amit" in body["message"] and "students.1" in body["message"]
    assert author.get("/api/group/").get_json() == []  # nothing was created


def test_unknown_timezone_names_the_student_and_field(author):
    response = author.post("/api/group/", json={"name": "G", "students": [
        {**TEJAS, "timezone": "Mars/Olympus_Mons"}]})
    assert response.status_code == 400
    body = response.get_json()
    assert list(body["errors"]["students"]["0"]) == ["timezone"]
    assert "Tejas" in body["message"]


def test_unknown_channel_names_the_student_and_field(author):
    response = author.post("/api/group/", json={"name": "G", "students": [
        AMIT, {**TEJAS, "channel": "channelname"}]})
    assert response.status_code == 400
    body = response.get_json()
    assert list(body["errors"]["students"]["1"]) == ["channel"]
    assert "Tejas" in body["message"] and "sms, whatsapp" in body["message"]


def test_every_bad_student_is_reported(author):
    response = author.post("/api/group/", json={"name": "G", "students": [
        {**AMIT, "number": "x"}, TEJAS, {**SREEVASTAV, "timezone": "local", "channel": "fax"}]})
    assert response.status_code == 400
    errors = response.get_json()["errors"]["students"]
    assert set(errors) == {"0", "2"}
    assert set(errors["2"]) == {"timezone", "channel"}


def test_national_number_without_country_code_is_400(author):
    response = author.post("/api/group/", json={"name": "G", "students": [
        {**AMIT, "number": "9113029491", "country_code": None}]})
    assert response.status_code == 400
    assert "country_code" in response.get_json()["errors"]["students"]["0"]["number"][0]


def test_bad_group_defaults_are_400(author):
    response = author.post("/api/group/", json={"name": "G", "default_timezone": "Nowhere",
                                                "default_channel": "pigeon"})
    assert response.status_code == 400
    assert set(response.get_json()["errors"]) == {"default_timezone", "default_channel"}


def test_overlong_or_wrongly_typed_fields_are_400_not_500(author):
    for body in (
        {"name": "x" * 201},
        {"name": "G", "description": "d" * 2001},
        {"name": "G", "students": [{**AMIT, "name": "n" * 201}]},
        {"name": "G", "students": [{**AMIT, "number": "9" * 41}]},
        {"name": "G", "students": [{**AMIT, "timezone": "A" * 5000}]},
        {"name": "G", "students": [{**AMIT, "channel": 7}]},
        {"name": "G", "students": [{**AMIT, "country_code": "+" + "1" * 50}]},
        {"name": "G", "students": "Amit"},
        {"name": "   "},
        {"name": "G\u0000"},
        {"name": "G", "description": "\u0000"},
        {"name": "G", "students": [{**AMIT, "name": "A\u0000"}]},
    ):
        response = author.post("/api/group/", json=body)
        assert response.status_code == 400, (body, response.get_json())
        assert response.get_json()["errors"]


def test_same_phone_twice_in_a_request_is_409_naming_it(author):
    response = author.post("/api/group/", json={"name": "G", "students": [
        AMIT, {**TEJAS, "number": "09113029491", "country_code": "+91"}]})
    assert response.status_code == 409
    assert "+919113029491" in response.get_json()["message"]


def test_adding_a_phone_already_in_the_group_is_409(author):
    group_id = create(author)
    response = author.post(f"/api/group/{group_id}/students",
                           json={"students": [{**SREEVASTAV, "number": AMIT["number"]}]})
    assert response.status_code == 409
    assert AMIT["number"] in response.get_json()["message"]


def test_the_same_phone_may_be_in_two_groups(author):
    create(author)
    create(author)


def test_non_json_body_is_415(author):
    response = author.post("/api/group/", data="name=G",
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415


# Update and delete -------------------------------------------------------------------------


def test_put_updates_fields_and_keeps_students_when_not_given(author):
    group_id = create(author)
    before = students_of(author, group_id)
    response = author.put(f"/api/group/{group_id}", json={
        "name": "Renamed", "description": "new", "default_timezone": "Europe/London"})
    assert response.status_code == 200 and response.get_json()["message"] == "success"
    body = author.get(f"/api/group/{group_id}").get_json()
    assert (body["name"], body["description"], body["default_timezone"]) == (
        "Renamed", "new", "Europe/London")
    assert body["students"] == before


def test_put_students_list_replaces_students_matching_by_id_then_phone(author):
    group_id = create(author, {**GROUP1, "students": [TEJAS, AMIT, SREEVASTAV]})
    tejas, amit, _sreevastav = students_of(author, group_id)
    response = author.put(f"/api/group/{group_id}", json={**GROUP1, "students": [
        {**TEJAS, "id": tejas["id"], "name": "Tejas R", "number": "+919380169982"},
        {**AMIT, "channel": "whatsapp"},  # no id: matched by phone
        {"name": "New", "number": "+919876543210", "channel": "sms", "timezone": "UTC"},
    ]})
    assert response.status_code == 200, response.get_json()
    after = {s["name"]: s for s in students_of(author, group_id)}
    assert set(after) == {"Tejas R", "Amit", "New"}
    assert after["Tejas R"]["id"] == tejas["id"]
    assert after["Tejas R"]["number"] == "+919380169982"
    assert after["Amit"]["id"] == amit["id"] and after["Amit"]["channel"] == "whatsapp"


def test_put_may_swap_phones_between_students_and_pass_on_a_freed_phone(author):
    group_id = create(author, {**GROUP1, "students": [TEJAS, AMIT, SREEVASTAV]})
    tejas, amit, sree = students_of(author, group_id)
    response = author.put(f"/api/group/{group_id}", json={"students": [
        {**TEJAS, "id": tejas["id"], "number": AMIT["number"]},
        {**AMIT, "id": amit["id"], "number": TEJAS["number"]},
        {**SREEVASTAV, "id": sree["id"], "number": "+919876543210"},
        {"name": "Newcomer", "number": SREEVASTAV["number"]},
    ]})
    assert response.status_code == 200, response.get_json()
    after = {s["name"]: s for s in students_of(author, group_id)}
    assert after["Tejas"]["number"] == AMIT["number"] and after["Tejas"]["id"] == tejas["id"]
    assert after["Amit"]["number"] == TEJAS["number"] and after["Amit"]["id"] == amit["id"]
    assert after["Sreevastav"]["id"] == sree["id"]
    assert after["Newcomer"]["number"] == SREEVASTAV["number"]
    assert after["Newcomer"]["id"] not in (tejas["id"], amit["id"], sree["id"])


def test_put_item_without_id_updates_the_student_with_that_number(author):
    group_id = create(author)
    tejas, amit = students_of(author, group_id)
    response = author.put(f"/api/group/{group_id}", json={"students": [
        {**AMIT, "id": amit["id"]}, {"name": "Renamed", "number": TEJAS["number"]}]})
    assert response.status_code == 200
    after = students_of(author, group_id)
    # Without an id, the listed number finds Tejas: he is renamed, not removed and re-added.
    assert [(s["id"], s["name"]) for s in after] == [(tejas["id"], "Renamed"), (amit["id"], "Amit")]


def test_put_with_empty_students_removes_all(author):
    group_id = create(author)
    assert author.put(f"/api/group/{group_id}", json={"students": []}).status_code == 200
    assert students_of(author, group_id) == []


def test_put_with_unknown_student_id_is_400_and_changes_nothing(author):
    group_id = create(author)
    response = author.put(f"/api/group/{group_id}", json={"name": "X", "students": [
        {**AMIT, "id": 999999}]})
    assert response.status_code == 400
    assert "id" in response.get_json()["errors"]["students"]["0"]
    body = author.get(f"/api/group/{group_id}").get_json()
    assert body["name"] == "Group1" and len(body["students"]) == 2


def test_put_with_duplicate_phones_is_409(author):
    group_id = create(author)
    response = author.put(f"/api/group/{group_id}",
                          json={"students": [AMIT, {**TEJAS, "number": AMIT["number"]}]})
    assert response.status_code == 409


def test_delete_group_removes_it_and_its_students(author):
    group_id = create(author)
    response = author.delete(f"/api/group/{group_id}")
    assert response.status_code == 200 and response.get_json() == {"message": "success"}
    missing = author.get(f"/api/group/{group_id}")
    assert missing.status_code == 404
    assert missing.get_json() == {"message": "Group not found!!"}
    from ekatra.groups.models import Student
    assert db.session.query(Student).count() == 0


# One student -------------------------------------------------------------------------------


def test_add_students_returns_their_ids(author):
    group_id = create(author)
    response = author.post(f"/api/group/{group_id}/students", json={"students": [
        SREEVASTAV, {"name": "Ravi", "number": "9876543210", "country_code": "+91"}]})
    assert response.status_code == 200, response.get_json()
    ids = response.get_json()["ids"]
    assert len(ids) == 2
    assert [s["id"] for s in students_of(author, group_id)][-2:] == ids


def test_add_students_reports_bad_ones_by_name(author):
    group_id = create(author)
    response = author.post(f"/api/group/{group_id}/students", json={"students": [
        {**SREEVASTAV, "timezone": "Asia/Bangalore"}]})
    assert response.status_code == 400
    assert "timezone" in response.get_json()["errors"]["students"]["0"]
    assert "Sreevastav" in response.get_json()["message"]


def test_update_one_student_changes_only_given_fields(author):
    group_id = create(author)
    tejas = students_of(author, group_id)[0]
    response = author.put(f"/api/group/{group_id}/{tejas['id']}",
                          json={"channel": "SMS", "is_subscribed": False})
    assert response.status_code == 200 and response.get_json()["message"] == "success"
    after = students_of(author, group_id)[0]
    assert after == {**tejas, "channel": "sms", "is_subscribed": False}


def test_update_one_student_number_with_country_code(author):
    group_id = create(author)
    tejas = students_of(author, group_id)[0]
    response = author.put(f"/api/group/{group_id}/{tejas['id']}",
                          json={"number": "020 7946 0958", "country_code": "+44",
                                "timezone": "Europe/London"})
    assert response.status_code == 200, response.get_json()
    after = students_of(author, group_id)[0]
    assert (after["number"], after["country_code"], after["timezone"]) == (
        "+442079460958", "+44", "Europe/London")


def test_update_one_student_bad_fields_are_400_naming_them(author):
    group_id = create(author)
    tejas = students_of(author, group_id)[0]
    response = author.put(f"/api/group/{group_id}/{tejas['id']}",
                          json={"number": "1", "timezone": "Nowhere", "channel": "fax"})
    assert response.status_code == 400
    assert set(response.get_json()["errors"]) == {"number", "timezone", "channel"}
    assert "Tejas" in response.get_json()["message"]


def test_update_one_student_to_a_phone_in_the_group_is_409(author):
    group_id = create(author)
    tejas = students_of(author, group_id)[0]
    response = author.put(f"/api/group/{group_id}/{tejas['id']}", json={"number": AMIT["number"]})
    assert response.status_code == 409
    assert AMIT["number"] in response.get_json()["message"]


def test_remove_one_student(author):
    group_id = create(author)
    tejas, amit = students_of(author, group_id)
    response = author.delete(f"/api/group/{group_id}/{tejas['id']}")
    assert response.status_code == 200 and response.get_json() == {"message": "success"}
    assert [s["id"] for s in students_of(author, group_id)] == [amit["id"]]
    again = author.delete(f"/api/group/{group_id}/{tejas['id']}")
    assert again.status_code == 404 and again.get_json() == {"message": "Student not found"}


def test_student_of_another_group_is_not_found_through_this_group(author):
    first = create(author)
    second = create(author)
    other_student = students_of(author, second)[0]
    assert author.put(f"/api/group/{first}/{other_student['id']}",
                      json={"name": "X"}).status_code == 404
    assert author.delete(f"/api/group/{first}/{other_student['id']}").status_code == 404


# Ownership ---------------------------------------------------------------------------------


def test_another_authors_group_is_404_everywhere(author, other_author):
    group_id = create(author)
    student_id = students_of(author, group_id)[0]["id"]
    not_found = {"message": "Group not found!!"}
    for response in (
        other_author.get(f"/api/group/{group_id}"),
        other_author.put(f"/api/group/{group_id}", json={"name": "Mine"}),
        other_author.delete(f"/api/group/{group_id}"),
        other_author.post(f"/api/group/{group_id}/students", json={"students": [SREEVASTAV]}),
        other_author.put(f"/api/group/{group_id}/{student_id}", json={"name": "Mine"}),
        other_author.delete(f"/api/group/{group_id}/{student_id}"),
        other_author.post(f"/api/group/{group_id}/import", data="name,number\nA,+919876543210\n",
                          content_type="text/csv"),
        other_author.get(f"/api/group/{group_id}/export"),
    ):
        assert response.status_code == 404, response.request.path
        assert response.get_json() == not_found
    assert other_author.get("/api/group/").get_json() == []
    body = author.get(f"/api/group/{group_id}").get_json()
    assert body["name"] == "Group1" and len(body["students"]) == 2


def test_admin_sees_and_changes_every_group(app, client, author, other_author):
    mine = create(author)
    theirs = create(other_author, {"name": "Theirs"})
    make_admin(email="admin@example.org", name="Admin", password=PASSWORD, now=clock.now(),
               rounds=4)
    admin = AuthorClient.login(client, "admin@example.org")
    assert [g["id"] for g in admin.get("/api/group/").get_json()] == [mine, theirs]
    assert admin.get(f"/api/group/{theirs}").status_code == 200
    assert admin.put(f"/api/group/{mine}", json={"name": "Edited"}).status_code == 200
    assert author.get(f"/api/group/{mine}").get_json()["name"] == "Edited"
    assert admin.delete(f"/api/group/{theirs}").status_code == 200


def test_routes_need_a_token(client):
    assert client.get("/api/group/").status_code == 401
    assert client.post("/api/group/", json=GROUP1).status_code == 401


def test_ids_too_large_for_the_database_are_404_not_500(author):
    group_id = create(author)
    huge = 2**63
    assert author.get(f"/api/group/{huge}").status_code == 404
    assert author.delete(f"/api/group/{huge}").status_code == 404
    assert author.put(f"/api/group/{group_id}/{huge}", json={"name": "X"}).status_code == 404
    assert author.delete(f"/api/group/{group_id}/{huge}").status_code == 404
    response = author.put(f"/api/group/{group_id}", json={"students": [{**AMIT, "id": huge}]})
    assert response.status_code == 400
