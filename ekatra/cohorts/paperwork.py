"""What a student does through their private link: open it, save their profile, upload the
required documents and sign the agreement (typed name and drawn signature). What the sponsor does
through theirs is in `sponsor`."""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import select

from ekatra.cohorts import links
from ekatra.cohorts.enrollments import refresh_state
from ekatra.cohorts.errors import LinkRefused, StateError, ValidationFailed
from ekatra.cohorts.models import (
    ACTIVE,
    CANCELLED,
    REVOKED,
    SIGNED,
    UPLOADED,
    CohortDocument,
    CohortEnrollment,
)
from ekatra.cohorts.services import Settings, documents_of, filled_in
from ekatra.cohorts.storage import new_key
from ekatra.extensions import db

LINK_REFUSED = "Invalid or expired link"
# The file types a student may upload, by their first bytes (never by name or declared type).
SIGNATURES = (
    (b"%PDF-", "application/pdf", "pdf"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
)
SIGNATURE_MAX_BYTES = 200 * 1024
SIGNATURE_MAX_PIXELS = (2000, 1000)
GENDERS = ("Female", "Male", "Non-binary", "Another gender", "Prefer not to say")
DISABILITIES = ("None", "Physical", "Sight", "Hearing", "Learning or cognitive", "Other", "Prefer not to say")
AGE_RANGE = (14, 100)


# The student ------------------------------------------------------------------------------------


def student_by_link(secret: str, token: str, now: datetime) -> CohortEnrollment:
    """The enrollment a student's link opens: genuine, unexpired, not revoked, cohort not
    cancelled. Anything else is refused alike (nothing tells a guess from an expired link)."""
    key = links.key_of(secret, links.STUDENT, token)
    enrollment = (
        db.session.scalar(select(CohortEnrollment).where(CohortEnrollment.link_key == key)) if key else None
    )
    if (
        enrollment is None
        or enrollment.link_expires_at <= now
        or enrollment.state == REVOKED
        or enrollment.cohort.state == CANCELLED
    ):
        raise LinkRefused(LINK_REFUSED)
    return enrollment


def student_documents(enrollment: CohortEnrollment) -> dict[str, CohortDocument]:
    return {d.document_type: d for d in documents_of([enrollment.id])[enrollment.id]}


def _open_for_changes(enrollment: CohortEnrollment) -> None:
    cohort = enrollment.cohort
    if cohort.state != ACTIVE or cohort.sponsor_signed_at is not None:
        raise StateError("The paperwork of this cohort is closed: the sponsor has signed.")


def _text(value, limit: int, name: str, errors: dict, choices: tuple[str, ...] = ()) -> str | None:
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        return None
    if len(text) > limit or "\x00" in text:
        errors[name] = [f"at most {limit} characters"]
    elif choices and text not in choices:
        errors[name] = [f"must be one of {', '.join(choices)}"]
    return text


def save_profile(enrollment: CohortEnrollment, fields: Mapping, now: datetime) -> CohortEnrollment:
    """The student's phone and the optional demographics (blank means not given)."""
    _open_for_changes(enrollment)
    from ekatra.groups.phones import normalise_phone

    errors: dict[str, list[str]] = {}
    changes: dict = {}
    if (fields.get("phone") or "").strip():
        try:
            changes["phone"] = normalise_phone(fields["phone"])
        except ValueError as problem:
            errors["phone"] = [str(problem)]
    age = (fields.get("age") or "").strip() if isinstance(fields.get("age"), str) else fields.get("age")
    if age in (None, ""):
        changes["age"] = None
    else:
        try:
            changes["age"] = int(age)
            if not AGE_RANGE[0] <= changes["age"] <= AGE_RANGE[1]:
                raise ValueError
        except (TypeError, ValueError):
            errors["age"] = [f"a whole number from {AGE_RANGE[0]} to {AGE_RANGE[1]}"]
    changes["gender"] = _text(fields.get("gender"), 60, "gender", errors, GENDERS)
    changes["race"] = _text(fields.get("race"), 60, "race", errors)
    changes["city"] = _text(fields.get("city"), 100, "city", errors)
    changes["disability"] = _text(fields.get("disability"), 60, "disability", errors, DISABILITIES)
    if errors:
        raise ValidationFailed("Please check: " + ", ".join(errors), errors)
    taken = changes.get("phone") and db.session.scalar(
        select(CohortEnrollment.id).where(
            CohortEnrollment.cohort_id == enrollment.cohort_id,
            CohortEnrollment.phone == changes["phone"],
            CohortEnrollment.id != enrollment.id,
        )
    )
    if taken:
        raise ValidationFailed("Please check: phone", {"phone": ["is another student's in this cohort"]})
    for name, value in changes.items():
        setattr(enrollment, name, value)
    enrollment.profile_saved_at = enrollment.updated_at = now
    refresh_state(enrollment, list(student_documents(enrollment).values()))
    db.session.commit()
    return enrollment


def sniff(data: bytes) -> tuple[str, str] | None:
    """(content type, extension) from the file's first bytes, or None for any other kind."""
    for magic, content_type, extension in SIGNATURES:
        if data.startswith(magic):
            return content_type, extension
    return None


def upload(
    enrollment: CohortEnrollment,
    document_type: str,
    filename: str,
    data: bytes,
    *,
    settings: Settings,
    now: datetime,
) -> CohortDocument:
    """Keep an upload for a required type (PDF, JPEG or PNG by content, at most the size limit);
    a new upload of that type replaces the old one and goes back to review."""
    _open_for_changes(enrollment)
    types = [u["type"] for u in enrollment.cohort.required_uploads]
    if document_type not in types:
        raise ValidationFailed("Choose which document this is.", {"document_type": ["is invalid"]})
    if not data:
        raise ValidationFailed("Choose a file to upload.", {"file": ["can't be blank"]})
    if len(data) > settings.upload_max_bytes:
        raise ValidationFailed(
            f"The file is larger than {settings.upload_max_bytes // (1024 * 1024)} MB.",
            {"file": ["is too large"]},
        )
    kind = sniff(data)
    if kind is None:
        raise ValidationFailed(
            "Only PDF, JPEG and PNG files are accepted.", {"file": ["is not a PDF, JPEG or PNG"]}
        )
    content_type, extension = kind
    key = new_key("uploads", extension)
    settings.store.put(key, data)
    existing = student_documents(enrollment).get(document_type)
    old_key = existing.storage_key if existing else None
    document = existing or CohortDocument(enrollment_id=enrollment.id, document_type=document_type)
    document.filename = (filename or f"{document_type}.{extension}").replace("\x00", "")[-200:]
    document.content_type, document.size_bytes = content_type, len(data)
    document.sha256, document.storage_key = hashlib.sha256(data).hexdigest(), key
    document.status, document.rejection_reason, document.uploaded_at, document.reviewed_at = (
        UPLOADED,
        None,
        now,
        None,
    )
    db.session.add(document)
    db.session.flush()
    enrollment.updated_at = now
    refresh_state(enrollment, list(student_documents(enrollment).values()))
    try:
        db.session.commit()
    except Exception:
        db.session.rollback()
        settings.store.delete(key)
        raise
    if old_key:
        settings.store.delete(old_key)
    return document


def decode_png_data_url(value, name: str) -> bytes:
    """The PNG of a `data:image/png;base64,…` URL: a real PNG, not too large, and not blank.
    Anything else is the contract's 422 VALIDATION_ERROR."""
    from PIL import Image, ImageChops, UnidentifiedImageError

    invalid = ValidationFailed("Signature data is invalid or corrupted", {name: ["is invalid"]})
    prefix = "data:image/png;base64,"
    if (
        not isinstance(value, str)
        or not value.startswith(prefix)
        or len(value) > SIGNATURE_MAX_BYTES * 4 // 3 + 100
    ):
        raise invalid
    try:
        data = base64.b64decode(value[len(prefix) :], validate=True)
    except (binascii.Error, ValueError):
        raise invalid from None
    if not data.startswith(b"\x89PNG\r\n\x1a\n") or len(data) > SIGNATURE_MAX_BYTES:
        raise invalid
    try:
        with Image.open(io.BytesIO(data)) as image:
            if (
                image.format != "PNG"
                or image.width > SIGNATURE_MAX_PIXELS[0]
                or image.height > SIGNATURE_MAX_PIXELS[1]
            ):
                raise invalid
            image.load()
            luminance, alpha = image.convert("LA").split()
            # Drawn means some pixel is visible and not white: an empty canvas is no signature.
            dark = luminance.point(lambda value: 255 if value < 200 else 0)
            shown = alpha.point(lambda value: 255 if value > 0 else 0)
            visible = ImageChops.multiply(dark, shown).getbbox() is not None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise invalid from None
    if not visible:
        raise ValidationFailed(
            "Signature data is invalid or corrupted: the signature is empty", {name: ["is empty"]}
        )
    return data


def sign_agreement(
    enrollment: CohortEnrollment, *, typed_name: str, signature: str, agree: bool, now: datetime
) -> CohortEnrollment:
    """The student accepts the agreement and its supporting documents: their typed full name and
    drawn signature. Signing again (after a rejection) replaces both."""
    _open_for_changes(enrollment)
    errors: dict[str, list[str]] = {}
    name = (typed_name or "").strip()
    if not name or len(name) > 200:
        errors["typed_name"] = ["type your full name"]
    if not agree:
        errors["agree"] = ["tick the box to accept the agreement"]
    if errors:
        raise ValidationFailed("Please check: " + ", ".join(errors), errors)
    png = decode_png_data_url(signature, "signature")
    enrollment.signed_name, enrollment.signature, enrollment.signed_at = name, png, now
    enrollment.agreement_status, enrollment.updated_at = SIGNED, now
    refresh_state(enrollment, list(student_documents(enrollment).values()))
    db.session.commit()
    return enrollment


def agreement_texts(enrollment: CohortEnrollment) -> list[tuple[str, str, str]]:
    """(kind, name, text filled in for this student) of each of the cohort's templates."""
    cohort = enrollment.cohort
    return [(t.kind, t.name, filled_in(t.body, cohort, enrollment)) for t in cohort.templates]


def signed_agreement(enrollment: CohortEnrollment, store) -> bytes | None:
    return store.get(enrollment.agreement_key) if enrollment.agreement_key else None
