"""The Messages API as the official SDK sees it: create, fetch, list with filters and paging."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import requests
from twilio.base.exceptions import TwilioRestException

from ekatra.config import SANDBOX_SMS_FROM, SANDBOX_WHATSAPP_FROM
from ekatra.sandbox import twilio_client

ASHA, KOFI = "+919812345678", "+233241234567"
HINDI = "बचत की आदत: हर हफ़्ते अपनी आमदनी का एक छोटा हिस्सा अलग रखें। छोटी रकम भी समय के साथ बड़ी हो जाती है।"


def test_create_sms_answers_like_twilio(sandbox, twilio):
    message = twilio.messages.create(to=ASHA, from_=SANDBOX_SMS_FROM, body="Welcome to day 1")

    assert re.fullmatch(r"SM[0-9a-f]{32}", message.sid)
    assert (message.to, message.from_, message.body) == (ASHA, SANDBOX_SMS_FROM, "Welcome to day 1")
    assert message.status == "queued"
    assert message.direction == "outbound-api"
    assert message.num_segments == "1" and message.num_media == "0"
    assert message.account_sid == sandbox.account_sid and message.api_version == "2010-04-01"
    assert message.price is None and message.error_code is None and message.error_message is None
    assert message.uri == f"/2010-04-01/Accounts/{sandbox.account_sid}/Messages/{message.sid}.json"
    assert abs(message.date_created - datetime.now(UTC)) < timedelta(minutes=1)
    assert message.date_sent is not None and message.date_updated is not None
    [recorded] = sandbox.messages()
    assert recorded["sid"] == message.sid and recorded["body"] == "Welcome to day 1"
    assert recorded["date_created"].tzinfo is not None
    assert sandbox.count() == 1


def test_create_whatsapp_message(sandbox, twilio):
    message = twilio.messages.create(to=f"whatsapp:{KOFI}", from_=SANDBOX_WHATSAPP_FROM, body="Akwaaba")

    assert message.to == f"whatsapp:{KOFI}" and message.from_ == SANDBOX_WHATSAPP_FROM
    assert sandbox.messages()[0]["to"] == f"whatsapp:{KOFI}"


def test_hindi_body_is_counted_in_ucs2_segments(sandbox, twilio):
    message = twilio.messages.create(to=ASHA, from_=SANDBOX_SMS_FROM, body=HINDI)

    assert message.num_segments == "2"
    assert message.body == HINDI


def test_messaging_service_sid_stands_in_for_from(sandbox, twilio):
    service = "MG" + "a" * 32
    message = twilio.messages.create(to=ASHA, messaging_service_sid=service, body="Hi")

    assert message.messaging_service_sid == service
    assert message.from_ == SANDBOX_SMS_FROM


def test_fetch_returns_the_message(twilio):
    created = twilio.messages.create(to=ASHA, from_=SANDBOX_SMS_FROM, body="Day 2")

    fetched = twilio.messages(created.sid).fetch()

    assert (fetched.sid, fetched.body, fetched.to) == (created.sid, "Day 2", ASHA)


def test_fetch_of_an_unknown_sid_is_20404(twilio):
    with pytest.raises(TwilioRestException) as raised:
        twilio.messages("SM" + "0" * 32).fetch()

    assert (raised.value.status, raised.value.code) == (404, 20404)


def test_wrong_credentials_are_refused_with_20003(sandbox):
    impostor = twilio_client(sandbox.account_sid, "not-the-token", sandbox.url)

    with pytest.raises(TwilioRestException) as raised:
        impostor.messages.create(to=ASHA, from_=SANDBOX_SMS_FROM, body="Hi")

    assert (raised.value.status, raised.value.code) == (401, 20003)
    assert sandbox.count() == 0


def test_missing_credentials_get_twilios_error_json(sandbox):
    response = requests.get(f"{sandbox.url}/2010-04-01/Accounts/{sandbox.account_sid}/Messages.json",
                            timeout=5)

    assert response.status_code == 401
    assert response.json() == {"code": 20003, "message": "Authenticate",
                               "more_info": "https://www.twilio.com/docs/errors/20003", "status": 401}


def test_an_invalid_number_is_21211(sandbox, twilio):
    with pytest.raises(TwilioRestException) as raised:
        twilio.messages.create(to="98123", from_=SANDBOX_SMS_FROM, body="Hi")

    assert (raised.value.status, raised.value.code) == (400, 21211)
    assert sandbox.count() == 0


@pytest.mark.parametrize(("form", "code"), [
    ({"From": SANDBOX_SMS_FROM, "Body": "Hi"}, 21604),
    ({"To": "+91 98123 45678", "From": SANDBOX_SMS_FROM, "Body": "Hi"}, 21211),
    ({"To": ASHA, "From": SANDBOX_WHATSAPP_FROM, "Body": "Hi"}, 21211),
    ({"To": "whatsapp:98123", "From": SANDBOX_WHATSAPP_FROM, "Body": "Hi"}, 21211),
    ({"To": f"whatsapp:{ASHA}", "From": SANDBOX_SMS_FROM, "Body": "Hi"}, 21910),
    ({"To": ASHA, "From": SANDBOX_SMS_FROM}, 21602),
    ({"To": ASHA, "Body": "Hi"}, 21603),
    ({"To": ASHA, "From": SANDBOX_SMS_FROM, "Body": "x" * 1601}, 21617),
], ids=["no To", "To not E.164", "WhatsApp From, SMS To", "WhatsApp To not E.164", "mixed channels",
        "no Body", "no From", "Body too long"])
def test_invalid_creates_are_refused_like_twilio(sandbox, form, code):
    response = requests.post(f"{sandbox.url}/2010-04-01/Accounts/{sandbox.account_sid}/Messages.json",
                             data=form, auth=(sandbox.account_sid, sandbox.auth_token), timeout=5)

    assert response.status_code == 400
    error = response.json()
    assert (error["code"], error["status"]) == (code, 400)
    assert error["more_info"] == f"https://www.twilio.com/docs/errors/{code}" and error["message"]
    assert sandbox.count() == 0


def test_a_body_of_1600_characters_is_accepted(twilio):
    assert twilio.messages.create(to=ASHA, from_=SANDBOX_SMS_FROM, body="x" * 1600).num_segments == "11"


def test_list_filters_by_to_and_from_newest_first(twilio):
    for body in ("one", "two", "three"):
        twilio.messages.create(to=ASHA, from_=SANDBOX_SMS_FROM, body=body)
    twilio.messages.create(to=KOFI, from_=SANDBOX_SMS_FROM, body="other learner")
    twilio.messages.create(to=f"whatsapp:{ASHA}", from_=SANDBOX_WHATSAPP_FROM, body="whatsapp")

    assert [m.body for m in twilio.messages.list(to=ASHA)] == ["three", "two", "one"]
    assert [m.body for m in twilio.messages.list(from_=SANDBOX_WHATSAPP_FROM)] == ["whatsapp"]
    assert [m.body for m in twilio.messages.list(to=KOFI, from_=SANDBOX_SMS_FROM)] == ["other learner"]
    assert len(twilio.messages.list()) == 5
    assert twilio.messages.list(to="+12125550143") == []


def test_list_filters_by_date_sent(sandbox, twilio):
    before = datetime.now(UTC).replace(microsecond=0)
    twilio.messages.create(to=ASHA, from_=SANDBOX_SMS_FROM, body="today")
    now = datetime.now(UTC)

    assert [m.body for m in twilio.messages.list(to=ASHA, date_sent_after=before)] == ["today"]
    assert twilio.messages.list(to=ASHA, date_sent_after=now + timedelta(seconds=2)) == []
    assert twilio.messages.list(to=ASHA, date_sent_before=before - timedelta(days=1)) == []
    assert len(twilio.messages.list(to=ASHA, date_sent_before=now + timedelta(seconds=2))) == 1

    url = f"{sandbox.url}/2010-04-01/Accounts/{sandbox.account_sid}/Messages.json"
    auth = (sandbox.account_sid, sandbox.auth_token)
    today, yesterday = now.date().isoformat(), (now - timedelta(days=1)).date().isoformat()

    def bodies(params):
        response = requests.get(url, params=params, auth=auth, timeout=5)
        assert response.status_code == 200, response.text
        return [m["body"] for m in response.json()["messages"]]

    assert bodies({"DateSent": today}) == ["today"]
    assert bodies({"DateSent": yesterday}) == []
    assert bodies({"DateSent>": today, "DateSent<": today}) == ["today"]
    assert bodies({"DateSent<": yesterday}) == []
    assert requests.get(url, params={"DateSent": "last week"}, auth=auth, timeout=5).json()["code"] == 20001


def test_list_and_stream_page_through_every_message(sandbox, twilio):
    for day in range(1, 8):
        twilio.messages.create(to=ASHA, from_=SANDBOX_SMS_FROM, body=f"day {day}")
    requests_before = sandbox.requests_total

    listed = twilio.messages.list(to=ASHA, page_size=3)

    assert [m.body for m in listed] == [f"day {day}" for day in range(7, 0, -1)]
    assert sandbox.requests_total - requests_before == 3  # pages of 3, 3 and 1
    assert [m.body for m in twilio.messages.stream(to=ASHA, page_size=2, limit=5)] == [
        f"day {day}" for day in range(7, 2, -1)]
    assert len(twilio.messages.list(limit=4)) == 4


def test_a_page_lists_its_uris_like_twilio(sandbox, twilio):
    for day in range(1, 4):
        twilio.messages.create(to=ASHA, from_=SANDBOX_SMS_FROM, body=f"day {day}")

    response = requests.get(f"{sandbox.url}/2010-04-01/Accounts/{sandbox.account_sid}/Messages.json",
                            params={"To": ASHA, "PageSize": 2},
                            auth=(sandbox.account_sid, sandbox.auth_token), timeout=5)
    page = response.json()

    assert (page["page"], page["page_size"], page["start"], page["end"]) == (0, 2, 0, 1)
    assert page["previous_page_uri"] is None
    assert page["first_page_uri"].startswith(f"/2010-04-01/Accounts/{sandbox.account_sid}/Messages.json?")
    assert "To=%2B919812345678" in page["next_page_uri"] and "Page=1" in page["next_page_uri"]
    assert "PageToken=PA" in page["next_page_uri"]


def test_paging_is_not_shifted_by_messages_that_arrive_meanwhile(twilio):
    for day in range(1, 5):
        twilio.messages.create(to=ASHA, from_=SANDBOX_SMS_FROM, body=f"day {day}")

    first = twilio.messages.page(to=ASHA, page_size=2)
    twilio.messages.create(to=ASHA, from_=SANDBOX_SMS_FROM, body="late arrival")
    second = first.next_page()

    assert [m.body for m in first] == ["day 4", "day 3"]
    assert [m.body for m in second] == ["day 2", "day 1"]
    assert second.next_page() is None
