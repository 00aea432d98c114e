"""The types of /graphql: courses, groups, deliveries and learners, as authors and learners see
them. Children come through the request's loaders (ekatra.graphql.loaders), never one query per
parent."""

from __future__ import annotations

from datetime import date, datetime, time
from enum import Enum

import strawberry
from strawberry.types import Info

from ekatra.courses import models as courses
from ekatra.deliveries import models as deliveries
from ekatra.graphql.loaders import COURSE, DELIVERY, ENROLLMENT, GROUP, Context
from ekatra.graphql.pagination import Connection, Page
from ekatra.groups import models as groups
from ekatra.inbound import models as inbound
from ekatra.outbox import models as outbox


def _context(info: Info) -> Context:
    return info.context


@strawberry.enum(description="A delivery's state (the REST API's uppercase values).")
class DeliveryStatus(Enum):
    SCHEDULED = deliveries.SCHEDULED
    PAUSED = deliveries.PAUSED
    STOPPED = deliveries.STOPPED
    COMPLETED = deliveries.COMPLETED


@strawberry.enum(description="Where a message is in its lifecycle (DESIGN §5).")
class MessageStatus(Enum):
    WAITING = outbox.WAITING
    PENDING = outbox.PENDING
    HELD = outbox.HELD
    SENDING = outbox.SENDING
    SENT = outbox.SENT
    DELIVERED = outbox.DELIVERED
    READ = outbox.READ
    UNDELIVERED = outbox.UNDELIVERED
    FAILED = outbox.FAILED
    CANCELLED = outbox.CANCELLED
    SKIPPED = outbox.SKIPPED


@strawberry.type(description="A question of a day, asked in `position` order.")
class Question:
    id: int
    position: int
    text: str
    type: str
    correct_answer: str | None
    accepted_answers: list[str]
    options: list[str]
    feedback_correct: str | None
    feedback_incorrect: str | None

    @classmethod
    def of(cls, row: courses.Question) -> Question:
        return cls(id=row.id, position=row.position, text=row.text, type=row.type,
                   correct_answer=row.correct_answer, accepted_answers=list(row.accepted_answers or []),
                   options=list(row.options or []), feedback_correct=row.feedback_correct,
                   feedback_incorrect=row.feedback_incorrect)


@strawberry.type(description="One day of a course: its text, then its questions.")
class Day:
    id: int
    number: int
    text: str
    questions: list[Question]

    @classmethod
    def of(cls, row: courses.Day) -> Day:
        return cls(id=row.id, number=row.number, text=row.text,
                   questions=[Question.of(q) for q in row.questions])


@strawberry.type(description="A course an author owns: numbered days of text and questions.")
class Course:
    id: int
    name: str
    author: str
    description: str
    language: str
    created_at: datetime
    updated_at: datetime
    row: strawberry.Private[courses.Course]

    @strawberry.field(description="The days in order (1..N), each with its questions.")
    def days(self) -> list[Day]:
        return [Day.of(day) for day in self.row.days]

    @classmethod
    def of(cls, row: courses.Course | None) -> Course | None:
        if row is None:
            return None
        return cls(id=row.id, name=row.name, author=row.author, description=row.description,
                   language=row.language, created_at=row.created_at, updated_at=row.updated_at, row=row)


@strawberry.type(description="A learner in a group.")
class Student:
    id: int
    name: str
    phone: str
    channel: str
    timezone: str
    is_subscribed: bool = strawberry.field(description="The author's switch; see also optedOut.")

    @strawberry.field(description="Whether the phone sent STOP (it holds for every group).")
    def opted_out(self, info: Info) -> bool:
        return _context(info).loaders.opted_out(self)

    @classmethod
    def of(cls, row: groups.Student | None) -> Student | None:
        if row is None:
            return None
        return cls(id=row.id, name=row.name, phone=row.phone, channel=row.channel, timezone=row.timezone,
                   is_subscribed=row.is_subscribed)


@strawberry.type(description="A cohort an author delivers courses to.")
class Group:
    id: int
    name: str
    description: str
    default_timezone: str
    default_channel: str
    created_at: datetime
    updated_at: datetime

    @strawberry.field(description="The group's students, in id order.")
    def students(self, info: Info, first: int | None = None, after: str | None = None) -> Connection[Student]:
        page = Page(first, after)
        loader = _context(info).loaders.page_of("students", GROUP, page, groups.Student,
                                                 groups.Student.group_id)
        return page.connection(loader.load(self.id), Student.of)

    @classmethod
    def of(cls, row: groups.Group | None) -> Group | None:
        if row is None:
            return None
        return cls(id=row.id, name=row.name, description=row.description,
                   default_timezone=row.default_timezone, default_channel=row.default_channel,
                   created_at=row.created_at, updated_at=row.updated_at)


@strawberry.type(description="How far a learner got in a delivery (the REST progress report's fields).")
class Progress:
    days_sent: int = strawberry.field(description="Days whose first part the provider accepted.")
    days_delivered: int = strawberry.field(description="Days whose first part was confirmed delivered.")
    last_sent_at: datetime | None
    questions_answered: int
    answers_correct: int


@strawberry.type(description="A message of the outbox.")
class Message:
    id: int
    day_number: int | None
    part: str
    channel: str
    to_phone: str
    body: str
    status: MessageStatus
    attempts: int
    segments: int
    encoding: str
    due_at: datetime
    sent_at: datetime | None
    delivered_at: datetime | None
    provider_error_code: int | None
    provider_error_message: str | None
    enrollment_id: int | None

    @classmethod
    def of(cls, row: outbox.Message) -> Message:
        return cls(id=row.id, day_number=row.day_number, part=row.part, channel=row.channel,
                   to_phone=row.to_phone, body=row.body, status=MessageStatus(row.status),
                   attempts=row.attempts, segments=row.segments, encoding=row.encoding, due_at=row.due_at,
                   sent_at=row.sent_at, delivered_at=row.delivered_at,
                   provider_error_code=row.provider_error_code,
                   provider_error_message=row.provider_error_message, enrollment_id=row.enrollment_id)


@strawberry.type(description="A learner's graded reply to a question.")
class Answer:
    id: int
    question_id: int | None
    enrollment_id: int
    text: str
    is_correct: bool | None = strawberry.field(description="Null for an open question (not graded).")
    answered_at: datetime

    @classmethod
    def of(cls, row: inbound.Answer) -> Answer:
        return cls(id=row.id, question_id=row.question_id, enrollment_id=row.enrollment_id, text=row.text,
                   is_correct=row.is_correct, answered_at=row.answered_at)


def _progress(info: Info, enrollment_id: int) -> Progress:
    found = _context(info).loaders.progress(enrollment_id)
    return Progress(days_sent=found.days_sent, days_delivered=found.days_delivered,
                    last_sent_at=found.last_sent_at, questions_answered=found.questions_answered,
                    answers_correct=found.answers_correct)


def _messages(info: Info, kind: str, parent_id: int, parent_column, status: MessageStatus | None,
              first: int | None, after: str | None) -> Connection[Message]:
    page = Page(first, after)
    conditions = [outbox.Message.status == status.value] if status else []
    loader = _context(info).loaders.page_of("messages", kind, page, outbox.Message, parent_column,
                                             *conditions, filters=status)
    return page.connection(loader.load(parent_id), Message.of)


def _answers(info: Info, kind: str, parent_id: int, parent_column, first: int | None,
             after: str | None) -> Connection[Answer]:
    page = Page(first, after)
    loader = _context(info).loaders.page_of("answers", kind, page, inbound.Answer, parent_column)
    return page.connection(loader.load(parent_id), Answer.of)


@strawberry.type(description="One learner in one delivery: status, next day, progress.")
class Learner:
    id: int = strawberry.field(description="The enrollment's id.")
    status: str = strawberry.field(description="active, suspended (opted out), finished or removed.")
    next_day: int
    next_due_at: datetime | None
    student_id: strawberry.Private[int | None]

    @strawberry.field(description="Null once the student was deleted with their group.")
    def student(self, info: Info) -> Student | None:
        return Student.of(_context(info).loaders.student(self.student_id)) if self.student_id else None

    @strawberry.field
    def progress(self, info: Info) -> Progress:
        return _progress(info, self.id)

    @strawberry.field(description="This learner's messages, in id order.")
    def messages(self, info: Info, status: MessageStatus | None = None, first: int | None = None,
                 after: str | None = None) -> Connection[Message]:
        return _messages(info, ENROLLMENT, self.id, outbox.Message.enrollment_id, status, first, after)

    @classmethod
    def of(cls, row: deliveries.Enrollment) -> Learner:
        return cls(id=row.id, status=row.status, next_day=row.next_day, next_due_at=row.next_due_at,
                   student_id=row.student_id)


@strawberry.type(description="When a delivery sends: a local date and time applied in each learner's "
                             "timezone, or one instant (`startAt`) for everyone.")
class Schedule:
    local_start_date: date | None
    local_send_time: time | None
    start_at: datetime | None
    cadence: str
    interval_minutes: int | None


@strawberry.type(description="A course sent to a group on a schedule.")
class Delivery:
    id: int
    status: DeliveryStatus
    schedule: Schedule
    created_at: datetime
    updated_at: datetime
    paused_at: datetime | None
    stopped_at: datetime | None
    completed_at: datetime | None
    course_id: int
    group_id: int

    @strawberry.field
    def course(self, info: Info) -> Course | None:
        return Course.of(_context(info).loaders.course(self.course_id))

    @strawberry.field
    def group(self, info: Info) -> Group | None:
        return Group.of(_context(info).loaders.group(self.group_id))

    @strawberry.field(description="Each learner with their progress, in enrollment order.")
    def learners(self, info: Info, first: int | None = None, after: str | None = None) -> Connection[Learner]:
        page = Page(first, after)
        loader = _context(info).loaders.page_of("learners", DELIVERY, page, deliveries.Enrollment,
                                                 deliveries.Enrollment.delivery_id)
        return page.connection(loader.load(self.id), Learner.of)

    @strawberry.field(description="The delivery's outbox, optionally one status only, in id order.")
    def messages(self, info: Info, status: MessageStatus | None = None, first: int | None = None,
                 after: str | None = None) -> Connection[Message]:
        return _messages(info, DELIVERY, self.id, outbox.Message.delivery_id, status, first, after)

    @strawberry.field(description="Learners' graded answers, in id order.")
    def answers(self, info: Info, first: int | None = None, after: str | None = None) -> Connection[Answer]:
        return _answers(info, DELIVERY, self.id, inbound.Answer.delivery_id, first, after)

    @classmethod
    def of(cls, row: deliveries.Delivery | None) -> Delivery | None:
        if row is None:
            return None
        return cls(id=row.id, status=DeliveryStatus(row.status), created_at=row.created_at,
                   updated_at=row.updated_at, paused_at=row.paused_at, stopped_at=row.stopped_at,
                   completed_at=row.completed_at, course_id=row.course_id, group_id=row.group_id,
                   schedule=Schedule(local_start_date=row.local_start_date,
                                     local_send_time=row.local_send_time, start_at=row.start_at,
                                     cadence=row.cadence,
                                     interval_minutes=row.interval_minutes))


# What a learner sees ----------------------------------------------------------------------------


@strawberry.type(description="A course as its learner sees it: no questions, no answers.")
class LearnerCourse:
    id: int
    name: str
    description: str
    language: str

    @strawberry.field
    def total_days(self, info: Info) -> int:
        return _context(info).loaders.day_total(self.id)


@strawberry.type(description="One of the learner's own enrollments.")
class Enrollment:
    id: int
    status: str
    delivery_status: DeliveryStatus
    course_id: strawberry.Private[int]

    @strawberry.field
    def course(self, info: Info) -> LearnerCourse | None:
        row = _context(info).loaders.course(self.course_id)
        return LearnerCourse(id=row.id, name=row.name, description=row.description,
                             language=row.language) if row else None

    @strawberry.field
    def progress(self, info: Info) -> Progress:
        return _progress(info, self.id)

    @strawberry.field(description="The messages sent (or to be sent) to the learner, in id order.")
    def messages(self, info: Info, status: MessageStatus | None = None, first: int | None = None,
                 after: str | None = None) -> Connection[Message]:
        return _messages(info, ENROLLMENT, self.id, outbox.Message.enrollment_id, status, first, after)

    @strawberry.field(description="The learner's graded answers, in id order.")
    def answers(self, info: Info, first: int | None = None, after: str | None = None) -> Connection[Answer]:
        return _answers(info, ENROLLMENT, self.id, inbound.Answer.enrollment_id, first, after)


@strawberry.type(description="The learner whose tokens came with the request.")
class Me:
    id: int
    name: str
    email: str | None
    phone: str | None
    channel: str
    timezone: str
    rows: strawberry.Private[list]

    @strawberry.field(description="The learner's enrollments in deliveries shared with their partner.")
    def enrollments(self, info: Info) -> list[Enrollment]:
        loaders = _context(info).loaders
        loaders.saw(ENROLLMENT, (enrollment.id for enrollment, _ in self.rows))
        loaders.saw(COURSE, (delivery.course_id for _, delivery in self.rows))
        return [Enrollment(id=enrollment.id, status=enrollment.status,
                           delivery_status=DeliveryStatus(delivery.status), course_id=delivery.course_id)
                for enrollment, delivery in self.rows]
