"""Settings: validated once, refusing unsafe configurations."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from textdesk.config import Settings

SECRET = "a-real-secret-Lk3jH6gF9dS2aQ5wE8rT1yU4iO7pZ0xC"
PG = "postgresql+psycopg://textdesk@db.example.com/textdesk"


WEAK_KEYS = [
    "",
    "a",
    "changeme",
    "textdesk-dev-secret-change-me ",  # the old public placeholder, with a space
    "x" * 64,  # long, but one character
    "0123456789abcde" * 4,  # long, but 15 different characters
]


@pytest.mark.parametrize("demo", [False, True])
@pytest.mark.parametrize("key", WEAK_KEYS)
def test_a_weak_secret_key_is_refused_with_how_to_make_one(key: str, demo: bool) -> None:
    """Short or repetitive keys are refused, in demo mode too, saying how to make a good one."""
    with pytest.raises(ValidationError) as refused:
        Settings(
            TEXTDESK_SECRET_KEY=key,
            TEXTDESK_DEMO=demo,
            TWILIO_ACCOUNT_SID="AC" + "1" * 32,
            TWILIO_AUTH_TOKEN="token",
        )
    message = str(refused.value)
    assert "TEXTDESK_SECRET_KEY is too weak" in message
    assert "secrets.token_urlsafe(48)" in message


def test_a_key_of_32_characters_with_16_different_ones_is_accepted() -> None:
    """The limit itself passes: 32 characters, 16 different."""
    key = "0123456789abcdef" * 2
    assert Settings(TEXTDESK_SECRET_KEY=key, TEXTDESK_DATABASE_URL=PG).secret_key == key


def test_a_shared_database_without_a_secret_key_is_refused() -> None:
    """On PostgreSQL (several processes, maybe several hosts) the key must be given to all."""
    with pytest.raises(ValidationError, match="every process on this database"):
        Settings(TEXTDESK_DATABASE_URL=PG)


def test_an_in_memory_database_without_a_secret_key_is_refused() -> None:
    """No data folder to keep a generated key in: the operator must set one."""
    with pytest.raises(ValidationError, match="TEXTDESK_SECRET_KEY is not set"):
        Settings(TEXTDESK_DATABASE_URL="sqlite+aiosqlite://")


def test_the_sandbox_token_follows_the_secret_key() -> None:
    """The sandbox's Twilio auth token is derived from the key, so it is as unguessable."""
    one = Settings(TEXTDESK_SECRET_KEY=SECRET, TEXTDESK_DATABASE_URL=PG, TEXTDESK_DEMO=True)
    other = Settings(TEXTDESK_SECRET_KEY=SECRET[::-1], TEXTDESK_DATABASE_URL=PG, TEXTDESK_DEMO=True)
    assert one.sandbox
    assert one.api_url == "http://127.0.0.1:8000/sandbox/twilio"
    assert one.auth_token != other.auth_token
    assert SECRET not in one.auth_token


def test_credentials_come_in_pairs() -> None:
    """An account SID without its token is a configuration error."""
    with pytest.raises(ValidationError, match="both"):
        Settings(
            TEXTDESK_SECRET_KEY=SECRET,
            TEXTDESK_DATABASE_URL=PG,
            TWILIO_ACCOUNT_SID="AC" + "1" * 32,
        )


def test_real_twilio_uses_the_configured_api() -> None:
    """With credentials, texts go to TWILIO_API_URL and the sandbox is off."""
    settings = Settings(
        TEXTDESK_SECRET_KEY=SECRET,
        TEXTDESK_DATABASE_URL=PG,
        TWILIO_ACCOUNT_SID="AC" + "1" * 32,
        TWILIO_AUTH_TOKEN="token",
    )
    assert not settings.sandbox
    assert settings.api_url == "https://api.twilio.com"
    assert settings.auth_token == "token"
    assert [str(o) for o in settings.allowed_media_origins] == [
        "https://api.twilio.com",
        "https://mms.twiliocdn.com",
    ]


def test_the_api_origin_is_always_a_media_origin() -> None:
    """TWILIO_API_URL's scheme, host and port are allowed even when not listed."""
    settings = Settings(
        TEXTDESK_SECRET_KEY=SECRET,
        TWILIO_ACCOUNT_SID="AC" + "1" * 32,
        TWILIO_AUTH_TOKEN="token",
        TWILIO_API_URL="http://127.0.0.1:8210",
        TEXTDESK_MEDIA_ORIGINS="https://cdn.example:8443",
    )
    assert [str(o) for o in settings.allowed_media_origins] == [
        "https://cdn.example:8443",
        "http://127.0.0.1:8210",
    ]


def test_media_hosts_are_retired_with_a_pointer_to_origins() -> None:
    """TEXTDESK_MEDIA_HOSTS (hosts on any port) stops the start and names its successor."""
    with pytest.raises(ValidationError, match="TEXTDESK_MEDIA_ORIGINS"):
        Settings(TEXTDESK_SECRET_KEY=SECRET, TEXTDESK_MEDIA_HOSTS="127.0.0.1")


def test_a_media_origin_with_a_path_is_refused() -> None:
    """An origin is scheme://host[:port]; anything else is a start-up error naming it."""
    with pytest.raises(ValidationError, match=r"cdn\.example/x"):
        Settings(TEXTDESK_SECRET_KEY=SECRET, TEXTDESK_MEDIA_ORIGINS="https://cdn.example/x")


def test_environment_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """Variables from the table in DESIGN.md configure the process."""
    monkeypatch.setenv("TEXTDESK_DATABASE_URL", "postgresql+psycopg://u@h/db")
    monkeypatch.setenv("TEXTDESK_PUBLIC_URL", "https://desk.example.com")
    monkeypatch.setenv("TEXTDESK_SECRET_KEY", SECRET)
    settings = Settings()
    assert settings.database_url == "postgresql+psycopg://u@h/db"
    assert settings.url_for("/twilio/sms") == "https://desk.example.com/twilio/sms"


@pytest.mark.parametrize("name", ["Mars/Olympus", "utc", "", "../etc/passwd", "America"])
def test_an_unknown_timezone_is_refused_saying_what_to_give(name: str) -> None:
    """A typo in TEXTDESK_TIMEZONE stops the start with an IANA example, not a later 500."""
    with pytest.raises(ValidationError) as refused:
        Settings(TEXTDESK_SECRET_KEY=SECRET, TEXTDESK_DATABASE_URL=PG, TEXTDESK_TIMEZONE=name)
    message = str(refused.value)
    assert f"TEXTDESK_TIMEZONE {name!r} is not a known timezone" in message
    assert "America/New_York" in message


def test_the_desks_timezone_defaults_to_utc() -> None:
    """Unset, the desk shows UTC; set, its IANA zone."""
    assert Settings(TEXTDESK_SECRET_KEY=SECRET, TEXTDESK_DATABASE_URL=PG).zone.key == "UTC"
    chosen = Settings(
        TEXTDESK_SECRET_KEY=SECRET, TEXTDESK_DATABASE_URL=PG, TEXTDESK_TIMEZONE="Europe/Paris"
    )
    assert chosen.zone.key == "Europe/Paris"
