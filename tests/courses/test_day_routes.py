"""Days and questions through the HTTP API: add, change, delete, renumber."""

from __future__ import annotations

from tests.factories import create_course


def _course(author, *texts: str, questions_per_day: int = 0) -> int:
    days = [{"text": text, "questions": [{"question": f"{text} q{n}", "correct-answer": f"a{n}"}
                                         for n in range(1, questions_per_day + 1)]}
            for text in texts]
    return create_course(author, {"name": "Course", "days": days})


def _days(author, course_id: int) -> list[dict]:
    return author.get(f"/api/course/{course_id}").get_json()["days"]


def test_adding_a_day_numbers_it_after_the_last(author):
    course_id = _course(author, "one", "two")
    response = author.post(f"/api/course/{course_id}/days", json={
        "text": "three", "questions": [{"question": "2+2?", "type": "Q/A", "correct-answer": "4"}]})
    assert response.status_code == 200
    assert response.get_json() == {"message": "success", "day": 3}
    days = _days(author, course_id)
    assert [(day["day"], day["text"]) for day in days] == [(1, "one"), (2, "two"), (3, "three")]
    assert days[2]["questions"][0]["question"] == "2+2?"


def test_adding_a_day_to_an_empty_course_makes_day_one(author):
    course_id = create_course(author, {"name": "Empty", "days": []})
    response = author.post(f"/api/course/{course_id}/days",
                           json={"text": "first", "questions": None})
    assert response.get_json()["day"] == 1


def test_deleting_a_day_renumbers_the_later_days(author):
    course_id = _course(author, "one", "two", "three", "four", "five", questions_per_day=1)
    response = author.delete(f"/api/course/{course_id}/2")
    assert response.status_code == 200
    assert response.get_json() == {"message": "success"}
    days = _days(author, course_id)
    assert [(day["day"], day["text"]) for day in days] == [
        (1, "one"), (2, "three"), (3, "four"), (4, "five")]
    assert [day["questions"][0]["question"] for day in days] == [
        "one q1", "three q1", "four q1", "five q1"]
    assert author.post(f"/api/course/{course_id}/days", json={"text": "six"}).get_json()["day"] == 5


def test_deleting_the_first_and_last_days_keeps_numbers_dense(author):
    course_id = _course(author, "one", "two", "three")
    assert author.delete(f"/api/course/{course_id}/3").status_code == 200
    assert author.delete(f"/api/course/{course_id}/1").status_code == 200
    assert [(day["day"], day["text"]) for day in _days(author, course_id)] == [(1, "two")]


def test_unknown_day_is_not_found_with_the_contract_message(author):
    course_id = _course(author, "one")
    for response in (author.delete(f"/api/course/{course_id}/2"),
                     author.put(f"/api/course/{course_id}/9", json={"text": "x"}),
                     author.put(f"/api/course/{course_id}/99999999999", json={"text": "x"}),
                     author.delete(f"/api/course/{course_id}/0/1")):
        assert response.status_code == 404
        assert response.get_json() == {"message": "Day not found!!"}
    missing_course = author.delete("/api/course/999/1")
    assert missing_course.get_json() == {"message": "Course not found!!"}


def test_updating_a_day_with_the_contract_body_replaces_text_and_questions(author):
    course_id = _course(author, "one", questions_per_day=2)
    response = author.put(f"/api/course/{course_id}/1", json={
        "day": "day num (readonly)", "text": "string",
        "questions": [{"question": "string", "type": "Q/A", "correct_answer": "string"}]})
    assert response.status_code == 200
    assert response.get_json() == {"message": "success"}
    (day,) = _days(author, course_id)
    assert day["text"] == "string"
    assert [(q["question"], q["correct-answer"]) for q in day["questions"]] == [
        ("string", "string")]


def test_updating_a_day_keeps_listed_question_ids_and_follows_the_list_order(author):
    course_id = _course(author, "one", questions_per_day=3)
    first, second, third = _days(author, course_id)[0]["questions"]
    response = author.put(f"/api/course/{course_id}/1", json={"questions": [
        {"id": third["id"], "question": "third, now first", "correct-answer": "c"},
        {"question": "brand new", "type": "boolean", "correct-answer": "no"},
        {"id": first["id"], "question": "first, now last", "correct-answer": "a"},
    ]})
    assert response.status_code == 200, response.get_json()
    (day,) = _days(author, course_id)
    assert day["text"] == "one"  # not given, not changed
    ids = [q["id"] for q in day["questions"]]
    assert ids[0] == third["id"] and ids[2] == first["id"]
    assert ids[1] not in (first["id"], second["id"], third["id"])
    assert [q["question"] for q in day["questions"]] == [
        "third, now first", "brand new", "first, now last"]
    assert author.delete(f"/api/course/{course_id}/1/{second['id']}").status_code == 404


def test_updating_a_day_with_null_questions_removes_them(author):
    course_id = _course(author, "one", questions_per_day=2)
    assert author.put(f"/api/course/{course_id}/1", json={"questions": None}).status_code == 200
    assert _days(author, course_id)[0]["questions"] == []


def test_updating_a_day_with_another_days_question_id_is_invalid(author):
    course_id = _course(author, "one", "two", questions_per_day=1)
    one, two = _days(author, course_id)
    foreign = two["questions"][0]["id"]
    response = author.put(f"/api/course/{course_id}/1", json={"questions": [
        {"id": one["questions"][0]["id"], "question": "kept", "correct-answer": "x"},
        {"id": foreign, "question": "stolen", "correct-answer": "x"}]})
    assert response.status_code == 400
    assert "id" in response.get_json()["errors"]["questions"]["1"]
    assert _days(author, course_id) == [one, two]


def test_listing_the_same_question_twice_is_invalid(author):
    course_id = _course(author, "one", questions_per_day=1)
    question_id = _days(author, course_id)[0]["questions"][0]["id"]
    item = {"id": question_id, "question": "again", "correct-answer": "x"}
    response = author.put(f"/api/course/{course_id}/1", json={"questions": [item, item]})
    assert response.status_code == 400
    assert "id" in response.get_json()["errors"]["questions"]["1"]


def test_updating_a_question_changes_only_the_given_fields(author):
    course_id = _course(author, "one", questions_per_day=2)
    question = _days(author, course_id)[0]["questions"][1]
    response = author.put(f"/api/course/{course_id}/1/{question['id']}", json={
        "correct_answer": "the new answer", "feedback_correct": "Well done!"})
    assert response.status_code == 200
    assert response.get_json() == {"message": "success"}
    updated = _days(author, course_id)[0]["questions"][1]
    assert updated == {**question, "correct-answer": "the new answer",
                       "feedback_correct": "Well done!"}


def test_changing_a_question_type_revalidates_its_answer(author):
    course_id = _course(author, "one", questions_per_day=1)
    question_id = _days(author, course_id)[0]["questions"][0]["id"]
    path = f"/api/course/{course_id}/1/{question_id}"
    refused = author.put(path, json={"type": "boolean"})  # its answer "a1" is not yes/no
    assert refused.status_code == 400
    assert "correct-answer" in refused.get_json()["errors"]
    assert author.put(path, json={"type": "boolean", "correct-answer": "False"}).status_code == 200
    assert author.put(path, json={"type": "choice", "options": ["yes", "no", "maybe"],
                                  "correct-answer": "C"}).status_code == 200
    question = _days(author, course_id)[0]["questions"][0]
    assert (question["type"], question["options"], question["correct-answer"]) == (
        "choice", ["yes", "no", "maybe"], "maybe")
    # Leaving choice drops the options; open questions have no answer.
    assert author.put(path, json={"type": "open"}).status_code == 200
    question = _days(author, course_id)[0]["questions"][0]
    assert (question["type"], question["options"], question["correct-answer"]) == ("open", [], None)


def test_deleting_a_question_moves_the_later_ones_up(author):
    course_id = _course(author, "one", questions_per_day=3)
    first, second, third = _days(author, course_id)[0]["questions"]
    response = author.delete(f"/api/course/{course_id}/1/{first['id']}")
    assert response.status_code == 200
    assert response.get_json() == {"message": "success"}
    remaining = _days(author, course_id)[0]["questions"]
    assert [q["id"] for q in remaining] == [second["id"], third["id"]]
    preview = author.get(f"/api/course/{course_id}/preview").get_json()
    assert [m["text"].split(".")[0] for m in preview["days"][0]["messages"][1:]] == ["Q1", "Q2"]


def test_a_question_of_another_day_is_not_found(author):
    course_id = _course(author, "one", "two", questions_per_day=1)
    question_id = _days(author, course_id)[1]["questions"][0]["id"]
    for response in (author.put(f"/api/course/{course_id}/1/{question_id}", json={"question": "x"}),
                     author.delete(f"/api/course/{course_id}/1/{question_id}"),
                     author.delete(f"/api/course/{course_id}/1/99999999999")):
        assert response.status_code == 404
        assert response.get_json() == {"message": "Question not found!!"}
    assert author.put(f"/api/course/{course_id}/2/{question_id}", json={}).status_code == 200


def test_another_authors_question_is_not_found(author, other_author):
    course_id = _course(author, "one", questions_per_day=1)
    question_id = _days(author, course_id)[0]["questions"][0]["id"]
    response = other_author.delete(f"/api/course/{course_id}/1/{question_id}")
    assert response.status_code == 404
    assert response.get_json() == {"message": "Course not found!!"}
    assert len(_days(author, course_id)[0]["questions"]) == 1
