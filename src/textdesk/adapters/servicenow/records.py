"""The stand-in instance's rows and the business rules a stock instance runs on them.

Rows are ``dict[str, str]``: the Table API speaks text (``"active": "true"``,
``"urgency": "2"``), so the values are kept as it shows them.  Journal entries
are rows of ``sys_journal_field`` and attachment metadata rows of
``sys_attachment``, so the generic Table API reads them like any table.

Not thread-safe: :class:`~textdesk.adapters.servicenow.sandbox.FakeServiceNow`
holds its lock around every call.
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Literal

from textdesk.adapters.servicenow import schema
from textdesk.adapters.servicenow.encoded_query import EncodedQuery

DisplayMode = Literal["false", "true", "all"]
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
FIRST_NUMBER = 10001  # a fresh instance's first incident is INC0010001


def new_sys_id() -> str:
    """A sys_id: 32 lower-case hex digits."""
    return secrets.token_hex(16)


def _text(value: Any) -> str:
    """A JSON value as the instance stores it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        # A reference read back from the API ({"value", "link"}) written back as is.
        return _text(value.get("value", ""))
    return str(value)


class Instance:
    """Tables of rows, with sys fields, numbers, priority, state/active and journals."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self._clock = clock
        self._rows: dict[str, dict[str, dict[str, str]]] = {}
        # Insertion order across all tables: the tie-break when sort keys are equal.
        self._sequence: dict[str, int] = {}
        self._counter = itertools.count()
        self._numbers: dict[str, itertools.count[int]] = {}

    # ----------------------------------------------------------------- reading

    def now(self) -> str:
        """The instance's clock as its sys fields show it (UTC)."""
        return self._clock().strftime(TIME_FORMAT)

    def get(self, table: str, sys_id: str) -> dict[str, str] | None:
        """A copy of one row, or None."""
        row = self._rows.get(table, {}).get(sys_id)
        return None if row is None else dict(row)

    def rows(self, table: str) -> list[dict[str, str]]:
        """Copies of every row of ``table``, oldest first."""
        return [dict(row) for row in self._rows.get(table, {}).values()]

    def value_of(self, table: str, row: Mapping[str, str], path: str) -> str:
        """A field's value, dot-walking references (``caller_id.mobile_phone``)."""
        name, _, rest = path.partition(".")
        value = row.get(name, "")
        if not rest:
            return value
        target = schema.table(table).references.get(name)
        if target is None or (referenced := self._rows.get(target, {}).get(value)) is None:
            return ""
        return self.value_of(target, referenced, rest)

    def known_field(self, table: str, path: str) -> bool:
        """Whether a query may use ``path`` on ``table`` (the instance drops other parts)."""
        name, _, rest = path.partition(".")
        info = schema.table(table)
        if info.generic:
            known = any(name in row for row in self._rows.get(table, {}).values())
            known = known or name in schema.SYSTEM_FIELDS
        else:
            known = info.has(name)
        if not known or not rest:
            return known
        target = info.references.get(name)
        return target is not None and self.known_field(target, rest)

    def select(self, table: str, query: EncodedQuery) -> list[dict[str, str]]:
        """Copies of the rows matching ``query``, in its order."""
        candidates = list(self._rows.get(table, {}).values())
        if query.order and query.order[0].descending:
            # Newest first among equal keys, as "ORDERBYDESCsys_created_on" readers expect
            # when two rows share a second.
            candidates.reverse()
        chosen = [row for row in candidates if query.matches(self._reader(table, row))]
        ordered = query.sort(chosen, lambda row, path: self.value_of(table, row, path))
        return [dict(row) for row in ordered]

    def _reader(self, table: str, row: Mapping[str, str]) -> Callable[[str], str]:
        return lambda path: self.value_of(table, row, path)

    def display_of(self, table: str, row: Mapping[str, str], name: str) -> str:
        """The display value of field ``name`` of ``row``."""
        info = schema.table(table)
        value = row.get(name, "")
        if name in info.journals:
            return self.journal_text(row.get("sys_id", ""), name)
        target = info.references.get(name)
        if target is not None:
            referenced = self._rows.get(target, {}).get(value)
            if referenced is None:
                return ""
            return referenced.get(schema.table(target).display_field, "")
        labels = info.choices.get(name)
        if labels is not None:
            return labels.get(value, value)
        return value

    def journal_text(self, sys_id: str, element: str) -> str:
        """A journal field as the instance shows it: entries newest first."""
        label = schema.JOURNAL_LABELS.get(element, element)
        entries = [
            row
            for row in self._rows.get("sys_journal_field", {}).values()
            if row["element_id"] == sys_id and row["element"] == element
        ]
        entries.sort(key=lambda row: (row["sys_created_on"], self._sequence[row["sys_id"]]))
        return "".join(
            f"{row['sys_created_on']} - {self._person(row['sys_created_by'])} ({label})\n"
            f"{row['value']}\n\n"
            for row in reversed(entries)
        )

    def _person(self, user_name: str) -> str:
        for user in self._rows.get("sys_user", {}).values():
            if user.get("user_name") == user_name:
                return user.get("name") or user_name
        return user_name

    # ----------------------------------------------------------------- writing

    def insert(self, table: str, values: Mapping[str, Any], user_name: str) -> dict[str, str]:
        """Create a row the way a stock instance would; return a copy."""
        info = schema.table(table)
        now = self.now()
        sys_id = _text(values.get("sys_id")) or new_sys_id()
        row: dict[str, str] = {name: "" for name in info.columns}
        row.update(info.defaults)
        row.update(
            sys_id=sys_id,
            sys_created_on=now,
            sys_created_by=user_name,
            sys_updated_on=now,
            sys_updated_by=user_name,
            sys_mod_count="0",
        )
        journal = self._assign(info, row, values)
        if info.number_prefix and not row.get("number"):
            counter = self._numbers.setdefault(table, itertools.count(FIRST_NUMBER))
            row["number"] = f"{info.number_prefix}{next(counter):07d}"
        if table == "incident":
            row["opened_at"] = row["opened_at"] or now
            row["opened_by"] = row["opened_by"] or self._user_id(user_name)
        if table == "sys_user" and not row.get("name"):
            row["name"] = " ".join(p for p in (row["first_name"], row["last_name"]) if p)
        self._apply_rules(table, row, now, user_name)
        self._rows.setdefault(table, {})[sys_id] = row
        self._sequence[sys_id] = next(self._counter)
        self._write_journal(table, row, journal, user_name)
        return dict(row)

    def update(
        self, table: str, sys_id: str, values: Mapping[str, Any], user_name: str
    ) -> dict[str, str] | None:
        """Change a row (PATCH and PUT alike); None when there is no such row."""
        row = self._rows.get(table, {}).get(sys_id)
        if row is None:
            return None
        info = schema.table(table)
        now = self.now()
        journal = self._assign(info, row, values)
        row.update(
            sys_updated_on=now,
            sys_updated_by=user_name,
            sys_mod_count=str(int(row.get("sys_mod_count") or 0) + 1),
        )
        self._apply_rules(table, row, now, user_name)
        self._write_journal(table, row, journal, user_name)
        return dict(row)

    def delete(self, table: str, sys_id: str) -> bool:
        """Remove a row; False when there was none."""
        return self._rows.get(table, {}).pop(sys_id, None) is not None

    def _assign(
        self, info: schema.Table, row: dict[str, str], values: Mapping[str, Any]
    ) -> dict[str, str]:
        """Copy writable values into ``row``; return the journal entries to add."""
        journal: dict[str, str] = {}
        for name, raw in values.items():
            # The instance ignores unknown fields and system fields alike.
            if not info.has(name) or name in schema.SYSTEM_FIELDS:
                continue
            if name in info.journals:
                if text := _text(raw):
                    journal[name] = text
                continue
            row[name] = _text(raw)
        return journal

    def _apply_rules(self, table: str, row: dict[str, str], now: str, user_name: str) -> None:
        if table != "incident":
            return
        row["incident_state"] = row["state"]
        lookup = schema.PRIORITY_LOOKUP.get((row["impact"], row["urgency"]))
        if lookup is not None:
            row["priority"] = lookup
        was_active = row.get("active") != "false"
        row["active"] = "false" if row["state"] in schema.INACTIVE_STATES else "true"
        if row["state"] == "6" and not row["resolved_at"]:
            row["resolved_at"] = now
            row["resolved_by"] = row["resolved_by"] or self._user_id(user_name)
        if row["state"] == "7" and not row["closed_at"]:
            row["closed_at"] = now
            row["closed_by"] = row["closed_by"] or self._user_id(user_name)
        if row["active"] == "true" and not was_active:
            # Reopened: the resolution no longer holds.
            row.update(resolved_at="", resolved_by="", closed_at="", closed_by="")

    def _write_journal(
        self, table: str, row: Mapping[str, str], entries: Mapping[str, str], user_name: str
    ) -> None:
        for element, text in entries.items():
            self.insert(
                "sys_journal_field",
                {"element": element, "element_id": row["sys_id"], "name": table, "value": text},
                user_name,
            )

    def _user_id(self, user_name: str) -> str:
        for user in self._rows.get("sys_user", {}).values():
            if user.get("user_name") == user_name:
                return user["sys_id"]
        return ""

    # ----------------------------------------------------------------- showing

    def render(
        self,
        table: str,
        row: Mapping[str, str],
        *,
        fields: list[str] | None,
        display: DisplayMode,
        links: bool,
        base_url: str,
    ) -> dict[str, Any]:
        """A row as the Table API returns it."""
        info = schema.table(table)
        names = fields if fields else list(row)
        shown: dict[str, Any] = {}
        for name in names:
            if "." in name:
                if self.known_field(table, name):
                    shown[name] = self._walked(table, row, name, display)
                continue
            if name not in row:
                continue  # "Invalid fields are ignored."
            value = row[name]
            if name in info.journals:
                value = ""  # a journal stores nothing in the row; its display is the entries
            target = info.references.get(name)
            if target is not None and row[name]:
                shown[name] = self._reference(table, row, name, target, display, links, base_url)
            elif display == "false":
                shown[name] = value
            elif display == "true":
                shown[name] = self.display_of(table, row, name)
            else:
                shown[name] = {"display_value": self.display_of(table, row, name), "value": value}
        return shown

    def _reference(
        self,
        table: str,
        row: Mapping[str, str],
        name: str,
        target: str,
        display: DisplayMode,
        links: bool,
        base_url: str,
    ) -> Any:
        value = row[name]
        shown: dict[str, str] = {}
        if display != "false":
            shown["display_value"] = self.display_of(table, row, name)
        if links:
            shown["link"] = f"{base_url}/api/now/table/{target}/{value}"
        if display != "true":
            shown["value"] = value
        if len(shown) == 1:
            # With the link excluded a reference is plain text, like any other field.
            return next(iter(shown.values()))
        return shown

    def _walked(self, table: str, row: Mapping[str, str], path: str, display: DisplayMode) -> Any:
        head, _, rest = path.rpartition(".")
        owner_table, owner = table, dict(row)
        for name in head.split("."):
            target = schema.table(owner_table).references.get(name)
            found = self._rows.get(target or "", {}).get(owner.get(name, ""))
            if target is None or found is None:
                return "" if display != "all" else {"display_value": "", "value": ""}
            owner_table, owner = target, found
        value = owner.get(rest, "")
        if display == "false":
            return value
        shown = self.display_of(owner_table, owner, rest)
        return shown if display == "true" else {"display_value": shown, "value": value}
