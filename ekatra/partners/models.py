"""Partner systems, the learner accounts they create, coupons and certificates."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, LargeBinary, String, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ekatra.extensions import UTCDateTime, db

AVAILABLE, USED, CANCELLED = "available", "used", "cancelled"
EXTERNAL_ID_MAX_CHARS = 100
NO_PASSWORD = ""  # the password_hash of an account no password logs in to (yet)


class Partner(db.Model):
    """A partner system (an LMS, an HR platform) calling /api/partner with its two keys.

    `access_key` names the partner; only the SHA-256 of the high-entropy secret is kept, and
    it is compared in constant time. A partner sees only the learner accounts it created.

    `livemode` false: a test partner (`ekatra partner create NAME --test`, keys `pk_test_…` /
    `sk_test_…`). Its mode is the mode of everything made through it, and is stored once more
    only where a package below `partners` must read it without asking us (`testmode.py`).
    """

    __tablename__ = "partners"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    access_key: Mapped[str] = mapped_column(String(64), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    livemode: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LearnerAccount(db.Model):
    """A learner's account, created by a partner (`signup`, or a bulk import); unique per
    partner by `login_id`, and by `external_id` (the partner's own id for it) where it has one.

    `login_id` is the case-folded email or the E.164 phone the learner signs up with. `phone`,
    `channel` and `timezone` are what a coupon enrols the learner with (a student). An account
    a bulk import created has no password (`password_hash` is empty) until `signup` with its
    login id sets one; until then no password logs it in. Its mode is its partner's
    (`partner.livemode`): an account never changes partner, so it keeps no copy.

    Open edX-style fields (the Appsembler API, `profiles.py`): `username` (unique per partner;
    None for accounts made through /api/partner), `is_active` (False from an account made
    without a password until its learner sets one), `profile` (country, city, gender, goals,
    level_of_education, year_of_birth, mailing_address, language, bio; checked by profiles.py).
    `created_at` is Open edX's `date_joined`.
    """

    __tablename__ = "learner_accounts"
    __table_args__ = (
        UniqueConstraint("partner_id", "login_id"),
        UniqueConstraint("partner_id", "external_id"),
        UniqueConstraint("partner_id", "username"),
        CheckConstraint("channel IN ('sms', 'whatsapp')", name="channel"),
        Index("ix_learner_accounts_partner_joined", "partner_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"), index=True)
    login_id: Mapped[str] = mapped_column(String(254))
    email: Mapped[str | None] = mapped_column(String(254))
    full_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(100))
    source: Mapped[str] = mapped_column(String(200), default="")
    idp_user_id: Mapped[str] = mapped_column(String(36), unique=True)
    phone: Mapped[str | None] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(16), default="sms")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    external_id: Mapped[str | None] = mapped_column(String(EXTERNAL_ID_MAX_CHARS))
    username: Mapped[str | None] = mapped_column(String(30))
    is_active: Mapped[bool] = mapped_column(default=True, server_default=true())
    profile: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    partner: Mapped[Partner] = relationship(lazy="joined")


class LearnerSession(db.Model):
    """One pair of learner tokens: a JWT naming this row (`sid`) and an opaque access token,
    of which only the SHA-256 is kept. Validating the pair revokes it and issues a new one;
    a revoked or expired session is never valid again."""

    __tablename__ = "learner_sessions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("learner_accounts.id", ondelete="CASCADE"), index=True)
    access_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LoginFailure(db.Model):
    """A failed learner login, counted per (partner, login id) for the rate limit."""

    __tablename__ = "learner_login_failures"
    __table_args__ = (Index("ix_learner_login_failures_key", "partner_id", "login_id", "failed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"))
    login_id: Mapped[str] = mapped_column(String(254))
    failed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DeliveryPartner(db.Model):
    """A delivery its author shares with a partner. Only then may the partner generate coupons
    for it, see its coupons, and see its learners' progress and certificates in it; without
    it the delivery does not exist for the partner (404), and the partner's coupons for it
    stop enrolling."""

    __tablename__ = "delivery_partners"

    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("deliveries.id", ondelete="CASCADE"), primary_key=True)
    partner_id: Mapped[int] = mapped_column(
        ForeignKey("partners.id", ondelete="CASCADE"), primary_key=True, index=True)
    shared_by_id: Mapped[int | None] = mapped_column(ForeignKey("authors.id", ondelete="SET NULL"))
    shared_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CouponBatch(db.Model):
    """Coupons generated together for one delivery, by a partner or by an author.

    `capacity` (optional) is the most learners the delivery may hold (enrollments not
    removed) for a coupon of this batch to enrol one more; `expires_at` (optional) ends them.
    """

    __tablename__ = "coupon_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("deliveries.id", ondelete="CASCADE"), index=True)
    partner_id: Mapped[int | None] = mapped_column(
        ForeignKey("partners.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("authors.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(String(500), default="")
    capacity: Mapped[int | None]
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    coupons: Mapped[list[Coupon]] = relationship(back_populates="batch", order_by="Coupon.id")


class Coupon(db.Model):
    """An enrolment code for one delivery.

    States: `available` → (applied by a learner) `used` → (cancelled) `cancelled` → (restored)
    `available`. Applying enrols the learner as a student of the delivery's group; the used
    coupon is the link between the account (`used_by_id`) and that student (`student_id`).
    Cancelling a used coupon removes that student and their enrollment.
    """

    __tablename__ = "coupons"
    __table_args__ = (CheckConstraint("state IN ('available', 'used', 'cancelled')", name="state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("coupon_batches.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    state: Mapped[str] = mapped_column(String(16), default=AVAILABLE)
    used_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("learner_accounts.id", ondelete="SET NULL"), index=True)
    student_id: Mapped[int | None] = mapped_column(ForeignKey("students.id", ondelete="SET NULL"), index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    batch: Mapped[CouponBatch] = relationship(back_populates="coupons", lazy="joined")


class Certificate(db.Model):
    """A course certificate for a learner: issued once per (account, course), then re-served.

    `serial` (≥ 80 random bits) names the public verification page /certificates/<serial>.
    """

    __tablename__ = "certificates"
    __table_args__ = (UniqueConstraint("account_id", "course_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("learner_accounts.id", ondelete="CASCADE"))
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    serial: Mapped[str] = mapped_column(String(32), unique=True)
    learner_name: Mapped[str] = mapped_column(String(200))
    course_name: Mapped[str] = mapped_column(String(200))
    is_forced: Mapped[bool] = mapped_column(default=False)
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
