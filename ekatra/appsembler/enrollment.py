"""Enrollment codes and bulk enrollment, Open edX-style, over the partner coupons.

Codes are the partner's coupons (partners/coupons.py): generating, applying, cancelling and
restoring them are the partner API's own verbs, answered in Open edX's words. A course is a
delivery shared with the partner, named by its course key (deliveries/course_keys.py); any
other key (unknown, malformed, another partner's or unshared delivery) is not found.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from ekatra.appsembler.accounts import Settings
from ekatra.appsembler.errors import ApiError
from ekatra.courses.models import Course
from ekatra.deliveries.course_keys import course_key, parse_course_key
from ekatra.deliveries.models import Delivery
from ekatra.errors import DomainError, NotFound
from ekatra.extensions import db
from ekatra.partners import coupons
from ekatra.partners.models import AVAILABLE, CANCELLED, USED, Coupon, CouponBatch, LearnerAccount, Partner
from ekatra.partners.profiles import find_by_lookup
from ekatra.partners.services import accounts_by_email
from ekatra.partners.sharing import shared_delivery

COURSE_NOT_FOUND = "Course not found."
CHANNEL_NAMES = {"sms": "SMS", "whatsapp": "WhatsApp"}

# The partner API's refusals of a code, in the words Open edX's API gives them.
REASONS = {
    coupons.UNKNOWN: "Enrollment code not found",
    coupons.ALREADY_USED: "Enrollment code error",
    coupons.WAS_CANCELLED: "Enrollment code error",
    coupons.WITHDRAWN: "Enrollment code error",
    coupons.EXPIRED: "Enrollment closed",
    coupons.ENDED: "Enrollment closed",
    coupons.FULL: "Course full",
    coupons.ALREADY_ENROLLED: "Already enrolled",
    coupons.NO_PHONE: "User has no phone number",
}


def delivery_for_key(partner: Partner, key: str) -> Delivery:
    """The delivery a course key names, if it is shared with this partner; else NotFound."""
    parsed = parse_course_key(key)
    if parsed is None:
        raise NotFound(COURSE_NOT_FOUND)
    delivery = shared_delivery(partner, parsed.delivery_id)
    if (delivery.owner_id, delivery.course_id) != (parsed.owner_id, parsed.course_id):
        raise NotFound(COURSE_NOT_FOUND)
    return delivery


def key_of(delivery: Delivery) -> str:
    return course_key(delivery.owner_id, delivery.course_id, delivery.id)


def generate_codes(partner: Partner, key: str, count: int, *, now: datetime) -> tuple[Delivery, list[str]]:
    """`count` new codes for the course (a coupon batch of the partner's)."""
    delivery = delivery_for_key(partner, key)
    batch = coupons.generate(coupons.Issuer(partner=partner), delivery.id, count=count, expires_at=None,
                             note="Appsembler API", capacity=None, now=now)
    return delivery, [coupon.code for coupon in batch.coupons]


def enroll_with_code(partner: Partner, email: str, code: str, *, now: datetime) -> None:
    """Enrol the partner's learner with this email using a code; ApiError(400) with Open
    edX's reason when it cannot."""
    account = accounts_by_email(partner, [email or ""]).get(email or "")
    code_known = bool(code) and db.session.scalar(select(Coupon.id).join(CouponBatch).where(
        Coupon.code == coupons.normalise_code(code),
        (CouponBatch.partner_id == partner.id) | CouponBatch.partner_id.is_(None))) is not None
    if not code_known:  # checked after the user in Open edX too: this reason wins
        raise ApiError(400, {"success": False, "reason": "Enrollment code not found"})
    if account is None:
        raise ApiError(400, {"success": False, "reason": "User not found"})
    try:
        coupons.apply(account, code, now=now)
    except DomainError as refusal:
        raise ApiError(400, {"success": False,
                             "reason": REASONS.get(refusal.message, "Enrollment code error")}) from None


def change_code_status(partner: Partner, code: str, action: str, *, now: datetime) -> None:
    """cancel: the code's learner (if any) is unenrolled and the code unusable; restore: the
    code's learner (if any) is unenrolled and the code usable again."""
    try:
        coupons.reset(coupons.Issuer(partner=partner), code or "", now=now,
                      to_state=CANCELLED if action == "cancel" else AVAILABLE)
    except NotFound:
        raise ApiError(400, {"success": False,
                             "reason": f"The enrollment code ({code}) was not found"}) from None


# Bulk enrollment -------------------------------------------------------------------------------


@dataclass(frozen=True)
class BulkResult:
    """One identifier's outcome in one course, as Open edX's instructor API reports it."""

    identifier: str
    before: dict | None = None
    after: dict | None = None
    invalid: bool = False
    error: str | None = None

    def as_dict(self) -> dict:
        if self.invalid:
            return {"identifier": self.identifier, "invalidIdentifier": True}
        if self.error is not None:
            return {"identifier": self.identifier, "error": True, "reason": self.error}
        return {"identifier": self.identifier, "before": self.before, "after": self.after}


def split_list(text: str) -> list[str]:
    """A comma- (or newline-) separated list, trimmed, empties and repeats dropped."""
    seen: dict[str, None] = {}
    for item in (text or "").replace("\n", ",").split(","):
        if item.strip():
            seen.setdefault(item.strip(), None)
    return list(seen)


def _find_learner(partner: Partner, identifier: str) -> LearnerAccount | None:
    try:
        return find_by_lookup(partner, identifier)
    except NotFound:
        return None


def _is_enrolled(account: LearnerAccount, delivery: Delivery) -> bool:
    return db.session.scalar(select(Coupon.id).join(CouponBatch).where(
        Coupon.used_by_id == account.id, Coupon.state == USED, Coupon.student_id.is_not(None),
        CouponBatch.delivery_id == delivery.id).limit(1)) is not None


def _state(enrolled: bool) -> dict:
    return {"enrollment": enrolled, "allowed": False, "user": True, "auto_enroll": False}


def bulk_enroll(partner: Partner, *, action: str, identifiers: list[str], keys: list[str],
                email_students: bool, settings: Settings, now: datetime) -> dict[str, list[BulkResult]]:
    """Enrol (or unenrol) each identified learner (email or username of the partner's) in each
    course; each pair is its own transaction, as in Open edX. Every course key is checked
    before anything changes (one unknown key: NotFound). With `email_students`, each learner
    whose enrollment changed is mailed. Returns the results per course key."""
    courses = {key: delivery_for_key(partner, key) for key in keys}
    results: dict[str, list[BulkResult]] = {}
    for key, delivery in courses.items():
        rows = results[key] = []
        for identifier in identifiers:
            account = _find_learner(partner, identifier)
            if account is None:
                rows.append(BulkResult(identifier, invalid=True))
                continue
            before = _is_enrolled(account, delivery)
            try:
                if action == "enroll" and not before:
                    coupons.enrol_directly(partner, account, delivery.id, now=now, note="Bulk enrollment")
                elif action == "unenroll" and before:
                    coupons.unenrol(partner, account, delivery.id, now=now)
            except DomainError as refusal:
                rows.append(BulkResult(identifier, error=REASONS.get(refusal.message, refusal.message)))
                continue
            after = _is_enrolled(account, delivery)
            if after != before and email_students and account.email:
                settings.mails.append(_enrollment_mail(account, delivery, after))
            rows.append(BulkResult(identifier, _state(before), _state(after)))
    settings.send_mails()
    return results


def _enrollment_mail(account: LearnerAccount, delivery: Delivery, enrolled: bool) -> tuple[str, str, str]:
    course = db.session.get(Course, delivery.course_id)
    if enrolled:
        return (account.email, f"You are enrolled in {course.name}", (
            f"Hello {account.full_name},\n\nYou have been enrolled in {course.name}. Its lessons come "
            f"to your phone ({account.phone}) by {CHANNEL_NAMES.get(account.channel, account.channel)}.\n"))
    return (account.email, f"You have been unenrolled from {course.name}", (
        f"Hello {account.full_name},\n\nYou have been unenrolled from {course.name}; no more of "
        "its lessons will be sent to you.\n"))
