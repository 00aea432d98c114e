"""Helpers for webhook tests: register endpoints, verify requests as receivers would."""

from __future__ import annotations

import hashlib
import hmac
import json

from standardwebhooks.webhooks import Webhook


def register(caller, url: str, events=("*",), **extra):
    response = caller.client.post("/api/webhooks", headers=caller.headers,
                                  json={"url": url, "events": list(events), **extra})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def guide_receiver_accepts(secret: str, headers: dict, body: bytes) -> bool:
    """The integration guide's receiver, line for line: hex HMAC-SHA256 of the raw body with
    the secret, compared with X-SkillPassport-Signature."""
    signature = {k.lower(): v for k, v in headers.items()}.get("x-skillpassport-signature")
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return signature == expected


def standard_receiver_payload(secret: str, headers: dict, body: bytes) -> dict:
    """A Standard Webhooks receiver (the reference library): the payload, or it raises."""
    return Webhook(secret).verify(body, headers)


def body_of(received) -> dict:
    return json.loads(received.body)
