"""Idempotency keys for the POSTs of the author and partner APIs.

A POST with an `Idempotency-Key` header (1 to 255 printable characters) is run once per caller
and key: its response (status and body) is kept for IDEMPOTENCY_KEY_HOURS (24) and replayed for
a retry with the same key and the same request (method, path, query and raw body), with
`Idempotent-Replayed: true`. The same key with a different request is a 422; the same key while
the first request is still running is a 409. A 5xx is not kept (the key is released, so the
client may retry); neither is a request refused before it was authenticated.

Keys live in the database (shared by every web process) and are written in short transactions
of their own, so that a concurrent request sees a running key at once.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from ekatra.errors import Conflict, DomainError
from ekatra.extensions import db
from ekatra.idempotency.models import IdempotencyKey

RUNNING_LOCK = timedelta(minutes=2)  # a request still "running" after this was abandoned
MAX_KEY_CHARS = 255


class KeyReused(DomainError):
    """The key was first used for a different request."""

    status = 422


@dataclass(frozen=True)
class Stored:
    status_code: int
    content_type: str | None
    body: bytes


def fingerprint(method: str, path: str, query: bytes, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode("utf-8", "surrogateescape"), query, body):
        digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest()


def _insert(dialect: str):
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(IdempotencyKey.__table__)


def begin(caller: str, key: str, request_fingerprint: str, *, now: datetime,
          ttl: timedelta) -> int | Stored:
    """Claim (caller, key) for this request: its row id, or the stored response to replay.
    Raises KeyReused (422) for another request's key, Conflict (409) while that one runs."""
    table = IdempotencyKey.__table__
    with db.engine.begin() as connection:
        connection.execute(delete(table).where(table.c.caller == caller, table.c.key == key,
                                               table.c.expires_at <= now))
        inserted = connection.execute(
            _insert(connection.dialect.name).values(
                caller=caller, key=key, fingerprint=request_fingerprint, created_at=now,
                locked_until=now + RUNNING_LOCK, expires_at=now + ttl)
            .on_conflict_do_nothing(index_elements=["caller", "key"]).returning(table.c.id)).first()
        if inserted is not None:
            return inserted.id
        row = connection.execute(select(table).where(table.c.caller == caller, table.c.key == key)).one()
        if row.fingerprint != request_fingerprint:
            raise KeyReused("This Idempotency-Key was used for a different request (another path or "
                            "body); use a new key for a new request.",
                            {"Idempotency-Key": ["Already used for a different request."]})
        if row.status_code is not None:
            return Stored(row.status_code, row.content_type, row.response_body or b"")
        taken = connection.execute(update(table).where(
            table.c.id == row.id, table.c.status_code.is_(None), table.c.locked_until <= now).values(
            locked_until=now + RUNNING_LOCK, created_at=now))
        if taken.rowcount == 1:  # the first request's process died: this one runs instead
            return row.id
    raise Conflict("A request with this Idempotency-Key is still being processed; retry shortly.",
                   {"Idempotency-Key": ["In progress."]})


def finish(row_id: int, *, status_code: int, content_type: str | None, body: bytes) -> None:
    """Keep the response for replays; a 5xx releases the key instead."""
    table = IdempotencyKey.__table__
    with db.engine.begin() as connection:
        if status_code >= 500:
            connection.execute(delete(table).where(table.c.id == row_id))
        else:
            connection.execute(update(table).where(table.c.id == row_id).values(
                status_code=status_code, content_type=content_type, response_body=body))


def release(row_id: int) -> None:
    table = IdempotencyKey.__table__
    with db.engine.begin() as connection:
        connection.execute(delete(table).where(table.c.id == row_id, table.c.status_code.is_(None)))


def delete_expired(now: datetime) -> int:
    """Forget keys past their 24 hours (the worker's housekeeping)."""
    table = IdempotencyKey.__table__
    with db.engine.begin() as connection:
        return connection.execute(delete(table).where(table.c.expires_at <= now)).rowcount
