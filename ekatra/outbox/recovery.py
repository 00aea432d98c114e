"""Reconciling messages left `sending` by a worker that died: nothing lost, nothing sent twice.

For each expired lease the provider is asked whether it accepted a message to that number,
with that body, since the claim. If it did, the sid is recorded and the message is `sent`;
if not, it goes back to `pending` (or `held`, `cancelled`, `skipped` if its delivery was
paused or stopped, or its phone opted out, meanwhile) and the next dispatch sends it. If the
provider cannot be asked, the row stays `sending` and is asked about again when its renewed lease passes.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from ekatra.outbox import claims
from ekatra.outbox.claims import ClaimedMessage
from ekatra.outbox.twilio import ProviderError

log = logging.getLogger(__name__)

RECOVERY_BATCH_SIZE = 100
RECOVERY_LEASE_SECONDS = 60  # how long one reconciliation holds a row (and waits if the provider is down)
CLOCK_MARGIN_SECONDS = 60  # the provider's clock and ours may disagree a little
RECOVERY_CONCURRENCY = 8


@dataclass
class RecoveryStats:
    expired: int = 0
    found_sent: int = 0
    requeued: int = 0
    unresolved: int = 0


def _ask_provider(sender, messages: list[ClaimedMessage], known: set[str]) -> list[tuple]:
    """(message, sid or None, error or None) for one address's messages, one after another, so
    that two identical bodies to one number never both claim the same provider message."""
    if sender is None:  # a test learner's messages, and no test provider to ask: ask again later
        return [(message, None, ProviderError(None, None, "no test provider is configured", retryable=True))
                for message in messages]
    answers, taken = [], set(known)
    for message in messages:
        since = message.claimed_at - timedelta(seconds=CLOCK_MARGIN_SECONDS)
        try:
            template = {"content_variables": message.content_variables or "{}"} if message.content_sid else {}
            sid = sender.find_sent(message.to_phone, message.body, message.channel, since, exclude=taken,
                                   **template)
        except ProviderError as error:
            answers.append((message, None, error))
            continue
        if sid:
            taken.add(sid)
        answers.append((message, sid, None))
    return answers


def _provider_for(sender, test_sender, livemode: bool):
    """The provider a message was sent through: a test learner's, the test one (or none)."""
    return sender if livemode else test_sender


def recover_expired_leases(sender, now: datetime, limit: int = RECOVERY_BATCH_SIZE, *,
                           concurrency: int = RECOVERY_CONCURRENCY, test_sender=None) -> RecoveryStats:
    """Reconcile up to `limit` `sending` rows whose lease passed before `now`; a test learner's
    message with the test provider (`test_sender`), which alone may have accepted it."""
    stats = RecoveryStats()
    expired = claims.claim_expired_leases(now, limit, RECOVERY_LEASE_SECONDS)
    stats.expired = len(expired)
    if not expired:
        return stats
    earliest = min(message.claimed_at for message in expired) - timedelta(seconds=CLOCK_MARGIN_SECONDS)
    known = claims.recorded_sids({message.to_phone for message in expired}, earliest)
    by_address: dict[tuple[str, str], list[ClaimedMessage]] = defaultdict(list)
    for message in expired:
        by_address[message.learner].append(message)
    with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(by_address))),
                            thread_name_prefix="outbox-recover") as pool:
        answers = [answer for answers in pool.map(
            lambda group: _ask_provider(_provider_for(sender, test_sender, group[0].livemode), group, known),
            by_address.values()) for answer in answers]
    written: list[claims.Written] = []
    for message, sid, error in answers:
        if error is not None:
            stats.unresolved += 1
            log.warning("message %s: the provider could not be asked (%s); asking again later",
                        message.id, error)
        elif sid:
            written.append(claims.Sent(message.id, message.claimed_at, provider_sid=sid, sent_at=now))
            stats.found_sent += 1
        else:
            written.append(claims.Retry(message.id, message.claimed_at, next_attempt_at=now))
            stats.requeued += 1
    claims.record_outcomes(now, written)
    log.info("outbox lease recovery: expired %d, found sent %d, requeued %d, unresolved %d",
             stats.expired, stats.found_sent, stats.requeued, stats.unresolved)
    return stats


def recover_until_idle(sender, now: datetime, *, should_stop=lambda: False,
                       limit: int = RECOVERY_BATCH_SIZE, **settings) -> RecoveryStats:
    """Reconcile batch after batch until no expired lease is left (a dead worker may have held a
    whole dispatch batch, more than one recovery batch). Each batch renews the leases it takes,
    so none is taken twice and the loop ends."""
    total = RecoveryStats()
    while not should_stop():
        stats = recover_expired_leases(sender, now, limit, **settings)
        total.expired += stats.expired
        total.found_sent += stats.found_sent
        total.requeued += stats.requeued
        total.unresolved += stats.unresolved
        if stats.expired < limit:
            break
    return total
