"""A fresh database for one benchmark run: a temporary SQLite file, or a temporary database
created on a PostgreSQL server (and dropped afterwards), brought up to date with Alembic."""

from __future__ import annotations

import contextlib
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from ekatra.config import normalise_database_url

BENCH_SECRETS = {
    "SECRET_KEY": "bench-secret-key",
    "JWT_SECRET_KEY": "bench-jwt-secret-key-long-enough-for-hs256",
    "BCRYPT_ROUNDS": "4",
    "PUBLIC_BASE_URL": "http://127.0.0.1:5000",
}


def bench_environ(database_url: str, **extra: str) -> dict[str, str]:
    """The environment a benchmark's app (and its child processes) runs with: fixed secrets."""
    return {"DATABASE_URL": database_url, "EKATRA_ENV": "development", **BENCH_SECRETS, **extra}


@contextlib.contextmanager
def temporary_database(server_url: str | None) -> Iterator[str]:
    """Yield the URL of an empty, migrated database that is removed afterwards."""
    if not server_url or server_url.startswith("sqlite"):
        with tempfile.TemporaryDirectory(prefix="ekatra-bench-") as folder:
            url = f"sqlite:///{Path(folder) / 'bench.db'}"
            migrate(url)
            yield url
        return
    server = make_url(normalise_database_url(server_url))
    name = f"ekatra_bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server.set(database=server.database or "postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = server.set(database=name).render_as_string(hide_password=False)
        migrate(url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def bench_app(database_url: str, **extra: str):
    """An app bound to the benchmark database (quiet: warnings only)."""
    import logging

    from ekatra import create_app

    app = create_app(environ=bench_environ(database_url, **extra))
    logging.getLogger().setLevel(logging.WARNING)
    return app


def migrate(url: str) -> None:
    from flask_migrate import upgrade

    from ekatra.extensions import db

    app = bench_app(url)
    with app.app_context():
        upgrade(revision="heads")
        db.engine.dispose()
