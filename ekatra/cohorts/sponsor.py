"""What the sponsor does through their private link: see the cohort's students (no
demographics) and each one's agreement, and sign for all of them at once; the signature
finalises the cohort (each student's signed agreement as a PDF, the cohort's group, and the
course's delivery from the first day)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from ekatra.auth.services import Actor
from ekatra.cohorts import documents, links
from ekatra.cohorts.errors import LinkRefused, Missing, StateError, ValidationFailed
from ekatra.cohorts.models import (
    ACTIVE,
    APPROVED,
    COMPLETE,
    FINALISED,
    REJECTED,
    REVOKED,
    SIGNED,
    VERIFIED,
    Cohort,
    CohortEnrollment,
)
from ekatra.cohorts.paperwork import agreement_texts, decode_png_data_url, student_documents
from ekatra.cohorts.services import Settings, first_day, summary
from ekatra.cohorts.storage import new_key
from ekatra.extensions import db

SPONSOR_LINK_REFUSED = "Invalid or expired sponsor token"
FINALISE_RETRY_SECONDS = 60


def cohort_by_sponsor_link(secret: str, token: str, now: datetime, *, for_update: bool = False) -> Cohort:
    key = links.key_of(secret, links.SPONSOR, token)
    cohort = None
    if key:
        statement = select(Cohort).where(Cohort.sponsor_key == key)
        cohort = db.session.scalar(statement.with_for_update() if for_update else statement)
    if (
        cohort is None
        or cohort.state not in (ACTIVE, FINALISED)
        or cohort.sponsor_link_expires_at is None
        or (cohort.sponsor_link_expires_at <= now and cohort.state != FINALISED)
    ):
        raise LinkRefused(SPONSOR_LINK_REFUSED)
    return cohort


def _enrollments(cohort: Cohort) -> list[CohortEnrollment]:
    return db.session.scalars(
        select(CohortEnrollment)
        .where(CohortEnrollment.cohort_id == cohort.id, CohortEnrollment.state != REVOKED)
        .order_by(CohortEnrollment.last_name, CohortEnrollment.first_name, CohortEnrollment.id)
    ).all()


def is_ready(enrollment: CohortEnrollment) -> bool:
    return enrollment.state == COMPLETE and enrollment.verification_state == VERIFIED


def sponsor_overview(cohort: Cohort) -> dict:
    """What the sponsor sees (no demographics): the students, their state, whether they can sign."""
    enrollments = _enrollments(cohort)
    counts = summary(cohort.id)
    signed = sum(1 for e in enrollments if e.sponsor_signed_at)
    can_sign = (
        cohort.state == ACTIVE
        and cohort.sponsor_signed_at is None
        and counts["total"] > 0
        and counts["ready"] == counts["total"]
    )
    supporting = [t for t in cohort.templates if t.kind != "main"]
    students = [
        {
            "id": e.id,
            "name": e.full_name,
            "email": e.email,
            "state": e.state,
            "verification_state": e.verification_state,
            "signed": e.sponsor_signed_at is not None,
            "signed_at": e.sponsor_signed_at or e.signed_at,
            "documents": {
                "main_agreement": {"id": e.id, "status": _agreement_status(e), "preview_url": None},
                "supporting_docs": [
                    {"id": t.id, "name": t.name, "status": _agreement_status(e)} for t in supporting
                ],
            },
        }
        for e in enrollments
    ]
    return {
        "cohort": cohort,
        "students": students,
        "summary": {
            "total": counts["total"],
            "completed": counts["complete"],
            "pending": counts["total"] - counts["ready"],
            "signed": signed,
            "ready": counts["ready"],
        },
        "can_sign": can_sign,
        "bulk_sign_available": can_sign,
        "token_expires_at": cohort.sponsor_link_expires_at,
    }


def _agreement_status(enrollment: CohortEnrollment) -> str:
    if enrollment.sponsor_signed_at:
        return "signed"
    return {APPROVED: "approved", SIGNED: "awaiting_review", REJECTED: "rejected"}.get(
        enrollment.agreement_status, "not_signed"
    )


def sponsor_student(
    cohort: Cohort, student_id: int
) -> tuple[CohortEnrollment, list[tuple[str, str, str]], dict]:
    """One student of this sponsor's cohort (any other id is not found)."""
    enrollment = (
        db.session.scalar(
            select(CohortEnrollment).where(
                CohortEnrollment.id == student_id,
                CohortEnrollment.cohort_id == cohort.id,
                CohortEnrollment.state != REVOKED,
            )
        )
        if 0 < student_id < 2**31
        else None
    )
    if enrollment is None:
        raise Missing("Student not found")
    return enrollment, agreement_texts(enrollment), student_documents(enrollment)


@dataclass
class BulkSignResult:
    signed_count: int
    failed_count: int
    signatures_applied: list[dict]
    cohort_finalized: bool
    next_step: str
    delivery_id: int | None
    first_day: str


def bulk_sign(
    token: str, *, signature: str, initials: str, sign_all: bool = True, settings: Settings, now: datetime
) -> BulkSignResult:
    """The sponsor signs for every student (all must be complete and verified); the cohort is
    then finalised: signed PDFs, its group, and its course's delivery from the first day."""
    cohort = cohort_by_sponsor_link(settings.secret, token, now, for_update=True)
    if cohort.state == FINALISED:
        raise StateError("Cannot sign - the cohort is already finalised", status=409)
    if cohort.sponsor_signed_at is not None and now - cohort.updated_at < timedelta(
        seconds=FINALISE_RETRY_SECONDS
    ):
        raise StateError("Cannot sign - the signature is being applied; try again in a minute", status=409)
    if not sign_all:
        raise ValidationFailed(
            "sign_all must be true: the sponsor signs for the whole cohort", {"sign_all": ["must be true"]}
        )
    counts = summary(cohort.id)
    if not counts["total"] or counts["ready"] < counts["total"]:
        raise StateError(
            "Cannot sign - some students are not ready",
            status=403,
            details={
                "ready": counts["ready"],
                "total": counts["total"],
                "pending": counts["total"] - counts["ready"],
            },
        )
    signature_png = decode_png_data_url(signature, "signature")
    initials_png = decode_png_data_url(initials, "initials")
    from ekatra.courses.models import Course

    course = db.session.get(Course, cohort.course_id) if cohort.course_id else None
    if course is None or not course.days:
        raise StateError(
            "Cannot sign - the cohort's course no longer exists or has no days; "
            "the cohort's owner must fix it first"
        )
    enrollments = _enrollments(cohort)
    if cohort.sponsor_signed_at is None:
        cohort.sponsor_signature, cohort.sponsor_initials, cohort.sponsor_signed_at = (
            signature_png,
            initials_png,
            now,
        )
        for enrollment in enrollments:
            enrollment.sponsor_signed_at = enrollment.updated_at = now
    cohort.updated_at = now
    db.session.commit()
    finalise(cohort, settings=settings, now=now)
    day = first_day(cohort, now)
    return BulkSignResult(
        signed_count=len(enrollments),
        failed_count=0,
        signatures_applied=[
            {
                "enrollment_id": e.id,
                "submission_id": e.id,
                "status": "signed",
                "signed_at": e.sponsor_signed_at,
            }
            for e in enrollments
        ],
        cohort_finalized=cohort.state == FINALISED,
        next_step=(
            f"The cohort is finalised: day 1 of the course goes out on {day:%d %B %Y} at "
            f"{cohort.local_send_time} in each student's timezone. The owner can download the signed "
            "agreements."
        ),
        delivery_id=cohort.delivery_id,
        first_day=day.isoformat(),
    )


def finalise(cohort: Cohort, *, settings: Settings, now: datetime) -> None:
    """The steps after the sponsor's signature, each committed, each skipped once done: every
    student's signed agreement as a PDF, the group, the delivery (and with it `finalised`)."""
    from ekatra.deliveries.services import create_delivery
    from ekatra.groups.services import create_group

    actor = Actor(author_id=cohort.owner_id)
    enrollments = _enrollments(cohort)
    for enrollment in enrollments:
        if enrollment.agreement_key is None:
            pdf, digest = documents.render_agreement(cohort, enrollment, agreement_texts(enrollment), now)
            key = new_key("agreements", "pdf")
            settings.store.put(key, pdf)
            enrollment.agreement_key, enrollment.agreement_sha256 = key, digest
    db.session.commit()
    if cohort.group_id is None:
        group = create_group(
            actor,
            {
                "name": cohort.name[:200],
                "description": f"Cohort {cohort.uuid} ({cohort.program_type})",
                "default_timezone": cohort.default_timezone,
                "default_channel": cohort.default_channel,
                "students": [
                    {"name": e.full_name, "number": e.phone, "channel": e.channel, "timezone": e.timezone}
                    for e in enrollments
                ],
            },
            now=now,
        )
        cohort.group_id = group.id
        db.session.commit()
    cohort = db.session.scalar(select(Cohort).where(Cohort.id == cohort.id).with_for_update())
    if cohort.delivery_id is None:
        day = first_day(cohort, now)
        delivery = create_delivery(
            actor,
            cohort.group_id,
            cohort.course_id,
            schedule_at=f"{day.isoformat()} {cohort.local_send_time}:00",
            timezone=None,
            cadence=cohort.cadence,
            interval=cohort.interval_minutes,
            now=now,
            whatsapp_opener_content_sid=settings.whatsapp_opener_content_sid,
        )
        cohort.delivery_id = delivery.id
        cohort.state, cohort.finalised_at, cohort.updated_at = FINALISED, now, now
        db.session.commit()
