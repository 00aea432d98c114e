"""One worker process: who it is, how it sends (settings, rate limit, sender threads), and whether
it was asked to stop. Built once from the configuration by `python -m scheduler`, `ekatra demo`
and `serve`, and the dispatch benchmark; the scheduler's jobs (scheduler/jobs.py) call it."""

from __future__ import annotations

import gc
import logging
import os
import socket
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from prometheus_client.core import GaugeMetricFamily

from ekatra import clock
from ekatra.deliveries import optouts
from ekatra.extensions import db
from ekatra.outbox import dispatch
from ekatra.outbox.dispatch import DispatchSettings, DispatchStats
from ekatra.outbox.ratelimit import RateLimiter
from ekatra.outbox.sending import SendPool
from ekatra.outbox.services import depth
from ekatra.outbox.twilio import sender_from_config
from ekatra.outbox.whatsapp import WhatsAppSettings

log = logging.getLogger("ekatra.worker")

DISPATCH_INTERVAL_SECONDS = 1.0  # how often the scheduler runs `Worker.dispatch`


@dataclass
class Worker:
    """One worker process. Its rate limit and its sender threads last as long as it does, so the
    rate holds across dispatch runs and no run starts threads of its own."""

    worker_id: str
    hostname: str
    pid: int
    started_at: datetime
    sender: object = None
    test_sender: object = None  # test partners' learners' messages: the test provider (a sandbox)
    settings: DispatchSettings = field(default_factory=DispatchSettings)
    whatsapp: WhatsAppSettings = field(default_factory=WhatsAppSettings)  # the window, templates
    stopping: threading.Event = field(default_factory=threading.Event)
    _rate_limiter: RateLimiter | None = field(default=None, repr=False)
    _send_pool: SendPool | None = field(default=None, repr=False)

    @classmethod
    def for_this_process(cls, started_at: datetime, *, sender=None, settings: DispatchSettings | None = None,
                         whatsapp: WhatsAppSettings | None = None, test_sender=None) -> Worker:
        hostname = socket.gethostname()
        pid = os.getpid()
        return cls(f"{hostname}:{pid}", hostname, pid, started_at, sender=sender, test_sender=test_sender,
                   settings=settings or DispatchSettings(), whatsapp=whatsapp or WhatsAppSettings())

    def should_stop(self) -> bool:
        return self.stopping.is_set()

    def rate_limiter(self) -> RateLimiter:
        """The one rate limit of this worker's sends (SEND_RATE_PER_SECOND), kept across runs."""
        if self._rate_limiter is None:
            self._rate_limiter = RateLimiter(self.settings.rate_per_second)
        return self._rate_limiter

    def send_pool(self) -> SendPool:
        """The sender threads (`settings.concurrency` of them), started by the first dispatch run
        and kept for the next ones until `close()`. Only the dispatch job uses them (one run at a time)."""
        if self._send_pool is None:
            self._send_pool = SendPool(self.settings.concurrency)
        return self._send_pool

    def dispatch(self) -> DispatchStats:
        """Send what is due until idle (`dispatch.dispatch_until_idle`) on this worker's threads
        under its rate limit; addresses the provider answered with 21610 are opted out (in the mode
        of the provider that answered). Test learners' messages go to the test sender only."""
        if self.should_stop():
            return DispatchStats()
        stats = dispatch.dispatch_until_idle(self.sender, clock.now, self.settings,
                                             should_stop=self.should_stop, rate_limiter=self.rate_limiter(),
                                             pool=self.send_pool(), test_sender=self.test_sender)
        if stats.opted_out:  # Twilio's 21610: the learner unsubscribed (e.g. STOP sent to Twilio itself)
            added = optouts.record_provider_opt_outs(stats.opted_out, clock.now())
            log.info("provider reported %d unsubscribed address(es); %d new opt-out(s)",
                     len(stats.opted_out), added)
        if stats.test_opted_out:
            optouts.record_provider_opt_outs(stats.test_opted_out, clock.now(), livemode=False)
        return stats

    def close(self) -> None:
        """End the sender threads, once no dispatch run is going any more (after `stopping`)."""
        if self._send_pool is not None:
            self._send_pool.close()


def make_worker(config: Mapping) -> Worker:
    """This process's worker, with the senders (live, and test: TWILIO_TEST_*), the dispatch and
    the WhatsApp settings of `config`."""
    return Worker.for_this_process(clock.now(), sender=sender_from_config(config),
                                   test_sender=sender_from_config(config, livemode=False),
                                   settings=DispatchSettings.from_config(config),
                                   whatsapp=WhatsAppSettings.from_config(config))


def freeze_startup_objects() -> None:
    """Exempt what start-up built (modules, the app, the SDK's classes) from garbage collection.

    A full collection walks every tracked object, some 130,000 in a worker, and holds the GIL
    for tens of milliseconds while doing so: every sender thread stalls at once, and paced
    sends then reach the provider in a clump. Frozen objects are never walked again; what they
    reference is still freed by reference counting when it is dropped.
    """
    gc.collect()
    gc.freeze()


class OutboxCollector:
    """Outbox depth by state and the age of the oldest due message, read at scrape time with
    one grouped query (`outbox.services.depth`); served on WORKER_METRICS_PORT."""

    def __init__(self, app):
        self.app = app

    def describe(self):
        return []  # read at scrape time only: registering must not query the database

    def collect(self):
        now = clock.now()
        with self.app.app_context():
            try:
                states = depth(now)
            finally:
                db.session.remove()
        messages = GaugeMetricFamily("ekatra_outbox_messages_unsent",
                                     "Unsent messages: due, later (pending, not due yet), held, "
                                     "waiting (behind an earlier part), sending", labels=["state"])
        for state in ("due", "later", "held", "waiting", "sending"):
            messages.add_metric([state], states.get(state, (0, None))[0])
        yield messages
        oldest = states.get("due", (0, None))[1]
        yield GaugeMetricFamily("ekatra_outbox_oldest_due_age_seconds",
                                "How long the oldest claimable message has been due (0: none)",
                                value=max((now - oldest).total_seconds(), 0.0) if oldest else 0.0)
