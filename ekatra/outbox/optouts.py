"""The opt-out list: the phones the outbox does not message, per channel, for every group and
delivery. Recording an opt-out here also skips the phone's unsent messages (one write); what it
does to enrollments is the deliveries' business (deliveries.optouts)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, exists, select

from ekatra.extensions import db, dialect_insert
from ekatra.outbox.models import OptOut
from ekatra.outbox.services import skip_unsent

KEYWORD, PROVIDER, API = "keyword", "provider", "api"
_IN_CLAUSE_SIZE = 500

opt_outs = OptOut.__table__


def is_opted_out(phone: str, channel: str) -> bool:
    return bool(db.session.scalar(select(exists().where(OptOut.phone == phone, OptOut.channel == channel))))


def opted_out(phone_column, channel_column):
    """A correlated EXISTS: the phone in `phone_column` opted out on `channel_column`."""
    return exists().where(OptOut.phone == phone_column, OptOut.channel == channel_column)


def opted_out_pairs(phones: Iterable[str]) -> set[tuple[str, str]]:
    """The (phone, channel) pairs among `phones` that opted out."""
    unique = sorted(set(phones))
    pairs: set[tuple[str, str]] = set()
    for start in range(0, len(unique), _IN_CLAUSE_SIZE):
        chunk = unique[start:start + _IN_CLAUSE_SIZE]
        rows = db.session.execute(select(OptOut.phone, OptOut.channel).where(OptOut.phone.in_(chunk)))
        pairs.update((phone, channel) for phone, channel in rows)
    return pairs


def add(phone: str, channel: str, source: str, now: datetime) -> bool:
    """Opt the phone out and skip its unsent messages. True if the opt-out is new. No commit."""
    added = db.session.execute(
        dialect_insert(opt_outs).values(phone=phone, channel=channel, since_at=now, source=source)
        .on_conflict_do_nothing().returning(opt_outs.c.id)).first()
    skip_unsent(phone, channel, now)
    return added is not None


def remove(phone: str, channel: str) -> bool:
    """Opt the phone back in. True if it was opted out. No commit."""
    removed = db.session.execute(delete(OptOut).where(OptOut.phone == phone, OptOut.channel == channel))
    return removed.rowcount > 0
