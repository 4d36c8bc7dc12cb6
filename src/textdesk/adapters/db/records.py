"""The built-in record store (incidents) on our own database."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from textdesk.adapters.db import directory
from textdesk.adapters.db.admin import SqlReadingUnitOfWork
from textdesk.adapters.db.tables import (
    record_attachments,
    record_comments,
    record_events,
    records,
    users,
)
from textdesk.domain.records import (
    OPEN_STATES,
    Comment,
    NewRecord,
    Record,
    changes,
    new_record,
    number_for,
)

_COLUMNS = (*records.c, users.c.name.label("caller_name"))


def _from_row(r: Any, comments: Sequence[Comment] = (), attachments: Sequence[str] = ()) -> Record:
    return Record(
        id=r.id,
        number=r.number,
        short_description=r.short_description,
        description=r.description,
        category=r.category,
        state=r.state,
        urgency=r.urgency,
        priority=r.priority,
        caller_id=r.caller_id,
        caller_name=r.caller_name,
        caller_phone=r.caller_phone,
        assigned_to=r.assigned_to,
        opened_at=r.opened_at,
        updated_at=r.updated_at,
        comments=tuple(comments),
        attachments=tuple(attachments),
    )


def _select() -> Any:
    return select(*_COLUMNS).select_from(
        records.outerjoin(users, users.c.id == records.c.caller_id)
    )


async def _event(
    conn: AsyncConnection, record_id: int, kind: str, data: dict[str, Any], now: datetime
) -> None:
    await conn.execute(
        record_events.insert().values(record_id=record_id, kind=kind, data=data, created_at=now)
    )


async def create(
    conn: AsyncConnection,
    *,
    short_description: str,
    description: str = "",
    category: str | None = None,
    urgency: Any = 3,
    caller_id: int | None,
    caller_phone: str | None,
    attachments: Sequence[str] = (),
    now: datetime,
) -> Record:
    """Open a record (defaults: :func:`textdesk.domain.records.new_record`)."""
    return await insert(
        conn,
        new_record(
            short_description=short_description,
            description=description,
            category=category,
            urgency=urgency,
            caller_id=caller_id,
            caller_phone=caller_phone,
            attachments=attachments,
        ),
        now=now,
    )


async def insert(conn: AsyncConnection, new: NewRecord, *, now: datetime) -> Record:
    """Store ``new``, numbered after its id (``INC0010001``…)."""
    result = await conn.execute(
        records.insert()
        .values(
            short_description=new.short_description,
            description=new.description,
            category=new.category,
            state=new.state,
            urgency=new.urgency,
            priority=new.priority,
            caller_id=new.caller_id,
            caller_phone=new.caller_phone,
            opened_at=now,
            updated_at=now,
        )
        .returning(records.c.id)
    )
    record_id = int(result.scalar_one())
    number = number_for(record_id)
    await conn.execute(update(records).where(records.c.id == record_id).values(number=number))
    if new.attachments:
        await conn.execute(
            record_attachments.insert(),
            [{"record_id": record_id, "media_key": k, "created_at": now} for k in new.attachments],
        )
    await _event(conn, record_id, "created", {"number": number}, now)
    found = await get(conn, number)
    assert found is not None
    return found


async def get(conn: AsyncConnection, number: str) -> Record | None:
    row = (await conn.execute(_select().where(records.c.number == number.upper()))).first()
    if row is None:
        return None
    return (await _with_details(conn, [row]))[0]


async def _with_details(conn: AsyncConnection, rows: Sequence[Any]) -> list[Record]:
    """Records with their comments and attachments: two queries for any number of rows."""
    if not rows:
        return []
    ids = [r.id for r in rows]
    comments: dict[int, list[Comment]] = {i: [] for i in ids}
    for c in await conn.execute(
        select(record_comments)
        .where(record_comments.c.record_id.in_(ids))
        .order_by(record_comments.c.id)
    ):
        comments[c.record_id].append(Comment(c.author, c.body, c.created_at, c.public))
    attachments: dict[int, list[str]] = {i: [] for i in ids}
    for a in await conn.execute(
        select(record_attachments.c.record_id, record_attachments.c.media_key)
        .where(record_attachments.c.record_id.in_(ids))
        .order_by(record_attachments.c.id)
    ):
        attachments[a.record_id].append(a.media_key)
    return [_from_row(r, comments[r.id], attachments[r.id]) for r in rows]


async def list_records(
    conn: AsyncConnection,
    *,
    caller_id: int | None = None,
    caller_phone: str | None = None,
    open_only: bool = False,
    limit: int = 50,
    offset: int = 0,
) -> list[Record]:
    """Records, newest first, optionally a caller's and open only.

    Given both an account and a phone, a record naming either is the caller's
    (:func:`textdesk.domain.records.belongs_to`).
    """
    query = _select().order_by(records.c.id.desc()).limit(limit).offset(offset)
    if caller_id is not None and caller_phone is not None:
        query = query.where(
            or_(records.c.caller_id == caller_id, records.c.caller_phone == caller_phone)
        )
    elif caller_id is not None:
        query = query.where(records.c.caller_id == caller_id)
    elif caller_phone is not None:
        query = query.where(records.c.caller_phone == caller_phone)
    if open_only:
        query = query.where(records.c.state.in_(OPEN_STATES))
    return await _with_details(conn, list(await conn.execute(query)))


async def apply_update(
    conn: AsyncConnection, number: str, fields: dict[str, Any], now: datetime
) -> Record | None:
    """Change fields (validated); records state/assignment events.  None if no such record."""
    before = await get(conn, number)
    if before is None:
        return None
    changed = changes(before, fields)
    if not changed:
        return before
    await conn.execute(
        update(records).where(records.c.id == before.id).values(**changed, updated_at=now)
    )
    if "state" in changed:
        await _event(
            conn, before.id, "state_changed", {"from": before.state, "to": changed["state"]}, now
        )
    if "assigned_to" in changed:
        await _event(conn, before.id, "assigned", {"to": changed["assigned_to"]}, now)
    return await get(conn, number)


async def add_comment(
    conn: AsyncConnection,
    number: str,
    *,
    author: str,
    body: str,
    public: bool = True,
    now: datetime,
) -> Record | None:
    record = await get(conn, number)
    if record is None:
        return None
    await conn.execute(
        record_comments.insert().values(
            record_id=record.id, author=author, body=body, public=public, created_at=now
        )
    )
    await conn.execute(update(records).where(records.c.id == record.id).values(updated_at=now))
    if public:
        await _event(conn, record.id, "commented", {"author": author, "body": body}, now)
    return await get(conn, number)


class SqlRecordStore:
    """This store as ``ports.RecordRepository`` (a topic's ``RecordStore`` and more), in
    one transaction."""

    remote = False  # in the turn's own transaction: no record waits on another service

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def get(self, number: str) -> Record | None:
        return await get(self._conn, number)

    async def open_records_of(self, *, user_id: int | None, phone: str, limit: int) -> list[Record]:
        return await list_records(
            self._conn, caller_id=user_id, caller_phone=phone, open_only=True, limit=limit
        )

    async def page(
        self,
        *,
        caller_id: int | None,
        caller_phone: str | None,
        open_only: bool,
        limit: int,
        offset: int,
    ) -> list[Record]:
        return await list_records(
            self._conn,
            caller_id=caller_id,
            caller_phone=caller_phone,
            open_only=open_only,
            limit=limit,
            offset=offset,
        )

    async def create(self, record: NewRecord, *, now: datetime) -> Record:
        return await insert(self._conn, record, now=now)

    async def update(
        self, number: str, fields: Mapping[str, Any], *, now: datetime
    ) -> Record | None:
        return await apply_update(self._conn, number, dict(fields), now)

    async def add_comment(
        self,
        number: str,
        *,
        author: str,
        body: str,
        now: datetime,
        public: bool = True,
        may_repeat: bool = False,  # in the turn's transaction: made once, or rolled back
    ) -> Record | None:
        return await add_comment(
            self._conn, number, author=author, body=body, public=public, now=now
        )


class SqlCallerAccounts:
    """``ports.CallerAccounts``: the ``users`` table."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def exists(self, user_id: int) -> bool:
        return await directory.get_user(self._conn, user_id) is not None


class AccountsOnTheirOwn:
    """Accounts a record on another service may name (``servicenow.staff_records.Accounts``),
    each read on a connection of its own: nothing stays open while that service is called."""

    def __init__(self, db: AsyncEngine) -> None:
        self._db = db

    async def exists(self, user_id: int) -> bool:
        async with self._db.connect() as conn:
            return await directory.get_user(conn, user_id) is not None

    async def phone_of(self, user_id: int) -> str | None:
        async with self._db.connect() as conn:
            user = await directory.get_user(conn, user_id)
        return user.phone if user is not None else None


class SqlRecordRepositories:
    """``ports.RecordRepositories`` on one connection."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.records = SqlRecordStore(conn)
        self.callers = SqlCallerAccounts(conn)


def incidents(db: AsyncEngine) -> SqlReadingUnitOfWork[SqlRecordRepositories]:
    """The unit of work of ``records.incidents.Incidents`` (the API, the record page)."""
    return SqlReadingUnitOfWork(db, SqlRecordRepositories)
