"""Reminders for unanswered questions, quiet hours in each learner's zone, pauses of silent learners;
the planner and dispatcher of the app with the clock injected, a fake Twilio."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from ekatra import clock as real_clock
from ekatra.config import SANDBOX_OPENER_CONTENT_SID, SANDBOX_YES_NO_CONTENT_SID
from ekatra.deliveries.planner import plan_due_days
from ekatra.extensions import db
from ekatra.inbound.replies import ReplySettings, receive_reply
from ekatra.outbox import claims
from ekatra.outbox.dispatch import dispatch_until_idle
from ekatra.outbox.fakes import FakeSender
from ekatra.outbox.models import Message
from ekatra.outbox.recovery import recover_expired_leases
from ekatra.outbox.whatsapp import WhatsAppSettings
from tests.deliveries.factories import ACCRA, KOLKATA, NEW_YORK, course_and_group, create_delivery
from tests.outbox.factories import open_window

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
LEAD_IN = "Reminder: we would love your answer."
SETTINGS = WhatsAppSettings(opener_content_sid=SANDBOX_OPENER_CONTENT_SID)
_sids = itertools.count(1)


class Clock:
    """The worker's clock, moved by the test."""

    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def tick(clock: Clock, sender: FakeSender, at: datetime, *, send: bool = True,
         settings: WhatsAppSettings = SETTINGS) -> None:
    """One worker tick at `at`: plan (days, reminders, openers), then send what is due."""
    clock.now = at
    plan_due_days(at, settings)
    if send:
        dispatch_until_idle(sender, clock)


def write(app, phone: str, body: str, at: datetime, channel: str = "sms"):
    address = f"whatsapp:{phone}" if channel == "whatsapp" else phone
    return receive_reply(provider_sid=f"SM{next(_sids):032d}", from_=address, to="+15005550006", body=body,
                         now=at, settings=ReplySettings.from_config(app.config))


def bodies(sender: FakeSender, phone: str) -> list[str]:
    return [m.body.splitlines()[0] for m in sender.sent if m.to == phone]


def reminders_to(sender: FakeSender, phone: str) -> list[str]:
    return [m.body for m in sender.sent if m.to == phone and m.body.startswith(LEAD_IN)]


def rows(phone: str) -> list[Message]:
    db.session.expire_all()
    found = list(db.session.scalars(select(Message).where(Message.to_phone == phone).order_by(Message.id)))
    db.session.rollback()
    return found


@pytest.fixture
def clock():
    return Clock(START)


@pytest.fixture
def sender(clock):
    return FakeSender(clock=clock)


def deliver(author, students, reminders: dict, **body) -> int:
    course_id, group_id = course_and_group(author, students=students)
    body.setdefault("schedule_at", "2026-12-01T09:00:00Z")
    return create_delivery(author, group_id, course_id, reminders=reminders, **body)


def test_the_first_and_later_reminders_repeat_the_open_question_once_each(app, author, clock, sender):
    delivery = deliver(author, (KOLKATA,), {"after_minutes": [120, 240], "quiet_hours": None})
    phone = KOLKATA["number"]
    tick(clock, sender, START)
    assert bodies(sender, phone) == ["Day one text.", "Q1. Is a budget a plan?"]

    tick(clock, sender, START + timedelta(minutes=119))
    assert reminders_to(sender, phone) == []
    for _ in range(2):  # planning twice at the same moment queues one reminder
        tick(clock, sender, START + timedelta(minutes=120))
    assert reminders_to(sender, phone) == [f"{LEAD_IN}\nQ1. Is a budget a plan?\nReply YES or NO."]

    tick(clock, sender, START + timedelta(minutes=239))
    assert len(reminders_to(sender, phone)) == 1
    tick(clock, sender, START + timedelta(minutes=240))
    tick(clock, sender, START + timedelta(minutes=600))  # no third: two delays
    assert len(reminders_to(sender, phone)) == 2

    messages = author.get(f"/api/delivery/{delivery}/messages").get_json()["messages"]
    assert [(m["kind"], m["part"].rsplit("-", 1)[-1]) for m in messages if m["kind"] == "reminder"] == [
        ("reminder", "1"), ("reminder", "2")]
    assert {m["kind"] for m in messages} == {"content", "question", "reminder"}
    (learner,) = author.get(f"/api/delivery/{delivery}/progress").get_json()["learners"]
    assert (learner["reminders_sent"], learner["state"]) == (2, "active")


def test_no_reminder_once_the_next_day_has_gone_out(app, author, clock, sender):
    deliver(author, (KOLKATA,), {"after_minutes": [120], "quiet_hours": None},
            cadence="minutes", interval=60)
    tick(clock, sender, START)
    tick(clock, sender, START + timedelta(minutes=60))  # day 2 before the question's reminder
    tick(clock, sender, START + timedelta(minutes=120))
    assert reminders_to(sender, KOLKATA["number"]) == []


def test_quiet_hours_across_midnight_hold_a_reminder_until_they_end_in_each_learners_zone(
        app, author, clock, sender):
    # 20:30 local for both: Kolkata 15:00Z, New York 01:30Z the next day.
    deliver(author, (KOLKATA, NEW_YORK), {"after_minutes": [60], "quiet_hours": "21:00-08:00"},
            schedule_at="2026-12-01 20:30:00")
    asha, maria = KOLKATA["number"], NEW_YORK["number"]
    tick(clock, sender, datetime(2026, 12, 1, 15, 0, tzinfo=UTC))
    tick(clock, sender, datetime(2026, 12, 1, 16, 0, tzinfo=UTC))  # 21:30 in Kolkata: quiet
    (queued,) = [m for m in rows(asha) if m.part.startswith("reminder-")]
    eight_in_kolkata = datetime(2026, 12, 2, 2, 30, tzinfo=UTC)
    assert (queued.status, queued.due_at) == ("pending", eight_in_kolkata)

    tick(clock, sender, datetime(2026, 12, 2, 1, 30, tzinfo=UTC))  # New York's day 1 at 20:30 EST
    tick(clock, sender, datetime(2026, 12, 2, 2, 29, tzinfo=UTC))
    assert reminders_to(sender, asha) == []
    tick(clock, sender, datetime(2026, 12, 2, 2, 30, tzinfo=UTC))  # 08:00 in Kolkata, 21:30 in New York
    assert len(reminders_to(sender, asha)) == 1 and reminders_to(sender, maria) == []
    tick(clock, sender, datetime(2026, 12, 2, 12, 59, tzinfo=UTC))
    assert reminders_to(sender, maria) == []
    tick(clock, sender, datetime(2026, 12, 2, 13, 0, tzinfo=UTC))  # 08:00 EST
    assert len(reminders_to(sender, maria)) == 1


def test_quiet_hours_end_at_the_local_time_across_a_dst_change(app, author, clock, sender):
    # New York springs forward on 2026-03-08 (02:00 EST → 03:00 EDT): 08:00 that morning is 12:00Z,
    # not 13:00Z as a fixed -05:00 would make it.
    deliver(author, (NEW_YORK,), {"after_minutes": [120], "quiet_hours": "21:00-08:00"},
            schedule_at="2026-03-07 19:00:00")
    maria = NEW_YORK["number"]
    tick(clock, sender, datetime(2026, 3, 8, 0, 0, tzinfo=UTC))  # 19:00 EST
    tick(clock, sender, datetime(2026, 3, 8, 2, 0, tzinfo=UTC))  # 21:00 EST: quiet
    tick(clock, sender, datetime(2026, 3, 8, 11, 59, tzinfo=UTC))
    assert reminders_to(sender, maria) == []
    tick(clock, sender, datetime(2026, 3, 8, 12, 0, tzinfo=UTC))  # 08:00 EDT
    assert len(reminders_to(sender, maria)) == 1


def test_an_answered_question_is_not_reminded_and_a_queued_reminder_is_cancelled(
        app, author, clock, sender):
    deliver(author, (KOLKATA, NEW_YORK), {"after_minutes": [120], "quiet_hours": None},
            schedule_at="2026-12-01T09:00:00Z")
    asha, maria = KOLKATA["number"], NEW_YORK["number"]
    tick(clock, sender, START)
    write(app, asha, "yes", START + timedelta(minutes=30))  # Q1 answered; Q2 follows
    tick(clock, sender, START + timedelta(minutes=30))
    tick(clock, sender, START + timedelta(minutes=120), send=False)  # Maria's reminder queued
    write(app, maria, "no", START + timedelta(minutes=121))  # …and answered before it went
    tick(clock, sender, START + timedelta(minutes=121))

    assert reminders_to(sender, maria) == []
    assert [m.status for m in rows(maria) if m.part.startswith("reminder-")] == ["cancelled"]
    assert reminders_to(sender, asha) == []  # Q1 was answered; Q2 is not due until 10:30 + 2 h
    tick(clock, sender, START + timedelta(minutes=150))
    assert reminders_to(sender, asha) == [f"{LEAD_IN}\nQ2. Second question?"]


def test_an_opted_out_learner_is_never_reminded(app, author, clock, sender):
    deliver(author, (KOLKATA, NEW_YORK), {"after_minutes": [120], "quiet_hours": None})
    tick(clock, sender, START)
    write(app, KOLKATA["number"], "STOP", START + timedelta(minutes=5))
    tick(clock, sender, START + timedelta(minutes=120), send=False)  # Maria's queued
    write(app, NEW_YORK["number"], "STOP", START + timedelta(minutes=120))
    tick(clock, sender, START + timedelta(minutes=121))

    assert reminders_to(sender, KOLKATA["number"]) == reminders_to(sender, NEW_YORK["number"]) == []
    assert not [m for m in rows(KOLKATA["number"]) if m.part.startswith("reminder-")]
    assert [m.status for m in rows(NEW_YORK["number"]) if m.part.startswith("reminder-")] == ["skipped"]


def test_a_paused_delivery_sends_no_reminder_and_its_queued_ones_are_cancelled(app, author, clock, sender):
    delivery = deliver(author, (KOLKATA,), {"after_minutes": [120, 180], "quiet_hours": None})
    tick(clock, sender, START)
    tick(clock, sender, START + timedelta(minutes=120), send=False)
    assert author.put(f"/api/delivery/{delivery}", json={"action": "PAUSE"}).status_code == 200
    tick(clock, sender, START + timedelta(minutes=200))
    assert reminders_to(sender, KOLKATA["number"]) == []
    assert [m.status for m in rows(KOLKATA["number"]) if m.part.startswith("reminder-")] == ["cancelled"]


def test_a_reminder_is_sent_once_after_a_worker_dies_while_sending_it(app, author, clock, sender):
    deliver(author, (KOLKATA,), {"after_minutes": [120], "quiet_hours": None})
    tick(clock, sender, START)
    due = clock.now = START + timedelta(minutes=120)
    plan_due_days(due, SETTINGS)
    (claimed,) = claims.claim_batch(due, 10, 60)  # the worker claims the reminder…
    sender.send(claimed.to_phone, claimed.body, claimed.channel)  # …Twilio accepts it, the worker dies

    later = due + timedelta(minutes=2)
    for _ in range(2):  # the next worker plans and sends again: nothing new is queued
        tick(clock, sender, later)
    recover_expired_leases(sender, later)
    tick(clock, sender, later + timedelta(seconds=5))

    assert len(reminders_to(sender, KOLKATA["number"])) == 1
    (row,) = [m for m in rows(KOLKATA["number"]) if m.part.startswith("reminder-")]
    assert row.status == "sent" and row.provider_sid == sender.sent[-1].sid


def test_on_whatsapp_a_closed_window_sends_the_opener_and_the_reminder_waits_for_the_reply(
        app, author, clock, sender):
    deliver(author, (ACCRA,), {"after_minutes": [60, 120], "quiet_hours": None})
    kofi = ACCRA["number"]
    open_window(kofi, START - timedelta(minutes=30), seconds=3600)  # open until 09:30
    tick(clock, sender, START)
    assert [m.content_sid for m in sender.sent] == [None, None], "inside the window: free text"

    tick(clock, sender, START + timedelta(minutes=60))  # the window closed at 09:30
    assert reminders_to(sender, kofi) == []
    assert [(m.content_sid, m.body) for m in sender.sent[2:]] == [
        (SANDBOX_OPENER_CONTENT_SID, "Hi Kofi, day 1 of Money basics is ready. Reply to start.")]
    (held,) = [m for m in rows(kofi) if m.part.startswith("reminder-")]
    assert (held.status, held.hold_reason) == ("held", "window_closed")
    tick(clock, sender, START + timedelta(minutes=200))
    assert len(sender.sent) == 3, "no second reminder before the first went"

    write(app, kofi, "hi", START + timedelta(minutes=201), channel="whatsapp")
    tick(clock, sender, START + timedelta(minutes=201))
    assert reminders_to(sender, kofi) == [f"{LEAD_IN}\nQ1. Is a budget a plan?\nReply YES or NO."]


def test_on_whatsapp_a_reminder_of_a_yes_no_question_comes_with_its_buttons(app, author, clock, sender):
    buttons = WhatsAppSettings(opener_content_sid=SANDBOX_OPENER_CONTENT_SID,
                               quick_replies={"boolean": SANDBOX_YES_NO_CONTENT_SID})
    deliver(author, (ACCRA,), {"after_minutes": [60], "quiet_hours": None})
    kofi = ACCRA["number"]
    open_window(kofi, START - timedelta(minutes=5))  # a day's window: free-form and buttons go
    for minutes in (0, 60):
        tick(clock, sender, START + timedelta(minutes=minutes), settings=buttons)
    question, reminder = [m for m in sender.sent if m.content_sid]
    assert (question.content_sid, json.loads(question.content_variables)) == (
        SANDBOX_YES_NO_CONTENT_SID, {"1": "Q1. Is a budget a plan?"})
    assert (reminder.content_sid, json.loads(reminder.content_variables)) == (
        SANDBOX_YES_NO_CONTENT_SID, {"1": f"{LEAD_IN}\nQ1. Is a budget a plan?"})


def test_a_silent_learner_is_paused_with_one_notice_and_resumes_by_writing(app, author, clock, sender):
    delivery = deliver(author, (KOLKATA, NEW_YORK),
                       {"after_minutes": [], "pause_after_silent_days": 1})
    asha, maria = KOLKATA["number"], NEW_YORK["number"]
    tick(clock, sender, START)
    write(app, maria, "yes", START + timedelta(hours=1))  # Maria answers; Asha writes nothing
    day_two = START + timedelta(days=1)
    tick(clock, sender, day_two)

    assert bodies(sender, asha)[2:] == [
        "We have not heard from you for a few days, so Money basics is paused. Reply RESUME to continue "
        "where you left off."]
    assert "Day two text." in bodies(sender, maria)
    learners = {learner["name"]: learner for learner in
                author.get(f"/api/delivery/{delivery}/progress").get_json()["learners"]}
    assert (learners["Asha"]["state"], learners["Maria"]["state"]) == ("paused_silent", "active")
    tick(clock, sender, day_two + timedelta(days=1))  # paused: nothing more, not even day 3
    assert len(bodies(sender, asha)) == 3

    resumed_at = day_two + timedelta(days=1, hours=5)
    assert write(app, asha, "resume", resumed_at).outcome == "resumed"
    tick(clock, sender, resumed_at)
    # The missed day at once (after the question carried over from day 1), and only it.
    assert bodies(sender, asha)[3:] == ["Q2. Second question?", "Day two text."]
    tick(clock, sender, resumed_at + timedelta(hours=1))
    assert len(bodies(sender, asha)) == 5
    tick(clock, sender, START + timedelta(days=3))  # day 3 at its next regular time
    assert bodies(sender, asha)[5:] == ["दिन तीन", "Q1. Ready?"]


def test_the_hindi_resume_and_any_other_message_resume_a_paused_learner(app, author, clock, sender):
    deliver(author, (KOLKATA, NEW_YORK), {"after_minutes": [], "pause_after_silent_days": 1})
    tick(clock, sender, START)
    tick(clock, sender, START + timedelta(days=1))
    assert write(app, KOLKATA["number"], "फिर से शुरू", START + timedelta(days=1, hours=1)).outcome == "resumed"
    # An answer to the open question resumes too, and is graded.
    assert write(app, NEW_YORK["number"], "yes", START + timedelta(days=1, hours=1)).outcome == "answered"
    tick(clock, sender, START + timedelta(days=1, hours=1))
    assert "Day two text." in bodies(sender, KOLKATA["number"])
    assert "Day two text." in bodies(sender, NEW_YORK["number"])


def test_an_author_resumes_a_paused_learner_who_is_not_paused_again_at_once(app, author, clock, sender):
    # The route reads the real clock: the delivery started a day and an hour ago.
    started = (real_clock.now() - timedelta(days=1, hours=1)).replace(second=0, microsecond=0)
    delivery = deliver(author, (KOLKATA,), {"after_minutes": [], "pause_after_silent_days": 1},
                       schedule_at=started.strftime("%Y-%m-%dT%H:%M:%SZ"))
    tick(clock, sender, started)
    tick(clock, sender, started + timedelta(days=1))
    assert bodies(sender, KOLKATA["number"])[-1].startswith("We have not heard from you")
    student_id = author.get(f"/api/delivery/{delivery}").get_json()["students"][0]["student_id"]
    path = f"/api/delivery/{delivery}/students/{student_id}/resume"

    response = author.post(path)
    assert response.status_code == 200 and response.get_json()["state"] == "active"
    assert author.post(path).status_code == 409
    assert author.post(f"/api/delivery/{delivery}/students/999999/resume").status_code == 404
    tick(clock, sender, real_clock.now() + timedelta(seconds=1))
    assert bodies(sender, KOLKATA["number"])[-1] == "Day two text."


def test_reminder_settings_are_shown_changed_and_validated(app, author):
    course_id, group_id = course_and_group(author, students=(KOLKATA,))
    created = author.post(f"/api/delivery/group/{group_id}/{course_id}",
                          json={"schedule_at": "2026-12-01 09:00:00"}).get_json()
    assert created["reminders"] == {"after_minutes": [120], "quiet_hours": "21:00-08:00",
                                    "pause_after_silent_days": 3}
    path = f"/api/delivery/{created['id']}"

    changed = author.put(path, json={"reminders": {"after_minutes": [30, 90], "quiet_hours": "22:30-06:00"}})
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json() == {"message": "success", "status": "SCHEDULED", "reminders": {
        "after_minutes": [30, 90], "quiet_hours": "22:30-06:00", "pause_after_silent_days": 3}}
    assert author.get(path).get_json()["reminders"]["after_minutes"] == [30, 90]
    no_quiet = author.put(path, json={"reminders": {"quiet_hours": None}})
    assert author.get(path).get_json()["reminders"]["quiet_hours"] is None, no_quiet.get_json()
    paused = author.put(path, json={"action": "PAUSE", "reminders": {"after_minutes": []}})
    assert paused.get_json()["status"] == "PAUSED" and paused.get_json()["reminders"]["after_minutes"] == []

    bad = [({"after_minutes": [60, 30]}, "after_minutes"), ({"after_minutes": [0]}, "after_minutes"),
           ({"after_minutes": [1, 2, 3, 4, 5, 6]}, "after_minutes"),
           ({"after_minutes": "120"}, "after_minutes"),
           ({"quiet_hours": "25:00-08:00"}, "quiet_hours"), ({"quiet_hours": "08:00-08:00"}, "quiet_hours"),
           ({"quiet_hours": "9pm-8am"}, "quiet_hours"),
           ({"pause_after_silent_days": -1}, "pause_after_silent_days")]
    for reminders, field in bad:
        for response in (author.put(path, json={"reminders": reminders}),
                         author.post(f"/api/delivery/group/{group_id}/{course_id}",
                                     json={"schedule_at": "2026-12-01 09:00:00", "reminders": reminders})):
            assert response.status_code == 400, (reminders, response.get_json())
            assert field in response.get_json()["errors"]["reminders"], response.get_json()
    assert author.put(path, json={}).status_code == 400
    # An invalid setting with a valid action changes nothing.
    refused = author.put(path, json={"action": "RESUME", "reminders": {"after_minutes": [5, 1]}})
    assert refused.status_code == 400
    assert author.get(path).get_json()["status"] == "PAUSED"


def test_a_course_may_name_its_lead_in_and_a_hindi_course_has_a_hindi_default(
        app, author, clock, sender):
    course_id, group_id = course_and_group(author, students=(KOLKATA,))
    assert author.put(f"/api/course/{course_id}", json={"language": "hi"}).status_code == 200
    create_delivery(author, group_id, course_id, schedule_at="2026-12-01T09:00:00Z",
                    reminders={"after_minutes": [60, 120], "quiet_hours": None})
    tick(clock, sender, START)
    tick(clock, sender, START + timedelta(minutes=60))
    changed = author.put(f"/api/course/{course_id}", json={"reminder_lead_in": "Still there?"})
    assert changed.status_code == 200
    tick(clock, sender, START + timedelta(minutes=120))
    reminders = [m.body.splitlines()[0] for m in sender.sent
                 if "Q1." in m.body and not m.body.startswith("Q1.")]
    assert reminders == ["याद दिला रहे हैं: आपके जवाब का इंतज़ार है।", "Still there?"]
