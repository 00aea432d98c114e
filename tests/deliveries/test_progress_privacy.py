"""An author reads only what learners did in the author's own deliveries: another author who
adds the same phone sees neither the replies and answers given elsewhere nor the opt-out's text."""

from __future__ import annotations

import csv
import io

from tests.deliveries.factories import KOLKATA, course_and_group, create_delivery
from tests.inbound.test_replies import START, day_one_delivered, deliver, reply


def _everything_b_can_read(author, delivery_id: int, group_id: int) -> str:
    paths = [f"/api/delivery/{delivery_id}/progress", f"/api/delivery/{delivery_id}/progress?format=csv",
             f"/api/group/{group_id}/progress", f"/api/group/{group_id}/progress?format=csv",
             f"/api/delivery/{delivery_id}", f"/api/delivery/{delivery_id}/messages",
             f"/api/delivery/{delivery_id}/schedule", f"/api/group/{group_id}",
             f"/api/group/{group_id}/export", "/api/group/", "/api/retrieve-deliveries"]
    bodies = []
    for path in paths:
        response = author.get(path)
        assert response.status_code == 200, (path, response.get_json())
        bodies.append(response.get_data(as_text=True))
    return "\n".join(bodies)


def test_another_author_with_the_same_phone_cannot_read_the_learners_replies(
        app, client, author, other_author):
    a = day_one_delivered(author)
    reply(client, app, KOLKATA["number"], "yes I am Asha from A")  # graded into A's delivery
    reply(client, app, KOLKATA["number"], "private note for A")  # no open question: unmatched
    reply(client, app, KOLKATA["number"], "STOP please, I moved")  # not a bare keyword: unmatched
    reply(client, app, KOLKATA["number"], "STOP")
    # B adds the same phone afterwards and schedules a course to it.
    b_course, b_group = course_and_group(other_author, students=(KOLKATA,))
    b_delivery = create_delivery(other_author, b_group, b_course, schedule_at="2026-12-05 09:00:00")
    deliver(START)

    progress = other_author.get(f"/api/delivery/{b_delivery}/progress").get_json()

    (learner,) = progress["learners"]
    assert (learner["last_reply"], learner["last_reply_at"]) == (None, None)
    assert (learner["questions_answered"], learner["answers_correct"]) == (0, 0)
    assert learner["opted_out"] is True  # the opt-out still protects the phone, as a fact only
    everything = _everything_b_can_read(other_author, b_delivery, b_group)
    for private in ("Asha from A", "private note", "I moved", "STOP", "keyword"):
        assert private not in everything
    (student,) = other_author.get(f"/api/group/{b_group}").get_json()["students"]
    assert student["opted_out"] is True and "source" not in student and "since" not in str(student)

    # A still reads the answer given in A's own delivery.
    mine = author.get(f"/api/delivery/{a['id']}/progress").get_json()
    asha = next(learner for learner in mine["learners"] if learner["name"] == "Asha")
    assert (asha["last_reply"], asha["questions_answered"]) == ("yes I am Asha from A", 1)
    rows = list(csv.DictReader(io.StringIO(
        author.get(f"/api/delivery/{a['id']}/progress?format=csv").get_data(as_text=True))))
    assert [row["last_reply"] for row in rows if row["name"] == "Asha"] == ["yes I am Asha from A"]
