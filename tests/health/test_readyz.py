"""GET /readyz: ready only with the database reachable, the schema at head and a live worker."""

from __future__ import annotations

from datetime import timedelta

from ekatra import clock
from ekatra.health import services
from ekatra.worker import Worker
from scheduler.jobs import heartbeat

WORKER = Worker("host:1", "host", 1, clock.now() - timedelta(minutes=5))


def test_not_ready_without_a_worker_heartbeat(client):
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["reasons"] == ["no worker heartbeat yet"]
    assert "no worker heartbeat" in response.get_json()["message"]


def test_ready_with_a_recent_heartbeat(app, client):
    heartbeat(WORKER, clock.now() - timedelta(seconds=5))
    response = client.get("/readyz")
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "ready" and response.get_json()["reasons"] == []


def test_a_heartbeat_older_than_a_minute_makes_it_not_ready(app, client):
    heartbeat(WORKER, clock.now() - timedelta(seconds=90))
    response = client.get("/readyz")
    assert response.status_code == 503
    (reason,) = response.get_json()["reasons"]
    assert reason.startswith("last worker heartbeat 9") and "60 s" in reason
    assert client.get("/healthz").status_code == 200  # alive, only not ready


def test_an_unreachable_database_makes_it_not_ready(app, client, monkeypatch):
    from sqlalchemy.exc import OperationalError

    from ekatra.extensions import db

    def refuse(*_args, **_kwargs):  # what the driver raises when the server is away
        raise OperationalError("SELECT 1", {}, ConnectionRefusedError("database is down"))

    monkeypatch.setattr(db.engine, "connect", refuse)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["reasons"] == ["database unreachable (OperationalError)"]


def test_a_schema_behind_the_code_makes_it_not_ready():
    behind = services.Health(True, "0017", "0018", last_heartbeat_age_seconds=3.0)
    assert services.not_ready_reasons(behind) == ["database schema at 0017, code expects 0018"]
