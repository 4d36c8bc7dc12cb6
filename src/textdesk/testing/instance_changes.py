"""A fake of ``ports.IncidentChanges``: an instance's incidents and comments in memory.

Tests change incidents with :meth:`FakeIncidentChanges.change` at a time they give
(the instance's ``sys_updated_on``), add comments with :meth:`~FakeIncidentChanges.comment`,
and make the instance unreachable with ``down``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from textdesk.domain.instance_changes import ChangedIncident, InstanceComment


class InstanceDown(ConnectionError):
    """What the fake raises while ``down``."""


class FakeIncidentChanges:
    """Incidents by sys_id (``closed`` ones are not open) and their public comments."""

    def __init__(self) -> None:
        self.incidents: dict[str, ChangedIncident] = {}
        self.closed: set[str] = set()
        self.comments_written: list[InstanceComment] = []
        self.down = False
        self.asked: list[str] = []  # the questions, in order: "newest", "changed_since"…

    def change(self, sys_id: str, at: str, **fields: str) -> ChangedIncident:
        """Create or change an incident at instance time ``at``."""
        old = self.incidents.get(sys_id)
        if old is None:
            incident = ChangedIncident(
                sys_id=sys_id,
                number=fields.pop("number", f"INC{len(self.incidents) + 10001:07d}"),
                state=fields.pop("state", "New"),
                assigned_to=fields.pop("assigned_to", ""),
                caller_id=fields.pop("caller_id", ""),
                updated_on=at,
                short_description=fields.pop("short_description", ""),
            )
        else:
            incident = replace(old, updated_on=at)
        incident = replace(incident, **fields)
        self.incidents[sys_id] = incident
        return incident

    def comment(self, sys_id: str, text: str, *, author: str, at: str, user_name: str = "") -> None:
        """A public comment on an incident, which changes it (as on an instance)."""
        self.comments_written.append(InstanceComment(sys_id, text, author, at, user_name))
        self.change(sys_id, at)

    def _ask(self, question: str) -> None:
        self.asked.append(question)
        if self.down:
            raise InstanceDown("the instance did not answer")

    async def newest(self) -> str | None:
        self._ask("newest")
        return max((i.updated_on for i in self.incidents.values()), default=None)

    async def current(self, *, updated_since: str) -> list[ChangedIncident]:
        self._ask("current")
        return [
            i
            for i in self.incidents.values()
            if i.sys_id not in self.closed or i.updated_on >= updated_since
        ]

    async def changed_since(self, cursor: str) -> list[ChangedIncident]:
        self._ask("changed_since")
        found = [i for i in self.incidents.values() if i.updated_on >= cursor]
        return sorted(found, key=lambda i: i.updated_on, reverse=True)

    async def comments(self, after: Mapping[str, str]) -> list[InstanceComment]:
        self._ask("comments")
        found = [
            c
            for c in self.comments_written
            if c.incident in after and c.created_on > after[c.incident]
        ]
        return sorted(found, key=lambda c: c.created_on)
