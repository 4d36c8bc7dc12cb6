"""Accounts: people whose phone number we recognise."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from textdesk.adapters.db import directory
from textdesk.domain.phones import InvalidPhone, to_e164
from textdesk.ports import Clock


class DuplicatePhone(ValueError):
    pass


async def add_user(
    *, db: AsyncEngine, clock: Clock, name: str, phone: str | None, email: str | None = None
) -> int:
    """Create an account; its phone (E.164) must be unique."""
    e164 = to_e164(phone) if phone else None
    try:
        async with db.begin() as conn:
            return await directory.add_user(
                conn, name=name.strip(), email=email or None, phone=e164, now=clock.now()
            )
    except IntegrityError as exc:
        raise DuplicatePhone(f"an account already has the number {e164}") from exc


@dataclass
class ImportReport:
    added: int = 0
    skipped: int = 0
    errors: list[str] | None = None


async def import_users(*, db: AsyncEngine, clock: Clock, path: Path) -> ImportReport:
    """Import ``name,email,phone`` rows; bad rows are reported, not fatal."""
    report = ImportReport(errors=[])
    assert report.errors is not None
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        missing = {"name", "phone"} - set(reader.fieldnames or [])
        if missing:
            raise ValueError(f"{path}: missing column(s): {', '.join(sorted(missing))}")
        async with db.connect() as conn:
            known = {u.phone for u in await directory.list_users(conn) if u.phone}
        for line, row in enumerate(reader, start=2):
            name = (row.get("name") or "").strip()
            try:
                phone = to_e164(row.get("phone") or "")
            except InvalidPhone as exc:
                report.errors.append(f"line {line}: {exc}")
                continue
            if not name:
                report.errors.append(f"line {line}: name is empty")
                continue
            if phone in known:
                report.skipped += 1
                continue
            await add_user(db=db, clock=clock, name=name, phone=phone, email=row.get("email"))
            known.add(phone)
            report.added += 1
    return report


class NoSuchUser(LookupError):
    pass


async def find_user(*, db: AsyncEngine, phone: str) -> directory.UserRow:
    """The account with this number (any format people type)."""
    e164 = to_e164(phone)
    async with db.connect() as conn:
        found = (await directory.users_by_phone(conn, [e164])).get(e164)
    if found is None:
        raise NoSuchUser(f"no account has the number {e164}")
    return found


async def user_footprint(*, db: AsyncEngine, user: directory.UserRow) -> directory.UserFootprint:
    async with db.connect() as conn:
        return await directory.user_footprint(conn, user.id)


async def remove_user(*, db: AsyncEngine, user: directory.UserRow) -> None:
    """Remove an account: its subscription and notification history go; its
    conversations and records stay, no longer linked to an account (the number
    becomes a guest's)."""
    async with db.begin() as conn:
        await directory.remove_user(conn, user)


async def list_users(*, db: AsyncEngine) -> list[directory.UserRow]:
    async with db.connect() as conn:
        return await directory.list_users(conn)
