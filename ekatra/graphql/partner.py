"""The SkillsTrainer partner contract's GraphQL (its Hasura queries) over Ekatra's data.

POST /api/partner/graphql (and /v1/graphql) with the partner's ST-ACCESS-KEY / ST-SECRET-KEY;
with a learner's `jwt_token` and `access_token` as well, only that learner is visible.

How Ekatra maps onto the contract's tables:
- `courses_course`: the courses of deliveries shared with the partner. Fields Ekatra has no
  notion of (prices, Moodle ids, NSQF level, dates, category, …) are null, never made up.
- `courses_users`: the partner's learner accounts; `enrollments` are their enrollments in
  deliveries shared with the partner (as `get_courses_for_user` shows them); the profile
  tables (qualifications, family, languages, skills, work) are empty lists.
- `courses_course_section`: a course's days (`name` "Day N"); `coursesec` (modules) are the
  day's text and then its questions. A module's id is 2 × the question's id for a question and
  2 × the day's id + 1 for the day's text (stable, unique, and says which it is).
- `course_complete_module_array`: one row per visible learner enrolled in the course: complete
  once the text was sent (its first part accepted by the provider) or the question answered,
  with that moment as `completion_date` (the earliest, over the learner's deliveries of it).
- `where` takes the contract's `{field: {_eq: value}}` (and `_in`); an absent `_eq` adds no
  condition and `_eq: null` matches nothing. `limit` (at most 500, the default) and `offset`
  page the root lists, in id order.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Optional

import strawberry
from graphql import GraphQLError
from sqlalchemy import func, select
from strawberry.schema.config import StrawberryConfig
from strawberry.types import Info

from ekatra.courses import models as courses
from ekatra.deliveries.models import REMOVED, Delivery, Enrollment
from ekatra.deliveries.progress import FIRST_PART, SENT_STATUSES
from ekatra.extensions import db
from ekatra.graphql import limits
from ekatra.graphql.errors import Schema
from ekatra.graphql.hasura import (
    SCALARS,
    CompletionWhere,
    CourseCategory,
    CourseWhere,
    FamilyMember,
    Qualification,
    SectionWhere,
    UserLanguage,
    UserSkill,
    UserWhere,
    WorkDetail,
    bigint,
    date,
    matches,
    numeric,
    paged,
    sql_condition,
    timestamptz,
)
from ekatra.inbound.models import Answer
from ekatra.outbox.models import Message
from ekatra.partners.models import USED, Coupon, CouponBatch, LearnerAccount
from ekatra.partners.sharing import is_shared

SDL_PATH = __import__("pathlib").Path(__file__).with_name("partner.graphql")

# Courses ----------------------------------------------------------------------------------------


@strawberry.type(name="courses_course", description="A course shared with the partner (through a delivery).")
class CourseRow:
    id: bigint
    full_name: str
    description: str
    created_at: timestamptz
    updated_at: timestamptz
    is_moodle_course: bool = strawberry.field(description="Always false: an Ekatra course is a drip.")
    language: str = strawberry.field(description="Ekatra's own field: the course's language.")
    start_date: Optional[date] = None  # noqa: UP045
    end_date: Optional[date] = None  # noqa: UP045
    moodle_config_id: Optional[bigint] = None  # noqa: UP045
    moodle_course_url: str | None = None
    course_category: Optional[CourseCategory] = None  # noqa: UP045
    publish: bool | None = None
    identifier: str | None = None
    cost: Optional[numeric] = None  # noqa: UP045
    nsqf_level: int | None = None
    discount: Optional[numeric] = None  # noqa: UP045
    multilang: bool | None = None
    image_url: str | None = None
    short_name: str | None = None
    moodle_course_id: Optional[bigint] = None  # noqa: UP045
    duration: str | None = None
    is_live_course: bool | None = None
    is_subscription: bool | None = None
    is_taxable: bool | None = None
    course_type: str | None = None

    @classmethod
    def of(cls, row: courses.Course) -> CourseRow:
        return cls(id=row.id, full_name=row.name, description=row.description, created_at=row.created_at,
                   updated_at=row.updated_at, is_moodle_course=False, language=row.language)


def _visible_course_ids(info: Info):
    """A SELECT of the ids of courses delivered in deliveries shared with the calling partner."""
    return select(Delivery.course_id).where(is_shared(Delivery.id, info.context.caller.partner.id))


def _courses_by_id(info: Info, ids: set[int]) -> dict[int, courses.Course]:
    cache = info.context.loaders.seen.setdefault("partner_courses", {})
    missing = [i for i in ids if i not in cache]
    if missing:
        cache.update({row.id: row for row in db.session.scalars(
            select(courses.Course).where(courses.Course.id.in_(missing)))})
    return {i: cache[i] for i in ids if i in cache}


# Learners ---------------------------------------------------------------------------------------


@strawberry.type(name="courses_user_course_enrolment",
                 description="A learner's enrollment in a delivery shared with the partner.")
class EnrollmentRow:
    id: bigint
    course_id: bigint
    user_id: bigint
    enroll_status: str = strawberry.field(description="active, suspended (opted out) or finished.")
    created_at: timestamptz
    updated_at: timestamptz
    partner_id: bigint
    exired_at: Optional[timestamptz] = None  # noqa: UP045 (the contract's spelling)
    order_id: Optional[bigint] = None  # noqa: UP045
    subscription_id: Optional[bigint] = None  # noqa: UP045

    @strawberry.field
    def course_obj_relation(self, info: Info) -> CourseRow | None:
        found = info.context.loaders.seen["partner_enrolled_courses"].get(self.course_id)
        return CourseRow.of(found) if found else None


@strawberry.type(name="courses_users", description="A learner account the partner created.")
class UserRow:
    id: bigint
    name: str
    partner_id: bigint
    mobile_number: str | None
    email: str | None
    created_at: timestamptz
    updated_at: timestamptz
    idp_user_id: str
    source: str
    idp_user_name: str
    is_email_verified: bool
    is_mobile_number_verified: bool
    instructor_id: Optional[bigint] = None  # noqa: UP045
    activation_start_date: Optional[timestamptz] = None  # noqa: UP045
    activation_end_date: Optional[timestamptz] = None  # noqa: UP045
    active: bool | None = None
    gender: str | None = None
    date_of_birth: Optional[date] = None  # noqa: UP045
    social_category: str | None = None
    address_complete: bool | None = None
    address_id: Optional[bigint] = None  # noqa: UP045
    facebook_user_id: str | None = None
    google_user_id: str | None = None
    user_academic_qualifications: list[Qualification] = strawberry.field(default_factory=list)
    user_family_details: list[FamilyMember] = strawberry.field(default_factory=list)
    user_languages: list[UserLanguage] = strawberry.field(default_factory=list)
    user_skills: list[UserSkill] = strawberry.field(default_factory=list)
    user_work_details: list[WorkDetail] = strawberry.field(default_factory=list)

    @strawberry.field
    def enrollments(self, info: Info) -> list[EnrollmentRow]:
        return info.context.loaders.seen["partner_enrollments"].get(self.id, [])

    @classmethod
    def of(cls, account: LearnerAccount) -> UserRow:
        # The same values as the REST db_user (partners.shapes): e.g. nothing is verified.
        return cls(id=account.id, name=account.full_name, partner_id=account.partner_id,
                   mobile_number=account.phone, email=account.email, created_at=account.created_at,
                   updated_at=account.updated_at, idp_user_id=account.idp_user_id, source=account.source,
                   idp_user_name=f"EKATRA/{account.login_id}", is_email_verified=False,
                   is_mobile_number_verified=False)


def _visible_accounts(info: Info):
    caller = info.context.caller
    statement = select(LearnerAccount).where(LearnerAccount.partner_id == caller.partner.id)
    if caller.learner is not None:
        statement = statement.where(LearnerAccount.id == caller.learner.id)
    return statement


def _enrollments(info: Info, account_ids: list[int]) -> list[tuple[int, Enrollment, Delivery]]:
    """(account id, enrollment, delivery) of these accounts in deliveries shared with the partner,
    as partners.learners.enrollments_of finds them, for many accounts at once."""
    if not account_ids:
        return []
    return list(db.session.execute(
        select(Coupon.used_by_id, Enrollment, Delivery).join(Delivery, Delivery.id == Enrollment.delivery_id)
        .join(Coupon, Coupon.student_id == Enrollment.student_id)
        .join(CouponBatch, (CouponBatch.id == Coupon.batch_id) & (CouponBatch.delivery_id == Delivery.id))
        .where(Coupon.used_by_id.in_(account_ids), Coupon.state == USED, Enrollment.status != REMOVED,
               is_shared(Delivery.id, info.context.caller.partner.id))
        .order_by(Enrollment.id)).all())


# Sections (days), modules (text and questions) and their completion -----------------------------


@strawberry.type(name="courses_course_module_completion",
                 description="Whether a learner completed a module: its text sent, its question answered.")
class CompletionRow:
    completion_status: bool
    mapping_id: int = strawberry.field(description="The module's id.")
    completion_date: Optional[timestamptz]  # noqa: UP045
    user_id: int


@strawberry.type(name="courses_course_module", description="A day's text, or one of its questions.")
class ModuleRow:
    id: int
    name: str
    kind: str = strawberry.field(description="`text` (the day's text) or `question`.")
    course_id: strawberry.Private[int]
    day_number: strawberry.Private[int]
    question_id: strawberry.Private[int | None]

    @strawberry.field
    def course_complete_module_array(self, info: Info,
                                     where: CompletionWhere | None = None) -> list[CompletionRow]:
        user_filter = where.user_id if where is not None else None
        progress = _completion(info, user_filter)
        result = []
        for account_id in progress.learners.get(self.course_id, []):
            if self.question_id is None:
                done = progress.sent.get((account_id, self.course_id, self.day_number))
            else:
                done = progress.answered.get((account_id, self.question_id))
            result.append(CompletionRow(completion_status=done is not None, mapping_id=self.id,
                                        completion_date=done, user_id=account_id))
        return result


def _modules(day: courses.Day) -> list[ModuleRow]:
    text = ModuleRow(id=2 * day.id + 1, name=f"Day {day.number} text", kind="text", course_id=day.course_id,
                     day_number=day.number, question_id=None)
    return [text] + [ModuleRow(id=2 * q.id, name=q.text, kind="question", course_id=day.course_id,
                               day_number=day.number, question_id=q.id) for q in day.questions]


@strawberry.type(name="courses_course_section", description="A day of a course.")
class SectionRow:
    id: int
    name: str
    course_id: int
    number: int = strawberry.field(description="Ekatra's own field: the day's number (1..N).")
    day: strawberry.Private[courses.Day]

    @strawberry.field
    def coursesec(self, info: Info) -> list[ModuleRow]:
        return _modules(self.day)


class Completion:
    """Who is enrolled in which course, which days they were sent and which questions answered."""

    def __init__(self):
        self.learners: dict[int, list[int]] = defaultdict(list)  # course id → account ids
        self.sent: dict[tuple[int, int, int], datetime] = {}  # (account, course, day number) → first sent_at
        self.answered: dict[tuple[int, int], datetime] = {}  # (account, question id) → first answered_at


def _completion(info: Info, user_filter) -> Completion:
    """Computed once per request and learner filter, for every course the sections shown belong to."""
    seen = info.context.loaders.seen
    key = ("partner_completion", repr(user_filter))
    if key in seen:
        return seen[key]
    course_ids = sorted(seen["partner_section_courses"])
    account_ids = [a for a in db.session.scalars(select(LearnerAccount.id).where(
        LearnerAccount.id.in_(select(_visible_accounts(info).subquery().c.id)))) if matches(a, user_filter)]
    completion = Completion()
    rows = [(a, e, d) for a, e, d in _enrollments(info, account_ids) if d.course_id in course_ids]
    owner = {}  # enrollment id → (account id, course id)
    for account_id, enrollment, delivery in rows:
        owner[enrollment.id] = (account_id, delivery.course_id)
        if account_id not in completion.learners[delivery.course_id]:
            completion.learners[delivery.course_id].append(account_id)
    if owner:
        for enrollment_id, day_number, sent_at in db.session.execute(
                select(Message.enrollment_id, Message.day_number, func.min(Message.sent_at))
                .where(Message.enrollment_id.in_(owner), Message.part == FIRST_PART,
                       Message.status.in_(SENT_STATUSES))
                .group_by(Message.enrollment_id, Message.day_number)):
            account_id, course_id = owner[enrollment_id]
            _earliest(completion.sent, (account_id, course_id, day_number), sent_at)
        for enrollment_id, question_id, answered_at in db.session.execute(
                select(Answer.enrollment_id, Answer.question_id, func.min(Answer.answered_at))
                .where(Answer.enrollment_id.in_(owner), Answer.question_id.is_not(None))
                .group_by(Answer.enrollment_id, Answer.question_id)):
            _earliest(completion.answered, (owner[enrollment_id][0], question_id), answered_at)
    seen[key] = completion
    return completion


def _earliest(found: dict, key, moment) -> None:
    if moment is not None and (key not in found or moment < found[key]):
        found[key] = moment


# The root ---------------------------------------------------------------------------------------


def _partner_only(info: Info) -> None:
    if info.context.caller.partner is None:
        raise GraphQLError("Send the partner's ST-ACCESS-KEY and ST-SECRET-KEY headers.",
                           extensions={"code": "UNAUTHENTICATED"})


@strawberry.type(name="query_root")
class PartnerQuery:
    @strawberry.field(description="Courses shared with the partner.")
    def courses_course(self, info: Info, where: CourseWhere | None = None, limit: int | None = None,
                       offset: int | None = None) -> list[CourseRow]:
        _partner_only(info)
        statement = select(courses.Course).where(courses.Course.id.in_(_visible_course_ids(info)))
        condition = sql_condition(courses.Course.id, where.id) if where is not None else None
        if condition is not None:
            statement = statement.where(condition)
        rows = db.session.scalars(paged(statement, courses.Course, limit, offset))
        return [CourseRow.of(row) for row in rows]

    @strawberry.field(description="The partner's learners (only the learner, with a learner's tokens).")
    def courses_users(self, info: Info, where: UserWhere | None = None, limit: int | None = None,
                      offset: int | None = None) -> list[UserRow]:
        _partner_only(info)
        statement = _visible_accounts(info)
        condition = sql_condition(LearnerAccount.id, where.id) if where is not None else None
        if condition is not None:
            statement = statement.where(condition)
        accounts = list(db.session.scalars(paged(statement, LearnerAccount, limit, offset)))
        by_account: dict[int, list[EnrollmentRow]] = defaultdict(list)
        rows = _enrollments(info, [a.id for a in accounts])
        for account_id, enrollment, delivery in rows:
            by_account[account_id].append(EnrollmentRow(
                id=enrollment.id, course_id=delivery.course_id, user_id=account_id,
                enroll_status=enrollment.status, created_at=enrollment.created_at,
                updated_at=enrollment.updated_at, partner_id=info.context.caller.partner.id))
        info.context.loaders.seen["partner_enrollments"] = by_account
        info.context.loaders.seen["partner_enrolled_courses"] = _courses_by_id(
            info, {delivery.course_id for _, _, delivery in rows})
        return [UserRow.of(account) for account in accounts]

    @strawberry.field(description="The days of courses shared with the partner.")
    def courses_course_section(self, info: Info, where: SectionWhere | None = None, limit: int | None = None,
                               offset: int | None = None) -> list[SectionRow]:
        _partner_only(info)
        statement = select(courses.Day).where(courses.Day.course_id.in_(_visible_course_ids(info)))
        for column, comparison in ((courses.Day.id, where and where.id),
                                   (courses.Day.course_id, where and where.course_id)):
            condition = sql_condition(column, comparison or None)
            if condition is not None:
                statement = statement.where(condition)
        days = list(db.session.scalars(paged(statement, courses.Day, limit, offset)))
        info.context.loaders.seen["partner_section_courses"].update(day.course_id for day in days)
        return [SectionRow(id=day.id, name=f"Day {day.number}", course_id=day.course_id, number=day.number,
                           day=day) for day in days]


schema = Schema(query=PartnerQuery, config=StrawberryConfig(auto_camel_case=False, scalar_map=SCALARS),
                           extensions=limits.EXTENSIONS)
