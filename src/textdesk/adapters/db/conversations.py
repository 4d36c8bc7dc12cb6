"""Conversations (one per texter and number) and their transcript."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import JSON, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncConnection

from textdesk.adapters.db.bulk import execute_rows, insert_rows
from textdesk.adapters.db.dialect import insert_numbered
from textdesk.adapters.db.tables import agents, conversations, outbox, transcript
from textdesk.ports import ConversationRow, DeliveredLine, TranscriptEntry

# The rows are defined with the ports that use them, and still imported from here.
__all__ = [
    "ConversationRow",
    "DeliveredLine",
    "TranscriptEntry",
    "append",
    "get",
    "load_or_create",
    "lock_key",
    "save",
    "transcript_lines",
]


async def load_or_create(
    conn: AsyncConnection,
    keys: Sequence[tuple[str, str]],
    users_by_phone: dict[str, int],
    now: datetime,
) -> dict[tuple[str, str], ConversationRow]:
    """The conversations of (texter phone, our number) pairs, creating missing ones."""
    wanted = list(dict.fromkeys(keys))
    found: dict[tuple[str, str], ConversationRow] = {}
    if wanted:
        # By phone alone (an expanding IN, compiled once for any batch size), then the
        # pairs we want: an OR of one AND per pair was a new statement per batch size.
        keep = set(wanted)
        phones = list({p for p, _ in wanted})
        for r in await conn.execute(select(conversations).where(conversations.c.phone.in_(phones))):
            if (r.phone, r.number) not in keep:
                continue
            found[(r.phone, r.number)] = ConversationRow(
                r.id, r.phone, r.number, r.user_id, r.mode, r.state
            )
    missing = [key for key in wanted if key not in found]
    for row in found.values():
        # An account may have been created since the last text.
        row.user_id = users_by_phone.get(row.phone)
    ids = await insert_numbered(
        conn,
        conversations,
        [
            {
                "phone": phone,
                "number": number,
                "user_id": users_by_phone.get(phone),
                "mode": "bot",  # state left out: NULL, not the JSON text 'null'
                "created_at": now,
                "updated_at": now,
            }
            for phone, number in missing
        ],
    )
    for (phone, number), new_id in zip(missing, ids, strict=True):
        found[(phone, number)] = ConversationRow(
            new_id, phone, number, users_by_phone.get(phone), "bot", None
        )
    return found


# A bound None must stay SQL NULL, as it was with a literal None in ``values()``
# (plain JSON would bind it as the JSON text 'null').
_STATE = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")


# One executemany for the batch, not a statement per conversation.  A row naming no
# account keeps the one the conversation has: an account made during the turn (a
# texter known by another service's profile who turned notifications on) was written
# after the row was read.  Unlinking is the account's removal's job (directory.py).
_SAVE = (
    update(conversations)
    .where(conversations.c.id == bindparam("b_id"))
    .values(
        user_id=func.coalesce(
            bindparam("b_user_id", type_=conversations.c.user_id.type), conversations.c.user_id
        ),
        mode=bindparam("b_mode"),
        state=bindparam("b_state", type_=_STATE),
        updated_at=bindparam("b_updated_at", type_=conversations.c.updated_at.type),
    )
)


async def save(conn: AsyncConnection, rows: Sequence[ConversationRow], now: datetime) -> None:
    await execute_rows(
        conn,
        _SAVE,
        [
            {
                "b_id": r.id,
                "b_user_id": r.user_id,
                "b_mode": r.mode,
                "b_state": r.state,
                "b_updated_at": now,
            }
            for r in rows
        ],
    )


async def append(conn: AsyncConnection, entries: Sequence[TranscriptEntry], now: datetime) -> None:
    await insert_rows(
        conn,
        transcript,
        [
            {
                "conversation_id": e.conversation_id,
                "author": e.author,
                "body": e.body,
                "media": list(e.media),
                "inbox_id": e.inbox_id,
                "outbox_id": e.outbox_id,
                "agent_id": e.agent_id,
                "created_at": now,
            }
            for e in entries
        ],
    )


async def transcript_lines(
    conn: AsyncConnection,
    conversation_id: int,
    *,
    limit: int,
    offset: int = 0,
    newest_first: bool = False,
) -> list[DeliveredLine]:
    """A conversation's transcript joined with each sent line's outbox row: one query."""
    rows = await conn.execute(
        select(
            transcript,
            agents.c.name.label("agent_name"),
            outbox.c.status.label("out_status"),
            outbox.c.error_code,
            outbox.c.error_message,
            outbox.c.segments,
            outbox.c.encoding,
        )
        .select_from(
            transcript.outerjoin(outbox, outbox.c.id == transcript.c.outbox_id).outerjoin(
                agents, agents.c.id == transcript.c.agent_id
            )
        )
        .where(transcript.c.conversation_id == conversation_id)
        .order_by(transcript.c.id.desc() if newest_first else transcript.c.id)
        .limit(limit)
        .offset(offset)
    )
    return [
        DeliveredLine(
            id=r.id,
            author=r.author,
            body=r.body,
            media=list(r.media or []),
            created_at=r.created_at,
            agent_name=r.agent_name,
            outbox_id=r.outbox_id,
            status=r.out_status,
            error_code=r.error_code,
            error_message=r.error_message,
            segments=r.segments,
            encoding=r.encoding,
        )
        for r in rows
    ]


def lock_key(phone: str, number: str) -> str:
    """The lock that serialises all work on one conversation, across processes."""
    return f"{phone}|{number}"


async def get(conn: AsyncConnection, conversation_id: int) -> ConversationRow | None:
    r = (
        await conn.execute(select(conversations).where(conversations.c.id == conversation_id))
    ).first()
    return ConversationRow(r.id, r.phone, r.number, r.user_id, r.mode, r.state) if r else None
