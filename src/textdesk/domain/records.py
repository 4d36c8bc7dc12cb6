"""Incidents: the records texters open, follow and comment on (plain data and rules)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any

from textdesk.domain.agent.messages import Texter
from textdesk.domain.dates import as_utc, readable

STATES = ("New", "In Progress", "On Hold", "Resolved", "Closed", "Canceled")
OPEN_STATES = ("New", "In Progress", "On Hold")
URGENCY_LABELS = {1: "High", 2: "Medium", 3: "Low"}
PRIORITY_LABELS = {1: "Critical", 2: "High", 3: "Moderate", 4: "Low", 5: "Planning"}
# What a record shows to topics, cards and notification templates (``as_dict``'s keys).
RECORD_FIELDS = frozenset(
    {
        "number",
        "short_description",
        "description",
        "category",
        "state",
        "urgency",
        "priority",
        "caller",
        "caller_phone",
        "assigned_to",
        "opened_at",
        "opened_at_iso",
        "updated_at",
        "updated_at_iso",
        "comments",
        "attachments",
        "url",
    }
)
# Fields a record may be updated through (API, topics); the rest are derived or fixed.
EDITABLE = frozenset(
    {"short_description", "description", "category", "state", "urgency", "assigned_to"}
)


# ``Record.id`` of a record in a remote store: built-in ids start at 1, so nothing
# keyed by a record's id (events, the API's ids) can take it for a local row.
REMOTE_ID = 0


class InvalidRecord(ValueError):
    """A field value a record cannot take, with a message a person can act on."""


def number_for(record_id: int, prefix: str = "INC") -> str:
    """``INC0010001`` for the first record, as ServiceNow numbers them."""
    return f"{prefix}{10000 + record_id:07d}"


def parse_urgency(value: Any) -> int:
    """1/2/3 or High/Medium/Low (any case) to 1..3."""
    if isinstance(value, int) and value in URGENCY_LABELS:
        return value
    text = str(value).strip().lower()
    if text.isdigit() and int(text) in URGENCY_LABELS:
        return int(text)
    for number, label in URGENCY_LABELS.items():
        if text in (label.lower(), f"{number} - {label.lower()}"):
            return number
    raise InvalidRecord(f"urgency must be 1-3 or High/Medium/Low, not {value!r}")


def parse_state(value: Any) -> str:
    text = str(value).strip().lower().replace("_", " ")
    for state in STATES:
        if text == state.lower():
            return state
    raise InvalidRecord(f"state must be one of {', '.join(STATES)}, not {value!r}")


def priority_for(urgency: int, impact: int = 2) -> int:
    """ITIL's urgency × impact matrix (impact defaults to medium for texter reports)."""
    return min(5, max(1, urgency + impact - 1))


@dataclass(frozen=True)
class Comment:
    author: str
    body: str
    created_at: datetime
    public: bool = True


@dataclass(frozen=True)
class Record:
    id: int
    number: str
    short_description: str
    description: str
    category: str | None
    state: str
    urgency: int
    priority: int
    caller_id: int | None
    caller_name: str | None
    caller_phone: str | None
    assigned_to: str | None
    opened_at: datetime
    updated_at: datetime
    comments: tuple[Comment, ...] = ()
    attachments: tuple[str, ...] = field(default=())
    # A record kept in another service (ServiceNow): its id there (a sys_id); its
    # ``id`` is then REMOTE_ID, as no row here stands for it.
    external_id: str | None = None

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    def as_dict(self, url: str | None = None, zone: tzinfo = UTC) -> dict[str, Any]:
        """The record as topics, cards and notification templates see it.

        Dates read as a person reads them, in ``zone`` (the desk's); ``*_iso`` keeps
        the exact moment (UTC, ISO 8601) for templates that compare or link it.
        """
        return {
            "number": self.number,
            "short_description": self.short_description,
            "description": self.description,
            "category": self.category or "",
            "state": self.state,
            "urgency": f"{self.urgency} - {URGENCY_LABELS[self.urgency]}",
            "priority": f"{self.priority} - {PRIORITY_LABELS[self.priority]}",
            "caller": self.caller_name or self.caller_phone or "",
            "caller_phone": self.caller_phone or "",
            # Empty, not "(unassigned)": cards leave empty fields out.
            "assigned_to": self.assigned_to or "",
            "opened_at": readable(self.opened_at, zone),
            "opened_at_iso": _iso(self.opened_at),
            "updated_at": readable(self.updated_at, zone),
            "updated_at_iso": _iso(self.updated_at),
            "comments": [
                {
                    "author": c.author,
                    "body": c.body,
                    "created_at": readable(c.created_at, zone),
                    "created_at_iso": _iso(c.created_at),
                }
                for c in self.comments
                if c.public
            ],
            "attachments": len(self.attachments),
            "url": url or "",
        }


def _iso(moment: datetime) -> str:
    return as_utc(moment).isoformat()


@dataclass(frozen=True)
class NewRecord:
    """A record about to be opened: its fields checked, and what every record starts as."""

    short_description: str
    description: str
    category: str | None
    urgency: int
    priority: int
    caller_id: int | None
    caller_phone: str | None
    state: str = "New"
    attachments: tuple[str, ...] = ()
    # Set when a remote store creates it (``domain/agent/awaiting.py``): the same for
    # every try, so a create retried after a crash finds the record, not a second one.
    key: str | None = None


def new_record(
    *,
    short_description: str,
    description: str = "",
    category: str | None = None,
    urgency: Any = 3,
    caller_id: int | None,
    caller_phone: str | None,
    attachments: Sequence[str] = (),
) -> NewRecord:
    """A record as it is opened, whoever opens it (API, topic, demo).

    It starts ``New``, its priority follows from the urgency (:func:`priority_for`),
    and a blank short description reads "(no description)".  Raises
    ``InvalidRecord`` for an urgency that is not one.
    """
    level = parse_urgency(urgency)
    return NewRecord(
        short_description=(short_description.strip() or "(no description)")[:160],
        description=description,
        category=category,
        urgency=level,
        priority=priority_for(level),
        caller_id=caller_id,
        caller_phone=caller_phone,
        attachments=tuple(attachments),
    )


def requested_record(
    fields: dict[str, Any], *, texter: Texter, attachments: Sequence[str] = ()
) -> NewRecord:
    """The record a topic opens with ``fields``: the texter is its caller, whatever the
    fields say, so nobody texts a record into someone else's name."""
    category = fields.get("category")
    return new_record(
        short_description=str(fields.get("short_description", "")),
        description=str(fields.get("description", "")),
        category=str(category) if category else None,
        urgency=fields.get("urgency", 3),
        caller_id=texter.user_id,
        caller_phone=texter.phone,
        attachments=attachments,
    )


def belongs_to(record: Record, *, user_id: int | None, phone: str) -> bool:
    """Whether a record is this texter's: it names their account, or their phone.

    Either is enough, whichever way the record was created: a record opened through
    the API with only a caller phone is the account's record when that phone is the
    account's number, and a guest's record stays theirs once they get an account.
    """
    return (user_id is not None and record.caller_id == user_id) or record.caller_phone == phone


def changes(before: Record, fields: dict[str, Any]) -> dict[str, Any]:
    """Validate an update and return only what really changes (normalised)."""
    unknown = set(fields) - EDITABLE
    if unknown:
        raise InvalidRecord(f"cannot update field(s): {', '.join(sorted(unknown))}")
    normalised: dict[str, Any] = {}
    for name, raw in fields.items():
        value = _normalise(name, raw)
        if getattr(before, name) != value:
            normalised[name] = value
    if "urgency" in normalised:
        normalised["priority"] = priority_for(normalised["urgency"])
    return normalised


def _normalise(name: str, value: Any) -> Any:
    if name == "urgency":
        return parse_urgency(value)
    if name == "state":
        return parse_state(value)
    if name == "short_description":
        text = str(value).strip()
        if not text:
            raise InvalidRecord("short_description cannot be empty")
        return text[:160]
    return None if value is None else str(value)
