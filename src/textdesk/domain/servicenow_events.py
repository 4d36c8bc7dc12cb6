"""Record events a ServiceNow business rule posts: their signature and their shape.

The rule signs ``<timestamp>.<raw body>`` with HMAC-SHA256 under the shared secret
(``GlideCertificateEncryption.generateMac``, which answers in base64), so a
request is believed only when the signature matches the exact bytes received and
the timestamp is close to now: a captured request cannot be replayed later.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from textdesk.domain.records import REMOTE_ID, Record, priority_for

# How far the instance's clock and ours may disagree (and a request be delayed).
MAX_SKEW_SECONDS = 300
# A business rule's event is well under 1 KB, a long comment a few KB; more is not one.
MAX_BODY_BYTES = 64 * 1024
# The instance's event name -> the notification template (and event kind) it drives,
# the same as the built-in store's record events.
TEMPLATE_OF = {
    "state_changed": "state_changed",
    "comment_added": "commented",
    "assigned": "assigned",
}
# How the record store signs a comment it writes for someone (the integration user
# writes it, the text names the texter or agent).
COMMENT_SIGNATURE = " (by text): "


class RefusedEvent(Exception):
    """Not believed to come from the instance (the message says why, for the log)."""


class MalformedEvent(ValueError):
    """A signed body that is not an event this desk can act on (the message says why)."""


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """base64(HMAC-SHA256(secret, "<timestamp>.<body>")), as the business rule computes it."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return base64.b64encode(mac.digest()).decode("ascii")


def check_signature(
    *, secret: str | None, timestamp: str | None, signed: str | None, body: bytes, now: float
) -> None:
    """Raise :class:`RefusedEvent` unless ``signed`` is the body's signature, made recently."""
    if not secret:
        raise RefusedEvent("TEXTDESK_SERVICENOW_EVENTS_SECRET is not set: events are refused")
    if not timestamp or not signed:
        raise RefusedEvent("X-Textdesk-Timestamp and X-Textdesk-Signature are required")
    stamp = timestamp.strip()
    if not (stamp.isascii() and stamp.isdigit()) or len(stamp) > 12:
        raise RefusedEvent("X-Textdesk-Timestamp must be Unix seconds")
    if abs(now - int(stamp)) > MAX_SKEW_SECONDS:
        raise RefusedEvent("X-Textdesk-Timestamp is more than 5 minutes from now")
    expected = signature(secret, stamp, body)
    # Constant-time: how much of a guess matched must not show in the answer's timing.
    if not hmac.compare_digest(expected.encode(), signed.strip().encode("utf-8", "replace")):
        raise RefusedEvent("X-Textdesk-Signature does not match the body")


@dataclass(frozen=True)
class InstanceEvent:
    """A change to an incident on the instance, as its business rule reports it."""

    sys_id: str
    number: str
    event: str  # state_changed | comment_added | assigned
    caller_id: str
    sys_updated_on: str
    state: str = ""
    comment: str = ""
    assigned_to: str = ""
    author: str = ""  # optional: who wrote the comment, their name (the rule sends it)
    # Optional: their user_name (the rule sends it): a comment signed for a texter is
    # the texter's own only when the integration user wrote it (``signed_for``).
    author_user_name: str = ""
    short_description: str = ""  # optional: the text reads better with it

    @property
    def template(self) -> str:
        return TEMPLATE_OF[self.event]

    @property
    def digest(self) -> str:
        """What the event says (the new state, the assignee, the comment and who wrote
        it), hashed: with ``sys_id``, ``event`` and ``sys_updated_on`` it names the
        event.  ``sys_updated_on`` counts whole seconds, so two comments saved in one
        second differ only here; the same event posted twice has the same digest.
        """
        said = {
            "state_changed": [self.state],
            "assigned": [self.assigned_to],
            "comment_added": [self.comment, self.author, self.author_user_name],
        }[self.event]
        return hashlib.sha256(json.dumps(said).encode()).hexdigest()

    def data(self, *, integration_user: str | None = None) -> dict[str, Any]:
        """What the template reads as ``event.*``, as for a built-in record's event.

        ``integration_user``: the user textdesk writes as (``SERVICENOW_USERNAME``);
        a comment it signed for a texter names the texter as its author.
        """
        if self.event == "state_changed":
            return {"to": self.state}
        if self.event == "assigned":
            return {"to": self.assigned_to}
        signed = self.signed_for(integration_user)
        author, body = signed or (self.author, self.comment)
        return {"author": author or "the service desk", "body": body}

    def signed_for(self, integration_user: str | None) -> tuple[str, str] | None:
        """``(texter, body)`` of a comment the record store wrote for a texter, else None.

        Anyone on the instance can begin a comment with "Alice Example (by text): ",
        so the signature counts only when the event says the integration user wrote
        it (``author_user_name``, which the business rule in docs/servicenow.md
        sends).  An event that does not say who wrote it is taken at its word, as
        before that field existed.
        """
        signed = split_signed(self.comment) if self.event == "comment_added" else None
        if signed is None:
            return None
        if self.author_user_name and self.author_user_name != integration_user:
            return None  # someone on the instance, writing as if for the texter
        return signed

    def record(self, *, caller_phone: str | None, now: datetime) -> Record:
        """The incident as far as the event tells it: what a template is shown when
        the instance cannot be asked for the rest (its urgency is not known: low)."""
        return Record(
            id=REMOTE_ID,
            external_id=self.sys_id,
            number=self.number,
            short_description=self.short_description,
            description="",
            category=None,
            state=self.state,
            urgency=3,
            priority=priority_for(3),
            caller_id=None,
            caller_name=None,
            caller_phone=caller_phone,
            assigned_to=self.assigned_to or None,
            opened_at=now,
            updated_at=_moment(self.sys_updated_on) or now,
        )


def _moment(text: str) -> datetime | None:
    """``sys_updated_on`` as the Table API writes it (UTC, ``YYYY-MM-DD HH:MM:SS``)."""
    try:
        return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        return None


_REQUIRED = ("sys_id", "number", "event", "caller_id", "sys_updated_on")
_OPTIONAL = ("state", "comment", "assigned_to", "author", "author_user_name", "short_description")


def parse_event(body: bytes) -> InstanceEvent:
    """The event in a signed body; :class:`MalformedEvent` says what is wrong with it."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MalformedEvent(f"the body is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise MalformedEvent("the body must be a JSON object")
    table = data.get("table", "incident")
    if table != "incident":
        raise MalformedEvent(f"table must be 'incident', not {table!r}")
    fields: dict[str, str] = {}
    for name in (*_REQUIRED, *_OPTIONAL):
        value = data.get(name)
        if value is None:
            value = ""
        if not isinstance(value, str):
            raise MalformedEvent(f"{name} must be a string")
        fields[name] = value.strip() if name != "comment" else value
    missing = [name for name in _REQUIRED if not fields[name]]
    if missing:
        raise MalformedEvent(f"missing {', '.join(missing)}")
    if fields["event"] not in TEMPLATE_OF:
        raise MalformedEvent(f"event must be one of {', '.join(TEMPLATE_OF)}")
    if fields["event"] == "state_changed" and not fields["state"]:
        raise MalformedEvent("a state_changed event needs state")
    if fields["event"] == "comment_added" and not fields["comment"].strip():
        raise MalformedEvent("a comment_added event needs comment")
    return InstanceEvent(**fields)


def split_signed(text: str) -> tuple[str, str] | None:
    """``(author, body)`` of a comment the record store wrote for someone, else None."""
    author, found, body = text.partition(COMMENT_SIGNATURE)
    if not found or not author or "\n" in author:
        return None
    return author, body
