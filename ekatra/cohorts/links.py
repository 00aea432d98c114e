"""The private links of students and sponsors: `<key>.<mac>`, where `key` is a random value
stored on the row (unique, so it finds the row) and `mac` an HMAC of it under the app's secret.

Neither part alone opens anything: a leaked database gives keys but no macs, and the secret
alone names no row. A new key (re-invite) ends every older link of that row; the expiry is a
column. The same link can be sent again (a rejection's resubmit link) without being stored.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets

from ekatra.cohorts.models import KEY_CHARS

STUDENT, SPONSOR = "student", "sponsor"
MAC_CHARS = 32
_TOKEN = re.compile(rf"([A-Za-z0-9_-]{{{KEY_CHARS}}})\.([A-Za-z0-9_-]{{{MAC_CHARS}}})")


def new_key() -> str:
    return secrets.token_urlsafe(16)  # 128 random bits, 22 characters


def _mac(secret: str, purpose: str, key: str) -> str:
    digest = hmac.new(secret.encode("utf-8"), f"ekatra-cohort-{purpose}:{key}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()).decode("ascii")[:MAC_CHARS]


def token_for(secret: str, purpose: str, key: str) -> str:
    return f"{key}.{_mac(secret, purpose, key)}"


def key_of(secret: str, purpose: str, token: str) -> str | None:
    """The key a genuine token carries, or None for anything else (a forged mac, garbage)."""
    match = _TOKEN.fullmatch(token or "")
    if match is None:
        return None
    key, mac = match.groups()
    return key if hmac.compare_digest(mac, _mac(secret, purpose, key)) else None
