"""Locks that make a check and the write it guards one step, on PostgreSQL and on SQLite.

Every lock here ends with the transaction. SQLite has one writer: its write lock, taken up
front (BEGIN IMMEDIATE, before the transaction reads), serialises the guarded steps; the
planner takes it the same way.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import select, text

from ekatra.deliveries.models import Delivery
from ekatra.extensions import db


def _is_sqlite() -> bool:
    return db.engine.dialect.name == "sqlite"


def _sqlite_write_lock() -> None:
    db.session.connection().exec_driver_sql("BEGIN IMMEDIATE")


def lock_name(name: str) -> None:
    """Transactions holding the same `name` take turns (PostgreSQL: a transaction-level
    advisory lock on the name's 64-bit hash; a rare collision only makes two names share)."""
    if _is_sqlite():
        _sqlite_write_lock()
        return
    key = int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:8], "big", signed=True)
    db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def locked_delivery(delivery_id: int) -> Delivery | None:
    """The delivery, read fresh and locked (PostgreSQL: its row, FOR NO KEY UPDATE, which
    leaves inserts of rows that merely point at it unblocked)."""
    if _is_sqlite():
        _sqlite_write_lock()
    return db.session.scalar(select(Delivery).where(Delivery.id == delivery_id)
                             .with_for_update(key_share=True)
                             .execution_options(populate_existing=True))
