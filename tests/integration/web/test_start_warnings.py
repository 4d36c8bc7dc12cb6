"""What a desk warns of when it starts."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from tests.integration.conftest import Desk


@pytest.fixture
def desk_extra_settings() -> dict[str, Any]:
    return {"TEXTDESK_SERVICENOW_EVENTS_SECRET": "short-secret"}


def test_a_short_events_secret_is_warned_of_when_the_desk_starts(
    caplog: pytest.LogCaptureFixture, desk: Desk
) -> None:
    """The desk serves (a short secret is not refused), and its log says what to do."""
    assert desk.settings.servicenow_events_secret == "short-secret"
    warned = [
        r
        for r in caplog.get_records("setup")
        if r.levelno == logging.WARNING and "TEXTDESK_SERVICENOW_EVENTS_SECRET" in r.getMessage()
    ]
    assert len(warned) == 1
    assert "secrets.token_urlsafe(32)" in warned[0].getMessage()
    assert "short-secret" not in warned[0].getMessage()
