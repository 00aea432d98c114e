"""The opt-out list: the phones the outbox does not message, per channel, for every group and
delivery. Recording an opt-out here also skips the phone's unsent messages (one write); what it
does to enrollments is the deliveries' business (deliveries.optouts).

Opt-outs are kept per mode (`livemode`): a STOP through the test provider (the sandbox) opts the
phone out of test messages only, a live STOP (or Twilio's 21610) of live ones only. A test phone
may be a real person's; test messages never reach it, so test data must never silence them.
"""

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


def is_opted_out(phone: str, channel: str, livemode: bool = True) -> bool:
    return bool(db.session.scalar(select(exists().where(
        OptOut.phone == phone, OptOut.channel == channel, OptOut.livemode.is_(livemode)))))


def opted_out(phone_column, channel_column, livemode_column=True):
    """A correlated EXISTS: the phone in `phone_column` opted out on `channel_column` (in the
    mode of `livemode_column`: a student's `livemode`, or live)."""
    return exists().where(OptOut.phone == phone_column, OptOut.channel == channel_column,
                          OptOut.livemode == livemode_column)


def opted_out_keys(phones: Iterable[str]) -> set[tuple[str, str, bool]]:
    """The (phone, channel, livemode) opt-outs among `phones`."""
    unique = sorted(set(phones))
    keys: set[tuple[str, str, bool]] = set()
    for start in range(0, len(unique), _IN_CLAUSE_SIZE):
        chunk = unique[start:start + _IN_CLAUSE_SIZE]
        rows = db.session.execute(select(OptOut.phone, OptOut.channel, OptOut.livemode)
                                  .where(OptOut.phone.in_(chunk)))
        keys.update((phone, channel, livemode) for phone, channel, livemode in rows)
    return keys


def opted_out_pairs(phones: Iterable[str], livemode: bool = True) -> set[tuple[str, str]]:
    """The (phone, channel) pairs among `phones` that opted out (in live mode, unless told)."""
    return {(phone, channel) for phone, channel, mode in opted_out_keys(phones) if mode == livemode}


def add(phone: str, channel: str, source: str, now: datetime, livemode: bool = True) -> bool:
    """Opt the phone out and skip its unsent messages (of this mode). True if the opt-out is new.
    No commit."""
    added = db.session.execute(
        dialect_insert(opt_outs).values(phone=phone, channel=channel, since_at=now, source=source,
                                        livemode=livemode)
        .on_conflict_do_nothing().returning(opt_outs.c.id)).first()
    skip_unsent(phone, channel, now, livemode)
    return added is not None


def remove(phone: str, channel: str, livemode: bool = True) -> bool:
    """Opt the phone back in (in this mode). True if it was opted out. No commit."""
    removed = db.session.execute(delete(OptOut).where(OptOut.phone == phone, OptOut.channel == channel,
                                                      OptOut.livemode.is_(livemode)))
    return removed.rowcount > 0
