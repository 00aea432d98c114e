"""The login lockout and coupon seats hold when requests arrive at once (threads, each with
its own app context and database session, on SQLite and on PostgreSQL)."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

from ekatra import clock
from ekatra.deliveries.models import REMOVED, Enrollment
from ekatra.errors import Conflict, DomainError, RateLimited, Unauthorized
from ekatra.extensions import db
from ekatra.partners import coupons, services
from ekatra.partners.models import LearnerAccount, Partner
from tests.partners.factories import PartnerClient, running_delivery

RACE_WIDENER_SECONDS = 0.05  # between a check and its write: a race that can happen, happens


def _at_once(app, count: int, attempt) -> list:
    """Run attempt(i) in `count` threads released together; each result or the error raised."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(i: int) -> None:
        with app.app_context():
            barrier.wait()
            try:
                results[i] = attempt(i)
            except DomainError as error:
                results[i] = error
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def test_ten_wrong_passwords_at_once_get_at_most_five_password_checks(app, client, monkeypatch):
    partner = PartnerClient.create(client)
    partner.signup()
    checks = []
    real_check = services.check_password

    def counted_check(password, password_hash):
        checks.append(password)
        time.sleep(RACE_WIDENER_SECONDS)
        return real_check(password, password_hash)

    monkeypatch.setattr(services, "check_password", counted_check)
    now = clock.now()

    def wrong_login(_i):
        return services.login(db.session.get(Partner, partner.id), login="asha@example.org",
                              password="wrong password", now=now, ttl=timedelta(hours=1))

    results = _at_once(app, 10, wrong_login)
    assert len(checks) <= 5
    assert sum(isinstance(r, Unauthorized) for r in results) == len(checks)
    assert sum(isinstance(r, RateLimited) for r in results) == 10 - len(checks)


def test_concurrent_applies_enrol_exactly_the_seats_left(app, client, author, monkeypatch):
    partner = PartnerClient.create(client)
    delivery_id = running_delivery(author, partner)  # the group's one student holds a seat
    codes = partner.coupons(delivery_id, count=6, capacity=3)  # two seats left
    account_ids = [partner.signup(f"l{i}@example.org", phone=f"+9198765432{i:02d}")["db_user"]["id"]
                   for i in range(6)]
    real_enroll = coupons.enroll_students

    def slow_enroll(*args, **kwargs):
        time.sleep(RACE_WIDENER_SECONDS)
        return real_enroll(*args, **kwargs)

    monkeypatch.setattr(coupons, "enroll_students", slow_enroll)
    now = clock.now()

    def apply(i):
        return coupons.apply(db.session.get(LearnerAccount, account_ids[i]), codes[i], now=now)

    results = _at_once(app, 6, apply)
    assert sum(not isinstance(r, DomainError) for r in results) == 2, results
    assert all(r.message == coupons.FULL for r in results if isinstance(r, Conflict))
    db.session.expire_all()
    seats_taken = db.session.query(Enrollment).filter(Enrollment.delivery_id == delivery_id,
                                                      Enrollment.status != REMOVED).count()
    assert seats_taken == 3
