"""The Hasura conventions of the SkillsTrainer partner contract's GraphQL: its scalars
(`bigint`, `timestamptz`, …), `where: {field: {_eq, _in}}` comparisons and how they become SQL,
`limit`/`offset` paging, and the contract's tables that Ekatra keeps nothing in (every field
null, every list empty). partner.py builds the queries on them."""

from __future__ import annotations

from typing import NewType, Optional

import strawberry
from graphql import GraphQLError
from sqlalchemy import false

from ekatra.extensions import MAX_ID
from ekatra.graphql import limits
from ekatra.graphql.pagination import BAD_USER_INPUT

MAX_LIMIT = limits.MAX_PAGE_SIZE

bigint = NewType("bigint", int)
timestamptz = NewType("timestamptz", str)
date = NewType("date", str)
numeric = NewType("numeric", float)
SCALARS = {
    bigint: strawberry.scalar(name="bigint", serialize=int, parse_value=lambda value: parse_bigint(value),
                              description="A 64-bit integer (Hasura's bigint)."),
    timestamptz: strawberry.scalar(name="timestamptz", serialize=lambda value: value.isoformat(),
                                   parse_value=str,
                                   description="An ISO 8601 instant with its UTC offset."),
    date: strawberry.scalar(name="date", serialize=str, parse_value=str, description="A calendar date."),
    numeric: strawberry.scalar(name="numeric", serialize=float, parse_value=float,
                               description="A decimal number."),
}


def parse_bigint(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError("bigint: a number or a numeric string")
    number = int(value)
    if not -2**63 <= number < 2**63:
        raise ValueError("bigint: out of range")
    return number


# Filters (`where`) ------------------------------------------------------------------------------


@strawberry.input(name="bigint_comparison_exp")
class BigintComparison:
    _eq: Optional[bigint] = strawberry.UNSET  # noqa: UP045 (strawberry resolves NewType scalars this way)
    _in: Optional[list[bigint]] = strawberry.UNSET  # noqa: UP045


@strawberry.input(name="Int_comparison_exp")
class IntComparison:
    _eq: int | None = strawberry.UNSET
    _in: list[int] | None = strawberry.UNSET


@strawberry.input(name="courses_course_bool_exp")
class CourseWhere:
    id: BigintComparison | None = strawberry.UNSET


@strawberry.input(name="courses_users_bool_exp")
class UserWhere:
    id: BigintComparison | None = strawberry.UNSET


@strawberry.input(name="courses_course_section_bool_exp")
class SectionWhere:
    id: IntComparison | None = strawberry.UNSET
    course_id: IntComparison | None = strawberry.UNSET


@strawberry.input(name="courses_course_module_completion_bool_exp")
class CompletionWhere:
    user_id: IntComparison | None = strawberry.UNSET


def sql_condition(column, comparison):
    """The SQL condition of one `{_eq, _in}` comparison, or None for no condition."""
    if comparison is None or comparison is strawberry.UNSET:
        return None
    # Every column compared is a row id: a value no id can have matches nothing (and never
    # reaches the database, whose integer columns would refuse it).
    parts = []
    if comparison._eq is not strawberry.UNSET:
        parts.append(column == comparison._eq if an_id(comparison._eq) else false())
    if comparison._in is not strawberry.UNSET and comparison._in is not None:
        parts.append(column.in_([value for value in comparison._in if an_id(value)]))
    if not parts:
        return None
    condition = parts[0]
    for part in parts[1:]:
        condition = condition & part
    return condition


def an_id(value) -> bool:
    return value is not None and 0 < value <= MAX_ID


def matches(value: int, comparison) -> bool:
    """The same rule in Python, for the learner filter of module completion."""
    if comparison is None or comparison is strawberry.UNSET:
        return True
    if comparison._eq is not strawberry.UNSET and comparison._eq != value:
        return False
    return comparison._in is strawberry.UNSET or comparison._in is None or value in comparison._in


def paged(statement, model, limit: int | None, offset: int | None):
    limit = MAX_LIMIT if limit is None else limit
    if not 0 <= limit <= MAX_LIMIT or (offset is not None and offset < 0):
        raise GraphQLError(f"`limit` must be between 0 and {MAX_LIMIT}, `offset` at least 0.",
                           extensions={"code": BAD_USER_INPUT})
    return statement.order_by(model.id).limit(limit).offset(offset or 0)


# The contract's tables that Ekatra keeps nothing in: every field null, every list empty ----------


def empty_type(name: str, fields: dict[str, object]):
    annotations = {field: Optional[kind] for field, kind in fields.items()}  # noqa: UP045
    return strawberry.type(type(name, (), {"__annotations__": annotations, **dict.fromkeys(fields)}),
                           name=name, description="Ekatra keeps no such rows; lists of it are empty.")


_DOCUMENT = {"document_type": str, "name": str, "url": str, "user_id": bigint, "id": bigint,
             "created_at": timestamptz, "updated_at": timestamptz, "description": str}
UserDocument = empty_type("courses_user_identity_document", _DOCUMENT)
UserAddress = empty_type("courses_user_address", {
    "adress_type": str, "id": bigint, "created_at": timestamptz, "updated_at": timestamptz, "city_town": str,
    "pincode": str, "district": str, "state": str, "country": str, "location": str, "house_number": str,
    "country_iso_code": str, "user_id": bigint})
Language = empty_type("courses_st_language", {"id": bigint, "name": str})
Qualification = empty_type("courses_user_academic_qualifications", {
    "qualification_type": str, "institution_name": str, "qualification_name": str, "marks": str,
    "institution_address_id": bigint, "contact_person_name": str, "contact_person_type": str,
    "contact_person_email": str, "contact_person_mobile_number": str, "user_id": bigint, "achievement": str,
    "document_proof_id": bigint, "document_proof_url": str, "id": bigint, "updated_at": timestamptz,
    "created_at": timestamptz, "marking_type": str, "user_identity_document": UserDocument,
    "user_address": UserAddress})
FamilyMember = empty_type("courses_user_family_details", {
    "member_type": str, "occupation": str, "mobile_number": str, "email": str, "is_currently_working": bool,
    "income_certficate_document_id": bigint, "income_certificate_url": str, "user_id": bigint, "id": bigint,
    "created_at": timestamptz, "updated_at": timestamptz, "name": str, "annual_income": numeric,
    "income_certficate": UserDocument})
UserLanguage = empty_type("courses_user_languages", {
    "user_id": bigint, "language_id": bigint, "can_speak": bool, "can_read": bool, "can_write": bool,
    "created_at": timestamptz, "updated_at": timestamptz, "id": bigint, "st_language": Language})
UserSkill = empty_type("courses_user_skills", {
    "user_id": bigint, "st_skill_id": bigint, "st_skill_name": str, "document_proof_url": str,
    "created_at": timestamptz, "updated_at": timestamptz, "id": bigint})
WorkDetail = empty_type("courses_user_work_details", {
    "title": str, "company_name": str, "start_date": date, "end_date": date, "place": str, "user_id": bigint,
    "created_at": timestamptz, "updated_at": timestamptz, "id": bigint})
CourseCategory = empty_type("courses_course_category", {"id": bigint, "name": str})
