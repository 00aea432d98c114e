"""Authors (the people who write courses), their login sessions and password resets."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ekatra.extensions import UTCDateTime, db


class Author(db.Model):
    """A course author. `email` is stored case-folded, so it is unique regardless of case."""

    __tablename__ = "authors"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    contact: Mapped[str | None] = mapped_column(String(40))
    password_hash: Mapped[str] = mapped_column(String(100))
    is_admin: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LoginSession(db.Model):
    """One login: the access and refresh tokens it issues carry its id (`sid`).

    Logging out, or resetting the password, sets `revoked_at`; from then on every token of the
    session is refused. A session is never un-revoked.
    """

    __tablename__ = "login_sessions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("authors.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    author: Mapped[Author] = relationship(lazy="joined")


class PasswordReset(db.Model):
    """A single-use reset link. Only the SHA-256 of the token is stored."""

    __tablename__ = "password_resets"

    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("authors.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AuthAttempt(db.Model):
    """One attempt counted against a rate limit (ekatra/auth/attempts.py).

    `kind` names the limit (`login-account`, `login-address`, `reset-email`, `reset-address`),
    `key` what it counts by (a case-folded email, or a client address). A login attempt is
    written, and committed, before the password is checked; a correct password deletes it
    again, so what stays are the failures. Rows older than their limit's window count for
    nothing and are deleted by the next attempt of the same kind. Kept in the database so that
    every web process counts the same attempts.
    """

    __tablename__ = "auth_attempts"
    __table_args__ = (Index("ix_auth_attempts_key", "kind", "key", "attempted_at"),
                      Index("ix_auth_attempts_kind_attempted_at", "kind", "attempted_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    key: Mapped[str] = mapped_column(String(254))
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime)
