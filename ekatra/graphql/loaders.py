"""Batched loading for one GraphQL request (dataloaders, without an event loop).

Execution is synchronous, so a loader cannot wait for its siblings to ask. Instead, the resolver
that produces a list of parents registers their keys (`Loaders.saw(kind, keys)`), and the first
child that asks a loader for one key makes it load every registered key of that kind at once.
Fifty deliveries with their learners and progress are a handful of statements, not hundreds.

The keys registered are only those of rows the caller was allowed to see, so a batch never
reads anything the ownership rules would hide.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field

from sqlalchemy import case, func, select

from ekatra.auth.services import Actor
from ekatra.courses.models import Course, Day
from ekatra.deliveries.models import Delivery, Enrollment
from ekatra.deliveries.progress import DayCounts, day_counts
from ekatra.extensions import db
from ekatra.graphql.pagination import Page
from ekatra.groups.models import Group, Student
from ekatra.inbound.models import Answer
from ekatra.outbox.models import Message
from ekatra.outbox.optouts import opted_out_pairs
from ekatra.partners.models import LearnerAccount, Partner

COURSE, GROUP, DELIVERY, ENROLLMENT, STUDENT = "course", "group", "delivery", "enrollment", "student"


class BatchLoader:
    """Values by key, loaded for every registered key of its kind the first time one is asked."""

    def __init__(self, loaders: Loaders, kind: str, batch: Callable[[list], dict], default=None):
        self._loaders, self._kind, self._batch, self._default = loaders, kind, batch, default
        self._cache: dict = {}

    def load(self, key: Hashable):
        if key not in self._cache:
            keys = {k for k in self._loaders.seen[self._kind] if k not in self._cache} | {key}
            found = self._batch(sorted(keys))
            for k in keys:
                self._cache[k] = found.get(k, self._default() if callable(self._default) else self._default)
        return self._cache[key]


@dataclass(frozen=True)
class Progress:
    days_sent: int
    days_delivered: int
    last_sent_at: object
    questions_answered: int
    answers_correct: int


@dataclass
class Loaders:
    """The loaders of one request. `seen` holds, per kind, the keys of rows already shown."""

    seen: dict[str, set] = field(default_factory=lambda: defaultdict(set))
    _loaders: dict = field(default_factory=dict)

    def saw(self, kind: str, keys: Iterable) -> None:
        self.seen[kind].update(k for k in keys if k is not None)

    def _get(self, name: Hashable, kind: str, batch: Callable[[list], dict], default=None) -> BatchLoader:
        if name not in self._loaders:
            self._loaders[name] = BatchLoader(self, kind, batch, default)
        return self._loaders[name]

    # One row per key ---------------------------------------------------------------------------

    def course(self, course_id: int) -> Course | None:
        return self._get("course", COURSE, lambda ids: _by_id(Course, ids)).load(course_id)

    def group(self, group_id: int) -> Group | None:
        return self._get("group", GROUP, lambda ids: _by_id(Group, ids)).load(group_id)

    def student(self, student_id: int) -> Student | None:
        return self._get("student", STUDENT, lambda ids: _by_id(Student, ids)).load(student_id)

    def day_total(self, course_id: int) -> int:
        return self._get("day_total", COURSE, _day_totals, 0).load(course_id)

    def progress(self, enrollment_id: int) -> Progress:
        return self._get("progress", ENROLLMENT, _progress).load(enrollment_id)

    def opted_out(self, student: Student) -> bool:
        """Whether the student's phone opted out on their channel (for every author)."""
        pairs = self._get("opted_out", STUDENT, _opted_out_students, False)
        return pairs.load(student.id)

    # A page of children per parent -------------------------------------------------------------

    def page_of(self, name: str, kind: str, page: Page, model, parent_column, *conditions,
                filters: Hashable = None) -> BatchLoader:
        """The loader of one page (`page`) of `model` rows per parent of `kind`."""
        def batch(parent_ids: list) -> dict:
            pages = page.rows_by_parent(model, parent_column, parent_ids, *conditions)
            children = [row for rows in pages.values() for row in rows]
            if model is Enrollment:
                self.saw(ENROLLMENT, (row.id for row in children))
                self.saw(STUDENT, (row.student_id for row in children))
            elif model in (Message, Answer):
                self.saw(ENROLLMENT, (row.enrollment_id for row in children))
            elif model is Student:
                self.saw(STUDENT, (row.id for row in children))
            return pages

        return self._get((name, page.key, filters), kind, batch, list)


def _by_id(model, ids: list) -> dict:
    return {row.id: row for row in db.session.scalars(select(model).where(model.id.in_(ids)))}


def _day_totals(course_ids: list) -> dict:
    return dict(db.session.execute(select(Day.course_id, func.count()).where(Day.course_id.in_(course_ids))
                                   .group_by(Day.course_id)).all())


def _progress(enrollment_ids: list) -> dict:
    """Days received (the one definition, deliveries.progress.day_counts) and answers, per enrollment."""
    received = day_counts(enrollment_ids)
    answers = {row[0]: (row[1], row[2] or 0) for row in db.session.execute(
        select(Answer.enrollment_id, func.count(), func.sum(case((Answer.is_correct.is_(True), 1), else_=0)))
        .where(Answer.enrollment_id.in_(enrollment_ids)).group_by(Answer.enrollment_id))}
    result = {}
    for enrollment_id in enrollment_ids:
        days = received.get(enrollment_id, DayCounts())
        answered, correct = answers.get(enrollment_id, (0, 0))
        result[enrollment_id] = Progress(days.sent, days.delivered, days.last_sent_at, answered, correct)
    return result


def _opted_out_students(student_ids: list) -> dict:
    students = list(db.session.execute(select(Student.id, Student.phone, Student.channel)
                                       .where(Student.id.in_(student_ids))))
    pairs = opted_out_pairs(phone for _, phone, _ in students)
    return {student_id: (phone, channel) in pairs for student_id, phone, channel in students}


@dataclass
class Caller:
    """Who asks: an author (`actor`), or a partner with (optionally) one learner's tokens."""

    actor: Actor | None = None
    partner: Partner | None = None
    learner: LearnerAccount | None = None


@dataclass
class Context:
    """What every resolver gets as `info.context`."""

    caller: Caller
    loaders: Loaders = field(default_factory=Loaders)


def show_deliveries(context: Context, deliveries: Iterable[Delivery]) -> list[Delivery]:
    """Register deliveries (and their courses and groups) as shown; returns them."""
    deliveries = list(deliveries)
    loaders = context.loaders
    loaders.saw(DELIVERY, (d.id for d in deliveries))
    loaders.saw(COURSE, (d.course_id for d in deliveries))
    loaders.saw(GROUP, (d.group_id for d in deliveries))
    return deliveries
