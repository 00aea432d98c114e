"""How a use case meets the database: `with transaction(): ...` commits what it changed or rolls
all of it back; a read request (GET, HEAD) runs without a transaction at all."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, request
from sqlalchemy.exc import IntegrityError

from ekatra.errors import Conflict
from ekatra.extensions import db

READ_METHODS = frozenset({"GET", "HEAD"})
AUTOCOMMIT_READ = "ekatra.autocommit_read"


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


def register_read_requests(app: Flask) -> None:
    """GET and HEAD requests read in autocommit: each statement sees what is committed when it
    runs, and no BEGIN or ROLLBACK goes to the database (two round trips of the three or four a
    read makes on PostgreSQL). A read route never writes; one that did would commit statement
    by statement."""

    @app.before_request
    def read_without_a_transaction():
        # A session already in a transaction (a test holding the app context) keeps it.
        if request.method in READ_METHODS and not db.session().in_transaction():
            db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
            request.environ[AUTOCOMMIT_READ] = True

    @app.teardown_request
    def end_the_read(_error=None):
        # The connection goes back to the pool (its isolation level reset) before anything that
        # outlives the request, such as a test's app context, uses the session again.
        if request.environ.get(AUTOCOMMIT_READ):
            db.session.rollback()
