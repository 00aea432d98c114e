"""Messages outside a course (a cohort's invitation) to a WhatsApp learner whose window is closed:
held, with one notice template in their place; the learner's reply brings them, free-form."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ekatra.config import SANDBOX_NOTICE_CONTENT_SID, SANDBOX_OPENER_CONTENT_SID
from ekatra.outbox.fakes import FakeSender
from ekatra.outbox.whatsapp import WhatsAppSettings
from tests.cohorts.factories import create_cohort, invite
from tests.whatsapp.test_window import reply, rows, sent_to, tick

ASHA = "+919876543210"  # the WhatsApp student of the cohort factories
ASHA_WHATSAPP = "whatsapp:" + ASHA
NOTICES = WhatsAppSettings(opener_content_sid=SANDBOX_OPENER_CONTENT_SID,
                           notice_content_sid=SANDBOX_NOTICE_CONTENT_SID)


def invite_asha_to_another_cohort(author) -> None:
    other = create_cohort(author, name="Another intake")
    invite(author, other["id"], students=[{
        "email": "asha@example.com", "first_name": "Asha", "last_name": "Rao", "phone": ASHA,
        "channel": "whatsapp", "timezone": "Asia/Kolkata"}])


def test_an_invitation_outside_the_window_waits_behind_one_notice_template(app, author):
    cohort = create_cohort(author)
    link = {i["email"]: i["link"] for i in invite(author, cohort["id"])["invite_links"]}["asha@example.com"]
    invite_asha_to_another_cohort(author)  # a second text to the same phone: still one template
    now = datetime.now(UTC) + timedelta(seconds=1)  # the invitations were queued by the API just now
    sender = tick(now, FakeSender(clock=lambda: now), NOTICES)
    for minutes in (1, 2, 3):  # the claim held them; the next tick sends the template, later ones no other
        tick(now + timedelta(minutes=minutes), sender, NOTICES)

    assert [(m.content_sid, m.body) for m in sent_to(sender, ASHA)] == [
        (SANDBOX_NOTICE_CONTENT_SID, "You have a new message. Reply to read it.")]
    invitations = [m for m in rows(ASHA) if m.part.startswith("cohort-invite")]
    assert [(m.status, m.hold_reason) for m in invitations] == [("held", "window_closed")] * 2
    assert [m.to for m in sender.sent if m.to == "+27821234567"]  # SMS needs no window

    later = now + timedelta(minutes=6)
    reply(app, ASHA_WHATSAPP, "Read it", later)  # the template's button, or any text
    tick(later + timedelta(seconds=1), sender, NOTICES)
    to_asha = sent_to(sender, ASHA)
    assert len(to_asha) == 3 and all(m.content_sid is None for m in to_asha[1:])
    assert any(link in m.body for m in to_asha[1:])
    assert not [m for m in rows(ASHA) if m.part.startswith("help")]  # the reply was not "unknown"


def test_an_opener_the_learner_answered_is_spent_when_the_window_closes_again(app, author):
    cohort = create_cohort(author)
    invite(author, cohort["id"])
    now = datetime.now(UTC) + timedelta(seconds=1)
    sender = FakeSender(clock=lambda: now)
    for minutes in (0, 1):  # the claim holds the invitation; the next tick sends the template
        tick(now + timedelta(minutes=minutes), sender, NOTICES)
    reply(app, ASHA_WHATSAPP, "Read it", now + timedelta(minutes=2))
    tick(now + timedelta(minutes=2, seconds=1), sender, NOTICES)
    # Two days on, the window closed long ago: a new invitation needs a new template.
    invite_asha_to_another_cohort(author)
    for minutes in (0, 1):
        tick(now + timedelta(days=2, minutes=minutes), sender, NOTICES)
    assert [m.content_sid for m in sent_to(sender, ASHA)] == [
        SANDBOX_NOTICE_CONTENT_SID, None, SANDBOX_NOTICE_CONTENT_SID]


def test_without_a_notice_template_the_invitation_waits_for_the_learner(app, author):
    cohort = create_cohort(author)
    invite(author, cohort["id"])
    now = datetime.now(UTC) + timedelta(seconds=1)
    sender = tick(now, FakeSender(clock=lambda: now),
                  WhatsAppSettings(opener_content_sid=SANDBOX_OPENER_CONTENT_SID))
    assert sent_to(sender, ASHA) == []
    assert [(m.status, m.hold_reason) for m in rows(ASHA)] == [("held", "window_closed")]
