"""Conversations and transcripts a page at a time, for the REST API (``admin/people.py``)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from textdesk.adapters.db import conversations as conversation_store
from textdesk.adapters.db.admin import SqlReadingUnitOfWork, SqlUsers
from textdesk.adapters.db.tables import conversations
from textdesk.ports import ConversationSummary, DeliveredLine


async def page(conn: AsyncConnection, *, limit: int, offset: int) -> list[ConversationSummary]:
    rows = await conn.execute(
        select(conversations)
        .order_by(conversations.c.updated_at.desc(), conversations.c.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return [
        ConversationSummary(r.id, r.phone, r.number, r.user_id, r.mode, r.updated_at) for r in rows
    ]


class SqlConversationPages:
    """``ports.ConversationPages`` (the list above, ``conversations.transcript_lines``)."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def page(self, *, limit: int, offset: int) -> list[ConversationSummary]:
        return await page(self._conn, limit=limit, offset=offset)

    async def transcript(
        self, conversation_id: int, *, limit: int, offset: int
    ) -> list[DeliveredLine]:
        return await conversation_store.transcript_lines(
            self._conn, conversation_id, limit=limit, offset=offset
        )


class SqlPeopleRepositories:
    """``ports.PeopleRepositories`` on one connection."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.users = SqlUsers(conn)
        self.conversations = SqlConversationPages(conn)


def people_uow(db: AsyncEngine) -> SqlReadingUnitOfWork[SqlPeopleRepositories]:
    """The REST API's people pages' unit of work."""
    return SqlReadingUnitOfWork(db, SqlPeopleRepositories)
