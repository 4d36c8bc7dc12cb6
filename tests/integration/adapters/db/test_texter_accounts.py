"""Accounts made for texters another service knows: one per number, linked to their chats."""

from __future__ import annotations

from datetime import UTC, datetime

from textdesk.adapters.db import conversations, directory
from textdesk.adapters.db.database import create_engine
from textdesk.adapters.db.texter_accounts import SqlTexterAccounts

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
CAROL = "+15551230003"
DESK = "+15550100100"


async def test_a_number_gets_one_account_and_its_conversations_name_it_from_then_on(
    database_url: str,
) -> None:
    db = create_engine(database_url)
    try:
        async with db.begin() as conn:
            rows = await conversations.load_or_create(conn, [(CAROL, DESK)], {}, NOW)
            [conv] = rows.values()
            assert conv.user_id is None
            accounts = SqlTexterAccounts(conn)
            made = await accounts.link(
                CAROL, name="Carol Example", email="carol@example.com", now=NOW
            )
            # Asked again (another text, another process): the same account, as it was.
            again = await accounts.link(CAROL, name="Someone Else", email=None, now=NOW)
            assert again == made
            # The turn that read the conversation before the account saves it after.
            await conversations.save(conn, [conv], NOW)
        async with db.connect() as conn:
            [user] = await directory.list_users(conn)
            assert (user.id, user.name, user.email, user.phone) == (
                made,
                "Carol Example",
                "carol@example.com",
                CAROL,
            )
            stored = await conversations.get(conn, conv.id)
            assert stored is not None
            assert stored.user_id == made
    finally:
        await db.dispose()


async def test_a_name_too_long_for_the_column_is_cut_and_such_an_email_left_out(
    database_url: str,
) -> None:
    db = create_engine(database_url)
    try:
        async with db.begin() as conn:
            await SqlTexterAccounts(conn).link(
                CAROL, name="C" * 300, email="c" * 320 + "@example.com", now=NOW
            )
        async with db.connect() as conn:
            [user] = await directory.list_users(conn)
            assert (len(user.name), user.email) == (200, None)
    finally:
        await db.dispose()
