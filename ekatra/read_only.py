"""Read requests (GET, HEAD) run without a transaction: no BEGIN and no ROLLBACK on the wire."""

from __future__ import annotations

from flask import Flask, request
from sqlalchemy.exc import DBAPIError

from ekatra.extensions import db

READ_METHODS = frozenset({"GET", "HEAD"})
AUTOCOMMIT_READ = "ekatra.autocommit_read"


def register_read_requests(app: Flask) -> None:
    """GET and HEAD requests read in autocommit: each statement sees what is committed when it
    runs, and no BEGIN or ROLLBACK goes to the database (two round trips of the three or four a
    read makes on PostgreSQL). A read route never writes; one that did would commit statement
    by statement. SQLite is left as it is: its driver begins a transaction only before a write,
    and switching isolation levels there costs a PRAGMA each way."""

    @app.before_request
    def read_without_a_transaction():
        # A session already in a transaction (a test holding the app context) keeps it.
        if (request.method in READ_METHODS and db.engine.dialect.name != "sqlite"
                and not db.session().in_transaction()):
            try:
                db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
            except DBAPIError:
                # The database is away: the view meets it again and answers as it does (a 503,
                # or the health check's own report).
                db.session.rollback()
                return
            request.environ[AUTOCOMMIT_READ] = True

    @app.teardown_request
    def end_the_read(_error=None):
        # The connection goes back to the pool (its isolation level reset) before anything that
        # outlives the request, such as a test's app context, uses the session again.
        if request.environ.get(AUTOCOMMIT_READ):
            db.session.rollback()
