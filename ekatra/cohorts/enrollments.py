"""Enrollments for the cohort's owner: list them and read one with its uploads, download an
upload, and verify (approve or reject) what a student submitted. An enrollment's state follows
from its documents and signature (`refresh_state`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from sqlalchemy import func, select

from ekatra.auth.services import Actor
from ekatra.cohorts.errors import Missing, StateError, ValidationFailed
from ekatra.cohorts.models import (
    ACTIVE,
    AGREEMENT,
    APPROVED,
    COMPLETE,
    FINALISED,
    IN_PROGRESS,
    PENDING,
    REJECTED,
    REVOKED,
    SIGNED,
    UNSIGNED,
    UNVERIFIED,
    VERIFIED,
    WAITING,
    Cohort,
    CohortDocument,
    CohortEnrollment,
    Verification,
)
from ekatra.cohorts.services import Settings, documents_of, find_cohort, find_enrollment, queue_text, summary
from ekatra.extensions import MAX_ID, db


def refresh_state(enrollment: CohortEnrollment, documents: Sequence[CohortDocument]) -> None:
    """Derive the enrollment's state and verification state from its documents and signature."""
    if enrollment.state == REVOKED:
        return
    required = [upload["type"] for upload in enrollment.cohort.required_uploads]
    by_type = {document.document_type: document for document in documents}
    rejected = [by_type[t] for t in required if t in by_type and by_type[t].status == REJECTED]
    if rejected or enrollment.agreement_status == REJECTED:
        enrollment.state = enrollment.verification_state = REJECTED
        reasons = [f"{d.document_type}: {d.rejection_reason}" for d in rejected]
        enrollment.rejection_reason = "; ".join(reasons) or enrollment.rejection_reason
        return
    enrollment.rejection_reason = None
    uploaded_all = all(t in by_type for t in required)
    if uploaded_all and enrollment.agreement_status in (SIGNED, APPROVED):
        enrollment.state = COMPLETE
        approved = (
            all(by_type[t].status == APPROVED for t in required) and enrollment.agreement_status == APPROVED
        )
        enrollment.verification_state = VERIFIED if approved else PENDING
    else:
        started = enrollment.profile_saved_at or by_type or enrollment.agreement_status != UNSIGNED
        enrollment.state = IN_PROGRESS if started else WAITING
        enrollment.verification_state = UNVERIFIED


def list_enrollments(
    actor: Actor,
    cohort_id: int,
    *,
    states: Sequence[str],
    verification_states: Sequence[str],
    page: int,
    per_page: int,
) -> tuple[list[tuple[CohortEnrollment, list]], int, bool]:
    """A page of the cohort's enrollments with their documents; and whether the actor owns the
    cohort (only the owner sees demographics)."""
    cohort = find_cohort(actor, cohort_id)
    statement = select(CohortEnrollment).where(CohortEnrollment.cohort_id == cohort.id)
    if states:
        statement = statement.where(CohortEnrollment.state.in_(states))
    if verification_states:
        statement = statement.where(CohortEnrollment.verification_state.in_(verification_states))
    total = db.session.scalar(select(func.count()).select_from(statement.subquery()))
    enrollments = db.session.scalars(
        statement.order_by(CohortEnrollment.id).limit(per_page).offset((page - 1) * per_page)
    ).all()
    documents = documents_of([e.id for e in enrollments])
    return [(e, documents[e.id]) for e in enrollments], total, cohort.owner_id == actor.author_id


def get_enrollment(actor: Actor, enrollment_id: int) -> tuple[CohortEnrollment, list, bool]:
    enrollment = find_enrollment(actor, enrollment_id)
    return (
        enrollment,
        documents_of([enrollment.id])[enrollment.id],
        enrollment.cohort.owner_id == actor.author_id,
    )


def document_file(actor: Actor, enrollment_id: int, document_id: int, store) -> tuple[CohortDocument, bytes]:
    """An uploaded file, for the owner reviewing it: only through its own enrollment."""
    enrollment = find_enrollment(actor, enrollment_id)
    document = (
        db.session.scalar(
            select(CohortDocument).where(
                CohortDocument.id == document_id, CohortDocument.enrollment_id == enrollment.id
            )
        )
        if 0 < document_id <= MAX_ID
        else None
    )
    if document is None:
        raise Missing("Document not found")
    return document, store.get(document.storage_key)


def _rejection_notice(
    settings: Settings,
    enrollment: CohortEnrollment,
    what: str,
    reason: str,
    verification_id: int,
    now: datetime,
) -> None:
    link = settings.student_link(enrollment, "resubmit")
    cohort = enrollment.cohort
    queue_text(
        enrollment,
        f"cohort-reject-{verification_id}",
        f"{cohort.name}: your {what} was not accepted: {reason} Please resubmit: {link}",
        now,
    )
    settings.mails.append(
        (
            enrollment.email,
            f"{cohort.name}: please resubmit your {what}",
            (
                f"Dear {enrollment.full_name},\n\nYour {what} for {cohort.name} was not accepted.\n\n"
                f"Reason: {reason}\n\nPlease resubmit it here:\n\n{link}\n"
            ),
        )
    )


def _ready_notice(settings: Settings, cohort: Cohort, now: datetime) -> None:
    cohort.sponsor_link_expires_at = max(
        cohort.sponsor_link_expires_at or now, now + timedelta(days=settings.sponsor_days)
    )
    settings.mails.append(
        (
            cohort.sponsor_email,
            f"{cohort.name}: ready for your signature",
            (
                f"Every student of {cohort.name} has completed and been verified. Review and sign for the "
                f"cohort here; the course starts once you sign:\n\n{settings.sponsor_link(cohort)}\n"
            ),
        )
    )


def verify(
    actor: Actor,
    enrollment_id: int,
    *,
    action: str,
    document_type: str | None,
    reason: str | None,
    metadata: Mapping | None,
    settings: Settings,
    now: datetime,
) -> Verification:
    """Approve or reject one document (an upload type, or `agreement`), or with no document_type
    approve everything a complete enrollment submitted. A rejection reaches the student by text
    and mail with a link to resubmit; the last approval tells the sponsor the cohort is ready."""
    enrollment = find_enrollment(actor, enrollment_id)
    cohort = db.session.scalar(select(Cohort).where(Cohort.id == enrollment.cohort_id).with_for_update())
    was_ready = summary(cohort.id)
    verb = "approve" if action == "approve" else "reject"
    if cohort.state != ACTIVE or cohort.sponsor_signed_at is not None or enrollment.state == REVOKED:
        raise StateError(
            f"Cannot {verb} enrollment that is already complete"
            if cohort.state == FINALISED or cohort.sponsor_signed_at
            else f"Cannot {verb} an enrollment that is {enrollment.state}"
            if enrollment.state == REVOKED
            else f"Cannot {verb} in a cohort that is {cohort.state}",
            status=422,
        )
    if action == "reject" and enrollment.verification_state == VERIFIED and document_type is None:
        raise StateError("Cannot reject enrollment that is already complete", status=422)
    known = [u["type"] for u in cohort.required_uploads] + [AGREEMENT]
    if document_type is not None and document_type not in known:
        raise ValidationFailed(
            f"document_type must be one of {', '.join(known)}",
            {"document_type": [f"must be one of {', '.join(known)}"]},
        )
    if action == "reject" and (not reason or not reason.strip()):
        raise ValidationFailed(
            "A rejection needs a reason the student can act on.", {"reason": ["can't be blank"]}
        )
    documents = documents_of([enrollment.id])[enrollment.id]
    by_type = {d.document_type: d for d in documents}
    if action == "approve" and document_type is None:
        if enrollment.state != COMPLETE:
            raise StateError(
                f"Cannot approve enrollment that is {enrollment.state}: the student has not "
                "submitted everything yet",
                status=422,
            )
        for document in documents:
            document.status, document.rejection_reason, document.reviewed_at = APPROVED, None, now
        enrollment.agreement_status = APPROVED
    elif document_type == AGREEMENT:
        if enrollment.agreement_status == UNSIGNED:
            raise StateError("Cannot review an agreement that is not signed yet", status=422)
        enrollment.agreement_status = APPROVED if action == "approve" else REJECTED
        if action == "reject":
            enrollment.rejection_reason = reason.strip()
    else:
        document = by_type.get(document_type) if document_type else None
        if document is None:
            raise StateError(
                f"Cannot {verb} {document_type or 'a document'}: nothing uploaded yet", status=422
            )
        document.status, document.reviewed_at = (APPROVED if action == "approve" else REJECTED), now
        document.rejection_reason = reason.strip() if action == "reject" else None
    refresh_state(enrollment, documents)
    enrollment.updated_at = cohort.updated_at = now
    record = Verification(
        enrollment_id=enrollment.id,
        action=verb + "d" if verb == "approve" else "rejected",
        document_type=document_type,
        reason=(reason or "").strip() or None,
        admin_id=actor.author_id,
        details=dict(metadata or {}),
        created_at=now,
    )
    db.session.add(record)
    db.session.flush()
    if action == "reject":
        what = (
            "agreement signature" if document_type == AGREEMENT else (document_type or "").replace("_", " ")
        )
        _rejection_notice(settings, enrollment, what, record.reason, record.id, now)
    now_ready = summary(cohort.id)
    if now_ready["total"] and now_ready["ready"] == now_ready["total"] > was_ready["ready"]:
        _ready_notice(settings, cohort, now)
    db.session.commit()
    settings.send_mails()
    return record
