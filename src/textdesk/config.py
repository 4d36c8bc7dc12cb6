"""Settings: the one reader of the environment."""

from __future__ import annotations

import hashlib
import ipaddress
from functools import cached_property
from pathlib import Path
from typing import Literal, Self
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from textdesk.adapters.files.install_state import (
    MAKE_A_SECRET,
    SECRET_KEY_FILE,
    data_dir_of,
    is_demo,
    local_secret_key,
    weak_secret,
)
from textdesk.adapters.twilio.media_origins import Origin, api_origin, parse_origin

PACKAGE_DIR = Path(__file__).resolve().parent
DEMO_TOPICS_DIR = PACKAGE_DIR / "demo" / "topics"
NOTIFICATION_TEMPLATES_DIR = PACKAGE_DIR / "templates" / "notifications"
# Sandbox credentials: what the built-in Twilio stand-in answers to when no real
# account is configured.  They only ever reach a loopback server of our own.
SANDBOX_ACCOUNT_SID = "AC" + "5a" * 16
# A shorter TEXTDESK_SERVICENOW_EVENTS_SECRET is warned about at start, not refused:
# checks from outside (and setups made before the warning) may use any secret.
EVENTS_SECRET_MIN_LENGTH = 32
MAKE_AN_EVENTS_SECRET = "python -c 'import secrets; print(secrets.token_urlsafe(32))'"  # noqa: S105 - a command


class Settings(BaseSettings):
    """Everything an operator can set, validated once at start."""

    model_config = SettingsConfigDict(extra="ignore", env_file=None)

    database_url: str = Field(
        default="sqlite+aiosqlite:///./var/textdesk.db", alias="TEXTDESK_DATABASE_URL"
    )
    redis_url: str | None = Field(default=None, alias="TEXTDESK_REDIS_URL")
    public_url: str = Field(default="http://127.0.0.1:8000", alias="TEXTDESK_PUBLIC_URL")
    # Imported into the database at start (topics/library.py); unset imports nothing:
    # the packaged demo topics come with `textdesk demo seed`.
    topics_dir: Path | None = Field(default=None, alias="TEXTDESK_TOPICS_DIR")
    notification_templates_dir: Path = Field(
        default=NOTIFICATION_TEMPLATES_DIR,
        alias="TEXTDESK_NOTIFICATION_TEMPLATES_DIR",
        description="Notification templates (<event>.txt) and replies.yaml; missing files "
        "fall back to the packaged ones.",
    )
    secret_key: str = Field(
        default="",
        alias="TEXTDESK_SECRET_KEY",
        description="Signs sessions, links and (in the sandbox) webhooks; unset on a local "
        "SQLite install: generated once into the database's folder.",
    )
    timezone: str = Field(
        default="UTC",
        alias="TEXTDESK_TIMEZONE",
        description="IANA timezone (America/New_York) in which cards, notifications, topics, "
        "the record page and the Workspace show dates; queues keep their own for hours.",
    )
    demo: bool = Field(
        default=False,
        alias="TEXTDESK_DEMO",
        description="Demo mode (sandbox and simulator without Twilio credentials); unset: "
        "whether `textdesk demo seed` marked the install's data folder.",
    )
    twilio_account_sid: str | None = Field(default=None, alias="TWILIO_ACCOUNT_SID")
    twilio_auth_token: str | None = Field(default=None, alias="TWILIO_AUTH_TOKEN")
    twilio_api_url: str = Field(default="https://api.twilio.com", alias="TWILIO_API_URL")

    # Tuning; the defaults suit a US long code.
    send_rate_per_number: float = Field(default=1.0, gt=0, alias="TEXTDESK_SEND_RATE")
    send_give_up_after_seconds: float = Field(
        default=14400,
        gt=0,
        alias="TEXTDESK_SEND_GIVE_UP_AFTER",
        description="Seconds from queueing during which transient send failures are retried.",
    )
    send_max_attempts: int = Field(
        default=6,
        ge=1,
        alias="TEXTDESK_SEND_MAX_ATTEMPTS",
        description="Tries of a text Twilio answers 30008 (unknown error); transient "
        "failures are retried for TEXTDESK_SEND_GIVE_UP_AFTER instead.",
    )
    send_timeout_seconds: float = Field(default=10.0, gt=0, alias="TEXTDESK_SEND_TIMEOUT")
    retry_base_seconds: float = Field(default=1.0, gt=0, alias="TEXTDESK_RETRY_BASE_SECONDS")
    retry_max_seconds: float = Field(
        default=300.0,
        gt=0,
        alias="TEXTDESK_RETRY_MAX_SECONDS",
        description="The longest wait between two tries (and between probes of a paused number).",
    )
    idle_close_minutes: int = Field(default=120, ge=1, alias="TEXTDESK_IDLE_CLOSE_MINUTES")
    media_max_bytes: int = Field(default=5 * 1024 * 1024, ge=1, alias="TEXTDESK_MEDIA_MAX_BYTES")
    media_max_pixels: int = Field(
        default=25_000_000,
        ge=1,
        le=89_478_485,  # Pillow's own bomb threshold; above it Pillow warns, refused here
        alias="TEXTDESK_MEDIA_MAX_PIXELS",
        description="Largest image (width × height) accepted from a texter or an agent.",
    )
    media_origins: str = Field(
        default="https://api.twilio.com,https://mms.twiliocdn.com",
        alias="TEXTDESK_MEDIA_ORIGINS",
        description="Comma-separated origins (scheme://host[:port], host may be *.suffix) "
        "MediaUrlN may point at and redirect to; TWILIO_API_URL's origin always counts.",
    )
    retired_media_hosts: str | None = Field(default=None, alias="TEXTDESK_MEDIA_HOSTS")
    media_url_ttl_seconds: int = Field(default=3600, ge=60, alias="TEXTDESK_MEDIA_URL_TTL")
    offer_timeout_seconds: int = Field(default=30, ge=5, alias="TEXTDESK_OFFER_TIMEOUT")
    agent_remind_minutes: float = Field(default=3, gt=0, alias="TEXTDESK_AGENT_REMIND_MINUTES")
    agent_idle_close_minutes: float = Field(
        default=30, gt=0, alias="TEXTDESK_AGENT_IDLE_CLOSE_MINUTES"
    )
    presence_grace_seconds: float = Field(
        default=45,
        ge=1,
        alias="TEXTDESK_PRESENCE_GRACE_SECONDS",
        description="An available agent with no Workspace connected for this long is "
        "offered no chats and counted in no wait estimate.",
    )
    run_background: bool = Field(
        default=True,
        alias="TEXTDESK_RUN_BACKGROUND",
        description="Process the inbox and dispatch the outbox in the web process.",
    )
    inline_processing: bool = Field(
        default=True,
        alias="TEXTDESK_INLINE_PROCESSING",
        description=(
            "Answer a text in the webhook's own group commit, before the 200; texts "
            "with attachments are left to the background loop."
        ),
    )
    reconcile_after_seconds: float = Field(
        default=600,
        gt=0,
        alias="TEXTDESK_RECONCILE_AFTER",
        description="Ask Twilio about a sent message with no final status after this long.",
    )
    reconcile_rate: float = Field(
        default=5.0,
        gt=0,
        alias="TEXTDESK_RECONCILE_RATE",
        description="Status lookups per second, per process (separate from send pacing).",
    )
    log_level: str = Field(default="INFO", alias="TEXTDESK_LOG_LEVEL")
    metrics_token: str | None = Field(
        default=None,
        alias="TEXTDESK_METRICS_TOKEN",
        description="Bearer token Prometheus sends for /metrics; unset: /metrics is 404 "
        "outside demo mode.",
    )
    trusted_proxies: str = Field(
        default="",
        alias="TEXTDESK_TRUSTED_PROXIES",
        description="Comma-separated addresses or CIDR blocks of the reverse proxies whose "
        "X-Forwarded-For and X-Forwarded-Proto are believed; none by default.",
    )

    # ServiceNow as the record store (docs/servicenow.md); read only when
    # TEXTDESK_RECORDS=servicenow, checked together by _servicenow_complete.
    records: Literal["builtin", "servicenow"] = Field(
        default="builtin",
        alias="TEXTDESK_RECORDS",
        description="Where incidents live: textdesk's own store, or a ServiceNow instance.",
    )
    servicenow_instance_url: str | None = Field(default=None, alias="SERVICENOW_INSTANCE_URL")
    servicenow_username: str | None = Field(default=None, alias="SERVICENOW_USERNAME")
    servicenow_password: str | None = Field(default=None, alias="SERVICENOW_PASSWORD")
    servicenow_client_id: str | None = Field(default=None, alias="SERVICENOW_CLIENT_ID")
    servicenow_client_secret: str | None = Field(default=None, alias="SERVICENOW_CLIENT_SECRET")
    servicenow_events_secret: str | None = Field(
        default=None, alias="TEXTDESK_SERVICENOW_EVENTS_SECRET"
    )
    servicenow_poll_seconds: int = Field(
        default=0,
        alias="TEXTDESK_SERVICENOW_POLL_SECONDS",
        description="Ask the instance for its incidents' changes this often (10 to 3600 "
        "seconds), for instances that may not post record events; 0: never.",
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_addresses(cls, value: str) -> str:
        try:
            parse_networks(value)
        except ValueError as exc:
            raise ValueError(f"TEXTDESK_TRUSTED_PROXIES: {exc}") from None
        return value

    @field_validator("servicenow_poll_seconds")
    @classmethod
    def _poll_interval(cls, value: int) -> int:
        # Under 10 s a round could outlast its interval; over an hour, texts come too late.
        if value != 0 and not 10 <= value <= 3600:
            raise ValueError(
                "TEXTDESK_SERVICENOW_POLL_SECONDS must be 0 (off) or 10 to 3600 seconds"
            )
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        # A typo would otherwise surface as a 500 on the first card texted.
        return zone_named(value).key

    @model_validator(mode="after")
    def _refuse_unsafe(self) -> Self:
        self.secret_key = self._strong_secret_key()
        if "demo" not in self.model_fields_set:
            # Demo mode is a property of the install, so a command typed in a new
            # shell in the folder where `make run` ran still serves the sandbox.
            self.demo = is_demo(self.data_dir)
        if self.retired_media_hosts is not None:
            # Hosts alone allowed any port and scheme; a silent translation would guess.
            raise ValueError(
                "TEXTDESK_MEDIA_HOSTS is no longer read: list origins instead, e.g. "
                "TEXTDESK_MEDIA_ORIGINS=https://api.twilio.com,https://mms.twiliocdn.com"
            )
        for origin in self._media_origin_texts():
            parse_origin(origin)  # a ValueError names the bad entry
        api_origin(self.api_url)
        if bool(self.twilio_account_sid) != bool(self.twilio_auth_token):
            raise ValueError("set both TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN, or neither")
        return self

    @model_validator(mode="after")
    def _servicenow_complete(self) -> Self:
        if self.records != "servicenow":
            return self
        problem = servicenow_problem(self)
        if problem:
            raise ValueError(f"TEXTDESK_RECORDS=servicenow: {problem}")
        assert self.servicenow_instance_url is not None
        self.servicenow_instance_url = self.servicenow_instance_url.strip().rstrip("/")
        return self

    def events_secret_warning(self) -> str | None:
        """What to warn of at start about ``TEXTDESK_SERVICENOW_EVENTS_SECRET``: None
        when it is unset (events are refused) or long enough."""
        secret = self.servicenow_events_secret
        if not secret or len(secret) >= EVENTS_SECRET_MIN_LENGTH:
            return None
        return (
            f"TEXTDESK_SERVICENOW_EVENTS_SECRET is {len(secret)} characters long: whoever "
            "guesses it can post record events that text your callers. Use at least "
            f"{EVENTS_SECRET_MIN_LENGTH} random characters (`{MAKE_AN_EVENTS_SECRET}`), "
            "set the same in the instance's textdesk.events.secret property"
        )

    @property
    def servicenow_oauth(self) -> bool:
        """OAuth 2 (password grant) rather than basic auth: a client id is set."""
        return bool(self.servicenow_client_id)

    def _strong_secret_key(self) -> str:
        # A guessable key lets anyone sign a Workspace session (as the admin), a signed
        # media URL or, in the sandbox, a webhook: no weak key and no shared default,
        # not even in demo mode.
        if "secret_key" in self.model_fields_set:
            problem = weak_secret(self.secret_key)
            if problem:
                raise ValueError(f"TEXTDESK_SECRET_KEY {problem}")
            return self.secret_key
        folder = self.data_dir
        if folder is None:
            raise ValueError(
                "TEXTDESK_SECRET_KEY is not set: every process on this database must sign "
                f"with the same key, so give them all one (make it with `{MAKE_A_SECRET}`)"
            )
        try:
            key = local_secret_key(folder)
        except OSError as exc:
            raise ValueError(
                f"cannot keep the generated secret key in {folder}: {exc}; set "
                "TEXTDESK_SECRET_KEY instead"
            ) from exc
        problem = weak_secret(key)
        if problem:
            raise ValueError(f"the secret key in {folder / SECRET_KEY_FILE} {problem}")
        return key

    @property
    def data_dir(self) -> Path | None:
        """The install's own folder (its SQLite database's); ``None`` for other databases."""
        return data_dir_of(self.database_url)

    @property
    def sandbox(self) -> bool:
        """No Twilio credentials: the built-in stand-in carries the texts (in demo mode)."""
        return not self.twilio_account_sid

    def transport_problem(self) -> str | None:
        """Why nothing could carry texts (no Twilio outside demo mode), or ``None``."""
        if not self.sandbox or self.demo:
            return None
        return (
            "No Twilio credentials, and this is not a demo install: the sandbox and the "
            "phone simulator exist only in demo mode, so nothing would carry texts. To "
            "use Twilio, set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TEXTDESK_PUBLIC_URL "
            "(the https address Twilio reaches); to try textdesk without it, run "
            "`textdesk demo seed` in this folder (or set TEXTDESK_DEMO=1)."
        )

    @property
    def zone(self) -> ZoneInfo:
        """The desk's timezone (``TEXTDESK_TIMEZONE``, checked at start)."""
        return ZoneInfo(self.timezone)  # cached by zoneinfo itself

    @cached_property
    def account_sid(self) -> str:
        return self.twilio_account_sid or SANDBOX_ACCOUNT_SID

    @cached_property
    def auth_token(self) -> str:
        if self.twilio_auth_token:
            return self.twilio_auth_token
        return hashlib.sha256(f"sandbox:{self.secret_key}".encode()).hexdigest()[:32]

    @cached_property
    def api_url(self) -> str:
        """Where REST calls go: the sandbox stand-in is mounted in the app itself."""
        if self.sandbox and self.twilio_api_url == "https://api.twilio.com":
            return self.public_url.rstrip("/") + "/sandbox/twilio"
        return self.twilio_api_url.rstrip("/")

    def _media_origin_texts(self) -> list[str]:
        return [o.strip() for o in self.media_origins.split(",") if o.strip()]

    @cached_property
    def allowed_media_origins(self) -> tuple[Origin, ...]:
        """Where media may be fetched from: the configured origins and the API's own."""
        origins = [parse_origin(o) for o in self._media_origin_texts()]
        api, _ = api_origin(self.api_url)
        return tuple(origins) if api in origins else (*origins, api)

    @cached_property
    def trusted_proxy_networks(self) -> tuple[Network, ...]:
        """The peers whose forwarded headers are believed (``web/forwarded.py``)."""
        return parse_networks(self.trusted_proxies)

    def url_for(self, path: str) -> str:
        """The absolute URL Twilio uses for one of our paths."""
        return self.public_url.rstrip("/") + path


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})


def servicenow_problem(settings: Settings) -> str | None:
    """What is missing or wrong for ServiceNow as the record store, or ``None``."""
    url = (settings.servicenow_instance_url or "").strip()
    if not url:
        return "set SERVICENOW_INSTANCE_URL to the instance's address, e.g. https://acme.service-now.com"
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"SERVICENOW_INSTANCE_URL {url!r} is not an address such as https://acme.service-now.com"
    # Every call carries the integration user's password or token: not in clear text,
    # except to a stand-in on this machine.
    if parts.scheme != "https" and parts.hostname not in _LOOPBACK_HOSTS:
        return (
            f"SERVICENOW_INSTANCE_URL {url!r} must use https (credentials travel with every call)"
        )
    if not (settings.servicenow_username and settings.servicenow_password):
        return (
            "set SERVICENOW_USERNAME and SERVICENOW_PASSWORD (the integration user; "
            "OAuth's password grant needs them too)"
        )
    if bool(settings.servicenow_client_id) != bool(settings.servicenow_client_secret):
        return (
            "set both SERVICENOW_CLIENT_ID and SERVICENOW_CLIENT_SECRET for OAuth, or "
            "neither for basic auth"
        )
    return None


def zone_named(name: str) -> ZoneInfo:
    """The IANA timezone ``name``; a ValueError saying what to give for an unknown one."""
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(
            f"TEXTDESK_TIMEZONE {name!r} is not a known timezone: give an IANA name "
            "such as America/New_York, Europe/London or UTC"
        ) from None


def parse_networks(value: str) -> tuple[Network, ...]:
    """Comma-separated addresses and CIDR blocks; ValueError naming a bad entry."""
    networks = []
    for entry in (part.strip() for part in value.split(",")):
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ValueError(
                f"{entry!r} is not an IP address or network (e.g. 10.0.0.5 or 10.0.0.0/8)"
            ) from None
    return tuple(networks)
