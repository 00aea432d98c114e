"""`transaction()`: the block's changes are committed together or not at all; a read request
runs its statements without a transaction."""

from __future__ import annotations

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import IntegrityError

from ekatra import clock
from ekatra.auth.models import Author
from ekatra.errors import Conflict, NotFound
from ekatra.extensions import db
from ekatra.transactions import transaction


def _author(email: str) -> Author:
    now = clock.now()
    return Author(email=email, name="A", password_hash="x", is_admin=False, created_at=now, updated_at=now)


def _emails() -> list[str]:
    emails = list(db.session.scalars(select(Author.email).order_by(Author.email)))
    db.session.rollback()
    return emails


def test_the_block_is_committed_when_it_ends(app):
    with transaction():
        db.session.add(_author("a@example.org"))
        db.session.add(_author("b@example.org"))

    assert _emails() == ["a@example.org", "b@example.org"]


def test_an_error_in_the_block_undoes_all_of_it(app):
    with pytest.raises(NotFound), transaction():
        db.session.add(_author("a@example.org"))
        db.session.flush()
        raise NotFound("gone")

    assert _emails() == []


def test_a_tripped_constraint_is_the_conflict_the_caller_names(app):
    with transaction():
        db.session.add(_author("a@example.org"))

    with pytest.raises(Conflict) as raised, transaction("Already there.", {"email": ["Taken."]}):
        db.session.add(_author("c@example.org"))
        db.session.add(_author("a@example.org"))

    assert (raised.value.message, raised.value.errors) == ("Already there.", {"email": ["Taken."]})
    assert _emails() == ["a@example.org"]
    with pytest.raises(IntegrityError), transaction():  # without a conflict message: as it was
        db.session.add(_author("a@example.org"))
    assert db.session.scalar(select(func.count()).select_from(Author)) == 1


def test_reads_run_in_autocommit_on_postgresql_and_writes_in_a_transaction(app, client, author):
    db.session.remove()  # as between two real requests: the session holds no transaction
    levels: list[tuple[str, str]] = []

    def record(connection, _cursor, statement, *_args):
        level = connection.get_execution_options().get("isolation_level")
        levels.append((statement.split()[0].upper(), level))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        assert author.get("/api/course/").status_code == 200
        reads, levels[:] = list(levels), []
        assert author.post("/api/course/", json={"name": "N", "author": "A", "days": []}).status_code == 200
        writes = list(levels)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)

    expected = None if db.engine.dialect.name == "sqlite" else "AUTOCOMMIT"  # SQLite reads never BEGIN
    assert reads and all(level == expected for _, level in reads)
    assert writes and all(level is None for _, level in writes)
