"""GET /healthz and the worker heartbeat it reports."""

from __future__ import annotations

from datetime import timedelta

from ekatra import clock
from ekatra.health import services
from ekatra.worker import Worker
from scheduler.jobs import heartbeat


def test_healthz_reports_database_and_migrations(client):
    response = client.get("/healthz")
    body = response.get_json()
    assert response.status_code == 200
    assert body["status"] == "ok" and body["database"] == "ok"
    assert body["migrations"]["current"] == body["migrations"]["head"] is not None
    assert body["last_worker_heartbeat_age_seconds"] is None


def test_healthz_shows_the_age_of_the_last_heartbeat(app, client):
    started = clock.now() - timedelta(minutes=5)
    worker = Worker("host:1", "host", 1, started)
    heartbeat(worker, clock.now() - timedelta(seconds=30))
    heartbeat(worker, clock.now() - timedelta(seconds=12))
    age = client.get("/healthz").get_json()["last_worker_heartbeat_age_seconds"]
    assert 11 <= age < 60


def test_unreachable_database_is_reported_not_raised(app, monkeypatch):
    from ekatra.extensions import db

    def refuse():
        raise ConnectionRefusedError("database is down")

    monkeypatch.setattr(db.engine, "connect", refuse)
    health = services.check(clock.now())
    assert not health.database_ok and not health.is_healthy
