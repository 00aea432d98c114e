"""Cohorts of a funded programme: the paperwork (agreements, uploads, verification, the
sponsor's signature) that gates the start of a course delivery."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ekatra.extensions import UTCDateTime, db

DRAFT, ACTIVE, FINALISED, CANCELLED = "draft", "active", "finalised", "cancelled"
COHORT_STATES = (DRAFT, ACTIVE, FINALISED, CANCELLED)

# An enrollment's progress through the paperwork (`state`) and its review (`verification_state`).
WAITING, IN_PROGRESS, COMPLETE, REJECTED, REVOKED = (
    "waiting",
    "in_progress",
    "complete",
    "rejected",
    "revoked",
)
ENROLLMENT_STATES = (WAITING, IN_PROGRESS, COMPLETE, REJECTED, REVOKED)
UNVERIFIED, PENDING, VERIFIED = "unverified", "pending", "verified"
VERIFICATION_STATES = (UNVERIFIED, PENDING, VERIFIED, REJECTED)

# A document's review.
UPLOADED, APPROVED = "uploaded", "approved"
DOCUMENT_STATES = (UPLOADED, APPROVED, REJECTED)
UNSIGNED, SIGNED = "unsigned", "signed"
AGREEMENT_STATES = (UNSIGNED, SIGNED, APPROVED, REJECTED)

MAIN, SUPPORTING = "main", "supporting"
AGREEMENT = "agreement"  # the document_type that names the signed agreement in a verification

NAME_MAX_CHARS = 200
EMAIL_MAX_CHARS = 254
TEMPLATE_BODY_MAX_CHARS = 50_000
KEY_CHARS = 22  # secrets.token_urlsafe(16)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


class Cohort(db.Model):
    """A funded programme's intake: students invited to do their paperwork before a course.

    Lifecycle (`state`), moved only by the cohorts package's use cases (the module in brackets):
    - `draft`: created (services); its templates and settings may change.
    - `active`: the first invitations went out (invitations); the agreement text is fixed
      (`admin_signed_at`).
    - `finalised`: the sponsor signed for every ready student (sponsor); the signed agreements
      are PDFs and the cohort's group and course delivery exist (`group_id`, `delivery_id`). Final.
    - `cancelled`: by the owner, from draft or active (services). Final; every link stops working.

    Finalising is resumable: the sponsor's signature, then the PDFs, then the group, then the
    delivery are each committed; a retry continues where a failure stopped, and `finalised` is
    set with the delivery, never before.
    """

    __tablename__ = "cohorts"
    __table_args__ = (
        CheckConstraint(_in("state", COHORT_STATES), name="state"),
        CheckConstraint("default_channel IN ('sms', 'whatsapp')", name="default_channel"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("authors.id", ondelete="CASCADE"), index=True)
    course_id: Mapped[int | None] = mapped_column(ForeignKey("courses.id", ondelete="SET NULL"), index=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX_CHARS))
    program_type: Mapped[str] = mapped_column(String(40))
    sponsor_email: Mapped[str] = mapped_column(String(EMAIL_MAX_CHARS))
    sponsor_company_name: Mapped[str] = mapped_column(String(NAME_MAX_CHARS), default="")
    student_count: Mapped[int] = mapped_column(Integer)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    local_send_time: Mapped[str] = mapped_column(String(8))  # "09:00": day 1's local wall time
    cadence: Mapped[str] = mapped_column(String(16), default="daily")
    interval_minutes: Mapped[int | None] = mapped_column(Integer)
    default_timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    default_channel: Mapped[str] = mapped_column(String(16), default="sms")
    required_uploads: Mapped[list] = mapped_column(JSON, default=list)  # [{"type", "label"}]
    state: Mapped[str] = mapped_column(String(16), default=DRAFT)
    # The sponsor's link: `sponsor_key` is random, the token adds an HMAC of it (see tokens.py).
    sponsor_key: Mapped[str] = mapped_column(String(KEY_CHARS), unique=True)
    sponsor_link_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sponsor_signature: Mapped[bytes | None] = mapped_column(LargeBinary)
    sponsor_initials: Mapped[bytes | None] = mapped_column(LargeBinary)
    sponsor_signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    admin_signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id", ondelete="SET NULL"))
    delivery_id: Mapped[int | None] = mapped_column(ForeignKey("deliveries.id", ondelete="SET NULL"))
    finalised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    templates: Mapped[list[AgreementTemplate]] = relationship(
        back_populates="cohort",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="AgreementTemplate.position",
        lazy="selectin",
    )


class AgreementTemplate(db.Model):
    """An agreement's text, with `{{field}}` placeholders filled in per learner: the cohort's
    `main` agreement (position 0) and its `supporting` documents. Fixed once the cohort is active."""

    __tablename__ = "cohort_templates"
    __table_args__ = (
        CheckConstraint("kind IN ('main', 'supporting')", name="kind"),
        UniqueConstraint("cohort_id", "position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(NAME_MAX_CHARS))
    body: Mapped[str] = mapped_column(Text)

    cohort: Mapped[Cohort] = relationship(back_populates="templates")


class CohortEnrollment(db.Model):
    """One invited student of a cohort, reached by a private link (`link_key` + its HMAC).

    `state`: `waiting` (invited) → `in_progress` (profile, an upload or the signature done) →
    `complete` (every required upload there and the agreement signed); `rejected` while a
    rejected document or signature waits for the student's resubmission, which brings it back
    to `in_progress` or `complete`; `revoked` (the invitation was withdrawn; final, the link is
    dead). `verification_state`: `unverified` until complete, then `pending` → `verified` (every
    required upload and the agreement approved) or `rejected`. `agreement_status`: `unsigned` →
    `signed` → `approved` or `rejected` (signed again to resubmit).
    Ready for the sponsor: complete and verified.
    Re-inviting gives a new `link_key` (older links stop working) and a new expiry.
    """

    __tablename__ = "cohort_enrollments"
    __table_args__ = (
        UniqueConstraint("cohort_id", "email"),
        CheckConstraint(_in("state", ENROLLMENT_STATES), name="state"),
        CheckConstraint(_in("verification_state", VERIFICATION_STATES), name="verification_state"),
        CheckConstraint("channel IN ('sms', 'whatsapp')", name="channel"),
        CheckConstraint(_in("agreement_status", AGREEMENT_STATES), name="agreement_status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"), index=True)
    link_key: Mapped[str] = mapped_column(String(KEY_CHARS), unique=True)
    link_expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    email: Mapped[str] = mapped_column(String(EMAIL_MAX_CHARS))
    first_name: Mapped[str] = mapped_column(String(NAME_MAX_CHARS))
    last_name: Mapped[str] = mapped_column(String(NAME_MAX_CHARS))
    phone: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(16))
    timezone: Mapped[str] = mapped_column(String(64))
    age: Mapped[int | None] = mapped_column(Integer)
    gender: Mapped[str | None] = mapped_column(String(60))
    race: Mapped[str | None] = mapped_column(String(60))
    city: Mapped[str | None] = mapped_column(String(100))
    disability: Mapped[str | None] = mapped_column(String(60))
    state: Mapped[str] = mapped_column(String(16), default=WAITING)
    verification_state: Mapped[str] = mapped_column(String(16), default=UNVERIFIED)
    rejection_reason: Mapped[str | None] = mapped_column(Text)
    signed_name: Mapped[str | None] = mapped_column(String(NAME_MAX_CHARS))
    signature: Mapped[bytes | None] = mapped_column(LargeBinary)  # PNG
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    agreement_status: Mapped[str] = mapped_column(String(16), default=UNSIGNED)
    sponsor_signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    agreement_key: Mapped[str | None] = mapped_column(String(100))  # the signed PDF in the store
    agreement_sha256: Mapped[str | None] = mapped_column(String(64))
    profile_saved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    invited_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    cohort: Mapped[Cohort] = relationship()

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class CohortDocument(db.Model):
    """A file a student uploaded for a required upload type. The bytes are in the document
    store (storage.py) under `storage_key`, never in the database. A new upload of the same type
    replaces the old one (whose file is deleted): one row per enrollment and type."""

    __tablename__ = "cohort_documents"
    __table_args__ = (
        UniqueConstraint("enrollment_id", "document_type"),
        CheckConstraint(_in("status", DOCUMENT_STATES), name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(ForeignKey("cohort_enrollments.id", ondelete="CASCADE"))
    document_type: Mapped[str] = mapped_column(String(40))
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(40))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16), default=UPLOADED)
    rejection_reason: Mapped[str | None] = mapped_column(Text)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Verification(db.Model):
    """One review decision of an administrator on an enrollment (the verify endpoint's record)."""

    __tablename__ = "cohort_verifications"
    __table_args__ = (
        CheckConstraint("action IN ('approved', 'rejected')", name="action"),
        Index("ix_cohort_verifications_enrollment", "enrollment_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(ForeignKey("cohort_enrollments.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(16))
    document_type: Mapped[str | None] = mapped_column(String(40))
    reason: Mapped[str | None] = mapped_column(Text)
    admin_id: Mapped[int] = mapped_column(Integer)
    details: Mapped[dict] = mapped_column(JSON, default=dict)  # the request's `metadata`
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
