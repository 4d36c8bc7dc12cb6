"""Texters' accounts on SQLAlchemy: who a number belongs to, and accounts made for
texters another service knows (``directory.py`` has the SQL)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from textdesk.adapters.db import directory
from textdesk.ports import TexterProfile

# What the columns hold: a longer name is cut, a longer email left out (a cut one
# would be someone else's address).
_NAME_MAX = 200  # users.name: String(200)
_EMAIL_MAX = 320  # users.email: String(320)


class SqlTexterDirectory:
    """``ports.TexterDirectory``: the built-in accounts."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def profiles_by_phone(self, phones: Sequence[str]) -> dict[str, TexterProfile]:
        users_found = await directory.users_by_phone(self._conn, phones)
        return {
            phone: TexterProfile(phone, u.name, u.email, user_id=u.id)
            for phone, u in users_found.items()
        }


class SqlTexterAccounts:
    """``ports.TexterAccounts`` (``directory.link_user``)."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def link(self, phone: str, *, name: str, email: str | None, now: datetime) -> int:
        return await directory.link_user(
            self._conn,
            phone=phone,
            name=name[:_NAME_MAX],
            email=email if email and len(email) <= _EMAIL_MAX else None,
            now=now,
        )
