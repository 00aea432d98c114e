"""Test keys: `ekatra partner create NAME --test` issues `pk_test_…` keys; what is made with them
is test data, whose messages go to the test provider (a sandbox) and never to the live one, whose
webhooks say `"livemode": false`, and which never mixes with live data."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from ekatra import clock
from ekatra.auth import services as author_services
from ekatra.config import TEST_SANDBOX_ACCOUNT_SID, TEST_SANDBOX_AUTH_TOKEN
from ekatra.deliveries.planner import plan_due_days
from ekatra.extensions import db
from ekatra.outbox.dispatch import DispatchSettings, dispatch_once
from ekatra.outbox.models import Message
from ekatra.outbox.twilio import sender_from_config, signature_for
from ekatra.partners import services
from ekatra.sandbox import Sandbox
from ekatra.webhooks import delivery as webhook_delivery
from ekatra.webhooks.sender import FakeSender
from tests.deliveries.factories import KOLKATA, course_and_group, create_delivery
from tests.partners.factories import PartnerClient, share
from tests.webhooks.factories import register

PHONE = "+919876543210"  # the test learner's, and a live learner's too
SETTINGS = DispatchSettings(rate_per_second=1000, concurrency=4)


def test_partner(client, name: str = "Sandbox LMS") -> PartnerClient:
    keys = services.create_partner(name=name, now=clock.now(), livemode=False)
    return PartnerClient(client, keys.partner.id, keys.access_key, keys.secret_key)


test_partner.__test__ = False  # a builder, not a test


def _after_start(days: int) -> datetime:
    return max(clock.now(), datetime(2026, 12, 1, tzinfo=UTC)) + timedelta(days=days)


AUTHOR_PHONE = "+919800000001"  # the author's own student (a delivery needs one to start)


def _delivery(author, *partners) -> int:
    course_id, group_id = course_and_group(author, students=({**KOLKATA, "number": AUTHOR_PHONE},))
    delivery_id = create_delivery(author, group_id, course_id)
    for partner in partners:
        assert share(author, delivery_id, partner).status_code == 200
    return delivery_id


def _enrol(partner: PartnerClient, delivery_id: int, login: str = "asha@example.org") -> dict:
    tokens = partner.signup(login, phone=PHONE)
    (code,) = partner.coupons(delivery_id)
    applied = partner.apply(tokens, code)
    assert applied.status_code == 200, applied.get_json()
    return tokens


def _config_for(app, live: Sandbox, test: Sandbox) -> dict:
    """The app's settings with the live provider at `live` and the test provider at `test`."""
    return {**app.config, "TWILIO_API_BASE_URL": live.url, "TWILIO_ACCOUNT_SID": live.account_sid,
            "TWILIO_AUTH_TOKEN": live.auth_token, "TWILIO_TEST_API_BASE_URL": test.url,
            "TWILIO_TEST_ACCOUNT_SID": test.account_sid, "TWILIO_TEST_AUTH_TOKEN": test.auth_token}


# Keys ------------------------------------------------------------------------------------------


def test_partner_create_with_test_prints_test_keys_that_work(app, client):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["partner", "create", "Sandbox LMS", "--test"])
    assert result.exit_code == 0, result.output
    assert "Created test partner 'Sandbox LMS'" in result.output
    access = result.output.split("ST-ACCESS-KEY: ")[1].split()[0]
    secret = result.output.split("ST-SECRET-KEY: ")[1].split()[0]
    assert access.startswith("pk_test_") and secret.startswith("sk_test_")
    assert "sandbox" in result.output and '"livemode": false' in result.output

    signup = client.post("/api/partner/signup", headers={"ST-ACCESS-KEY": access, "ST-SECRET-KEY": secret},
                         json={"full_name": "Asha", "id": "asha@example.org", "password": "learner password",
                               "source": "test"})
    assert signup.status_code == 200, signup.get_json()
    assert signup.get_json()["db_user"]["livemode"] is False

    as_json = json.loads(runner.invoke(args=["partner", "create", "Other", "--test", "--json"]).output)
    assert as_json["livemode"] is False and as_json["access_key"].startswith("pk_test_")


def test_live_keys_keep_their_format(app):
    result = app.test_cli_runner().invoke(args=["partner", "create", "Acme LMS", "--json"])
    keys = json.loads(result.output)
    assert keys["livemode"] is True
    assert keys["access_key"].startswith("pk_") and not keys["access_key"].startswith("pk_test_")
    assert not keys["secret_key"].startswith("sk_test_")


def test_an_admin_creates_test_keys_over_the_api(author):
    author_services.make_admin(email=author.email, name=None, password=None, now=clock.now())
    response = author.post("/api/partner/partners", json={"name": "Sandbox LMS", "livemode": False})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["livemode"] is False and body["access_key"].startswith("pk_test_")
    assert body["secret_key"].startswith("sk_test_")


# Live and test never mix ------------------------------------------------------------------------


def test_a_delivery_is_shared_with_partners_of_one_mode_only(client, author):
    live, test = PartnerClient.create(client), test_partner(client)
    delivery_id = _delivery(author, live)
    refused = share(author, delivery_id, test)
    assert refused.status_code == 409 and "never with both" in refused.get_json()["message"]

    test_delivery = _delivery(author, test)
    assert share(author, test_delivery, live).status_code == 409


def test_a_test_learner_never_enrols_in_a_live_delivery_nor_a_live_one_in_a_test_delivery(client, author):
    live, test = PartnerClient.create(client), test_partner(client)
    live_delivery, test_delivery = _delivery(author, live), _delivery(author, test)
    # The author's own coupons are offered to anyone: the learner's mode still decides.
    author_code = author.post(f"/api/delivery/{live_delivery}/coupons", json={"count": 1}).get_json()
    test_tokens = test.signup("tess@example.org", phone=PHONE)
    refused = test.apply(test_tokens, author_code["data"][0]["code"])
    assert refused.status_code == 409 and "test learner" in refused.get_json()["message"]

    test_code = author.post(f"/api/delivery/{test_delivery}/coupons", json={"count": 1}).get_json()
    live_tokens = live.signup("lee@example.org", phone=PHONE)
    refused = live.apply(live_tokens, test_code["data"][0]["code"])
    assert refused.status_code == 409 and "test delivery" in refused.get_json()["message"]

    # A test partner sees nothing of the live delivery, nor of the live partner's learners.
    assert test.get(f"/coupons?delivery_id={live_delivery}").status_code == 404
    live_user = live_tokens["db_user"]["id"]
    assert test.patch(f"/users/{live_user}", json={"timezone": "UTC"}).status_code == 404


def test_a_test_learners_messages_go_to_the_test_provider_only(app, client, author):
    test = test_partner(client)
    live = PartnerClient.create(client, "Acme LMS")
    test_delivery, live_delivery = _delivery(author, test), _delivery(author, live)
    _enrol(test, test_delivery)
    _enrol(live, live_delivery, login="lee@example.org")  # the same phone, a live learner
    plan_due_days(_after_start(1))

    # The "real" provider is a second sandbox here, with live credentials that work: what reaches
    # it is what a live Twilio would have sent to phones.
    test_account = {"account_sid": TEST_SANDBOX_ACCOUNT_SID, "auth_token": TEST_SANDBOX_AUTH_TOKEN}
    with Sandbox(callbacks=False) as real, Sandbox(**test_account, callbacks=False) as sandbox:
        config = _config_for(app, real, sandbox)
        stats = dispatch_once(sender_from_config(config), lambda: _after_start(1), SETTINGS,
                              test_sender=sender_from_config(config, livemode=False))
    assert stats.sent == 4  # the day's text to each learner, the authors' own students too
    (test_message,) = sandbox.messages(PHONE)
    (live_message,) = real.messages(PHONE)
    assert test_message["body"] == live_message["body"]
    assert sandbox.count() == 1 and real.count() == 3  # nothing of the test learner went live

    shown = author.get(f"/api/delivery/{test_delivery}/messages").get_json()["messages"]
    sent = {m["provider_sid"]: m["livemode"] for m in shown if m["status"] == "sent"}
    assert sent[test_message["sid"]] is False and sorted(sent.values()) == [False, True]
    learners = author.get(f"/api/delivery/{test_delivery}/progress").get_json()["learners"]
    assert sorted((learner["number"], learner["days_sent"], learner["livemode"]) for learner in learners) == [
        (AUTHOR_PHONE, 1, True), (PHONE, 1, False)]


def test_without_a_test_provider_a_test_message_fails_rather_than_going_live(app, client, author):
    test = test_partner(client)
    _enrol(test, _delivery(author, test))
    plan_due_days(_after_start(1))
    with Sandbox(callbacks=False) as real:
        config = _config_for(app, real, real)
        stats = dispatch_once(sender_from_config(config), lambda: _after_start(1), SETTINGS)
    assert stats.failed == 1 and real.messages(PHONE) == [] and real.count() == 1  # the author's own
    failed = db.session.scalars(db.select(Message).where(Message.status == "failed")).one()
    assert "no test provider" in failed.provider_error_message


# Replies and opt-outs stay in their mode ----------------------------------------------------------


def _reply(client, app, body: str, *, test: bool, sid: str):
    config = app.config
    account, token = ((config["TWILIO_TEST_ACCOUNT_SID"], config["TWILIO_TEST_AUTH_TOKEN"]) if test
                      else (config["TWILIO_ACCOUNT_SID"], config["TWILIO_AUTH_TOKEN"]))
    form = {"MessageSid": sid, "AccountSid": account, "From": PHONE, "To": "+15005550006", "Body": body}
    signature = signature_for(token, config["PUBLIC_BASE_URL"] + "/twilio/inbound", form)
    return client.post("/twilio/inbound", data=form, headers={"X-Twilio-Signature": signature})


@pytest.fixture
def test_account(app, monkeypatch):
    """The test provider on an account of its own, as `ekatra demo` runs it."""
    monkeypatch.setitem(app.config, "TWILIO_TEST_ACCOUNT_SID", TEST_SANDBOX_ACCOUNT_SID)
    monkeypatch.setitem(app.config, "TWILIO_TEST_AUTH_TOKEN", TEST_SANDBOX_AUTH_TOKEN)


def test_a_test_stop_opts_out_the_test_learner_only(app, client, author, test_account):
    test, live = test_partner(client), PartnerClient.create(client, "Acme LMS")
    test_delivery, live_delivery = _delivery(author, test), _delivery(author, live)
    _enrol(test, test_delivery)
    _enrol(live, live_delivery, login="lee@example.org")

    assert _reply(client, app, "STOP", test=True, sid="SM" + "1" * 32).status_code == 200

    def opted_out(delivery_id):
        learners = author.get(f"/api/delivery/{delivery_id}/progress").get_json()["learners"]
        (learner,) = [learner for learner in learners if learner["number"] == PHONE]
        return learner["opted_out"]

    assert opted_out(test_delivery) is True
    assert opted_out(live_delivery) is False
    plan_due_days(_after_start(1))
    statuses = dict(db.session.execute(db.select(Message.livemode, Message.status)
                                       .where(Message.part == "content-1", Message.to_phone == PHONE)).all())
    assert statuses == {True: "pending"}  # the test learner is suspended: nothing is planned for them


def test_a_reply_is_matched_within_its_mode(app, client, author, test_account):
    test, live = test_partner(client), PartnerClient.create(client, "Acme LMS")
    test_delivery, live_delivery = _delivery(author, test), _delivery(author, live)
    _enrol(test, test_delivery)
    _enrol(live, live_delivery, login="lee@example.org")
    plan_due_days(_after_start(1))
    # Both learners' day 1 went out, and its question after it.
    db.session.execute(db.update(Message).values(status="sent", sent_at=_after_start(1)))
    db.session.commit()

    assert _reply(client, app, "A", test=True, sid="SM" + "2" * 32).status_code == 200
    answered = {learner["livemode"]: learner["questions_answered"] for delivery_id in (test_delivery,
                                                                                      live_delivery)
                for learner in author.get(f"/api/delivery/{delivery_id}/progress").get_json()["learners"]
                if learner["number"] == PHONE}
    assert answered == {False: 1, True: 0}
    feedback = db.session.scalars(db.select(Message).where(Message.part.like("feedback-%"))).all()
    assert [message.livemode for message in feedback] == [False]


def test_a_webhook_that_names_the_test_account_must_be_signed_with_its_token(app, client, test_account):
    form = {"MessageSid": "SM" + "3" * 32, "AccountSid": TEST_SANDBOX_ACCOUNT_SID, "From": PHONE,
            "Body": "STOP"}
    forged = signature_for("not-the-token", app.config["PUBLIC_BASE_URL"] + "/twilio/inbound", form)
    response = client.post("/twilio/inbound", data=form, headers={"X-Twilio-Signature": forged})
    assert response.status_code == 403


# Webhooks ---------------------------------------------------------------------------------------


def _sent_events(now) -> list[tuple[str, dict]]:
    sender = FakeSender()
    webhook_delivery.send_due(sender, now)
    return [(url, json.loads(body)) for url, body, _ in sender.requests]


def test_test_events_say_livemode_false_and_reach_test_endpoints_only(client, author):
    test, live = test_partner(client), PartnerClient.create(client, "Acme LMS")
    register(test, "http://127.0.0.1:9/test")
    register(live, "http://127.0.0.1:9/live")
    register(author, "http://127.0.0.1:9/author")
    test_delivery, live_delivery = _delivery(author, test), _delivery(author, live)
    _enrol(test, test_delivery)
    _enrol(live, live_delivery, login="lee@example.org")

    events = _sent_events(clock.now() + timedelta(seconds=1))
    seen = sorted((url.rsplit("/", 1)[1], body["event"], body["livemode"]) for url, body in events)
    # The author hears of its own students (enrolled when each delivery started) and of the live
    # learner; never of the test learner.
    assert seen == [("author", "student.enrolled", True)] * 3 + [
        ("live", "student.created", True), ("live", "student.enrolled", True),
        ("test", "student.created", False), ("test", "student.enrolled", False)]

    endpoints = test.client.get("/api/webhooks", headers=test.headers).get_json()["data"]
    assert [endpoint["livemode"] for endpoint in endpoints] == [False]
