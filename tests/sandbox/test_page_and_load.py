"""The page a person watches, the JSON introspection, and many senders at once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import requests

from ekatra.config import SANDBOX_SMS_FROM
from ekatra.sandbox import Sandbox, twilio_client

ASHA, MARIA = "+919812345678", "+12125550143"


def test_the_page_shows_each_conversation_escaped_with_hindi_intact(sandbox, twilio):
    twilio.messages.create(to=MARIA, from_=SANDBOX_SMS_FROM, body="Hello Maria")
    twilio.messages.create(to=ASHA, from_=SANDBOX_SMS_FROM, body="<b>नमस्ते</b> & स्वागत")
    sandbox.reply(ASHA, "धन्यवाद")

    response = requests.get(f"{sandbox.url}/", timeout=5)

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    page = response.content.decode("utf-8")
    assert "&lt;b&gt;नमस्ते&lt;/b&gt; &amp; स्वागत" in page
    assert "<b>नमस्ते" not in page
    assert "धन्यवाद" in page
    assert page.index(ASHA) < page.index(MARIA)  # newest activity first
    assert f'name="from" value="{ASHA}"' in page  # a reply form per phone
    assert "/sandbox/activity.json" in page


def test_the_pages_reply_form_sends_a_reply_and_comes_back(sandbox, receiver):
    response = requests.post(f"{sandbox.url}/sandbox/reply", data={"from": ASHA, "body": "A", "next": "/"},
                             allow_redirects=False, timeout=5)

    assert response.status_code == 303 and response.headers["Location"] == "/"
    assert receiver.wait_for(1)[0].params["Body"] == "A"


def test_messages_json_lists_accepted_messages(sandbox, twilio):
    created = twilio.messages.create(to=ASHA, from_=SANDBOX_SMS_FROM, body="Day 1")

    [message] = requests.get(f"{sandbox.url}/sandbox/messages.json", timeout=5).json()

    assert (message["sid"], message["to"], message["from"], message["body"]) == (
        created.sid, ASHA, SANDBOX_SMS_FROM, "Day 1")
    assert message["status"] in ("queued", "sent", "delivered")
    assert datetime.fromisoformat(message["date_created"]) == sandbox.messages()[0]["date_created"]


def test_unknown_paths_answer_twilio_json(sandbox):
    response = requests.get(f"{sandbox.url}/2010-04-01/Accounts/AC1/Calls.json", timeout=5)

    assert response.status_code == 404 and response.json()["code"] == 20404


def test_200_messages_from_32_threads_are_all_recorded_once():
    seen: list[str] = []
    with Sandbox(latency_ms=5, on_message=lambda message: seen.append(message["sid"])) as sandbox:
        twilio = twilio_client(sandbox.account_sid, sandbox.auth_token, sandbox.url)

        def send(n: int) -> str:
            return twilio.messages.create(to=f"+9198{n:08d}", from_=SANDBOX_SMS_FROM, body=f"message {n}").sid

        with ThreadPoolExecutor(max_workers=32) as pool:
            sids = list(pool.map(send, range(200)))

        assert sandbox.wait_for(200, timeout=10)
        recorded = sandbox.messages()
    assert len(set(sids)) == 200
    assert {m["sid"] for m in recorded} == set(sids) == set(seen)
    assert sorted(m["body"] for m in recorded) == sorted(f"message {n}" for n in range(200))
    assert sandbox.requests_total == 200


def test_wait_for_gives_up_after_its_timeout():
    with Sandbox() as sandbox:
        assert sandbox.wait_for(1, timeout=0.05) is False


def test_reset_forgets_everything(sandbox, twilio):
    twilio.messages.create(to=ASHA, from_=SANDBOX_SMS_FROM, body="Day 1")
    sandbox.fail_next(3)

    sandbox.reset()

    assert sandbox.count() == 0 and sandbox.messages() == [] and sandbox.conversations() == {}
    assert twilio.messages.create(to=ASHA, from_=SANDBOX_SMS_FROM, body="again").sid
