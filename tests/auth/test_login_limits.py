"""Brute-force limits on author login and on reset mails, counted in the database."""

from __future__ import annotations

import threading
from datetime import timedelta

import bcrypt
import pytest

from ekatra import clock, create_app
from ekatra.auth import services
from ekatra.auth.attempts import LoginLimits
from ekatra.errors import RateLimited
from ekatra.extensions import db
from ekatra.http import client_address
from tests.conftest import test_environ
from tests.factories import PASSWORD

WRONG = "not the password"


def _login(client, email, password=WRONG, address="127.0.0.1"):
    return client.post("/api/auth/login", json={"email": email, "password": password},
                       environ_base={"REMOTE_ADDR": address})


def test_an_unknown_email_costs_the_same_bcrypt_work_as_a_known_one(app, client, author, monkeypatch):
    costs = []
    check = bcrypt.checkpw
    monkeypatch.setattr(bcrypt, "checkpw", lambda password, hashed: costs.append(hashed[:7]) or
                        check(password, hashed))
    assert _login(client, author.email).status_code == 401
    assert _login(client, "nobody@example.org").status_code == 401
    assert costs[0] == costs[1] == f"$2b${app.config['BCRYPT_ROUNDS']:02d}$".encode()


def test_the_eleventh_failed_login_for_an_account_is_429_with_retry_after(client, author):
    for _ in range(10):
        assert _login(client, author.email).status_code == 401
    refused = _login(client, author.email, PASSWORD)  # even the right password, for now
    assert refused.status_code == 429 and refused.is_json
    assert 0 < int(refused.headers["Retry-After"]) <= 15 * 60
    assert "message" in refused.get_json()


def test_unknown_and_known_emails_are_limited_alike(client, author):
    for email in (author.email, "nobody@example.org"):
        for _ in range(10):
            _login(client, email)
        assert _login(client, email).status_code == 429


def test_failures_leave_the_window_after_fifteen_minutes(app, client, author):
    start = clock.now()
    ttl = timedelta(days=1)
    for minute in range(10):
        with pytest.raises(services.Unauthorized):
            services.login(email=author.email, password=WRONG, now=start + timedelta(minutes=minute),
                           session_ttl=ttl, rounds=4)
    with pytest.raises(RateLimited) as refused:
        services.login(email=author.email, password=PASSWORD, now=start + timedelta(minutes=10),
                       session_ttl=ttl, rounds=4)
    assert refused.value.retry_after_seconds == 5 * 60  # when the first failure leaves the window
    session = services.login(email=author.email, password=PASSWORD, session_ttl=ttl, rounds=4,
                             now=start + timedelta(minutes=15, seconds=1))
    assert session.author_id == author.id


def test_a_correct_password_clears_the_accounts_failures(client, author):
    for _ in range(9):
        _login(client, author.email)
    assert _login(client, author.email, PASSWORD).status_code == 200
    for _ in range(10):
        assert _login(client, author.email).status_code == 401


def test_failures_from_one_address_are_limited_across_accounts(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_FAILURES_PER_ADDRESS", 3)
    for number in range(3):
        assert _login(client, f"guess{number}@example.org", address="203.0.113.9").status_code == 401
    assert _login(client, "guess9@example.org", address="203.0.113.9").status_code == 429
    assert _login(client, "guess9@example.org", address="198.51.100.1").status_code == 401


def test_parallel_wrong_guesses_are_bounded_by_the_limit(app, author):
    app.config["LOGIN_FAILURES_PER_ACCOUNT"] = 4
    outcomes, start = [], threading.Barrier(12)

    def guess():
        with app.app_context():
            start.wait()
            outcomes.append(_login(app.test_client(), author.email).status_code)
            db.session.remove()

    try:
        threads = [threading.Thread(target=guess) for _ in range(12)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        app.config["LOGIN_FAILURES_PER_ACCOUNT"] = 10
    assert len(outcomes) == 12 and set(outcomes) <= {401, 429}
    assert outcomes.count(401) <= 4  # no more passwords checked than the limit allows


def test_forgot_sends_at_most_three_mails_an_hour_per_email(app, client, author):
    mailer = app.extensions["ekatra.mailer"]
    for _ in range(5):
        response = client.post("/api/auth/forgot", json={"email": author.email})
        assert response.status_code == 200
    assert len(mailer.sent) == 3
    later = clock.now() + timedelta(hours=1, seconds=1)
    services.request_password_reset(email=author.email, now=later, mailer=mailer,
                                    reset_url="http://ekatra.test/api/auth/reset")
    assert len(mailer.sent) == 4


def test_client_address_comes_from_x_forwarded_for_only_behind_trusted_proxies(database_url):
    seen = {}
    for proxies in ("0", "1"):
        app = create_app(config={"TESTING": True},
                         environ=test_environ(database_url, TRUSTED_PROXIES=proxies))
        app.add_url_rule("/address", "address", lambda: {"address": client_address()})
        response = app.test_client().get("/address", environ_base={"REMOTE_ADDR": "10.0.0.1"},
                                         headers={"X-Forwarded-For": "1.2.3.4, 203.0.113.7"})
        seen[proxies] = response.get_json()["address"]
    assert seen == {"0": "10.0.0.1", "1": "203.0.113.7"}


def test_login_limits_come_from_settings(app):
    assert LoginLimits.from_config(app.config) == LoginLimits(10, 50, timedelta(minutes=15))
