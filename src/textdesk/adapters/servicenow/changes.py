"""``ports.IncidentChanges``: what polling asks an instance, on the Table API.

Three questions, each paged:

- the incidents changed since the cursor, ``sys_updated_on>=<cursor>``, newest
  first.  Paged by offset, a list newest first only grows at its head while it is
  read: an incident changed meanwhile moves there and the rest move down, so a
  row may be read twice (kept once) but none is skipped, and the moved incident is
  newer than the round's cursor, so the next round reads it;
- the public comments of those incidents, from ``sys_journal_field``
  (``element=comments^element_idIN…^sys_created_on>…``, oldest first), and their
  authors' names from ``sys_user`` (an event polled says what the business rule
  would post: the comment trimmed, its author's name and user_name);
- at the first round, the latest ``sys_updated_on`` and the incidents that may
  still change: the open ones and those updated lately.

Only the fields polling compares are asked for (``FIELDS``); states and names are
display values, times and the caller are values (UTC, as the business rule sends
them).  An instance whose ACLs refuse ``sys_journal_field`` is polled without
comments (logged); any other failure fails the round.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any

from textdesk.adapters.servicenow.client import (
    ServiceNowClient,
    ServiceNowError,
    ServiceNowUnavailable,
)
from textdesk.domain.instance_changes import ChangedIncident, InstanceComment

log = logging.getLogger(__name__)

TABLE = "incident"
FIELDS = (
    "sys_id",
    "number",
    "state",
    "assigned_to",
    "caller_id",
    "sys_updated_on",
    "short_description",
)
COMMENT_FIELDS = ("element_id", "value", "sys_created_by", "sys_created_on")
# sys_ids and user names go into encoded queries: nothing but these characters.
_PLAIN = re.compile(r"[A-Za-z0-9_.@\-]+")


def _value(row: Mapping[str, Any], name: str) -> str:
    field = row.get(name, "")
    if isinstance(field, dict):
        field = field.get("value", "")
    return str(field or "")


def _display(row: Mapping[str, Any], name: str) -> str:
    field = row.get(name, "")
    if isinstance(field, dict):
        field = field.get("display_value", "")
    return str(field or "")


def incident_of(row: Mapping[str, Any]) -> ChangedIncident:
    """A row asked with ``sysparm_display_value=all``, as polling compares it."""
    return ChangedIncident(
        sys_id=_value(row, "sys_id"),
        number=_value(row, "number"),
        state=_display(row, "state"),
        assigned_to=_display(row, "assigned_to") if _value(row, "assigned_to") else "",
        caller_id=_value(row, "caller_id"),
        updated_on=_value(row, "sys_updated_on"),
        short_description=_value(row, "short_description"),
    )


class InstanceChanges:
    """Polling's questions to one instance (``ports.IncidentChanges``)."""

    def __init__(
        self, client: ServiceNowClient, *, page_size: int = 200, ids_per_query: int = 50
    ) -> None:
        self._client = client
        self._page_size = page_size
        # 32 characters and a comma each: 50 keep a query well under URL limits.
        self._ids_per_query = ids_per_query

    async def newest(self) -> str | None:
        rows = await self._client.rows(
            TABLE,
            query="ORDERBYDESCsys_updated_on",
            fields=("sys_updated_on",),
            limit=1,
            display_value="false",
        )
        newest = _value(rows[0], "sys_updated_on") if rows else ""
        return newest or None

    async def current(self, *, updated_since: str) -> list[ChangedIncident]:
        # Two plain queries rather than one with ^NQ, whose ORDERBY an instance may not
        # apply to both halves; sys_id order stays put while incidents change.
        found: dict[str, ChangedIncident] = {}
        for query in ("active=true", f"active=false^sys_updated_on>={updated_since}"):
            for row in await self._pages(TABLE, f"{query}^ORDERBYsys_id", FIELDS, "all"):
                incident = incident_of(row)
                found.setdefault(incident.sys_id, incident)
        return list(found.values())

    async def changed_since(self, cursor: str) -> list[ChangedIncident]:
        query = f"sys_updated_on>={cursor}^ORDERBYDESCsys_updated_on^ORDERBYsys_id"
        rows = await self._pages(TABLE, query, FIELDS, "all")
        found: dict[str, ChangedIncident] = {}
        for row in rows:
            incident = incident_of(row)
            # Read twice when it moved up meanwhile: the first read is the newer.
            found.setdefault(incident.sys_id, incident)
        return list(found.values())

    async def comments(self, after: Mapping[str, str]) -> list[InstanceComment]:
        ids = sorted(i for i in after if _PLAIN.fullmatch(i))
        rows: list[dict[str, Any]] = []
        try:
            for start in range(0, len(ids), self._ids_per_query):
                chunk = ids[start : start + self._ids_per_query]
                since = min(after[i] for i in chunk)
                query = (
                    f"element=comments^element_idIN{','.join(chunk)}"
                    f"^sys_created_on>{since}^ORDERBYsys_created_on"
                )
                rows += await self._pages("sys_journal_field", query, COMMENT_FIELDS, "false")
        except ServiceNowUnavailable:
            raise
        except ServiceNowError as refused:
            log.warning("the instance's comments cannot be read for polling: %s", refused)
            return []
        # The chunk asked from its earliest time; each incident's own is later or equal.
        new = [r for r in rows if _value(r, "sys_created_on") > after[_value(r, "element_id")]]
        names = await self._names({_value(r, "sys_created_by") for r in new})
        comments = [
            InstanceComment(
                incident=_value(r, "element_id"),
                # As the business rule reads it: the journal entry's text, trimmed.
                text=_value(r, "value").strip(),
                author=names.get(_value(r, "sys_created_by"), ""),
                created_on=_value(r, "sys_created_on"),
                author_user_name=_value(r, "sys_created_by"),
            )
            for r in new
        ]
        comments.sort(key=lambda c: c.created_on)
        return comments

    async def _names(self, user_names: set[str]) -> dict[str, str]:
        """Full names of the users who wrote comments, the integration user's too: the
        business rule sends the writer's name, and an event polled must say what the
        same event posted says (its digest)."""
        wanted = sorted(n for n in user_names if n and _PLAIN.fullmatch(n))
        if not wanted:
            return {}
        rows = await self._pages(
            "sys_user", f"user_nameIN{','.join(wanted)}", ("user_name", "name"), "false"
        )
        return {_value(r, "user_name"): _value(r, "name") for r in rows if _value(r, "name")}

    async def _pages(
        self, table: str, query: str, fields: Sequence[str], display_value: str
    ) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        while True:
            page = await self._client.rows(
                table,
                query=query,
                fields=fields,
                limit=self._page_size,
                offset=len(rows),
                display_value=display_value,
            )
            rows += page
            if len(page) < self._page_size:
                return rows
