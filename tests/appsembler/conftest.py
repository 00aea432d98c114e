"""Each test starts with no rate-limit counts: ids restart with the tables, and the limiter's
memory outlives a test."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _fresh_rate_limits(request):
    if "app" in request.fixturenames:
        request.getfixturevalue("app").extensions["ekatra.limiter"].reset()
