"""Settings: validated once, refusing unsafe configurations."""

from __future__ import annotations

from typing import Any

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


# --- ServiceNow as the record store: complete, or refused saying what is missing

BASIC = {
    "SERVICENOW_INSTANCE_URL": "https://acme.service-now.com/",
    "SERVICENOW_USERNAME": "textdesk.integration",
    "SERVICENOW_PASSWORD": "s3cret",
}


def servicenow_settings(**values: Any) -> Settings:
    return Settings(TEXTDESK_SECRET_KEY=SECRET, TEXTDESK_DEMO=True, **values)


def test_records_are_builtin_unless_told() -> None:
    """No ServiceNow setting is needed for the built-in store."""
    assert servicenow_settings().records == "builtin"


def test_servicenow_with_basic_auth_is_accepted_and_its_url_kept_without_a_slash() -> None:
    chosen = servicenow_settings(TEXTDESK_RECORDS="servicenow", **BASIC)
    assert chosen.records == "servicenow"
    assert chosen.servicenow_instance_url == "https://acme.service-now.com"
    assert not chosen.servicenow_oauth


def test_a_client_id_and_secret_mean_oauth() -> None:
    chosen = servicenow_settings(
        TEXTDESK_RECORDS="servicenow",
        SERVICENOW_CLIENT_ID="id",
        SERVICENOW_CLIENT_SECRET="secret",
        **BASIC,
    )
    assert chosen.servicenow_oauth


def test_the_events_secret_is_read() -> None:
    chosen = servicenow_settings(TEXTDESK_SERVICENOW_EVENTS_SECRET="shared", **BASIC)
    assert chosen.servicenow_events_secret == "shared"


def test_polling_the_instance_is_off_unless_an_interval_is_given() -> None:
    assert servicenow_settings().servicenow_poll_seconds == 0
    chosen = servicenow_settings(TEXTDESK_SERVICENOW_POLL_SECONDS="60", **BASIC)
    assert chosen.servicenow_poll_seconds == 60


@pytest.mark.parametrize("seconds", ["10", "3600"])
def test_the_poll_interval_may_be_anything_from_10_seconds_to_an_hour(seconds: str) -> None:
    chosen = servicenow_settings(TEXTDESK_SERVICENOW_POLL_SECONDS=seconds)
    assert chosen.servicenow_poll_seconds == int(seconds)


@pytest.mark.parametrize("seconds", ["-1", "5", "9", "3601", "often"])
def test_a_poll_interval_outside_10_seconds_to_an_hour_is_refused(seconds: str) -> None:
    with pytest.raises(ValidationError, match="TEXTDESK_SERVICENOW_POLL_SECONDS"):
        servicenow_settings(TEXTDESK_SERVICENOW_POLL_SECONDS=seconds)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({}, "set SERVICENOW_INSTANCE_URL"),
        ({**BASIC, "SERVICENOW_INSTANCE_URL": "acme"}, "is not an address"),
        ({**BASIC, "SERVICENOW_INSTANCE_URL": "http://acme.service-now.com"}, "must use https"),
        ({**BASIC, "SERVICENOW_PASSWORD": ""}, "set SERVICENOW_USERNAME and SERVICENOW_PASSWORD"),
        ({**BASIC, "SERVICENOW_CLIENT_ID": "id"}, "set both SERVICENOW_CLIENT_ID"),
        ({**BASIC, "SERVICENOW_CLIENT_SECRET": "x"}, "set both SERVICENOW_CLIENT_ID"),
    ],
)
def test_an_incomplete_servicenow_configuration_is_refused_saying_what_to_set(
    values: dict[str, str], expected: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        servicenow_settings(TEXTDESK_RECORDS="servicenow", **values)
    assert "TEXTDESK_RECORDS=servicenow" in str(refused.value)
    assert expected in str(refused.value)


def test_plain_http_is_allowed_to_a_stand_in_on_this_machine() -> None:
    chosen = servicenow_settings(
        TEXTDESK_RECORDS="servicenow",
        **{**BASIC, "SERVICENOW_INSTANCE_URL": "http://127.0.0.1:8765"},
    )
    assert chosen.servicenow_instance_url == "http://127.0.0.1:8765"


def test_an_unknown_record_store_is_refused() -> None:
    with pytest.raises(ValidationError, match="TEXTDESK_RECORDS"):
        servicenow_settings(TEXTDESK_RECORDS="jira")


@pytest.mark.parametrize("secret", [None, "", "x" * 32, "a-longer-secret-" * 4])
def test_an_events_secret_of_32_characters_or_more_is_not_warned_of(secret: str | None) -> None:
    chosen = servicenow_settings(TEXTDESK_SERVICENOW_EVENTS_SECRET=secret)
    assert chosen.events_secret_warning() is None


def test_a_short_events_secret_is_accepted_with_a_warning_that_says_how_to_make_one() -> None:
    """Not refused: checks from outside may use any secret."""
    chosen = servicenow_settings(TEXTDESK_SERVICENOW_EVENTS_SECRET="x" * 31)
    assert chosen.servicenow_events_secret == "x" * 31
    warning = chosen.events_secret_warning()
    assert warning is not None
    assert "TEXTDESK_SERVICENOW_EVENTS_SECRET is 31 characters long" in warning
    assert "secrets.token_urlsafe(32)" in warning
    assert "x" * 31 not in warning  # the secret itself is not logged
