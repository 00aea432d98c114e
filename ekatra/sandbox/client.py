"""The official Twilio SDK pointed at any API base URL (the sandbox's, here): see outbox/twilio.py."""

from ekatra.outbox.twilio import POOL_SIZE, TWILIO_API_BASE_URL, twilio_client  # noqa: F401
