"""Rate limits per partner key and per author: headers, 429 with Retry-After, and counts shared
by two web processes through Redis."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import redis
import requests

from ekatra import create_app
from ekatra.extensions import db
from tests.conftest import test_environ
from tests.factories import AuthorClient
from tests.partners.factories import PartnerClient
from tests.waiting import eventually

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = "redis://127.0.0.1:6379/13"


@pytest.fixture
def limits(app):
    limiter = app.extensions["ekatra.limiter"]
    saved = app.config["RATE_LIMIT_PER_AUTHOR"], app.config["RATE_LIMIT_PER_PARTNER"]
    app.config["RATE_LIMIT_PER_AUTHOR"], app.config["RATE_LIMIT_PER_PARTNER"] = "3/minute", "2/minute"
    limiter.reset()
    yield
    app.config["RATE_LIMIT_PER_AUTHOR"], app.config["RATE_LIMIT_PER_PARTNER"] = saved
    limiter.reset()


def test_an_author_past_the_limit_gets_429_with_retry_after(author, limits):
    responses = [author.get("/api/course/") for _ in range(4)]
    assert [r.status_code for r in responses] == [200, 200, 200, 429]
    assert [r.headers["RateLimit-Remaining"] for r in responses[:3]] == ["2", "1", "0"]
    assert responses[0].headers["RateLimit-Limit"] == "3"
    assert 0 < int(responses[0].headers["RateLimit-Reset"]) <= 61
    assert "Retry-After" not in responses[0].headers
    assert 0 < int(responses[3].headers["Retry-After"]) <= 61
    assert responses[3].is_json and "Rate limit" in responses[3].get_json()["message"]


def test_one_count_covers_every_route_a_caller_uses(author, limits):
    statuses = [author.get(path).status_code
                for path in ("/api/course/", "/api/group/", "/api/retrieve-deliveries", "/api/course/")]
    assert statuses == [200, 200, 200, 429]


def test_each_partner_and_author_has_its_own_count(client, author, other_author, limits):
    partner = PartnerClient.create(client)
    assert [partner.client.get("/api/webhooks", headers=partner.headers).status_code
            for _ in range(3)] == [200, 200, 429]
    assert author.get("/api/course/").status_code == 200
    assert other_author.get("/api/course/").status_code == 200
    # Wrong keys are refused by authentication, not counted against the partner.
    wrong = {"ST-ACCESS-KEY": partner.access_key, "ST-SECRET-KEY": "wrong"}
    assert client.get("/api/webhooks", headers=wrong).status_code == 401


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _serve(environ: dict, port: int, log):
    code = ("import sys; from werkzeug.serving import run_simple; from ekatra import create_app; "
            f"run_simple('127.0.0.1', {port}, create_app(), threaded=True)")
    return subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=environ, stdout=log, stderr=log)


def _wait(port: int) -> None:
    def answering() -> bool:
        try:
            requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
        except requests.ConnectionError:
            return False
        return True

    assert eventually(answering, 30), f"the server on port {port} did not start"


def test_two_web_processes_share_one_count_through_redis(tmp_path):
    redis.Redis.from_url(REDIS_URL).flushdb()
    url = f"sqlite:///{tmp_path / 'ekatra.db'}"
    environ = test_environ(url, RATELIMIT_STORAGE_URI=REDIS_URL, RATE_LIMIT_PER_AUTHOR="5/minute")
    from flask_migrate import upgrade

    app = create_app(config={"TESTING": True}, environ=environ)
    with app.app_context():
        upgrade()
        author = AuthorClient.signup(app.test_client(), "author@example.org")
        db.engine.dispose()
    process_env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", ""), **environ}
    ports = [_free_port(), _free_port()]
    with (tmp_path / "servers.log").open("w") as log:
        servers = [_serve(process_env, port, log) for port in ports]
        try:
            for port in ports:
                _wait(port)
            statuses = [requests.get(f"http://127.0.0.1:{ports[i % 2]}/api/course/", headers=author.headers,
                                     timeout=10).status_code for i in range(6)]
        finally:
            for server in servers:
                server.terminate()
                server.wait(timeout=10)
    assert statuses == [200, 200, 200, 200, 200, 429]
    redis.Redis.from_url(REDIS_URL).flushdb()
