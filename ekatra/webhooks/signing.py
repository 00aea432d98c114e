"""Webhook secrets and signatures.

Every request carries two signatures of the same raw body:
- `X-SkillPassport-Signature`: hex HMAC-SHA256 of the body, keyed with the whole secret string
  (`whsec_…` as UTF-8), exactly what the Skill-Passport integration guide's receiver computes;
- the Standard Webhooks headers `webhook-id`, `webhook-timestamp` and `webhook-signature`
  (`v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, keyed with the secret's 32 bytes), made by
  the `standardwebhooks` library.

During the 24 hours after a rotation `webhook-signature` lists the new and the old signature
(space-separated, as the standard allows) and `X-SkillPassport-Signature`, which has room for
one, still carries the old secret's: receivers that have not switched yet keep working.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import datetime

from standardwebhooks.webhooks import Webhook

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
GUIDE_HEADER = "X-SkillPassport-Signature"


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def guide_signature(secret: str, body: bytes) -> str:
    """The integration guide's signature: hex HMAC-SHA256 of the raw body with the secret."""
    return hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def signature_headers(event_id: str, body: bytes, *, secrets_newest_first: list[str],
                      sent_at: datetime) -> dict[str, str]:
    """The signing headers of one request, signed with each secret still in use."""
    text = body.decode("utf-8")
    standard = " ".join(Webhook(secret).sign(event_id, sent_at, text) for secret in secrets_newest_first)
    return {
        GUIDE_HEADER: guide_signature(secrets_newest_first[-1], body),
        "webhook-id": event_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": standard,
    }
