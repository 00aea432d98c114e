"""Cohorts for their owners: create, list, read, cancel; invite, re-invite and revoke students;
list enrollments, verify their documents, export the cohort. (What students and the sponsor do
through their links is in `paperwork`.)

Errors are the contract's: `CohortError`s carry a code (VALIDATION_ERROR, STATE_ERROR,
NOT_FOUND, AUTHENTICATION_ERROR, AUTHORIZATION_ERROR) and details, turned into
`{"message", "errors"?, "error": {"code", "message", "details"?}}` by the cohorts blueprint.
"""

from __future__ import annotations

import re
import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ekatra.auth.services import Actor
from ekatra.cohorts import links
from ekatra.cohorts.models import (
    ACTIVE,
    AGREEMENT,
    APPROVED,
    CANCELLED,
    COMPLETE,
    DRAFT,
    FINALISED,
    IN_PROGRESS,
    MAIN,
    PENDING,
    REJECTED,
    REVOKED,
    SIGNED,
    SUPPORTING,
    UNSIGNED,
    UNVERIFIED,
    UPLOADED,
    VERIFIED,
    WAITING,
    AgreementTemplate,
    Cohort,
    CohortDocument,
    CohortEnrollment,
    Verification,
)
from ekatra.courses.services import find_course
from ekatra.errors import DomainError, NotFound
from ekatra.extensions import MAX_ID, db
from ekatra.groups.phones import canonical_timezone, normalise_channel, normalise_phone
from ekatra.outbox import services as outbox
from ekatra.outbox.optouts import opted_out_pairs
from ekatra.ownership import owned

PROGRAM_TYPES = ("learnership", "apprenticeship", "internship", "skills_programme", "bursary", "other")
PLACEHOLDERS = (
    "first_name",
    "last_name",
    "full_name",
    "email",
    "phone",
    "cohort_name",
    "program_type",
    "sponsor_company_name",
    "start_date",
    "end_date",
    "city",
)
_PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
MAX_STUDENTS_PER_REQUEST = 500
COHORT_NOT_FOUND, ENROLLMENT_NOT_FOUND = "Cohort not found", "Enrollment not found"


# Errors -----------------------------------------------------------------------------------------


class CohortError(DomainError):
    """An error in the contract's shape: a code, a status, and optional details."""

    code = "VALIDATION_ERROR"

    def __init__(
        self,
        message: str,
        errors: dict | None = None,
        *,
        status: int | None = None,
        code: str | None = None,
        details: dict | None = None,
    ):
        super().__init__(message, errors)
        self.status = status or self.status
        self.code = code or self.code
        self.details = details


class ValidationFailed(CohortError):
    status, code = 422, "VALIDATION_ERROR"


class StateError(CohortError):
    status, code = 409, "STATE_ERROR"


class Missing(CohortError, NotFound):
    status, code = 404, "NOT_FOUND"


class LinkRefused(CohortError):
    status, code = 401, "AUTHENTICATION_ERROR"


class AccessDenied(CohortError):
    status, code = 403, "AUTHORIZATION_ERROR"


# Settings the routes hand in -------------------------------------------------------------------


@dataclass
class Settings:
    """What the use cases need from the app: the link secret and base URL, the mailer, the
    document store, and the limits (see Config)."""

    secret: str
    base_url: str
    mailer: object = None
    store: object = None
    invite_days: int = 30
    sponsor_days: int = 30
    upload_max_bytes: int = 5 * 1024 * 1024
    whatsapp_opener_content_sid: str = ""  # the deployment's opener, for the cohort's delivery
    mails: list = field(default_factory=list)  # (to, subject, body) to send after the commit

    def student_link(self, enrollment: CohortEnrollment, page: str = "") -> str:
        token = links.token_for(self.secret, links.STUDENT, enrollment.link_key)
        return f"{self.base_url}/cohorts/student/{token}" + (f"/{page}" if page else "")

    def sponsor_link(self, cohort: Cohort) -> str:
        token = links.token_for(self.secret, links.SPONSOR, cohort.sponsor_key)
        return f"{self.base_url}/cohorts/sponsor/{token}"

    def send_mails(self) -> None:
        """Mail only what a committed change promised; a mail that fails is logged, not raised."""
        pending, self.mails = self.mails, []
        for to, subject, body in pending:
            try:
                self.mailer.send(to, subject, body)
            except Exception:  # SMTP down: the link is also in the API response and the text
                import logging

                logging.getLogger(__name__).warning("cohort mail to a student or sponsor not sent")


# Reading -----------------------------------------------------------------------------------------


def find_cohort(actor: Actor, cohort_id: int, *, for_update: bool = False) -> Cohort:
    cohort = None
    if 0 < cohort_id <= MAX_ID:
        statement = owned(select(Cohort).where(Cohort.id == cohort_id), Cohort, actor)
        cohort = db.session.scalar(statement.with_for_update() if for_update else statement)
    if cohort is None:
        raise Missing(COHORT_NOT_FOUND)
    return cohort


def find_enrollment(actor: Actor, enrollment_id: int) -> CohortEnrollment:
    """An enrollment of one of the actor's cohorts; any other is not found."""
    enrollment = None
    if 0 < enrollment_id <= MAX_ID:
        statement = owned(
            select(CohortEnrollment).join(Cohort).where(CohortEnrollment.id == enrollment_id), Cohort, actor
        )
        enrollment = db.session.scalar(statement)
    if enrollment is None:
        raise Missing(ENROLLMENT_NOT_FOUND)
    return enrollment


def documents_of(enrollment_ids: Sequence[int]) -> dict[int, list[CohortDocument]]:
    found: dict[int, list[CohortDocument]] = {eid: [] for eid in enrollment_ids}
    if enrollment_ids:
        for document in db.session.scalars(
            select(CohortDocument)
            .where(CohortDocument.enrollment_id.in_(enrollment_ids))
            .order_by(CohortDocument.id)
        ):
            found[document.enrollment_id].append(document)
    return found


def summary(cohort_id: int) -> dict:
    """Counts of the cohort's enrollments by state (revoked ones left out) and how many are ready
    for the sponsor (complete and verified)."""
    rows = db.session.execute(
        select(CohortEnrollment.state, CohortEnrollment.verification_state, func.count())
        .where(CohortEnrollment.cohort_id == cohort_id)
        .group_by(CohortEnrollment.state, CohortEnrollment.verification_state)
    ).all()
    counts: Counter = Counter()
    ready = 0
    for state, verification_state, count in rows:
        counts[state] += count
        if state == COMPLETE and verification_state == VERIFIED:
            ready += count
    total = sum(count for state, count in counts.items() if state != REVOKED)
    return {
        "total": total,
        "waiting": counts[WAITING],
        "in_progress": counts[IN_PROGRESS],
        "complete": counts[COMPLETE],
        "rejected": counts[REJECTED],
        "ready": ready,
    }


def completion_percentage(counts: Mapping) -> int:
    return round(100 * counts["complete"] / counts["total"]) if counts["total"] else 0


@dataclass
class CohortView:
    cohort: Cohort
    counts: dict

    def __getattr__(self, name):
        return getattr(self.cohort, name)

    @property
    def main_template(self) -> AgreementTemplate | None:
        return next((t for t in self.cohort.templates if t.kind == MAIN), None)

    @property
    def supporting_templates(self) -> list[AgreementTemplate]:
        return [t for t in self.cohort.templates if t.kind == SUPPORTING]


def get_cohort(actor: Actor, cohort_id: int) -> CohortView:
    cohort = find_cohort(actor, cohort_id)
    return CohortView(cohort, summary(cohort.id))


def list_cohorts(
    actor: Actor,
    *,
    page: int,
    per_page: int,
    states: Sequence[str] = (),
    program_types: Sequence[str] = (),
    q: str | None = None,
) -> tuple[list[CohortView], int]:
    statement = owned(select(Cohort), Cohort, actor)
    if states:
        statement = statement.where(Cohort.state.in_(states))
    if program_types:
        statement = statement.where(Cohort.program_type.in_(program_types))
    if q:
        statement = statement.where(func.lower(Cohort.name).contains(q.lower(), autoescape=True))
    total = db.session.scalar(select(func.count()).select_from(statement.subquery()))
    cohorts = db.session.scalars(
        statement.order_by(Cohort.id.desc()).limit(per_page).offset((page - 1) * per_page)
    ).all()
    return [CohortView(cohort, summary(cohort.id)) for cohort in cohorts], total


# Creating and cancelling -----------------------------------------------------------------------


def _check_template_text(body: str, where: str, errors: dict) -> None:
    unknown = sorted({name for name in _PLACEHOLDER.findall(body)} - set(PLACEHOLDERS))
    if unknown:
        errors.setdefault(where, []).append(
            f"unknown fields {', '.join('{{' + name + '}}' for name in unknown)}; "
            f"known: {', '.join(PLACEHOLDERS)}"
        )


def _reused_template(actor: Actor, template_id, where: str, errors: dict) -> tuple[str, str] | None:
    """(name, body) of a template of another of the actor's cohorts (copied, not shared)."""
    template = None
    if isinstance(template_id, int) and 0 < template_id <= MAX_ID:
        template = db.session.scalar(
            owned(
                select(AgreementTemplate).join(Cohort).where(AgreementTemplate.id == template_id),
                Cohort,
                actor,
            )
        )
    if template is None:
        errors.setdefault(where, []).append("must exist")
        return None
    return template.name, template.body


def create_cohort(actor: Actor, fields: Mapping, *, now: datetime) -> CohortView:
    """A draft cohort with its agreement templates (written here, or copied from another of the
    actor's cohorts by id) and its delivery settings. Every problem is one 422 naming its field."""
    errors: dict[str, list[str]] = {}
    try:
        find_course(actor, fields["course_id"])
    except NotFound:
        errors["course_id"] = ["must exist"]
    if fields["end_date"] < fields["start_date"]:
        errors["end_date"] = ["must be on or after start_date"]
    settings = {}
    for name, check in (("default_timezone", canonical_timezone), ("default_channel", normalise_channel)):
        try:
            settings[name] = check(fields[name])
        except ValueError as problem:
            errors[name] = [str(problem)]
    if (fields["cadence"] == "minutes") != (fields.get("interval") is not None):
        errors["interval"] = ["required with cadence minutes, and only with it"]
    main = None
    if fields.get("main_template") is not None:
        main = (fields["main_template"]["name"], fields["main_template"]["body"])
    elif fields.get("main_template_id") is not None:
        main = _reused_template(actor, fields["main_template_id"], "main_template_id", errors)
    else:
        errors["main_template"] = ["can't be blank"]
    supporting = [(t["name"], t["body"]) for t in fields.get("supporting_templates") or []]
    for template_id in fields.get("supporting_template_ids") or []:
        reused = _reused_template(actor, template_id, "supporting_template_ids", errors)
        if reused:
            supporting.append(reused)
    for index, (_name, body) in enumerate([main] + supporting if main else supporting):
        _check_template_text(body, "main_template" if main and index == 0 else "supporting_templates", errors)
    uploads = fields.get("required_uploads") or []
    if len({upload["type"] for upload in uploads}) != len(uploads):
        errors["required_uploads"] = ["each type once"]
    if errors:
        raise ValidationFailed(
            "Invalid cohort: " + "; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()), errors
        )
    cohort = Cohort(
        uuid=str(uuid.uuid4()),
        owner_id=actor.author_id,
        course_id=fields["course_id"],
        name=fields["name"],
        program_type=fields["program_type"],
        sponsor_email=fields["sponsor_email"].strip().lower(),
        sponsor_company_name=fields.get("sponsor_company_name") or "",
        student_count=fields["student_count"],
        start_date=fields["start_date"],
        end_date=fields["end_date"],
        local_send_time=fields["send_time"],
        cadence=fields["cadence"],
        interval_minutes=fields.get("interval"),
        required_uploads=[
            {"type": u["type"], "label": u.get("label") or u["type"].replace("_", " ")} for u in uploads
        ],
        state=DRAFT,
        sponsor_key=links.new_key(),
        created_at=now,
        updated_at=now,
        **settings,
    )
    cohort.templates = [
        AgreementTemplate(
            uuid=str(uuid.uuid4()),
            kind=MAIN if index == 0 else SUPPORTING,
            position=index,
            name=name,
            body=body,
        )
        for index, (name, body) in enumerate([main, *supporting])
    ]
    db.session.add(cohort)
    db.session.commit()
    return CohortView(cohort, summary(cohort.id))


def cancel_cohort(actor: Actor, cohort_id: int, *, now: datetime) -> CohortView:
    """Draft or active → cancelled: every student's and the sponsor's link stops working."""
    cohort = find_cohort(actor, cohort_id, for_update=True)
    if cohort.state not in (DRAFT, ACTIVE) or cohort.sponsor_signed_at is not None:
        raise StateError(
            f"Cannot cancel a cohort that is {cohort.state}"
            + (" (the sponsor has signed)" if cohort.state == ACTIVE else "")
        )
    cohort.state, cohort.cancelled_at, cohort.updated_at = CANCELLED, now, now
    db.session.commit()
    return CohortView(cohort, summary(cohort.id))


# Invitations -------------------------------------------------------------------------------------


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


def _queue_text(enrollment: CohortEnrollment, part: str, body: str, now: datetime) -> bool:
    """A text to the student through the outbox, unless their phone opted out on that channel."""
    if (enrollment.phone, enrollment.channel) in opted_out_pairs([enrollment.phone]):
        return False
    return outbox.enqueue(
        outbox.NewMessage(channel=enrollment.channel, to_phone=enrollment.phone, body=body, part=part[:40]),
        now,
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
            _queue_text(
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
        _queue_text(
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


# Enrollments and verification -------------------------------------------------------------------


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
    _queue_text(
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


# Export -----------------------------------------------------------------------------------------

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


def filled_in(body: str, cohort: Cohort, enrollment: CohortEnrollment) -> str:
    """A template's text with the learner's and the cohort's fields in place of `{{field}}`."""
    values = {
        "first_name": enrollment.first_name,
        "last_name": enrollment.last_name,
        "full_name": enrollment.full_name,
        "email": enrollment.email,
        "phone": enrollment.phone,
        "cohort_name": cohort.name,
        "program_type": cohort.program_type.replace("_", " "),
        "sponsor_company_name": cohort.sponsor_company_name or "the sponsor",
        "start_date": f"{cohort.start_date:%d %B %Y}",
        "end_date": f"{cohort.end_date:%d %B %Y}",
        "city": enrollment.city or "",
    }
    return _PLACEHOLDER.sub(lambda match: str(values.get(match.group(1), match.group(0))), body)


def first_day(cohort: Cohort, now: datetime) -> date:
    """Day 1's local date: the start date, or tomorrow when that has passed (so that every learner
    gets day 1 at the send time, never at once)."""
    tomorrow = (now + timedelta(days=1)).date()
    return cohort.start_date if cohort.start_date >= tomorrow else tomorrow


__all__ = ["UPLOADED"]
