"""The cohort as a spreadsheet for its owner: the contract's columns, one row per student not
revoked; demographics only for the owner."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from ekatra.auth.services import Actor
from ekatra.cohorts.errors import AccessDenied, ValidationFailed
from ekatra.cohorts.models import REVOKED, Cohort, CohortEnrollment
from ekatra.cohorts.services import find_cohort
from ekatra.extensions import db

BASE_COLUMNS = ("cohort_name", "student_name", "student_surname")
INCLUDES = {
    "student_demographics": ("student_age", "student_race", "student_city", "disability_status", "gender"),
    "program_details": ("program_type",),
    "sponsor_info": ("sponsor_company_name",),
}
EXPORT_COLUMNS = (
    "cohort_name",
    "student_name",
    "student_surname",
    "student_age",
    "student_race",
    "student_city",
    "program_type",
    "sponsor_company_name",
    "disability_status",
    "gender",
)


def export_rows(
    actor: Actor, cohort_id: int, include: Sequence[str] | None
) -> tuple[Cohort, list[str], list]:
    """The contract's columns (those `include` asks for, in the contract's order) for every
    student not revoked. Demographics only for the cohort's owner (an admin gets a 403)."""
    cohort = find_cohort(actor, cohort_id)
    is_owner = cohort.owner_id == actor.author_id
    if include is None:
        include = [name for name in INCLUDES if is_owner or name != "student_demographics"]
    unknown = [name for name in include if name not in INCLUDES]
    if unknown:
        raise ValidationFailed(
            f"include: unknown {', '.join(unknown)}; known: {', '.join(INCLUDES)}",
            {"include": [f"must be among {', '.join(INCLUDES)}"]},
        )
    if "student_demographics" in include and not is_owner:
        raise AccessDenied("Access denied: demographics are shown only to the cohort's owner")
    wanted = set(BASE_COLUMNS).union(*(INCLUDES[name] for name in include))
    columns = [column for column in EXPORT_COLUMNS if column in wanted]
    enrollments = db.session.scalars(
        select(CohortEnrollment)
        .where(CohortEnrollment.cohort_id == cohort.id, CohortEnrollment.state != REVOKED)
        .order_by(CohortEnrollment.last_name, CohortEnrollment.first_name, CohortEnrollment.id)
    ).all()
    rows = []
    for e in enrollments:
        values = {
            "cohort_name": cohort.name,
            "student_name": e.first_name,
            "student_surname": e.last_name,
            "student_age": e.age,
            "student_race": e.race,
            "student_city": e.city,
            "program_type": cohort.program_type,
            "sponsor_company_name": cohort.sponsor_company_name,
            "disability_status": e.disability,
            "gender": e.gender,
        }
        rows.append([values[column] for column in columns])
    return cohort, columns, rows
