"""GET /api/course/<id>/preview: each message as the learner reads it, with SMS segments."""

from __future__ import annotations

from ekatra.rendering.segments import MAX_BODY_CHARS
from ekatra.rendering.texts import render_content, render_question
from tests.factories import create_course


def _preview(author, body: dict) -> dict:
    course_id = create_course(author, body)
    response = author.get(f"/api/course/{course_id}/preview")
    assert response.status_code == 200
    return response.get_json()


def test_preview_lists_each_days_text_then_its_questions(author):
    preview = _preview(author, {"name": "Maths", "days": [
        {"text": "Numbers add up.", "questions": [
            {"question": "What is 2+2?", "type": "choice", "options": ["three", "four", "five"],
             "correct-answer": "B"},
            {"question": "Is 3 odd?", "type": "boolean", "correct-answer": "yes"},
            {"question": "Why?", "type": "Q/A", "correct-answer": "not even"}]},
        {"text": "", "questions": None}]})
    assert (preview["name"], [day["day"] for day in preview["days"]]) == ("Maths", [1, 2])
    content, choice, boolean, text = preview["days"][0]["messages"]
    assert content == {"part": "content", "question_id": None, "text": "Numbers add up.",
                       "characters": 15, "segments": 1, "encoding": "GSM-7"}
    assert choice["part"] == "question" and isinstance(choice["question_id"], int)
    assert choice["text"] == ("Q1. What is 2+2?\nA) three\nB) four\nC) five\n"
                              "Reply with A, B or C.")
    assert choice["characters"] == len(choice["text"])
    assert boolean["text"] == "Q2. Is 3 odd?\nReply YES or NO."
    assert text["text"] == "Q3. Why?"
    assert preview["days"][1]["messages"] == []


def test_preview_of_a_hindi_day_is_ucs2_with_more_segments(author):
    hindi = "आज हम बचत के बारे में सीखेंगे। हर हफ़्ते थोड़ा पैसा अलग रखें।"  # 59 characters
    preview = _preview(author, {"name": "बचत", "language": "hi", "days": [
        {"text": hindi, "questions": [{"question": "क्या बचत ज़रूरी है?", "type": "boolean",
                                       "correct-answer": "yes"}]},
        {"text": hindi * 2}]})
    (content, question), (long_content,) = (day["messages"] for day in preview["days"])
    assert (content["encoding"], content["segments"], content["characters"]) == (
        "UCS-2", 1, len(hindi))
    assert question["encoding"] == "UCS-2"
    # Twice the text: past 70 UTF-16 units, so 67-unit segments.
    assert (long_content["encoding"], long_content["segments"]) == ("UCS-2", 2)


def test_preview_splits_a_long_day_into_numbered_parts(author):
    sentence = "Saving a little every week adds up over a year. "
    text = sentence * 80  # 3,840 characters
    preview = _preview(author, {"name": "Long", "days": [{"text": text, "questions": [
        {"question": "Does saving add up?", "type": "boolean", "correct-answer": "yes"}]}]})
    messages = preview["days"][0]["messages"]
    parts = [m for m in messages if m["part"] == "content"]
    assert len(parts) == 3
    assert [m["text"][:6] for m in parts] == ["(1/3) ", "(2/3) ", "(3/3) "]
    assert all(m["characters"] <= MAX_BODY_CHARS and m["encoding"] == "GSM-7" for m in parts)
    assert all(m["text"].endswith("year.") for m in parts)
    assert parts[0]["segments"] == -(-parts[0]["characters"] // 153)
    assert messages[-1]["part"] == "question"


def test_a_rendered_question_keeps_its_text_and_every_option():
    rendered = render_question(3, " Pick one ", "choice", ["x", "y"])
    assert rendered == "Q3. Pick one\nA) x\nB) y\nReply with A or B."
    assert render_question(1, "Tell me", "open") == "Q1. Tell me"
    assert render_content("  short  ") == ["short"]
