"""Author accounts: signup, login sessions, logout, password reset, admins."""

from __future__ import annotations

import hashlib
import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select, update

from ekatra.auth import attempts
from ekatra.auth.attempts import LoginLimits, ResetMailLimits
from ekatra.auth.models import Author, LoginSession, PasswordReset
from ekatra.auth.passwords import check_password, hash_password, password_problem
from ekatra.errors import Conflict, Invalid, NotFound, RateLimited, Unauthorized
from ekatra.extensions import db
from ekatra.transactions import transaction

log = logging.getLogger(__name__)

RESET_TOKEN_TTL = timedelta(hours=1)
MAX_EMAIL_CHARS = 254
DEFAULT_LOGIN_LIMITS = LoginLimits()
DEFAULT_RESET_MAIL_LIMITS = ResetMailLimits()


@dataclass(frozen=True)
class Actor:
    """Who is asking: services scope every query by this."""

    author_id: int
    is_admin: bool = False


def normalise_email(email: str) -> str:
    return email.strip().casefold()


def _check_password_rules(password: str, field: str = "password") -> None:
    problem = password_problem(password)
    if problem:
        raise Invalid(problem, {field: [problem]})


def signup(*, name: str, email: str, contact: str | None, password: str, now: datetime,
           rounds: int = 12, is_admin: bool = False) -> Author:
    _check_password_rules(password)
    email = normalise_email(email)
    if len(email) > MAX_EMAIL_CHARS:  # case folding can lengthen it ("ß" → "ss")
        raise Invalid("Email is too long.", {"email": [f"Longer than {MAX_EMAIL_CHARS} characters."]})
    if db.session.scalar(select(Author.id).where(Author.email == email)) is not None:
        raise Conflict("An account with this email already exists.", {"email": ["Already registered."]})
    author = Author(email=email, name=name.strip(), contact=contact, is_admin=is_admin,
                    password_hash=hash_password(password, rounds), created_at=now, updated_at=now)
    with transaction("An account with this email already exists.", {"email": ["Already registered."]}):
        db.session.add(author)
    return author


def login(*, email: str, password: str, now: datetime, session_ttl: timedelta,
          client_address: str = "unknown", limits: LoginLimits = DEFAULT_LOGIN_LIMITS,
          rounds: int = 12) -> LoginSession:
    """A new login session, or Unauthorized; RateLimited after too many failures for this email
    or from this client address. The attempt is counted before the password is checked (so
    parallel guesses are bounded too) and taken back when the password is right."""
    email = normalise_email(email)
    reservation = attempts.reserve(limits.limits(email, client_address), now)
    author = db.session.scalar(select(Author).where(Author.email == email))
    if not check_password(password, author.password_hash if author else None, rounds) or author is None:
        raise Unauthorized("Either email or password is incorrect.")  # the attempt stays counted
    attempts.release(reservation)
    attempts.forget(attempts.LOGIN_ACCOUNT, email)
    session = LoginSession(id=str(uuid.uuid4()), author=author, created_at=now,
                           expires_at=now + session_ttl)
    db.session.add(session)
    db.session.commit()
    return session


@dataclass(frozen=True)
class ActiveSession:
    """A login session that was neither revoked nor expired when the request checked it."""

    id: str
    author_id: int
    is_admin: bool

    @property
    def actor(self) -> Actor:
        return Actor(author_id=self.author_id, is_admin=self.is_admin)


_sessions, _authors = LoginSession.__table__, Author.__table__
# Built once: a plain Core SELECT (no ORM identity map or eager loading), compiled once per engine.
_SESSION_BY_ID = (
    select(_sessions.c.author_id, _sessions.c.revoked_at, _sessions.c.expires_at, _authors.c.is_admin)
    .join(_authors, _authors.c.id == _sessions.c.author_id)
    .where(_sessions.c.id == bindparam("session_id"))
)


def active_session(session_id: str, author_id: int, now: datetime) -> ActiveSession | None:
    """The login session a token names, if it is the token's author's (`author_id`) and neither
    revoked nor expired.

    Read from the database on every call (one indexed row), never from a cache: a logout or a
    password reset committed before the request refuses its tokens."""
    row = db.session.connection().execute(_SESSION_BY_ID, {"session_id": session_id}).first()
    if row is None or row.author_id != author_id or row.revoked_at is not None or row.expires_at <= now:
        return None
    return ActiveSession(id=session_id, author_id=row.author_id, is_admin=row.is_admin)


def logout(*, session_id: str, now: datetime) -> None:
    db.session.execute(
        update(LoginSession)
        .where(LoginSession.id == session_id, LoginSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    db.session.commit()


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def request_password_reset(*, email: str, now: datetime, mailer, reset_url: str,
                           client_address: str = "unknown",
                           limits: ResetMailLimits = DEFAULT_RESET_MAIL_LIMITS) -> None:
    """Mail a single-use link valid for an hour; it ends the author's earlier links. Says nothing
    about whether the email exists; past the limits per email and per client address, quietly
    sends nothing (the earlier links stay valid)."""
    email = normalise_email(email)
    try:
        attempts.reserve(limits.limits(email, client_address), now)
    except RateLimited:
        log.info("password reset mail not sent: too many asked for this email or client address")
        return
    author = db.session.scalar(select(Author).where(Author.email == email))
    if author is None:
        log.info("password reset asked for an unknown email")
        return
    _end_reset_links(author.id, now)
    token = secrets.token_urlsafe(32)
    db.session.add(PasswordReset(author_id=author.id, token_hash=_token_hash(token),
                                 created_at=now, expires_at=now + RESET_TOKEN_TTL))
    db.session.commit()
    mailer.send(
        author.email,
        "Reset your Ekatra password",
        f"Hello {author.name},\n\nTo choose a new password, POST it to this link within an hour:\n"
        f"{reset_url}/{token}\n\nwith the JSON body "
        '{"new-password": "...", "confirm-password": "..."}.\n'
        "If you did not ask for this, ignore this message.\n",
    )


def _end_reset_links(author_id: int, now: datetime) -> None:
    """Every outstanding reset link of the author stops working (in the caller's transaction)."""
    db.session.execute(
        update(PasswordReset)
        .where(PasswordReset.author_id == author_id, PasswordReset.used_at.is_(None))
        .values(used_at=now)
    )


def reset_password(*, token: str, new_password: str, confirm_password: str, now: datetime,
                   rounds: int = 12) -> Author:
    """Set a new password with a reset link. The link, and every other link of the author, is
    used up; every existing login ends."""
    if new_password != confirm_password:
        raise Invalid("new-password and confirm-password do not match.",
                      {"confirm-password": ["Does not match new-password."]})
    _check_password_rules(new_password, "new-password")
    reset = db.session.scalar(select(PasswordReset).where(PasswordReset.token_hash == _token_hash(token)))
    if reset is None or reset.used_at is not None or reset.expires_at <= now:
        raise NotFound("This reset link is unknown, used or expired.")
    with transaction():
        claimed = db.session.execute(
            update(PasswordReset)
            .where(PasswordReset.id == reset.id, PasswordReset.used_at.is_(None))
            .values(used_at=now)
        )
        if claimed.rowcount != 1:  # a concurrent request used it first
            raise NotFound("This reset link is unknown, used or expired.")
        _end_reset_links(reset.author_id, now)
        author = db.session.get(Author, reset.author_id)
        author.password_hash = hash_password(new_password, rounds)
        author.updated_at = now
        # A new password ends every existing login.
        db.session.execute(
            update(LoginSession)
            .where(LoginSession.author_id == author.id, LoginSession.revoked_at.is_(None))
            .values(revoked_at=now)
        )
    return author


def make_admin(*, email: str, name: str | None, password: str | None, now: datetime,
               rounds: int = 12) -> tuple[Author, bool]:
    """Promote an existing author, or create an admin. Returns (author, created)."""
    author = db.session.scalar(select(Author).where(Author.email == normalise_email(email)))
    if author is None:
        if not password:
            raise Invalid("A password is needed to create a new admin account.")
        return signup(name=name or email, email=email, contact=None, password=password,
                      now=now, rounds=rounds, is_admin=True), True
    author.is_admin = True
    author.updated_at = now
    db.session.commit()
    return author, False
