"""Fixtures: an app per database backend (SQLite always; PostgreSQL when configured).

Every database-facing test runs once per backend. The schema comes from the Alembic
migrations (so the tests exercise them too); each test starts from empty tables.

- EKATRA_TEST_POSTGRES_URL: a PostgreSQL server to test on; a fresh database is created on it
  for the session and dropped afterwards.
- EKATRA_REQUIRE_POSTGRES=1: a missing or unreachable PostgreSQL fails the run instead of
  skipping the PostgreSQL half.
"""

from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from ekatra import create_app
from ekatra.config import normalise_database_url
from ekatra.extensions import db
from tests.factories import AuthorClient

POSTGRES_URL = os.environ.get("EKATRA_TEST_POSTGRES_URL", "")
REQUIRE_POSTGRES = os.environ.get("EKATRA_REQUIRE_POSTGRES") == "1"


def _backends():
    yield pytest.param("sqlite", id="sqlite")
    if POSTGRES_URL or REQUIRE_POSTGRES:
        yield pytest.param("postgresql", id="postgresql")
    else:
        yield pytest.param("postgresql", id="postgresql",
                           marks=pytest.mark.skip(reason="EKATRA_TEST_POSTGRES_URL is not set"))


def _create_postgres_database() -> tuple[str, callable]:
    if not POSTGRES_URL:
        pytest.fail("EKATRA_REQUIRE_POSTGRES=1 but EKATRA_TEST_POSTGRES_URL is not set")
    server_url = make_url(normalise_database_url(POSTGRES_URL))
    name = f"ekatra_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:
        admin.dispose()
        message = f"PostgreSQL at {server_url.render_as_string(hide_password=True)} is unreachable: {error}"
        if REQUIRE_POSTGRES:
            pytest.fail(message)
        pytest.skip(message)

    def drop():
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return server_url.set(database=name).render_as_string(hide_password=False), drop


@pytest.fixture(scope="session", params=list(_backends()))
def database_url(request, tmp_path_factory):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'ekatra.db'}"
        return
    url, drop = _create_postgres_database()
    yield url
    drop()


def test_environ(database_url: str, **extra: str) -> dict[str, str]:
    """The environment an app under test sees: nothing leaks in from the outer one."""
    return {
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-key",
        "JWT_SECRET_KEY": "test-jwt-secret-key-long-enough-for-hs256",
        "BCRYPT_ROUNDS": "4",
        "PUBLIC_BASE_URL": "http://ekatra.test",
        # The whole suite is one minute of many requests by "author 1"; the limits have tests of their own.
        "RATE_LIMIT_PER_AUTHOR": "1000000/minute",
        "RATE_LIMIT_PER_PARTNER": "1000000/minute",
        **extra,
    }


test_environ.__test__ = False  # a helper, not a test


@pytest.fixture(scope="session")
def _app(database_url):
    from flask_migrate import upgrade

    app = create_app(config={"TESTING": True}, environ=test_environ(database_url))
    with app.app_context():
        upgrade()
    yield app
    with app.app_context():
        db.engine.dispose()


def _empty_tables() -> None:
    tables = [t for t in reversed(db.metadata.sorted_tables)]
    if db.engine.dialect.name == "postgresql":
        names = ", ".join(f'"{t.name}"' for t in tables)
        db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        for table in tables:
            db.session.execute(table.delete())
        if db.session.execute(text(
                "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'")).first():
            db.session.execute(text("DELETE FROM sqlite_sequence"))
    db.session.commit()


@pytest.fixture
def app(_app):
    from ekatra.auth.mail import FakeMailer

    _app.extensions["ekatra.mailer"] = FakeMailer()
    with _app.app_context():
        yield _app
        db.session.remove()
        _empty_tables()
        db.session.remove()
        _app.extensions["ekatra.limiter"].reset()  # ids start again at 1: so do the rate limits


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def author(client) -> AuthorClient:
    """A signed-up, logged-in author with a client that sends their token."""
    return AuthorClient.signup(client, "author@example.org", "Asha Author")


@pytest.fixture
def other_author(client) -> AuthorClient:
    return AuthorClient.signup(client, "other@example.org", "Other Author")
