"""Learners' replies: keywords (STOP, START, HELP), answers to the open question, feedback.

A reply is stored once per provider sid (Twilio retries webhooks; the unique sid makes a retry a
no-op). Whatever it leads to — feedback, the next question, the help text — goes into the outbox
due now; the worker sends them. Nothing is sent from the webhook itself.

Order of reading a reply (each compared after normalisation: case, spacing, punctuation):
1. an opt-out keyword (STOP, …): the phone is opted out on that channel, for every group;
2. an opt-in keyword (START, UNSTOP, YES) from an opted-out phone: opted back in. From a phone
   that is not opted out, YES is an answer like any other (START and UNSTOP change nothing);
3. anything else from an opted-out phone is stored, unanswered;
4. HELP, INFO: the help text;
5. otherwise the answer to the learner's open question: the latest question sent to that phone
   on that channel, in a delivery still running, that has no answer yet. Graded, stored, and
   followed by feedback and the day's next question;
6. no open question: stored as unmatched, and answered with the help text at most once per
   UTC day per phone.

A reply through the test provider (`livemode` false, see `signatures`) is read against test
learners only, and a live one against live learners only: a phone that is both a test and a
live learner's is two learners. Its keywords opt out (or in) that mode only, and what it leads to
is queued in that mode (a test reply's feedback goes to the test provider).

A learner paused for silence (`deliveries.reminders`) is resumed by whatever they write next
(except STOP), before it is read as above: RESUME (or its Hindi forms, RESUME_KEYWORDS) is then
only that (`resumed`), an answer is graded, and anything else is `resumed` rather than helped.
An answer cancels the question's reminders not sent yet.

A WhatsApp reply (typed, or a quick-reply button: Twilio's ButtonPayload / ButtonText) also
opens the learner's customer-service window, in the same transaction, and releases at once what
was held for it (the day's parts after an opener template). Such a reply is graded only if it
answers the open question (an option or yes/no it names, or a correct text answer); otherwise it
is stored as `released` and answered by the released content, not by the help text.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, func, select, update
from sqlalchemy.exc import IntegrityError

from ekatra.courses.grading import boolean_forms, choice_index, grade, normalise
from ekatra.courses.models import Question
from ekatra.deliveries import optouts, reminders
from ekatra.deliveries.models import ACTIVE, COMPLETED, FINISHED, PAUSED, SCHEDULED, Delivery, Enrollment
from ekatra.extensions import db, dialect_insert
from ekatra.groups.models import Student
from ekatra.inbound.models import (
    ANSWERED,
    HELP,
    OPTED_IN,
    OPTED_OUT,
    RELEASED,
    RESUMED,
    UNMATCHED,
    Answer,
    InboundMessage,
)
from ekatra.outbox import services as outbox
from ekatra.outbox.models import DELIVERED, PAUSED_REASON, READ, SENDING, SENT, Message
from ekatra.outbox.optouts import KEYWORD, is_opted_out
from ekatra.outbox.twilio import SMS, WHATSAPP, WHATSAPP_PREFIX
from ekatra.outbox.whatsapp import DEFAULT_WINDOW_SECONDS, record_inbound
from ekatra.rendering.parts import question_part
from ekatra.rendering.texts import render_feedback
from ekatra.transactions import transaction
from ekatra.webhooks import audience
from ekatra.webhooks import services as webhooks

log = logging.getLogger(__name__)

ASKED = (SENDING, SENT, DELIVERED, READ)  # a question the learner has (or is about to have)
OPEN_DELIVERIES = (SCHEDULED, PAUSED, COMPLETED)  # a stopped delivery takes no more answers
OPEN_ENROLLMENTS = (ACTIVE, FINISHED)  # finished: every day planned, the last question may be open


@dataclass(frozen=True)
class ReplySettings:
    """The configurable words and texts (config: OPT_OUT_KEYWORDS, …, HELP_TEXT)."""

    opt_out_keywords: frozenset[str]
    opt_in_keywords: frozenset[str]
    help_keywords: frozenset[str]
    help_text: str
    boolean_forms: dict
    whatsapp_window_seconds: float = DEFAULT_WINDOW_SECONDS
    resume_keywords: frozenset[str] = frozenset({"resume"})

    @classmethod
    def from_config(cls, config) -> ReplySettings:
        def words(name: str) -> frozenset[str]:
            return frozenset(normalise(word) for word in config[name] if normalise(word))

        forms = boolean_forms(config["BOOLEAN_YES_WORDS"], config["BOOLEAN_NO_WORDS"])
        return cls(words("OPT_OUT_KEYWORDS"), words("OPT_IN_KEYWORDS"), words("HELP_KEYWORDS"),
                   config["HELP_TEXT"], forms,
                   float(config.get("WHATSAPP_WINDOW_SECONDS", DEFAULT_WINDOW_SECONDS)),
                   words("RESUME_KEYWORDS") if "RESUME_KEYWORDS" in config else frozenset({"resume"}))


@dataclass(frozen=True)
class Button:
    """A tapped WhatsApp quick-reply button: its id (ButtonPayload) and title (ButtonText)."""

    payload: str | None
    text: str | None

    @classmethod
    def of(cls, payload: str | None, text: str | None) -> Button | None:
        return cls(payload, text) if payload or text else None


def _answer_text(body: str, button: Button | None, question: Question, settings: ReplySettings) -> str:
    """What to grade: for a button, its id if that names an answer, else its title, else the body."""
    if button is None:
        return body
    for candidate in (button.payload, button.text):
        if candidate and _names_an_answer(candidate, question, settings):
            return candidate
    return button.text or body


def _names_an_answer(text: str, question: Question, settings: ReplySettings) -> bool:
    """Whether a reply is recognisably an answer to `question` (not just "hi")."""
    if question.type == "choice":
        return choice_index(text, question.options or ()) is not None
    if question.type == "boolean":
        return normalise(text) in settings.boolean_forms
    if question.type == "open":
        return False
    return bool(grade(type=question.type, reply=text, correct_answer=question.correct_answer,
                      accepted_answers=question.accepted_answers or (), options=question.options or (),
                      forms=settings.boolean_forms))


@dataclass(frozen=True)
class ReplyResult:
    inbound_id: int
    outcome: str
    is_duplicate: bool = False
    is_correct: bool | None = None


def address(raw: str) -> tuple[str, str]:
    """Twilio's From ("whatsapp:+233…" or "+91…") as (E.164 phone, channel)."""
    raw = (raw or "").strip()
    if raw.startswith(WHATSAPP_PREFIX):
        return raw.removeprefix(WHATSAPP_PREFIX), WHATSAPP
    return raw, SMS


def _open_question(phone: str, channel: str, livemode: bool):
    """The latest question sent to this phone on this channel that has no answer yet."""
    answered = exists().where(Answer.enrollment_id == Message.enrollment_id,
                              Answer.question_id == Message.question_id)
    return db.session.execute(
        select(Message, Enrollment, Question, Delivery.status)
        .join(Enrollment, Enrollment.id == Message.enrollment_id)
        .join(Delivery, Delivery.id == Enrollment.delivery_id)
        .join(Question, Question.id == Message.question_id)
        .where(Message.to_phone == phone, Message.channel == channel, Message.livemode.is_(livemode),
               Message.status.in_(ASKED),
               Enrollment.status.in_(OPEN_ENROLLMENTS), Delivery.status.in_(OPEN_DELIVERIES), ~answered)
        .order_by(func.coalesce(Message.sent_at, Message.due_at).desc(), Message.id.desc())
        .limit(1)).first()


def _answer(inbound: InboundMessage, body: str, settings: ReplySettings, now: datetime, *,
            button: Button | None = None, only_an_answer: bool = False) -> bool | None:
    """Grade the reply to the open question, store it, queue feedback and the next question.
    Returns whether it was correct, or raises LookupError when there is no open question (or,
    with `only_an_answer`, when the reply is not recognisably an answer to it)."""
    found = _open_question(inbound.from_phone, inbound.channel, inbound.livemode)
    if found is None:
        raise LookupError
    message, enrollment, question, delivery_status = found
    body = _answer_text(body, button, question, settings)
    if only_an_answer and not _names_an_answer(body, question, settings):
        raise LookupError
    is_correct = grade(type=question.type, reply=body, correct_answer=question.correct_answer,
                       accepted_answers=question.accepted_answers or (), options=question.options or (),
                       forms=settings.boolean_forms)
    try:
        with db.session.begin_nested():  # one answer per question: a concurrent reply loses here
            db.session.add(Answer(student_id=enrollment.student_id, question_id=question.id,
                                  delivery_id=enrollment.delivery_id, enrollment_id=enrollment.id,
                                  inbound_message_id=inbound.id, text=body, is_correct=is_correct,
                                  answered_at=now))
    except IntegrityError:
        raise LookupError from None
    inbound.student_id, inbound.question_id = enrollment.student_id, question.id
    inbound.delivery_id = enrollment.delivery_id
    reminders.cancel_reminders_of(enrollment.id, question.id, now)
    if is_correct is not None:  # graded: `open` answers are stored ungraded and are no assessment
        delivery = db.session.get(Delivery, enrollment.delivery_id)
        webhooks.record_events("assessment.completed", audience.about_students([(
            enrollment.student_id, delivery.owner_id,
            {"course_id": delivery.course_id, "delivery_id": delivery.id, "question_id": question.id,
             "correct": is_correct})]), now=now)
    last = db.session.scalar(select(func.max(Message.sequence)).where(
        Message.enrollment_id == enrollment.id, Message.day_number == message.day_number)) or 0
    # A paused delivery's answers are graded now; what they lead to waits for RESUME.
    common = {"channel": inbound.channel, "to_phone": inbound.from_phone,
              "delivery_id": enrollment.delivery_id, "enrollment_id": enrollment.id,
              "day_number": message.day_number,
              "hold_reason": PAUSED_REASON if delivery_status == PAUSED else None,
              "livemode": inbound.livemode}
    outbox.enqueue(outbox.NewMessage(
        **common, part=f"feedback-{question.id}", sequence=last + 1,
        body=render_feedback(is_correct, question.type, question.correct_answer, question.options or (),
                             question.feedback_correct, question.feedback_incorrect)), now)
    following = db.session.scalar(
        select(Question).where(Question.day_id == question.day_id, Question.position > question.position)
        .order_by(Question.position).limit(1))
    already_asked = following is not None and db.session.scalar(select(exists().where(
        Message.enrollment_id == enrollment.id, Message.question_id == following.id)))
    if following is not None and not already_asked:
        part = question_part(following, last + 2)
        outbox.enqueue(outbox.NewMessage(**common, part=part.part, sequence=part.sequence, body=part.body,
                                         question_id=following.id), now)
    return is_correct


def _send_help(inbound: InboundMessage, settings: ReplySettings, now: datetime, *, once_a_day: bool) -> bool:
    if once_a_day:
        try:
            with db.session.begin_nested():  # unique (phone, channel, help_day): once a UTC day
                db.session.execute(update(InboundMessage).where(InboundMessage.id == inbound.id)
                                   .values(help_day=now.date()))
        except IntegrityError:
            return False
    outbox.enqueue(outbox.NewMessage(channel=inbound.channel, to_phone=inbound.from_phone,
                                     body=settings.help_text, part=f"help-{inbound.id}",
                                     livemode=inbound.livemode), now)
    return True


def _some_student(phone: str, channel: str, livemode: bool) -> int | None:
    return db.session.scalar(select(Student.id).where(Student.phone == phone, Student.channel == channel,
                                                      Student.livemode.is_(livemode))
                             .order_by(Student.id.desc()).limit(1))


def receive_reply(*, provider_sid: str, from_: str, to: str | None, body: str, now: datetime,
                  settings: ReplySettings, button: Button | None = None,
                  livemode: bool = True) -> ReplyResult:
    """Store and act on one learner reply, through the provider of this mode (see the module
    docstring). Idempotent; commits."""
    phone, channel = address(from_)
    body = body or (button.text if button else "") or ""
    with transaction():
        inserted = db.session.execute(dialect_insert(InboundMessage).values(
            provider_sid=provider_sid, from_phone=phone, to_phone=to, channel=channel, body=body,
            received_at=now, outcome=UNMATCHED, livemode=livemode)
            .on_conflict_do_nothing().returning(InboundMessage.id)).first()
        if inserted is None:  # Twilio retried a webhook we already handled
            db.session.rollback()
            earlier = db.session.scalar(
                select(InboundMessage).where(InboundMessage.provider_sid == provider_sid))
            log.info("inbound %s is a retry: already %s", provider_sid, earlier.outcome)
            return ReplyResult(earlier.id, earlier.outcome, is_duplicate=True)
        inbound = db.session.get(InboundMessage, inserted[0])
        inbound.student_id = _some_student(phone, channel, livemode)
        released = 0
        if channel == WHATSAPP:
            record_inbound(phone, to, now, settings.whatsapp_window_seconds)
            released = outbox.release_window(phone, now, livemode)
        keyword = normalise(body)
        is_correct = None
        opted_out = is_opted_out(phone, channel, livemode)
        if keyword in settings.opt_out_keywords:
            optouts.opt_out(phone, channel, KEYWORD, now, livemode)
            inbound.outcome = OPTED_OUT
        elif keyword in settings.opt_in_keywords and (opted_out or keyword not in settings.boolean_forms):
            optouts.opt_in(phone, channel, now, livemode)
            reminders.resume_on_message(phone, channel, now, livemode)
            inbound.outcome = OPTED_IN
        elif opted_out:
            inbound.outcome = UNMATCHED
        elif (resumed := reminders.resume_on_message(phone, channel, now, livemode)) and \
                keyword in settings.resume_keywords:
            inbound.outcome = RESUMED
        elif keyword in settings.help_keywords:
            _send_help(inbound, settings, now, once_a_day=False)
            inbound.outcome = HELP
        else:
            try:
                is_correct = _answer(inbound, body, settings, now, button=button,
                                     only_an_answer=bool(released))
                inbound.outcome = ANSWERED
            except LookupError:
                if resumed:
                    inbound.outcome = RESUMED
                elif released:
                    inbound.outcome = RELEASED
                elif _send_help(inbound, settings, now, once_a_day=True):
                    inbound.outcome = HELP
                else:
                    inbound.outcome = UNMATCHED
    return ReplyResult(inbound.id, inbound.outcome, is_correct=is_correct)
