"""Reads that check the request's login session in their own statement.

Every author request checks that its token's login session is neither revoked nor expired, in
the database, on every request (never cached: a logout refuses the next request). For a read
route that is one statement for the session and one for the data. A route declared with
`author_required(session_in_read=True)` instead gets a `SessionToCheck`, and its service runs
its first statement as a `CheckedSelect`: the same SELECT with one more column, the session's
author's `is_admin` while the session is active and NULL otherwise. One statement, one round
trip; the answer is the same as with the separate check:

- rows came back: the column decides (NULL: the session is refused, a 401);
- no rows came back (an unknown id, an empty list), or the service never ran a statement: the
  session is read alone (`SessionToCheck.settle`), so that a refused session is a 401 and not a
  404 or an empty list. `author_required` settles the session after the view returns or
  raises, whatever the view did, before any answer leaves.

The column is an uncorrelated scalar subquery: PostgreSQL and SQLite evaluate it once per
statement (an indexed row of `login_sessions` and one of `authors`)."""

from __future__ import annotations

from datetime import datetime
from functools import cached_property

from sqlalchemy import Row, Select, bindparam, select

from ekatra.auth.models import Author, LoginSession
from ekatra.auth.services import Actor, active_session
from ekatra.errors import Unauthorized
from ekatra.extensions import db

SESSION_REFUSED = "Token has been revoked; log in again."
SESSION_COLUMN = "session_is_admin"

_sessions, _authors = LoginSession.__table__, Author.__table__
# The author's is_admin while the session is active, else NULL.
_SESSION_IS_ADMIN = (
    select(_authors.c.is_admin)
    .select_from(_sessions.join(_authors, _authors.c.id == _sessions.c.author_id))
    .where(_sessions.c.id == bindparam("check_session_id"),
           _sessions.c.author_id == bindparam("check_author_id"),
           _sessions.c.revoked_at.is_(None),
           _sessions.c.expires_at > bindparam("check_now", type_=_sessions.c.expires_at.type))
    .scalar_subquery()
    .label(SESSION_COLUMN))

_NOT_READ = object()


class SessionToCheck:
    """A login session named by a token whose signature, type and expiry were checked, whose row
    is not read yet. `actor` is None until it is settled (then the checked Actor)."""

    __slots__ = ("id", "author_id", "now", "actor")

    def __init__(self, session_id: str, author_id: int, now: datetime):
        self.id = session_id
        self.author_id = author_id
        self.now = now
        self.actor: Actor | None = None

    @property
    def parameters(self) -> dict:
        return {"check_session_id": self.id, "check_author_id": self.author_id, "check_now": self.now}

    @property
    def assumed(self) -> Actor:
        """The actor the token names, assumed not to be an admin, for building a statement
        before the session is read (a list read again if the session says admin)."""
        return Actor(author_id=self.author_id, is_admin=False)

    def settle(self, is_admin=_NOT_READ) -> Actor:
        """The checked actor: from `is_admin` as a CheckedSelect read it (None: refused), or, when
        not given, from the session read alone. Raises Unauthorized when the session is refused."""
        if self.actor is not None:
            return self.actor
        if is_admin is _NOT_READ:
            session = active_session(self.id, self.author_id, self.now)
            is_admin = session.is_admin if session is not None else None
        if is_admin is None:
            raise Unauthorized(SESSION_REFUSED)
        self.actor = Actor(author_id=self.author_id, is_admin=bool(is_admin))
        return self.actor


Reader = Actor | SessionToCheck


class CheckedSelect:
    """A SELECT, and the same SELECT with the session column, built once."""

    def __init__(self, statement: Select):
        self.statement = statement

    @cached_property
    def checking(self) -> Select:
        return self.statement.add_columns(_SESSION_IS_ADMIN)

    def rows(self, reader: Reader, parameters: dict | None = None) -> tuple[Actor, list[Row]]:
        """The statement's rows and the checked actor: for an Actor the statement alone; for a
        SessionToCheck the statement with the session column (the session settled by it, or
        read alone when no row came back)."""
        connection = db.session.connection()
        actor = reader if isinstance(reader, Actor) else reader.actor
        if actor is not None:
            return actor, connection.execute(self.statement, parameters or {}).all()
        rows = connection.execute(self.checking, {**(parameters or {}), **reader.parameters}).all()
        return reader.settle(getattr(rows[0], SESSION_COLUMN) if rows else _NOT_READ), rows
