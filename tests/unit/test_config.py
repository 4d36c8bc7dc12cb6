"""Settings: validated once, refusing unsafe configurations."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from textdesk.config import Settings

SECRET = "a-real-secret-" + "z" * 30


def test_placeholder_secret_is_refused_with_real_twilio() -> None:
    """Running against real Twilio with the development secret is refused."""
    with pytest.raises(ValidationError, match="TEXTDESK_SECRET_KEY"):
        Settings(TWILIO_ACCOUNT_SID="AC" + "1" * 32, TWILIO_AUTH_TOKEN="t")


def test_placeholder_secret_is_refused_in_the_sandbox_outside_demo_mode() -> None:
    """No credentials is not a licence: the public secret would sign sessions and webhooks."""
    with pytest.raises(ValidationError, match="TEXTDESK_SECRET_KEY"):
        Settings()


def test_placeholder_secret_is_allowed_in_the_demo_sandbox() -> None:
    """The demo works out of the box with no configuration."""
    settings = Settings(TEXTDESK_DEMO=True)
    assert settings.sandbox
    assert settings.api_url == "http://127.0.0.1:8000/sandbox/twilio"


def test_credentials_come_in_pairs() -> None:
    """An account SID without its token is a configuration error."""
    with pytest.raises(ValidationError, match="both"):
        Settings(TEXTDESK_SECRET_KEY=SECRET, TWILIO_ACCOUNT_SID="AC" + "1" * 32)


def test_real_twilio_uses_the_configured_api() -> None:
    """With credentials, texts go to TWILIO_API_URL and the sandbox is off."""
    settings = Settings(
        TEXTDESK_SECRET_KEY=SECRET,
        TWILIO_ACCOUNT_SID="AC" + "1" * 32,
        TWILIO_AUTH_TOKEN="token",
    )
    assert not settings.sandbox
    assert settings.api_url == "https://api.twilio.com"
    assert settings.auth_token == "token"
    assert "api.twilio.com" in settings.allowed_media_hosts


def test_environment_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """Variables from the table in DESIGN.md configure the process."""
    monkeypatch.setenv("TEXTDESK_DATABASE_URL", "postgresql+psycopg://u@h/db")
    monkeypatch.setenv("TEXTDESK_PUBLIC_URL", "https://desk.example.com")
    monkeypatch.setenv("TEXTDESK_SECRET_KEY", SECRET)
    settings = Settings()
    assert settings.database_url == "postgresql+psycopg://u@h/db"
    assert settings.url_for("/twilio/sms") == "https://desk.example.com/twilio/sms"
