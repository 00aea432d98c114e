"""Cohorts for their owners: create, list, read and cancel them; and what the package's other
modules share: the settings the routes hand in, finding an owner's cohort
or enrollment, the enrollment counts, texts to a student through the outbox, and the fields of
the agreement templates.

Invitations are in `invitations`, enrollments and their verification in `enrollments`, the
spreadsheet in `export`; what students do through their links is in `paperwork`, and what the
sponsor does through theirs in `sponsor`.

The contract's errors are in `errors`.
"""

from __future__ import annotations

import re
import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from ekatra.auth.services import Actor
from ekatra.cohorts import links
from ekatra.cohorts.errors import Missing, StateError, ValidationFailed
from ekatra.cohorts.models import (
    ACTIVE,
    CANCELLED,
    COMPLETE,
    DRAFT,
    IN_PROGRESS,
    MAIN,
    REJECTED,
    REVOKED,
    SUPPORTING,
    VERIFIED,
    WAITING,
    AgreementTemplate,
    Cohort,
    CohortDocument,
    CohortEnrollment,
)
from ekatra.courses.services import find_course
from ekatra.errors import NotFound
from ekatra.extensions import MAX_ID, db
from ekatra.groups.phones import canonical_timezone, normalise_channel
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
COHORT_NOT_FOUND, ENROLLMENT_NOT_FOUND = "Cohort not found", "Enrollment not found"


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


# Texts to a student ------------------------------------------------------------------------------


def queue_text(enrollment: CohortEnrollment, part: str, body: str, now: datetime) -> bool:
    """A text to the student through the outbox, unless their phone opted out on that channel."""
    if (enrollment.phone, enrollment.channel) in opted_out_pairs([enrollment.phone]):
        return False
    return outbox.enqueue(
        outbox.NewMessage(channel=enrollment.channel, to_phone=enrollment.phone, body=body, part=part[:40]),
        now,
    )


# Agreement templates and the first day -----------------------------------------------------------


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
