"""Rate limits on author logins and reset mails, counted in `auth_attempts` so that every web
process (gunicorn workers, several dynos) counts the same attempts.

An attempt is written and committed before the work it limits (checking a password, sending a
mail), then counted; over the limit it is taken back and refused. Counting after committing
bounds parallel attempts too: the k-th attempt to commit sees at least k rows, so at most
`most` attempts in a window ever get past the count.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select

from ekatra.auth.models import AuthAttempt
from ekatra.errors import RateLimited
from ekatra.extensions import db

LOGIN_ACCOUNT, LOGIN_ADDRESS = "login-account", "login-address"
RESET_EMAIL, RESET_ADDRESS = "reset-email", "reset-address"
KEY_CHARS = 254


@dataclass(frozen=True)
class Limit:
    """At most `most` attempts of `kind` for `key` within `window`."""

    kind: str
    key: str
    most: int
    window: timedelta


@dataclass(frozen=True)
class Reservation:
    """The attempt rows one request wrote (one per limit)."""

    ids: tuple[int, ...]


@dataclass(frozen=True)
class LoginLimits:
    per_account: int = 10
    per_address: int = 50
    window: timedelta = timedelta(minutes=15)

    @classmethod
    def from_config(cls, config) -> LoginLimits:
        return cls(config["LOGIN_FAILURES_PER_ACCOUNT"], config["LOGIN_FAILURES_PER_ADDRESS"],
                   timedelta(minutes=config["LOGIN_FAILURE_WINDOW_MINUTES"]))

    def limits(self, email: str, client_address: str) -> list[Limit]:
        return [Limit(LOGIN_ACCOUNT, email, self.per_account, self.window),
                Limit(LOGIN_ADDRESS, client_address, self.per_address, self.window)]


@dataclass(frozen=True)
class ResetMailLimits:
    per_email: int = 3
    per_address: int = 20
    window: timedelta = timedelta(hours=1)

    @classmethod
    def from_config(cls, config) -> ResetMailLimits:
        return cls(config["RESET_MAILS_PER_EMAIL"], config["RESET_MAILS_PER_ADDRESS"],
                   timedelta(minutes=config["RESET_MAIL_WINDOW_MINUTES"]))

    def limits(self, email: str, client_address: str) -> list[Limit]:
        return [Limit(RESET_EMAIL, email, self.per_email, self.window),
                Limit(RESET_ADDRESS, client_address, self.per_address, self.window)]


def reserve(limits: Sequence[Limit], now: datetime) -> Reservation:
    """Write and commit one attempt per limit, or raise RateLimited (with the seconds until the
    first limit that refused has room again) having taken them back."""
    ids = []
    for limit in limits:
        db.session.execute(delete(AuthAttempt).where(
            AuthAttempt.kind == limit.kind, AuthAttempt.attempted_at <= now - limit.window))
        attempt = AuthAttempt(kind=limit.kind, key=limit.key[:KEY_CHARS], attempted_at=now)
        db.session.add(attempt)
        db.session.flush()
        ids.append(attempt.id)
    db.session.commit()
    waits = [_wait(limit, now) for limit in limits]
    refused = [wait for wait in waits if wait is not None]
    if refused:
        release(Reservation(tuple(ids)))
        db.session.commit()
        raise RateLimited("Too many attempts; try again later.",
                          retry_after_seconds=max(1, math.ceil(max(refused).total_seconds())))
    return Reservation(tuple(ids))


def _wait(limit: Limit, now: datetime) -> timedelta | None:
    """None when the attempts counted for `limit` (this one included) are within it; otherwise
    how long until enough of the others leave the window for this one to fit."""
    in_window = (AuthAttempt.kind == limit.kind, AuthAttempt.key == limit.key[:KEY_CHARS],
                 AuthAttempt.attempted_at > now - limit.window)
    counted = db.session.scalar(select(func.count()).select_from(AuthAttempt).where(*in_window))
    if counted <= limit.most:
        return None
    # `counted - 1` others; `counted - limit.most` of them must leave, the oldest first.
    leaves_at = db.session.scalar(
        select(AuthAttempt.attempted_at).where(*in_window).order_by(AuthAttempt.attempted_at)
        .offset(counted - 1 - limit.most).limit(1))
    return (leaves_at + limit.window - now) if leaves_at else limit.window


def release(reservation: Reservation) -> None:
    """Take the reservation's attempts back (in the caller's transaction)."""
    db.session.execute(delete(AuthAttempt).where(AuthAttempt.id.in_(reservation.ids)))


def forget(kind: str, key: str) -> None:
    """Every attempt counted for `key` (in the caller's transaction): a correct password was shown."""
    db.session.execute(delete(AuthAttempt).where(AuthAttempt.kind == kind,
                                                 AuthAttempt.key == key[:KEY_CHARS]))
