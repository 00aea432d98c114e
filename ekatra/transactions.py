"""How a use case meets the database: `with transaction(): ...` commits what it changed or rolls
all of it back (read requests run without one: see ekatra/read_only.py)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import IntegrityError

from ekatra.errors import Conflict
from ekatra.extensions import db


@contextmanager
def transaction(conflict: str | None = None, errors: dict | None = None) -> Iterator[None]:
    """Commit the session's transaction when the block ends; roll it back when anything is
    raised in the block or by the commit (a domain error included), and raise it again.

    With `conflict`, a constraint that trips (IntegrityError, at a flush in the block or at the
    commit) is raised as `Conflict(conflict, errors)`: a 409 that names the rule, not a 500.
    The transaction is the session's: reads made before the block belong to it too."""
    try:
        yield
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        if conflict is None:
            raise
        raise Conflict(conflict, errors) from None
    except BaseException:
        db.session.rollback()
        raise
