"""Test keys end to end through the shipped processes: a test partner signs a learner up and
enrols them through gunicorn, and `python -m scheduler` sends their day to the test sandbox,
while the "real" provider (a second sandbox) gets only the author's live student."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from sqlalchemy import text

from ekatra import clock, create_app
from ekatra.config import TEST_SANDBOX_ACCOUNT_SID, TEST_SANDBOX_AUTH_TOKEN
from ekatra.extensions import db
from ekatra.partners import services
from ekatra.sandbox import Sandbox
from tests.conftest import test_environ
from tests.deliveries.factories import KOLKATA, course_and_group, create_delivery
from tests.factories import AuthorClient
from tests.partners.factories import PartnerClient, share
from tests.servers import gunicorn

ROOT = Path(__file__).resolve().parents[2]
PHONE = "+919876543210"


def _prepared(url: str) -> tuple[dict, int]:
    """Migrate; a delivery (one live student of the author's) shared with a test partner."""
    from flask_migrate import upgrade

    app = create_app(config={"TESTING": True}, environ=test_environ(url))
    with app.app_context():
        upgrade()
        author = AuthorClient.signup(app.test_client(), "author@example.org", "Asha Author")
        keys = services.create_partner(name="Sandbox LMS", now=clock.now(), livemode=False)
        partner = PartnerClient(app.test_client(), keys.partner.id, keys.access_key, keys.secret_key)
        course_id, group_id = course_and_group(author, students=(KOLKATA,))
        delivery_id = create_delivery(author, group_id, course_id)
        assert share(author, delivery_id, partner).status_code == 200
        db.engine.dispose()
    return partner.headers, delivery_id


def _make_everything_due(url: str) -> None:
    app = create_app(config={"TESTING": True}, environ=test_environ(url))
    with app.app_context():
        db.session.execute(text("UPDATE enrollments SET next_due_at = '2020-01-01 00:00:00'"))
        db.session.commit()
        db.engine.dispose()


def test_a_test_learner_enrolled_through_gunicorn_goes_to_the_sandbox_by_the_worker(tmp_path, database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("one process test is enough; the modes are tested on both databases in-process")
    url = f"sqlite:///{tmp_path / 'ekatra.db'}"
    headers, delivery_id = _prepared(url)
    with Sandbox(callbacks=False) as real, Sandbox(account_sid=TEST_SANDBOX_ACCOUNT_SID,
                                                   auth_token=TEST_SANDBOX_AUTH_TOKEN,
                                                   callbacks=False) as sandbox:
        environ = test_environ(url, TWILIO_API_BASE_URL=real.url, TWILIO_TEST_API_BASE_URL=sandbox.url,
                               TWILIO_TEST_ACCOUNT_SID=TEST_SANDBOX_ACCOUNT_SID,
                               TWILIO_TEST_AUTH_TOKEN=TEST_SANDBOX_AUTH_TOKEN)
        with gunicorn(tmp_path, environ) as server, requests.Session() as http:
            http.trust_env = False
            http.headers.update(headers)
            signup = http.post(f"{server.base}/api/partner/signup", json={
                "full_name": "Tess Learner", "id": "tess@example.org", "password": "learner password",
                "source": "test", "phone": PHONE, "timezone": "Asia/Kolkata"})
            assert signup.status_code == 200, signup.text
            assert signup.json()["db_user"]["livemode"] is False
            coupons = http.post(f"{server.base}/api/partner/coupons", json={"delivery_id": delivery_id})
            assert coupons.status_code == 201, coupons.text
            tokens = {name: signup.json()[name] for name in ("jwt_token", "access_token")}
            applied = http.post(f"{server.base}/api/partner/apply_coupon", headers=tokens,
                                json={"coupon_code": coupons.json()["data"][0]["code"]})
            assert applied.status_code == 200, applied.text
        _make_everything_due(url)

        worker = subprocess.Popen([sys.executable, "-m", "scheduler"], cwd=ROOT,
                                  env={**os.environ, **environ}, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True)
        try:
            # Day 1 for each: its text, then its first question once the text was sent.
            assert sandbox.wait_for(2, timeout=30)
            assert real.wait_for(2, timeout=30)
        finally:
            worker.send_signal(signal.SIGTERM)
            output, _ = worker.communicate(timeout=25)
    assert worker.returncode == 0, output
    assert {message["to"] for message in sandbox.messages()} == {PHONE}
    assert {message["to"] for message in real.messages()} == {KOLKATA["number"]}
