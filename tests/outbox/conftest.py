"""Outbox fixtures: a sandbox on an ephemeral loopback port and the real sender pointed at it."""

from __future__ import annotations

import random

import pytest

from ekatra.config import SANDBOX_SMS_FROM, Config
from ekatra.outbox.twilio import TwilioSender, sender_from_config
from ekatra.sandbox import Sandbox
from tests.conftest import test_environ


class MaxJitter(random.Random):
    """Backoff that always waits its full ceiling, so a test knows the retry time exactly."""

    def uniform(self, a, b):
        return b


@pytest.fixture
def sandbox():
    """No status callbacks: these tests have no app listening (tests/inbound covers them)."""
    with Sandbox(callbacks=False) as running:
        yield running


def sender_for(config, sandbox, **settings):
    return sender_from_config({**config, "TWILIO_API_BASE_URL": sandbox.url,
                               "TWILIO_ACCOUNT_SID": sandbox.account_sid,
                               "TWILIO_AUTH_TOKEN": sandbox.auth_token, **settings})


def plain_config(**environ) -> dict:
    """The settings an app would have, without an app (for tests that need no database)."""
    return Config(test_environ("sqlite://", **environ)).as_dict()


def impatient_sender(sandbox, timeout_seconds: float) -> TwilioSender:
    """A sender that gives up waiting for an answer after `timeout_seconds`."""
    return TwilioSender(sandbox.account_sid, sandbox.auth_token, sandbox.url, SANDBOX_SMS_FROM, "", "", None,
                        timeout_seconds=timeout_seconds)


@pytest.fixture
def sender(sandbox):
    """The production TwilioSender (official SDK, real HTTP), aimed at the sandbox."""
    return sender_for(plain_config(), sandbox)
