"""An instance's incidents as polling reads them, and the events their changes make.

Where the instance may not call out, textdesk asks it for the incidents changed
since the newest ``sys_updated_on`` it saw, compares each with what it last saw of
it (its state and assignee, as the instance shows them), and reads the public
comments written since.  Each difference becomes the :class:`InstanceEvent` the
business rule would have posted, keyed the same way, so an event reaching textdesk
both ways is noted, and texted, once.

Times are the Table API's: UTC, ``YYYY-MM-DD HH:MM:SS``, which sort as text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from textdesk.domain.servicenow_events import InstanceEvent

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
# Before every time the instance writes: the cursor of an instance with no incident.
EPOCH = "1970-01-01 00:00:00"


@dataclass(frozen=True)
class ChangedIncident:
    """An incident as a round reads it: display values, except the caller's sys_id."""

    sys_id: str
    number: str
    state: str  # as the instance shows it ("Resolved")
    assigned_to: str  # the assignee's name; empty when unassigned
    caller_id: str  # the caller's sys_user sys_id; empty for a guest's report
    updated_on: str
    short_description: str = ""


@dataclass(frozen=True)
class InstanceComment:
    """A public comment (a ``comments`` row of ``sys_journal_field``)."""

    incident: str  # the incident's sys_id (element_id)
    text: str
    author: str  # the full name of the user who wrote it
    created_on: str
    author_user_name: str = ""  # their user_name (sys_created_by)


@dataclass(frozen=True)
class Snapshot:
    """What textdesk last knew of an incident, each part with the time it is from.

    ``comments_through``: every comment created up to then has been handed on (or
    was there before polling began); later ones are new.
    """

    sys_id: str
    state: str
    state_on: str
    assigned_to: str
    assigned_on: str
    comments_through: str

    @classmethod
    def baseline(cls, incident: ChangedIncident) -> Snapshot:
        """The incident as the first round finds it: nothing of it is news."""
        on = incident.updated_on
        return cls(incident.sys_id, incident.state, on, incident.assigned_to, on, on)

    @classmethod
    def read(cls, incident: ChangedIncident) -> Snapshot:
        """The incident as a later round read it.  A comment written in the second of
        its ``sys_updated_on`` but after the read is still to come: the comments are
        complete only through the second before (those read are known by their key)."""
        on = incident.updated_on
        return cls(
            incident.sys_id, incident.state, on, incident.assigned_to, on, a_second_before(on)
        )


@dataclass(frozen=True)
class PollClaim:
    """A round this process may run: ``cursor`` is None before the first one."""

    cursor: str | None


def instance_time(moment: datetime) -> str:
    """``moment`` as the Table API writes times (UTC)."""
    return moment.astimezone(UTC).strftime(TIME_FORMAT)


def a_second_before(stamp: str) -> str:
    """The instance time one second before ``stamp`` (``stamp`` if it is not a time)."""
    try:
        moment = datetime.strptime(stamp, TIME_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return stamp
    return instance_time(moment - timedelta(seconds=1))


def _event(incident: ChangedIncident, kind: str, on: str, **extra: str) -> InstanceEvent:
    # Every event carries the incident's fields, as the business rule's ``base`` does.
    return InstanceEvent(
        sys_id=incident.sys_id,
        number=incident.number,
        event=kind,
        caller_id=incident.caller_id,
        sys_updated_on=on,
        state=incident.state,
        assigned_to=incident.assigned_to,
        short_description=incident.short_description,
        **extra,
    )


def differences(incident: ChangedIncident, known: Snapshot) -> list[InstanceEvent]:
    """The state change and the (re)assignment between ``known`` and ``incident``."""
    found: list[InstanceEvent] = []
    if incident.state != known.state and incident.state:
        found.append(_event(incident, "state_changed", incident.updated_on))
    if incident.assigned_to != known.assigned_to:
        # Unassigned too: the template says it is back in the queue.
        found.append(_event(incident, "assigned", incident.updated_on))
    return found


def comment_event(incident: ChangedIncident, comment: InstanceComment) -> InstanceEvent:
    """A new comment as the business rule posts it: its text, who wrote it (name and
    user_name), and its time, the second the instance saved it and the incident's
    ``sys_updated_on`` with it, which is what the rule sends."""
    return _event(
        incident,
        "comment_added",
        comment.created_on,
        comment=comment.text,
        author=comment.author,
        author_user_name=comment.author_user_name,
    )
