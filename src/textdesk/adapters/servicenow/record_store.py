"""Incidents on a ServiceNow instance, as a ``ports.RecordStore``.

Remote: the engine calls it only outside every transaction (``domain/agent/awaiting.py``).
A texter is a ``sys_user`` found by their mobile number (``users.UserIndex``); their
open incidents are ``caller_id=<sys_id>^active=true``, newest first.  States,
priorities and references are read as the instance shows them (display values) and
written as its values.  Every change is made by the integration user; a comment
carries its author's name in its text.

Rows are not taken on the query's word: an instance drops the parts of a query it
cannot read (an operator or a field it does not have) and answers the rest, which
may be every incident.  So a look-up checks what it asked for in what came back
(the ``number``, the ``correlation_id``, the caller) and drops anything else.

A create carries the effect's key in ``correlation_id`` (``correlation_display``
``textdesk``) and looks that key up first, so a create tried again after a timeout
or a crash finds the incident the first try made instead of making a second; the
texter's photos left out by a failed try are uploaded then.  A comment the inbox
loop may be making again is not added when the integration user's newest comment on
the incident already is that text, made minutes ago (an earlier call's answer was
lost, or not used).
"""

from __future__ import annotations

import logging
import mimetypes
import re
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from textdesk.adapters.servicenow import journal
from textdesk.adapters.servicenow.client import (
    ServiceNowClient,
    ServiceNowError,
    ServiceNowUnavailable,
)
from textdesk.adapters.servicenow.users import UserIndex, normalised
from textdesk.domain.records import (
    PRIORITY_LABELS,
    REMOTE_ID,
    URGENCY_LABELS,
    Comment,
    InvalidRecord,
    NewRecord,
    Record,
    changes,
    priority_for,
)
from textdesk.domain.servicenow_events import COMMENT_SIGNATURE, split_signed
from textdesk.ports import StoredMedia

log = logging.getLogger(__name__)

TABLE = "incident"
CORRELATION_DISPLAY = "textdesk"
# Only what a record shows (``domain.records.Record``); the caller's mobile number
# dot-walked, so ``belongs_to`` can compare it with the texter's.
FIELDS = (
    "sys_id",
    "number",
    "short_description",
    "description",
    "category",
    "state",
    "urgency",
    "priority",
    "caller_id",
    "caller_id.mobile_phone",
    "assigned_to",
    "sys_created_on",
    "sys_updated_on",
)
# A list also reads ``active``, to check that what came back is what was asked for.
_LISTED = (*FIELDS, "active")
# A stock instance's incident states (value for each label textdesk uses).
STATE_VALUES = {
    "New": "1",
    "In Progress": "2",
    "On Hold": "3",
    "Resolved": "6",
    "Closed": "7",
    "Canceled": "8",
}
# The stock category choices; the demo topics' own words are mapped onto them, so
# incidents from texts land in lists and reports the instance already has.
STOCK_CATEGORIES = frozenset({"inquiry", "software", "hardware", "network", "database"})
CATEGORY_OF = {
    "printer": "hardware",
    "laptop": "hardware",
    "pc": "hardware",
    "email": "software",
    "password": "inquiry",
    "wifi": "network",
    "other": "inquiry",
}
# Texters' references and our keys go into encoded queries: nothing but these.
_PLAIN = re.compile(r"[A-Za-z0-9_.\-]+")
_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
# How long after a comment the inbox loop may still be making its call again: its
# retries end within seconds, a dead process's claim lapses after a minute; the rest
# is room for the instance's clock and ours to differ (events allow 5 minutes).
REPEAT_WINDOW = timedelta(minutes=15)
# How a comment written for someone says who: "Alice Example (by text): ..." (the
# events the instance posts read it back, domain/servicenow_events.py).
SIGNATURE = COMMENT_SIGNATURE
# How a comment or work note written for staff (the REST API) says who:
# "Dana Agent (textdesk): ...".  Not the texter's signature, so the instance's events
# bring it to the caller like any agent's comment.
STAFF_SIGNATURE = " (textdesk): "
# How long a refusal (403) of ``sys_journal_field`` is believed: ACLs change rarely,
# and without it every record read would make the refused call before the one that
# works.  After it the table is asked again, in case its ACLs were opened.
JOURNAL_REFUSAL_KEPT = 600.0  # seconds
_JOURNAL = "sys_journal_field"


class MediaReader(Protocol):
    """Textdesk's stored images (``adapters/db/media.SqlMediaStore``), each read on a
    connection of its own: this store runs outside every transaction."""

    async def load(self, key: str) -> StoredMedia | None: ...


def _value(row: Mapping[str, Any], name: str) -> str:
    field = row.get(name, "")
    if isinstance(field, dict):
        field = field.get("value", "")
    if isinstance(field, bool):  # a True/False field, as some instances answer it
        return "true" if field else "false"
    return str(field or "")


def _display(row: Mapping[str, Any], name: str) -> str:
    field = row.get(name, "")
    if isinstance(field, dict):
        field = field.get("display_value", "")
    return str(field or "")


def _level(raw: str, known: Mapping[int, str], default: int) -> int:
    return int(raw) if raw.isdigit() and int(raw) in known else default


def _moment(raw: str) -> datetime:
    try:
        return datetime.strptime(raw, _TIME_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return datetime.now(UTC)


def category_for(category: str | None) -> str:
    """The instance's category for a texter's choice (stock values pass through)."""
    word = (category or "").strip().lower()
    if word in STOCK_CATEGORIES:
        return word
    return CATEGORY_OF.get(word, "inquiry")


def _escaped(value: str) -> str:
    # A caret ends a condition in an encoded query; doubled, it is a caret.
    return value.replace("^", "^^")


class ServiceNowRecords:
    """``ports.RecordStore`` on a ServiceNow instance's ``incident`` table."""

    remote = True

    def __init__(
        self,
        client: ServiceNowClient,
        users: UserIndex,
        media: MediaReader | None = None,
        *,
        region: str = "US",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._users = users
        self._media = media
        self._region = region
        self._clock = clock
        self._journal_refused_at: float | None = None

    @property
    def users(self) -> UserIndex:
        """Who texts: the instance's users by mobile number."""
        return self._users

    @property
    def integration_user(self) -> str:
        """The user name every change textdesk makes on the instance is made by."""
        return self._client.username

    @property
    def instance_url(self) -> str:
        return self._client.base_url

    @property
    def client(self) -> ServiceNowClient:
        """The instance's client, shared with what else asks it (polling)."""
        return self._client

    async def aclose(self) -> None:
        await self._client.aclose()

    # ----------------------------------------------------------------- reading

    def record_of(self, row: Mapping[str, Any]) -> Record:
        """An incident row (display values and values) as a domain record."""
        urgency = _level(_value(row, "urgency"), URGENCY_LABELS, 3)
        return Record(
            id=REMOTE_ID,
            external_id=_value(row, "sys_id"),
            number=_value(row, "number"),
            short_description=_display(row, "short_description"),
            description=_display(row, "description"),
            category=_display(row, "category") or None,
            state=_display(row, "state"),
            urgency=urgency,
            priority=_level(_value(row, "priority"), PRIORITY_LABELS, priority_for(urgency)),
            # Not an account of ours: the texter is matched by phone (belongs_to).
            caller_id=None,
            caller_name=_display(row, "caller_id") or None,
            # Dot-walked; an instance that leaves that out is answered from the index.
            caller_phone=normalised(_value(row, "caller_id.mobile_phone"), self._region)
            or self._users.phone_of(_value(row, "caller_id")),
            assigned_to=_display(row, "assigned_to") or None,
            opened_at=_moment(_value(row, "sys_created_on")),
            updated_at=_moment(_value(row, "sys_updated_on")),
        )

    async def _find(self, field: str, value: str) -> Mapping[str, Any] | None:
        """The incident whose ``field`` is ``value``, checked in the row that came back."""
        fields = tuple(dict.fromkeys((*FIELDS, field)))
        rows = await self._client.rows(TABLE, query=f"{field}={value}", fields=fields, limit=1)
        return next((row for row in rows if _value(row, field) == value), None)

    async def _record(self, number: str) -> Record | None:
        text = number.strip().upper()
        if not _PLAIN.fullmatch(text):
            return None  # no incident number has anything else in it
        row = await self._find("number", text)
        return None if row is None else self.record_of(row)

    async def get(self, number: str) -> Record | None:
        record = await self._record(number)
        return None if record is None else await self._with_comments(record)

    async def _with_comments(self, record: Record) -> Record:
        """The record with its public comments, oldest first (one record: lists go without).

        Read from ``sys_journal_field``, which names each entry's author and time
        exactly; else from the incident's journal fields' text (``_shown_comments``).
        """
        if record.external_id is None:
            return record
        rows = await self._journal_rows(
            record.external_id,
            query=(
                f"element_id={record.external_id}^elementINcomments,work_notes"
                "^ORDERBYsys_created_on"
            ),
            fields=("value", "element", "element_id", "sys_created_by", "sys_created_on"),
            limit=200,
            elements=("comments", "work_notes"),
        )
        if not rows:
            return replace(record, comments=await self._shown_comments(record.external_id))
        names = await self._names({_value(r, "sys_created_by") for r in rows})
        comments = tuple(self._comment(row, names) for row in rows)
        return replace(record, comments=comments)

    async def _journal_rows(
        self,
        sys_id: str,
        *,
        query: str,
        fields: tuple[str, ...],
        limit: int,
        elements: tuple[str, ...],
        by: str | None = None,
    ) -> list[dict[str, Any]]:
        """The incident's ``sys_journal_field`` rows the query asked for (checked in
        what came back); none when the table may not be read.

        An instance may refuse the table (403: then it is not asked again for
        :data:`JOURNAL_REFUSAL_KEPT`), or its row ACLs hide every row and it answers
        ``200 []``, which looks like an incident with no entries.  So no rows send the
        caller to the journal fields' text, which for such an incident is empty too.
        """
        refused_at = self._journal_refused_at
        if refused_at is not None and self._clock() - refused_at < JOURNAL_REFUSAL_KEPT:
            return []
        try:
            rows = await self._client.rows(
                _JOURNAL, query=query, fields=fields, limit=limit, display_value="false"
            )
        except ServiceNowUnavailable:
            raise
        except ServiceNowError as refused:
            if refused.status == 403:
                self._journal_refused_at = self._clock()
            log.info("%s refused (%s): reading incident %s's journals", _JOURNAL, refused, sys_id)
            return []
        self._journal_refused_at = None
        return [
            row
            for row in rows
            if _value(row, "element_id") == sys_id
            and _value(row, "element") in elements
            and (by is None or _value(row, "sys_created_by") == by)
        ]

    async def _shown_comments(self, sys_id: str) -> tuple[Comment, ...]:
        """The comments and work notes as the incident's journal fields show them, when
        ``sys_journal_field`` is refused or shows none (``journal.py``); none if those
        may not be read either."""
        try:
            row = await self._client.get(
                TABLE, sys_id, fields=("comments", "work_notes"), display_value="true"
            )
        except ServiceNowUnavailable:
            raise
        except ServiceNowError as refused:
            log.warning("the journals of incident %s cannot be read: %s", sys_id, refused)
            return ()
        if row is None:
            return ()
        shown = [
            entry
            for element in ("comments", "work_notes")
            for entry in journal.entries(_display(row, element))
        ]
        shown.sort(key=lambda e: e.when or datetime.min.replace(tzinfo=UTC))
        comments: list[Comment] = []
        for entry in shown:
            # Only the integration user writes signed entries; here the writer is
            # known by display name alone, so any signed entry is read as signed.
            author, body = _signed_by(entry.text) or (entry.who, entry.text)
            comments.append(
                Comment(
                    author=author,
                    body=body,
                    created_at=entry.when or datetime.now(UTC),
                    public=entry.element == "comments",
                )
            )
        return tuple(comments)

    def _comment(self, row: Mapping[str, Any], names: Mapping[str, str]) -> Comment:
        text, by = _value(row, "value"), _value(row, "sys_created_by")
        ours = _signed_by(text) if by == self._client.username else None
        if ours is not None:  # written here for someone: they are its author
            author, body = ours
        else:
            author, body = names.get(by, by), text
        return Comment(
            author=author,
            body=body,
            created_at=_moment(_value(row, "sys_created_on")),
            public=_value(row, "element") != "work_notes",
        )

    async def _names(self, user_names: set[str]) -> dict[str, str]:
        """Full names of the instance's users who wrote comments (not the integration user)."""
        wanted = sorted(
            n for n in user_names if n and n != self._client.username and _PLAIN.fullmatch(n)
        )
        if not wanted:
            return {}
        rows = await self._client.rows(
            "sys_user",
            query=f"user_nameIN{','.join(wanted)}",
            fields=("user_name", "name"),
            limit=len(wanted),
            display_value="false",
        )
        return {_value(r, "user_name"): _value(r, "name") for r in rows if _value(r, "name")}

    async def page(
        self, *, phones: Collection[str] | None, open_only: bool, limit: int, offset: int
    ) -> list[Record]:
        """Incidents newest first; only those whose caller is the user of one of
        ``phones`` when given (none when no phone is a user's)."""
        conditions: list[str] = []
        callers: set[str] | None = None
        if phones is not None:
            users = [await self._users.find(phone) for phone in sorted(set(phones))]
            callers = {u.sys_id for u in users if u is not None}
            if not callers:
                return []
            conditions.append(f"caller_idIN{','.join(sorted(callers))}")
        if open_only:
            conditions.append("active=true")
        conditions.append("ORDERBYDESCsys_created_on")
        rows = await self._client.rows(
            TABLE, query="^".join(conditions), fields=_LISTED, limit=limit, offset=offset
        )
        return [self.record_of(row) for row in _asked_for(rows, callers, open_only=open_only)]

    async def open_records_of(self, *, user_id: int | None, phone: str, limit: int) -> list[Record]:
        user = await self._users.find(phone)
        if user is None:
            return []  # not a sys_user: a guest has no incidents on the instance
        rows = await self._client.rows(
            TABLE,
            query=f"caller_id={user.sys_id}^active=true^ORDERBYDESCsys_created_on",
            fields=_LISTED,
            limit=limit,
        )
        return [self.record_of(row) for row in _asked_for(rows, {user.sys_id}, open_only=True)]

    # ----------------------------------------------------------------- writing

    async def create(self, record: NewRecord, *, now: datetime) -> Record:
        key = record.key
        row = None
        if key is not None and _PLAIN.fullmatch(key):
            row = await self._find("correlation_id", key)
        made = row is None
        if row is None:
            caller = await self._users.find(record.caller_phone) if record.caller_phone else None
            description = record.description
            if caller is None and record.caller_phone:
                # A guest: no sys_user to name, so say in the text who to call back.
                description = f"{description}\n\nReported by text from {record.caller_phone}."
            values = {
                "short_description": record.short_description,
                "description": description.strip(),
                "category": category_for(record.category),
                "urgency": str(record.urgency),
                # Medium impact, as textdesk's own records assume (priority_for).
                "impact": "2",
                "caller_id": caller.sys_id if caller else "",
                "contact_type": "self-service",
                "correlation_id": key or "",
                "correlation_display": CORRELATION_DISPLAY if key else "",
            }
            row = await self._client.create(TABLE, values, fields=FIELDS)
        created = self.record_of(row)
        attached = await self._attach(created, record.attachments, new=made)
        return replace(created, attachments=attached)

    async def _attach(self, record: Record, keys: tuple[str, ...], *, new: bool) -> tuple[str, ...]:
        """Upload the texter's photos not on the incident yet; the file names it has.

        ``new``: this call just made the incident, so it has none yet and is not asked.
        """
        if not keys or record.external_id is None:
            return ()
        sys_id = record.external_id
        present = set() if new else await self._attached(record)
        names: list[str] = []
        for key in keys:
            stored = await self._media.load(key) if self._media is not None else None
            if stored is None:
                log.warning("photo %s of %s is not stored here; not attached", key, record.number)
                continue
            name = _file_name(stored)
            if name not in present:
                await self._client.attach(
                    TABLE,
                    sys_id,
                    file_name=name,
                    content_type=stored.content_type,
                    data=stored.data,
                )
            names.append(name)
        return tuple(names)

    async def _attached(self, record: Record) -> set[str]:
        """The file names attached to an incident an earlier try made.

        An instance that will not list attachments (refused, or a path it does not
        serve) gets the photos uploaded again: a photo twice is better than a report
        stuck for good.
        """
        sys_id = record.external_id
        try:
            rows = await self._client.attachments(str(sys_id))
        except ServiceNowUnavailable:
            raise
        except ServiceNowError as refused:
            log.warning("the attachments of %s cannot be listed (%s)", record.number, refused)
            return set()
        # Another record's files, should the instance drop the filter, do not count.
        return {
            str(a.get("file_name", "")) for a in rows if _value(a, "table_sys_id") in ("", sys_id)
        }

    async def update(
        self, number: str, fields: Mapping[str, Any], *, now: datetime
    ) -> Record | None:
        before = await self._record(number)
        if before is None or before.external_id is None:
            return None
        changed = changes(before, dict(fields))
        if not changed:
            return await self._with_comments(before)
        values: dict[str, str] = {}
        for name, value in changed.items():
            if name == "state":
                values["state"] = STATE_VALUES[value]
            elif name == "urgency":
                values.update(urgency=str(value), impact="2")
            elif name == "priority":
                continue  # the instance derives it from impact and urgency
            elif name == "category":
                values["category"] = category_for(value)
            elif name == "assigned_to":
                values["assigned_to"] = await self._user_named(value) if value else ""
            else:
                values[name] = "" if value is None else str(value)
        row = await self._client.update(TABLE, before.external_id, values, fields=FIELDS)
        return None if row is None else await self._with_comments(self.record_of(row))

    async def _user_named(self, name: str) -> str:
        rows = await self._client.rows(
            "sys_user",
            query=f"name={_escaped(name)}^active=true",
            fields=("sys_id", "name", "active"),
            limit=1,
            display_value="false",
        )
        rows = [r for r in rows if _value(r, "name") == name and _value(r, "active") != "false"]
        if not rows:
            raise InvalidRecord(f"no active ServiceNow user is named {name!r}")
        return _value(rows[0], "sys_id")

    async def add_comment(
        self, number: str, *, author: str, body: str, now: datetime, may_repeat: bool = False
    ) -> Record | None:
        """A texter's comment (the virtual agent's): public, signed as sent by text.

        ``may_repeat``: the inbox loop may be making this call again (its first was
        carried out but its answer lost, or its result not used): when the integration
        user's newest comment on the incident is this one, made within
        :data:`REPEAT_WINDOW` of ``now``, it is that call's and is not added again.
        """
        text = f"{author}{SIGNATURE}{body}"
        return await self._journal(
            number, "comments", text, repeat_since=now if may_repeat else None
        )

    async def add_note(
        self, number: str, *, author: str, body: str, public: bool = True
    ) -> Record | None:
        """Staff's comment (public) or work note, signed with their name: every change
        is the integration user's, and agents are not users of the instance."""
        field = "comments" if public else "work_notes"
        return await self._journal(number, field, f"{author}{STAFF_SIGNATURE}{body}")

    async def _journal(
        self, number: str, field: str, text: str, *, repeat_since: datetime | None = None
    ) -> Record | None:
        before = await self._record(number)
        if before is None or before.external_id is None:
            return None
        if repeat_since is not None and await self._just_written(
            before.external_id, field, text, repeat_since
        ):
            # An earlier call added it and its answer was lost: a second would show twice.
            log.info("the %s entry on %s is there from an earlier call; not again", field, number)
            return await self._with_comments(before)
        row = await self._client.update(TABLE, before.external_id, {field: text}, fields=FIELDS)
        return None if row is None else await self._with_comments(self.record_of(row))

    async def _just_written(self, sys_id: str, field: str, text: str, now: datetime) -> bool:
        """Whether the integration user's newest ``field`` entry on the incident is
        ``text``, made within :data:`REPEAT_WINDOW` of ``now``.

        The newest only: a texter's later texts wait behind the one being made, so an
        entry an earlier call added is the newest this user wrote there.  The same
        words texted again after the window are a new comment; within it, after a
        call that surely failed, they are taken for the first (they are on it).
        """
        rows = await self._journal_rows(
            sys_id,
            query=(
                f"element_id={sys_id}^element={field}"
                f"^sys_created_by={_escaped(self._client.username)}^ORDERBYDESCsys_created_on"
            ),
            fields=("value", "sys_created_on", "element_id", "element", "sys_created_by"),
            limit=1,
            elements=(field,),
            by=self._client.username,
        )
        if not rows:
            # Refused or hidden, or no entry of ours yet: the field's text says which.
            return await self._just_shown(sys_id, field, text, now)
        if _value(rows[0], "value").strip() != text.strip():
            return False
        return _recent(_parsed(_value(rows[0], "sys_created_on")), now)

    async def _just_shown(self, sys_id: str, field: str, text: str, now: datetime) -> bool:
        """The same, from the journal field's text when ``sys_journal_field`` is refused:
        there the writer shows by name alone, so the newest entry signed as written here
        counts.  A journal that cannot be read at all says no: better a comment twice
        than none."""
        try:
            row = await self._client.get(TABLE, sys_id, fields=(field,), display_value="true")
        except ServiceNowUnavailable:
            raise
        except ServiceNowError as refused:
            log.warning("the journals of incident %s cannot be read: %s", sys_id, refused)
            return False
        shown = journal.entries(_display(row, field)) if row is not None else []
        signed = [entry for entry in shown if _signed_by(entry.text) is not None]
        if not signed or signed[-1].text.strip() != text.strip():
            return False
        return _recent(signed[-1].when, now)


def _asked_for(
    rows: list[dict[str, Any]], callers: Collection[str] | None, *, open_only: bool
) -> list[dict[str, Any]]:
    """The rows a list asked for: their caller one of ``callers`` (when given), and not
    inactive when only open ones were asked for (a row without ``active`` is kept)."""
    return [
        row
        for row in rows
        if (callers is None or _value(row, "caller_id") in callers)
        and not (open_only and _value(row, "active") == "false")
    ]


def _parsed(raw: str) -> datetime | None:
    try:
        return datetime.strptime(raw, _TIME_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None


def _recent(when: datetime | None, now: datetime) -> bool:
    """Within :data:`REPEAT_WINDOW` of ``now`` (either side: the clocks differ); an
    entry whose time cannot be read counts as recent, being the newest."""
    return when is None or abs(now - when) <= REPEAT_WINDOW


def _signed_by(text: str) -> tuple[str, str] | None:
    """``(author, body)`` of a journal entry written here for someone, else None."""
    texter = split_signed(text)
    if texter is not None:
        return texter
    author, found, body = text.partition(STAFF_SIGNATURE)
    if not found or not author or "\n" in author:
        return None
    return author, body


def _file_name(stored: StoredMedia) -> str:
    """The same name on every try, so a photo already uploaded is not uploaded again."""
    stem = stored.key.rsplit("/", 1)[-1] or "photo"
    extension = mimetypes.guess_extension(stored.content_type) or ""
    return f"{stem}{'.jpg' if extension == '.jpe' else extension}"
