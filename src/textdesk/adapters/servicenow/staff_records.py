"""The instance's incidents as the REST API and the record page reach them.

``records.incidents.Incidents`` works on a ``ports.ReadingUnitOfWork`` of
``ports.RecordRepositories``; on the built-in store that is one database transaction.
On the instance there is no transaction to hold, and none may be held while it is
called: the unit of work here opens nothing, each record call is one call (or a
few) to the instance, and the accounts a record may name are read here, each in a
connection of its own that is closed before the instance is called.

A caller given as one of our accounts is, on the instance, the ``sys_user`` whose
mobile phone is that account's phone; staff comments are signed with their author,
since every change there is the integration user's.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any, Protocol

from textdesk.adapters.servicenow.record_store import ServiceNowRecords
from textdesk.domain.records import NewRecord, Record
from textdesk.ports import CallerAccounts


class Accounts(CallerAccounts, Protocol):
    """Our accounts, each read on a connection of its own."""

    async def phone_of(self, user_id: int) -> str | None:
        """The account's phone (E.164); None for no such account or no phone."""
        ...


class StaffRecords:
    """``ports.RecordRepository`` on the instance, for staff (the API, the record page)."""

    remote = True

    def __init__(self, store: ServiceNowRecords, accounts: Accounts) -> None:
        self._store = store
        self._accounts = accounts

    async def get(self, number: str) -> Record | None:
        return await self._store.get(number)

    async def open_records_of(self, *, user_id: int | None, phone: str, limit: int) -> list[Record]:
        return await self._store.open_records_of(user_id=user_id, phone=phone, limit=limit)

    async def page(
        self,
        *,
        caller_id: int | None,
        caller_phone: str | None,
        open_only: bool,
        limit: int,
        offset: int,
    ) -> list[Record]:
        phones: set[str] | None = None
        if caller_id is not None or caller_phone is not None:
            phones = {caller_phone} if caller_phone else set()
            if caller_id is not None and (phone := await self._accounts.phone_of(caller_id)):
                phones.add(phone)
        return await self._store.page(
            phones=phones, open_only=open_only, limit=limit, offset=offset
        )

    async def create(self, record: NewRecord, *, now: datetime) -> Record:
        if record.caller_phone is None and record.caller_id is not None:
            record = replace(record, caller_phone=await self._accounts.phone_of(record.caller_id))
        return await self._store.create(record, now=now)

    async def update(
        self, number: str, fields: Mapping[str, Any], *, now: datetime
    ) -> Record | None:
        return await self._store.update(number, fields, now=now)

    async def add_comment(
        self,
        number: str,
        *,
        author: str,
        body: str,
        now: datetime,
        public: bool = True,
        may_repeat: bool = False,  # staff's notes come from a request, never the inbox loop
    ) -> Record | None:
        return await self._store.add_note(number, author=author, body=body, public=public)


class InstanceRecordRepositories:
    """``ports.RecordRepositories``: records on the instance, callers here."""

    def __init__(self, store: ServiceNowRecords, accounts: Accounts) -> None:
        self.records = StaffRecords(store, accounts)
        self.callers: CallerAccounts = accounts


class InstanceRecordsUnitOfWork:
    """``ports.ReadingUnitOfWork`` whose blocks hold nothing open (see the module)."""

    def __init__(self, store: ServiceNowRecords, accounts: Accounts) -> None:
        self._repositories = InstanceRecordRepositories(store, accounts)

    @contextlib.asynccontextmanager
    async def begin(self) -> AsyncIterator[InstanceRecordRepositories]:
        yield self._repositories

    @contextlib.asynccontextmanager
    async def read(self) -> AsyncIterator[InstanceRecordRepositories]:
        yield self._repositories
