"""Accounts: people whose phone number we recognise."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from textdesk.domain.phones import InvalidPhone, to_e164
from textdesk.ports import (
    Clock,
    Duplicate,
    ReadingUnitOfWork,
    UserFootprint,
    UserRepositories,
    UserRow,
)


class DuplicatePhone(ValueError):
    pass


class NoSuchUser(LookupError):
    pass


@dataclass
class ImportReport:
    added: int = 0
    skipped: int = 0
    errors: list[str] | None = None


class Accounts:
    """Adds, imports, finds, lists and removes accounts."""

    def __init__(self, uow: ReadingUnitOfWork[UserRepositories], clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def add(self, *, name: str, phone: str | None, email: str | None = None) -> int:
        """Create an account; its phone (E.164) must be unique."""
        e164 = to_e164(phone) if phone else None
        try:
            async with self._uow.begin() as repos:
                return await repos.users.add(
                    name=name.strip(), email=email or None, phone=e164, now=self._clock.now()
                )
        except Duplicate as exc:
            raise DuplicatePhone(f"an account already has the number {e164}") from exc

    async def import_csv(self, path: Path) -> ImportReport:
        """Import ``name,email,phone`` rows; bad rows are reported, not fatal."""
        report = ImportReport(errors=[])
        assert report.errors is not None
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            missing = {"name", "phone"} - set(reader.fieldnames or [])
            if missing:
                raise ValueError(f"{path}: missing column(s): {', '.join(sorted(missing))}")
            async with self._uow.read() as repos:
                known = {u.phone for u in await repos.users.all() if u.phone}
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
                await self.add(name=name, phone=phone, email=row.get("email"))
                known.add(phone)
                report.added += 1
        return report

    async def find(self, phone: str) -> UserRow:
        """The account with this number (any format people type)."""
        e164 = to_e164(phone)
        async with self._uow.read() as repos:
            found = (await repos.users.by_phones([e164])).get(e164)
        if found is None:
            raise NoSuchUser(f"no account has the number {e164}")
        return found

    async def get(self, user_id: int) -> UserRow | None:
        """The account with this id, if there is one."""
        async with self._uow.read() as repos:
            return await repos.users.get(user_id)

    async def footprint(self, user: UserRow) -> UserFootprint:
        async with self._uow.read() as repos:
            return await repos.users.footprint(user.id)

    async def remove(self, user: UserRow) -> None:
        """Remove an account: its subscription and notification history go; its
        conversations and records stay, no longer linked to an account (the number
        becomes a guest's)."""
        async with self._uow.begin() as repos:
            await repos.users.remove(user)

    async def all(self, *, limit: int | None = None, offset: int = 0) -> list[UserRow]:
        """Accounts in the order they were added (all of them without ``limit``)."""
        async with self._uow.read() as repos:
            return await repos.users.all(limit=limit, offset=offset)
