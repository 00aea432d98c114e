"""Is the service healthy: database reachable, schema at the newest migration, workers alive."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import func, select, text

from ekatra.extensions import db
from ekatra.health.models import WorkerHeartbeat

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"
READY_HEARTBEAT_SECONDS = 60  # a worker beats every 10 s: six missed beats and it is gone


@dataclass
class Health:
    database_ok: bool
    migrations_current: str | None
    migrations_head: str | None
    last_heartbeat_age_seconds: float | None
    database_error: str | None = None

    @property
    def is_healthy(self) -> bool:
        return self.database_ok and self.migrations_current == self.migrations_head


def not_ready_reasons(health: Health) -> list[str]:
    """Why this deployment cannot do its work (empty: ready): the database, the schema, a worker."""
    if not health.database_ok:
        return [f"database unreachable ({health.database_error})"]
    reasons = []
    if health.migrations_current != health.migrations_head:
        reasons.append(f"database schema at {health.migrations_current}, "
                       f"code expects {health.migrations_head}")
    age = health.last_heartbeat_age_seconds
    if age is None:
        reasons.append("no worker heartbeat yet")
    elif age >= READY_HEARTBEAT_SECONDS:
        reasons.append(f"last worker heartbeat {age:g} s ago (more than {READY_HEARTBEAT_SECONDS} s)")
    return reasons


def _revisions(heads) -> str | None:
    return ",".join(sorted(heads)) or None


@functools.cache
def migration_head() -> str | None:
    """The newest revision of the code's migrations (several, comma-joined, on a branch).

    Read from the scripts once per process: the code a process runs does not change under it,
    and reading every migration file on each health check cost milliseconds."""
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return _revisions(ScriptDirectory.from_config(config).get_heads())


def check(now: datetime) -> Health:
    head = migration_head()
    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            current = _revisions(MigrationContext.configure(connection).get_current_heads())
            last_beat = None
            if current == head:  # before the migrations the heartbeat table may not exist
                last_beat = connection.execute(select(func.max(WorkerHeartbeat.beat_at))).scalar()
    except Exception as error:  # any failure to reach the database is reported, not raised
        return Health(False, None, head, None, database_error=error.__class__.__name__)
    age = None
    if last_beat is not None:
        age = round((now - last_beat).total_seconds(), 1)
    return Health(True, current, head, age)


def record_heartbeat(*, worker_id: str, hostname: str, pid: int, started_at: datetime,
                     now: datetime) -> None:
    beat = db.session.get(WorkerHeartbeat, worker_id)
    if beat is None:
        db.session.add(WorkerHeartbeat(worker_id=worker_id, hostname=hostname, pid=pid,
                                       started_at=started_at, beat_at=now))
    else:
        beat.beat_at = now
    db.session.commit()
