"""Idempotency keys: the first response to a POST, kept per caller and key for 24 hours."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ekatra.extensions import UTCDateTime, db


class IdempotencyKey(db.Model):
    """One (caller, key): `fingerprint` is the SHA-256 of the method, path, query and raw body.

    While the first request runs `status_code` is null (a second request with the key is a 409);
    then it holds the response replayed to retries until `expires_at`. A row whose request
    never finished (its process died) is taken over after `locked_until`.
    """

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("caller", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    caller: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None] = mapped_column(Integer)
    content_type: Mapped[str | None] = mapped_column(String(100))
    response_body: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    locked_until: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
