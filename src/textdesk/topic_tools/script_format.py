"""The schema of a conversation script (see ``scripts``), and reading its expectations.

Every model forbids unknown keys, so ``expcet:`` is an error naming the line and
suggesting ``expect`` rather than a step that silently checks nothing.
"""

from __future__ import annotations

import difflib
import json
import re
from datetime import timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from textdesk.domain.agent.messages import Texter
from textdesk.domain.phones import to_e164
from textdesk.domain.records import parse_state, parse_urgency

__all__ = [
    "DEFAULT_PHONE",
    "RecordSpec",
    "ScriptSpec",
    "StepSpec",
    "TexterSpec",
    "describe",
    "matches",
    "parse_duration",
    "suggest",
]

DEFAULT_PHONE = "+15551230001"
_REGEX_RE = re.compile(r"^/(.+)/(i?)$", re.DOTALL)
_DURATION_RE = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
_CONTENT_TYPE_RE = re.compile(r"^[\w.+-]+/[\w.+-]+$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TexterSpec(_Model):
    """Who texts: an account holder (recognised by phone) or a guest."""

    phone: str = DEFAULT_PHONE
    name: str | None = None
    account: bool = True

    @field_validator("phone")
    @classmethod
    def _e164(cls, value: str) -> str:
        return to_e164(value)

    @model_validator(mode="after")
    def _guests_are_unknown(self) -> TexterSpec:
        if not self.account and self.name:
            raise ValueError("a guest (account: false) has no name: their number is unknown")
        return self

    def as_texter(self) -> Texter:
        """The engine's view of this texter (account holders get user id 1)."""
        return Texter(self.phone, user_id=1 if self.account else None, name=self.name)


class RecordSpec(_Model):
    """A record the texter opened before the conversation starts."""

    short_description: str
    description: str = ""
    category: str | None = None
    state: str = "New"
    urgency: int = 3
    assigned_to: str | None = None
    comments: tuple[str, ...] = ()

    @field_validator("state")
    @classmethod
    def _state(cls, value: str) -> str:
        return parse_state(value)

    @field_validator("urgency", mode="before")
    @classmethod
    def _urgency(cls, value: Any) -> int:
        return parse_urgency(value)


def parse_duration(text: str) -> timedelta:
    """``90s``, ``150m``, ``2h``, ``1h30m``, ``1d`` as a ``timedelta``."""
    match = _DURATION_RE.match(text.strip().lower())
    if not text.strip() or match is None:
        raise ValueError(f"{text!r} is not a duration like 90s, 150m, 2h or 1h30m")
    days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
    return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


def _pattern(expectation: str) -> re.Pattern[str] | None:
    match = _REGEX_RE.match(expectation)
    if match is None:
        return None
    return re.compile(match.group(1), re.IGNORECASE if match.group(2) else 0)


def matches(expectation: str, said: str) -> bool:
    """Whether ``said`` contains the substring, or a match of the ``/regex/``."""
    pattern = _pattern(expectation)
    return pattern.search(said) is not None if pattern else expectation in said


def describe(expectation: str) -> str:
    """An expectation as a failure message shows it: quoted text, or the /regex/."""
    return expectation if _pattern(expectation) else json.dumps(expectation)


class StepSpec(_Model):
    """One thing the texter does, and what the agent must answer."""

    say: str | None = None
    media: list[str] = Field(default_factory=list)
    wait: timedelta | None = None
    restart: bool = False
    expect: list[str] = Field(default_factory=list)
    not_expect: list[str] = Field(default_factory=list)
    expect_media: bool | None = None
    expect_silence: bool = False

    @field_validator("wait", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> Any:
        return parse_duration(value) if isinstance(value, str) else value

    @field_validator("expect", "not_expect", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("expect", "not_expect")
    @classmethod
    def _regexes_compile(cls, value: list[str]) -> list[str]:
        for expectation in value:
            try:
                _pattern(expectation)
            except re.error as exc:
                raise ValueError(f"{expectation}: invalid regular expression: {exc}") from exc
        return value

    @field_validator("media")
    @classmethod
    def _content_types(cls, value: list[str]) -> list[str]:
        for content_type in value:
            if not _CONTENT_TYPE_RE.match(content_type):
                raise ValueError(f"{content_type!r} is not a content type like image/png")
        return value

    @model_validator(mode="after")
    def _one_action(self) -> StepSpec:
        if self.restart:
            others = self.model_fields_set - {"restart"}
            if others:
                raise ValueError(f"a restart step takes no other keys (found {sorted(others)})")
        elif self.say is None and not self.media:
            raise ValueError("a step needs say (or media), or restart: true")
        if self.expect_silence and self.expect:
            raise ValueError("expect_silence and expect contradict each other")
        return self


class ScriptSpec(_Model):
    """A whole script file."""

    name: str | None = None
    texter: TexterSpec = Field(default_factory=TexterSpec)
    agents_available: bool = False
    records: list[RecordSpec] = Field(default_factory=list)
    steps: list[StepSpec] = Field(min_length=1)


_MODELS: tuple[type[BaseModel], ...] = (ScriptSpec, StepSpec, TexterSpec, RecordSpec)
_KNOWN_FIELDS = sorted({name for model in _MODELS for name in model.model_fields})


def suggest(unknown: str) -> str:
    """``"; did you mean 'expect'?"`` for a near miss of a known key, else ``""``."""
    close = difflib.get_close_matches(unknown, _KNOWN_FIELDS, n=1, cutoff=0.7)
    return f"; did you mean {close[0]!r}?" if close else ""
