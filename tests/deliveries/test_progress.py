"""Progress: days sent and delivered, answers, last reply and opt-out per learner; JSON and CSV."""

from __future__ import annotations

import csv
import io

import pytest

from tests.deliveries.factories import ACCRA, KOLKATA, course_and_group, create_delivery
from tests.inbound.test_replies import START, day_one_delivered, deliver, reply
from tests.outbox.factories import open_window


@pytest.fixture
def delivery(app, author):
    return day_one_delivered(author)


def test_delivery_progress_counts_days_answers_and_opt_outs(app, client, author, delivery):
    reply(client, app, KOLKATA["number"], "yes")
    reply(client, app, "whatsapp:" + ACCRA["number"], "STOP")

    body = author.get(f"/api/delivery/{delivery['id']}/progress").get_json()

    assert body["days"] == 3
    by_name = {learner["name"]: learner for learner in body["learners"]}
    asha, kofi = by_name["Asha"], by_name["Kofi"]
    assert (asha["days_sent"], asha["questions_answered"], asha["answers_correct"]) == (1, 1, 1)
    assert (asha["last_reply"], asha["opted_out"]) == ("yes", False)
    assert asha["last_reply_at"] is not None
    # STOP is not an answer in this delivery: the opt-out shows, its text does not.
    assert (kofi["days_sent"], kofi["last_reply"], kofi["opted_out"], kofi["enrollment_status"]) == (
        1, None, True, "suspended")
    assert (asha["state"], kofi["state"], asha["reminders_sent"]) == ("active", "opted_out", 0)
    no_reminders = {"reminders_sent": 0, "questions_asked": 2, "answered_before_reminder": 1,
                    "response_rate_before_reminders": 50.0, "questions_reminded": 0,
                    "answered_after_reminder": 0, "response_rate_after_reminders": None}
    assert body["totals"] == {"learners": 2, "days_sent": 2, "days_delivered": 0, "questions_answered": 1,
                              "answers_correct": 1, "opted_out": 1, "paused_silent": 0,
                              "reminders": no_reminders, "completion_percent": 33.3}
    detail = author.get(f"/api/delivery/{delivery['id']}").get_json()
    assert sorted(student["answers"] for student in detail["students"]) == [0, 1]


def test_progress_as_csv_is_an_attachment_with_a_row_per_learner(app, client, author, delivery):
    reply(client, app, KOLKATA["number"], "हाँ")

    response = author.get(f"/api/delivery/{delivery['id']}/progress?format=csv")

    assert response.status_code == 200
    assert response.content_type.startswith("text/csv")
    assert response.headers["Content-Disposition"].startswith("attachment;")
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [(row["name"], row["questions_answered"], row["last_reply"]) for row in rows] == [
        ("Asha", "1", "हाँ"), ("Kofi", "0", "")]


def test_group_progress_lists_every_delivery_of_the_group(app, client, author, delivery):
    deliver(START)
    body = author.get(f"/api/group/{delivery['group_id']}/progress").get_json()
    assert [d["delivery_id"] for d in body["deliveries"]] == [delivery["id"]]
    csv_body = author.get(f"/api/group/{delivery['group_id']}/progress?format=csv").get_data(as_text=True)
    assert csv_body.splitlines()[0].startswith("delivery_id,student_id,name")
    assert len(csv_body.splitlines()) == 3


def test_progress_of_another_authors_delivery_is_not_found(app, client, other_author, delivery):
    assert other_author.get(f"/api/delivery/{delivery['id']}/progress").status_code == 404
    assert other_author.get(f"/api/group/{delivery['group_id']}/progress").status_code == 404


FORMULA_NAME = '=HYPERLINK("http://x","y")'


def test_progress_csv_neutralises_formulas_in_learners_names_and_replies(app, client, author):
    tricky = ({**KOLKATA, "name": FORMULA_NAME}, {**ACCRA, "name": "+1"})
    course_id, group_id = course_and_group(author, students=tricky)
    delivery_id = create_delivery(author, group_id, course_id, schedule_at="2026-12-01T09:00:00Z",
                                  cadence="minutes", interval=1440)
    open_window(ACCRA["number"], START)
    deliver(START)
    reply(client, app, KOLKATA["number"], "-2+3")
    reply(client, app, "whatsapp:" + ACCRA["number"], "@SUM(A1)")

    for path in (f"/api/delivery/{delivery_id}/progress?format=csv",
                 f"/api/group/{group_id}/progress?format=csv"):
        rows = list(csv.DictReader(io.StringIO(author.get(path).get_data(as_text=True))))
        assert [(row["name"], row["last_reply"], row["number"]) for row in rows] == [
            ("'" + FORMULA_NAME, "'-2+3", KOLKATA["number"]), ("'+1", "'@SUM(A1)", ACCRA["number"])]

    learners = author.get(f"/api/delivery/{delivery_id}/progress").get_json()["learners"]
    assert [(learner["name"], learner["last_reply"]) for learner in learners] == [
        (FORMULA_NAME, "-2+3"), ("+1", "@SUM(A1)")]  # JSON keeps the exact text
