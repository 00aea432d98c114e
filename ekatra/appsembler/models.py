"""Set-password links of accounts created without a password (accounts/user_without_password)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ekatra.extensions import UTCDateTime, db


class PasswordLink(db.Model):
    """A one-time link (`/appsembler/set-password/<token>`) with which a learner sets the
    password of an account created without one, making it active.

    Only the SHA-256 of the token (256 random bits) is kept. A link is good until `expires_at`
    and once: setting the password stamps `used_at`; a used or expired link never works again.
    A new link for the same account does not end earlier ones (each expires on its own).
    """

    __tablename__ = "learner_password_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("learner_accounts.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
