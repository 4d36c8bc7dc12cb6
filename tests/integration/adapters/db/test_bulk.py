"""The quick executemany stores exactly what SQLAlchemy's own executemany stores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import text

from textdesk.adapters.db import conversations
from textdesk.adapters.db.bulk import execute_rows, insert_rows
from textdesk.adapters.db.database import create_engine
from textdesk.adapters.db.tables import conversations as conversations_table
from textdesk.adapters.db.tables import transcript

PAIR = ("+15550001", "+15559999")
NOW = datetime(2026, 11, 30, 16, 45, 7, 123456, tzinfo=UTC)
# The same instant written in another zone: stored as UTC either way.
ELSEWHERE = NOW.astimezone(timezone(timedelta(hours=2)))


def _lines(conversation_id: int, tag: str) -> list[dict[str, Any]]:
    return [
        {
            "conversation_id": conversation_id,
            "author": "bot",
            "body": f"{tag} Réponse 👍 \"quoted\" 'single'",
            "media": ["media/a b.png", "ü"],
            "inbox_id": None,
            "outbox_id": None,
            "agent_id": None,
            "created_at": NOW,
        },
        {
            "conversation_id": conversation_id,
            "author": "texter",
            "body": f"{tag} second",
            "media": [],
            "inbox_id": None,
            "outbox_id": None,
            "agent_id": None,
            "created_at": ELSEWHERE,
        },
    ]


_RAW = (
    "SELECT author, body, CAST(media AS TEXT), CAST(created_at AS TEXT) "
    "FROM transcript WHERE body LIKE :tag ORDER BY id"
)


async def test_inserted_rows_are_stored_as_sqlalchemy_stores_them(database_url: str) -> None:
    db = create_engine(database_url)
    try:
        async with db.begin() as conn:
            conv = (await conversations.load_or_create(conn, [PAIR], {}, NOW))[PAIR]
            await conn.execute(transcript.insert(), _lines(conv.id, "ours"))
            await insert_rows(conn, transcript, _lines(conv.id, "quick"))
        async with db.connect() as conn:
            by_sqlalchemy = [
                (r[0], str(r[1]).removeprefix("ours"), r[2], r[3])
                for r in await conn.execute(text(_RAW), {"tag": "ours%"})
            ]
            quick = [
                (r[0], str(r[1]).removeprefix("quick"), r[2], r[3])
                for r in await conn.execute(text(_RAW), {"tag": "quick%"})
            ]
            typed = (
                await conn.execute(
                    transcript.select().where(transcript.c.body.like("quick%")).order_by("id")
                )
            ).all()
    finally:
        await db.dispose()
    assert len(quick) == 2
    assert quick == by_sqlalchemy
    assert [r.created_at for r in typed] == [NOW, NOW]
    assert [r.media for r in typed] == [["media/a b.png", "ü"], []]


async def test_saved_states_keep_sql_null_and_json_apart(database_url: str) -> None:
    db = create_engine(database_url)
    pairs = [("+15550001", "+15559999"), ("+15550002", "+15559999"), ("+15550003", "+15559999")]
    try:
        async with db.begin() as conn:
            convs = await conversations.load_or_create(conn, pairs, {}, NOW)
            first, second, third = (convs[p] for p in pairs)
            first.state, first.mode = {"topic": "Wi-Fi", "answers": {"a": [1, None]}}, "bot"
            second.state, second.mode = None, "queued"
            await conversations.save(conn, [first, second], ELSEWHERE)
            # The third by SQLAlchemy's own executemany, for comparison.
            row = {"b_id": third.id, "b_user_id": None, "b_mode": "bot", "b_state": None}
            await conn.execute(conversations._SAVE, [{**row, "b_updated_at": ELSEWHERE}])
        async with db.connect() as conn:
            rows = (
                await conn.execute(
                    text(
                        "SELECT mode, state IS NULL, CAST(updated_at AS TEXT) "
                        "FROM conversations ORDER BY id"
                    )
                )
            ).all()
            again = await conversations.get(conn, first.id)
    finally:
        await db.dispose()
    assert [(r[0], bool(r[1])) for r in rows] == [("bot", False), ("queued", True), ("bot", True)]
    # One timestamp shared by the batch, written as SQLAlchemy writes it.
    assert rows[0][2] == rows[1][2] == rows[2][2]
    assert again is not None
    assert again.state == {"topic": "Wi-Fi", "answers": {"a": [1, None]}}


async def test_a_python_side_default_is_filled_in(database_url: str) -> None:
    """A column left out that has a Python-side default gets it, as SQLAlchemy gives it."""
    db = create_engine(database_url)
    try:
        async with db.begin() as conn:
            new = {"phone": "+15550004", "number": "+15559999", "created_at": NOW}
            await insert_rows(conn, conversations_table, [{**new, "updated_at": NOW}])
        async with db.connect() as conn:
            mode = (await conn.execute(text("SELECT mode FROM conversations"))).scalar_one()
    finally:
        await db.dispose()
    assert mode == "bot"


async def test_rows_with_different_keys_are_refused(sqlite_url: str) -> None:
    db = create_engine(sqlite_url)
    try:
        async with db.begin() as conn:
            conv = (await conversations.load_or_create(conn, [PAIR], {}, NOW))[PAIR]
            rows = _lines(conv.id, "x")
            del rows[1]["agent_id"]
            with pytest.raises(ValueError, match="same keys"):
                await insert_rows(conn, transcript, rows)
            with pytest.raises(ValueError, match="same keys"):
                await execute_rows(conn, conversations._SAVE, [{"b_id": conv.id}])
    finally:
        await db.dispose()
