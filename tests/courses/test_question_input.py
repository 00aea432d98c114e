"""Question types and bad input: every mistake is a 400 naming the field, never a 500."""

from __future__ import annotations

import pytest

from tests.factories import create_course


def _create(author, *questions: dict):
    return author.post("/api/course/", json={"name": "Quiz", "days": [
        {"text": "Day one", "questions": list(questions)}]})


def _stored(author, *questions: dict) -> list[dict]:
    course_id = create_course(author, {"name": "Quiz", "days": [
        {"text": "Day one", "questions": list(questions)}]})
    return author.get(f"/api/course/{course_id}").get_json()["days"][0]["questions"]


@pytest.mark.parametrize("alias", ["Q/A", "qa", "q&a", " QA ", "TEXT"])
def test_the_contracts_qa_type_is_stored_as_text(author, alias):
    (question,) = _stored(author, {"question": "Capital of India?", "type": alias,
                                   "correct-answer": "New Delhi"})
    assert question["type"] == "text"


def test_a_question_without_a_type_is_a_text_question(author):
    (question,) = _stored(author, {"question": "Capital of India?", "correct_answer": "New Delhi"})
    assert (question["type"], question["correct-answer"]) == ("text", "New Delhi")


@pytest.mark.parametrize(("given", "stored"), [("b", "four"), ("2", "four"), ("FOUR", "four"),
                                               (" three ", "three")])
def test_a_choice_answer_may_be_the_option_its_letter_or_its_number(author, given, stored):
    (question,) = _stored(author, {"question": "2+2?", "type": "choice",
                                   "options": ["three", "four", "five"], "correct-answer": given})
    assert (question["options"], question["correct-answer"]) == (["three", "four", "five"], stored)


@pytest.mark.parametrize(("given", "stored"), [("YES", "yes"), ("true", "yes"), ("No", "no"),
                                               ("false", "no")])
def test_a_boolean_answer_is_stored_as_yes_or_no(author, given, stored):
    (question,) = _stored(author, {"question": "Is 2 even?", "type": "boolean",
                                   "correct-answer": given})
    assert question["correct-answer"] == stored


def test_an_open_question_needs_no_answer_and_keeps_none(author):
    (without, with_answer) = _stored(
        author, {"question": "What did you learn?", "type": "open"},
        {"question": "Tell us more", "type": "open", "correct-answer": "anything",
         "accepted_answers": ["x"]})
    assert (without["type"], without["correct-answer"]) == ("open", None)
    assert (with_answer["correct-answer"], with_answer["accepted_answers"]) == (None, [])


def test_accepted_answers_and_feedback_are_kept(author):
    (question,) = _stored(author, {
        "question": "Capital of India?", "correct-answer": "New Delhi",
        "accepted_answers": [" Delhi ", "ND"], "feedback_correct": "Yes!",
        "feedback_incorrect": "It is New Delhi."})
    assert question["accepted_answers"] == ["Delhi", "ND"]
    assert (question["feedback_correct"], question["feedback_incorrect"]) == (
        "Yes!", "It is New Delhi.")


@pytest.mark.parametrize(("question", "field"), [
    ({"question": "2+2?", "type": "riddle", "correct-answer": "4"}, "type"),
    ({"question": "2+2?", "type": "Q/A"}, "correct-answer"),
    ({"question": "2+2?", "type": "Q/A", "correct-answer": "   "}, "correct-answer"),
    ({"question": "2+2?", "type": "choice", "correct-answer": "4"}, "options"),
    ({"question": "2+2?", "type": "choice", "options": ["4"], "correct-answer": "4"}, "options"),
    ({"question": "2+2?", "type": "choice", "options": ["3", "4"], "correct-answer": "C"},
     "correct-answer"),
    ({"question": "2+2?", "type": "choice", "options": ["4", " 4"], "correct-answer": "4"},
     "options"),
    ({"question": "2+2?", "type": "choice", "options": ["3", ""], "correct-answer": "3"},
     "options"),
    ({"question": "2+2?", "type": "choice", "options": [str(n) for n in range(11)],
      "correct-answer": "4"}, "options"),
    ({"question": "2+2?", "type": "choice", "options": [1, 2], "correct-answer": "1"}, "options"),
    ({"question": "2+2?", "type": "boolean", "correct-answer": "maybe"}, "correct-answer"),
    ({"question": "2+2?", "options": ["3", "4"], "correct-answer": "4"}, "options"),
    ({"question": "", "correct-answer": "4"}, "question"),
    ({"question": "x" * 1001, "correct-answer": "4"}, "question"),
    ({"question": "2+2?", "correct-answer": "4" * 1001}, "correct-answer"),
    ({"question": "2+2?", "correct-answer": 4}, "correct-answer"),
    ({"question": "x" * 1000, "type": "choice",  # too long for one message with its options
      "options": [f"{n}" + "o" * 199 for n in range(5)], "correct-answer": "A"}, "question"),
    ({"correct-answer": "4"}, "question"),
])
def test_a_bad_question_is_a_400_naming_its_field(author, question, field):
    response = _create(author, {"question": "fine", "correct-answer": "yes"}, question)
    assert response.status_code == 400, response.get_json()
    body = response.get_json()
    assert field in body["errors"]["days"]["0"]["questions"]["1"], body
    assert body["message"].startswith("Invalid input")
    assert author.get("/api/course/").get_json() == []


@pytest.mark.parametrize(("body", "field"), [
    ({}, "name"),
    ({"name": ""}, "name"),
    ({"name": "   "}, "name"),
    ({"name": None}, "name"),
    ({"name": "x" * 201}, "name"),
    ({"name": "ok", "author": "x" * 201}, "author"),
    ({"name": "ok", "description": "x" * 5001}, "description"),
    ({"name": "ok", "language": "english language"}, "language"),
    ({"name": "ok", "language": "en-" + "-".join(["abcdefgh"] * 4)}, "language"),
    ({"name": "nul\x00"}, "name"),
    ({"name": "ok", "days": [{"text": "nul\x00"}]}, "days"),
    ({"name": "ok", "days": "day one"}, "days"),
    ({"name": "ok", "days": [{"questions": []}]}, "days"),
    ({"name": "ok", "days": [{"text": None}]}, "days"),
    ({"name": "ok", "days": [{"text": "x" * 20_001}]}, "days"),
    ({"name": "ok", "days": [{"text": "x", "questions": "none"}]}, "days"),
    ({"name": "ok", "days": [{"text": "x", "questions": [[]]}]}, "days"),
    ({"name": "ok", "days": [{"text": "x"}] * 1001}, "days"),
])
def test_a_bad_course_is_a_400_naming_its_field(author, body, field):
    response = author.post("/api/course/", json=body)
    assert response.status_code == 400, response.get_json()
    assert field in response.get_json()["errors"]


@pytest.mark.parametrize("body", [[], "course", 42, None])
def test_a_body_that_is_not_an_object_is_a_400(author, body):
    response = author.post("/api/course/", json=body)
    assert response.status_code == 400
    assert response.is_json


def test_bad_updates_are_400s_and_change_nothing(author):
    course_id = create_course(author)
    before = author.get(f"/api/course/{course_id}").get_json()
    question_id = before["days"][1]["questions"][0]["id"]
    for path, body in [
        (f"/api/course/{course_id}", {"name": ""}),
        (f"/api/course/{course_id}", {"days": [{"text": "x", "questions": [{"question": "q"}]}]}),
        (f"/api/course/{course_id}/1", {"text": 5}),
        (f"/api/course/{course_id}/1", {"questions": [{"id": "one", "question": "q",
                                                        "correct-answer": "a"}]}),
        (f"/api/course/{course_id}/2/{question_id}", {"question": None}),
        (f"/api/course/{course_id}/2/{question_id}", {"type": "choice"}),
        (f"/api/course/{course_id}/2/{question_id}", {"options": ["a", "b"]}),
        (f"/api/course/{course_id}/2/{question_id}", {"accepted_answers": [""]}),
    ]:
        response = author.put(path, json=body)
        assert response.status_code == 400, (path, body, response.get_json())
        assert response.get_json()["errors"]
    assert author.post(f"/api/course/{course_id}/days", json={"questions": []}).status_code == 400
    assert author.get(f"/api/course/{course_id}").get_json() == before


def test_a_form_body_is_refused_as_not_json(author):
    response = author.post("/api/course/", data="name=x",
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415
