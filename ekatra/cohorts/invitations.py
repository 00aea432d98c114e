"""Invitations: an owner invites students to a cohort (each gets a private link by email and by SMS
or WhatsApp), re-invites one (a new link) or revokes one. The first invitation makes a draft
cohort active and sends the sponsor their link."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ekatra.auth.services import Actor
from ekatra.cohorts import links
from ekatra.cohorts.errors import StateError, ValidationFailed
from ekatra.cohorts.models import (
    ACTIVE,
    DRAFT,
    REVOKED,
    UNSIGNED,
    UNVERIFIED,
    WAITING,
    Cohort,
    CohortEnrollment,
)
from ekatra.cohorts.services import Settings, find_cohort, find_enrollment, queue_text
from ekatra.extensions import db
from ekatra.groups.phones import canonical_timezone, normalise_channel, normalise_phone

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
MAX_STUDENTS_PER_REQUEST = 500


def _clean_student(raw: Mapping, cohort: Cohort) -> tuple[dict, list[str]]:
    problems: list[str] = []
    clean: dict = {}
    email = (raw.get("email") or "").strip().lower()
    if not _EMAIL.fullmatch(email) or len(email) > 254:
        problems.append("email is invalid")
    clean["email"] = email
    for name in ("first_name", "last_name"):
        value = (raw.get(name) or "").strip()
        if not value:
            problems.append(f"{name} can't be blank")
        clean[name] = value
    for name, convert in (
        ("phone", normalise_phone),
        ("channel", normalise_channel),
        ("timezone", canonical_timezone),
    ):
        value = raw.get(name) or {"channel": cohort.default_channel, "timezone": cohort.default_timezone}.get(
            name
        )
        try:
            clean[name] = convert(value)
        except ValueError as problem:
            problems.append(f"{name}: {problem}")
    for name in ("age", "gender", "race", "city", "disability"):
        if raw.get(name) is not None:
            clean[name] = raw[name]
    return clean, problems


def _invitation_text(cohort: Cohort, enrollment: CohortEnrollment, link: str, message: str | None) -> str:
    greeting = f"{message.strip()} " if message and message.strip() else ""
    return (
        f"{greeting}{enrollment.first_name}, you are invited to {cohort.name}. Complete your "
        f"paperwork before the course starts: {link}"
    )


def _invite_mail(
    settings: Settings, cohort: Cohort, enrollment: CohortEnrollment, link: str, message: str | None
) -> None:
    body = (
        f"Dear {enrollment.full_name},\n\n{(message or '').strip()}\n\nYou are invited to "
        f"{cohort.name} ({cohort.program_type}). Before the course starts on {cohort.start_date:%d %B %Y}, "
        f"please complete your profile, upload your documents and sign your agreement here:\n\n"
        f"{link}\n\nThe link is yours alone; it works until "
        f"{enrollment.link_expires_at:%d %B %Y %H:%M} UTC.\n"
    )
    settings.mails.append((enrollment.email, f"Your invitation to {cohort.name}", body))


def _activate(cohort: Cohort, settings: Settings, now: datetime) -> None:
    """The first invitations fix the agreement (admin_signed_at) and send the sponsor their link."""
    cohort.state, cohort.admin_signed_at = ACTIVE, now
    cohort.sponsor_link_expires_at = now + timedelta(days=settings.sponsor_days)
    settings.mails.append(
        (
            cohort.sponsor_email,
            f"{cohort.name}: your sponsor link",
            (
                f"You are the sponsor of {cohort.name}. Follow the students' paperwork here; once every "
                f"student is verified you can sign for the whole cohort on the same page:\n\n"
                f"{settings.sponsor_link(cohort)}\n"
            ),
        )
    )


@dataclass
class InvitationResult:
    invitations_sent: int
    invite_links: list[dict]
    errors: list[dict]


def _invite_link(settings: Settings, enrollment: CohortEnrollment) -> dict:
    token = links.token_for(settings.secret, links.STUDENT, enrollment.link_key)
    return {
        "email": enrollment.email,
        "enrollment_id": enrollment.id,
        "token": token,
        "link": settings.student_link(enrollment),
        "expires_at": enrollment.link_expires_at,
    }


def invite(
    actor: Actor,
    cohort_id: int,
    students: Sequence[Mapping],
    *,
    send_email: bool,
    send_text: bool,
    message: str | None,
    settings: Settings,
    now: datetime,
) -> InvitationResult:
    """Invite students (each valid one; the others are listed in `errors`). The first invitation
    makes a draft cohort active. Texts go through the outbox; mails after the commit."""
    cohort = find_cohort(actor, cohort_id, for_update=True)
    if cohort.state not in (DRAFT, ACTIVE) or cohort.sponsor_signed_at is not None:
        raise StateError(f"Cannot invite students to a cohort that is {cohort.state}")
    if len(students) > MAX_STUDENTS_PER_REQUEST:
        raise ValidationFailed(
            f"At most {MAX_STUDENTS_PER_REQUEST} students per request.",
            {"students": [f"at most {MAX_STUDENTS_PER_REQUEST}"]},
        )
    taken = dict(
        db.session.execute(
            select(CohortEnrollment.email, CohortEnrollment.phone).where(
                CohortEnrollment.cohort_id == cohort.id
            )
        ).all()
    )
    phones = set(taken.values())
    errors, created = [], []
    for index, raw in enumerate(students):
        clean, problems = _clean_student(raw, cohort)
        if not problems and clean["email"] in taken:
            problems.append("email has already been invited to this cohort (re-invite instead)")
        if not problems and clean["phone"] in phones:
            problems.append("phone is already a student's in this cohort")
        if problems:
            errors.append(
                {"index": index, "email": clean.get("email") or raw.get("email"), "errors": problems}
            )
            continue
        taken[clean["email"]] = clean["phone"]
        phones.add(clean["phone"])
        enrollment = CohortEnrollment(
            uuid=str(uuid.uuid4()),
            cohort_id=cohort.id,
            link_key=links.new_key(),
            link_expires_at=now + timedelta(days=settings.invite_days),
            state=WAITING,
            verification_state=UNVERIFIED,
            agreement_status=UNSIGNED,
            invited_at=now,
            created_at=now,
            updated_at=now,
            **clean,
        )
        db.session.add(enrollment)
        created.append(enrollment)
    if not created:
        raise ValidationFailed("No student could be invited.", {"students": errors})
    if cohort.state == DRAFT:
        _activate(cohort, settings, now)
    cohort.updated_at = now
    db.session.flush()
    for enrollment in created:
        link = settings.student_link(enrollment)
        if send_text:
            queue_text(
                enrollment,
                f"cohort-invite-{enrollment.id}-{now:%Y%m%d%H%M%S}",
                _invitation_text(cohort, enrollment, link, message),
                now,
            )
        if send_email:
            _invite_mail(settings, cohort, enrollment, link, message)
    try:
        db.session.commit()
    except IntegrityError:  # a concurrent request invited the same email first
        db.session.rollback()
        raise StateError(
            "Some of these students were invited by another request at the same time; "
            "list the enrollments and retry the others."
        ) from None
    settings.send_mails()
    return InvitationResult(len(created), [_invite_link(settings, e) for e in created], errors)


def reinvite(
    actor: Actor, enrollment_id: int, *, send_email: bool, send_text: bool, settings: Settings, now: datetime
) -> dict:
    """A new link (older ones stop working) with a new expiry, sent again."""
    enrollment = find_enrollment(actor, enrollment_id)
    cohort = enrollment.cohort
    if cohort.state != ACTIVE or cohort.sponsor_signed_at is not None or enrollment.state == REVOKED:
        raise StateError(
            "Cannot re-invite: the invitation is revoked or the cohort is no longer open"
            if enrollment.state == REVOKED
            else f"Cannot re-invite in a cohort that is {cohort.state}"
        )
    enrollment.link_key = links.new_key()
    enrollment.link_expires_at = now + timedelta(days=settings.invite_days)
    enrollment.invited_at = enrollment.updated_at = now
    link = settings.student_link(enrollment)
    if send_text:
        queue_text(
            enrollment,
            f"cohort-invite-{enrollment.id}-{now:%Y%m%d%H%M%S}",
            _invitation_text(cohort, enrollment, link, None),
            now,
        )
    if send_email:
        _invite_mail(settings, cohort, enrollment, link, None)
    db.session.commit()
    settings.send_mails()
    return _invite_link(settings, enrollment)


def revoke(actor: Actor, enrollment_id: int, *, now: datetime) -> CohortEnrollment:
    """Withdraw an invitation: the link stops working and the student leaves the counts."""
    enrollment = find_enrollment(actor, enrollment_id)
    if enrollment.cohort.state != ACTIVE or enrollment.cohort.sponsor_signed_at is not None:
        raise StateError(f"Cannot revoke in a cohort that is {enrollment.cohort.state}")
    if enrollment.state != REVOKED:
        enrollment.state, enrollment.revoked_at, enrollment.updated_at = REVOKED, now, now
        db.session.commit()
    return enrollment
