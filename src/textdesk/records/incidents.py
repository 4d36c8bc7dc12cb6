"""Record use cases shared by the REST API, the record page, the virtual agent and agents.

Records are reached only through ``ports.RecordRepositories`` (the built-in store
today, ServiceNow next) and linked through ``ports.RecordLinks``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, tzinfo
from typing import Any

from textdesk.domain.phones import to_e164
from textdesk.domain.records import Record, new_record
from textdesk.ports import Clock, ReadingUnitOfWork, RecordLinks, RecordRepositories


@dataclass(frozen=True)
class RecordViews:
    """Records as texters, cards, templates and the record page show them.

    One per desk (built at start): the record's signed link, and its dates in the
    desk's timezone (``TEXTDESK_TIMEZONE``).
    """

    links: RecordLinks
    zone: tzinfo = UTC

    def view(self, record: Record) -> dict[str, Any]:
        """The record as a dict, with the texter-facing link and the desk's dates."""
        return record.as_dict(url=self.links.url_for(record.number), zone=self.zone)


class UnknownCaller(ValueError):
    """A record cannot name as its caller an account that does not exist."""

    def __init__(self, user_id: int) -> None:
        super().__init__(f"no user {user_id}")
        self.user_id = user_id


class InvalidLink(ValueError):
    """A record link we did not make (forged, mistyped or cut short)."""


class InvalidPage(ValueError):
    """A page of records that cannot be asked for (nothing on it, or before the first)."""


@dataclass(frozen=True)
class Incidents:
    """Listing, reading, opening, changing and commenting on records; one per desk."""

    # The API's requests run in a transaction; the record page only reads.
    uow: ReadingUnitOfWork[RecordRepositories]
    links: RecordLinks
    clock: Clock

    async def page(
        self,
        *,
        caller_id: int | None = None,
        caller_phone: str | None = None,
        open_only: bool = False,
        limit: int = 50,
        offset: int = 0,
    ) -> list[Record]:
        """Records, newest first; only a caller's (by account or phone) when one is given.

        Raises ``InvalidPage`` for a page of no records or one before the first: the
        stores would answer those differently (PostgreSQL refuses a negative offset).
        """
        if limit < 1:
            raise InvalidPage(f"limit must be at least 1, not {limit}")
        if offset < 0:
            raise InvalidPage(f"offset must be at least 0, not {offset}")
        async with self.uow.begin() as repos:
            return await repos.records.page(
                caller_id=caller_id,
                caller_phone=caller_phone,
                open_only=open_only,
                limit=limit,
                offset=offset,
            )

    async def get(self, number: str) -> Record | None:
        """The record numbered ``number`` (any case), whoever it belongs to."""
        async with self.uow.begin() as repos:
            return await repos.records.get(number)

    async def linked(self, token: str) -> Record | None:
        """The record a texted link opens; None when it no longer exists.

        The link is the texter's capability to the record, so whoever holds it sees
        it; raises ``InvalidLink`` for a link we did not make.
        """
        number = self.links.number_for(token)
        if number is None:
            raise InvalidLink(token)
        async with self.uow.read() as repos:
            return await repos.records.get(number)

    async def open(
        self,
        *,
        short_description: str,
        description: str = "",
        category: str | None = None,
        urgency: Any = 3,
        caller_id: int | None = None,
        caller_phone: str | None = None,
    ) -> Record:
        """Open a record for a caller (defaults: ``domain.records.new_record``).

        Raises ``domain.phones.InvalidPhone`` for a phone that is not one (others are
        stored in E.164), ``UnknownCaller`` for an account that does not exist, and
        ``domain.records.InvalidRecord`` for an urgency that is not one.
        """
        phone = to_e164(caller_phone) if caller_phone else None
        async with self.uow.begin() as repos:
            if caller_id is not None and not await repos.callers.exists(caller_id):
                raise UnknownCaller(caller_id)
            record = new_record(
                short_description=short_description,
                description=description,
                category=category,
                urgency=urgency,
                caller_id=caller_id,
                caller_phone=phone,
            )
            return await repos.records.create(record, now=self.clock.now())

    async def change(self, number: str, fields: Mapping[str, Any]) -> Record | None:
        """Apply ``fields``; state and assignment changes become record events.

        None when there is no such record; raises ``domain.records.InvalidRecord`` for
        a field that cannot be changed or a value it cannot take (nothing is changed).
        """
        async with self.uow.begin() as repos:
            return await repos.records.update(number, fields, now=self.clock.now())

    async def comment(
        self, number: str, *, author: str, body: str, public: bool = True
    ) -> Record | None:
        """Add a comment (public ones reach the caller); None when there is no such record."""
        async with self.uow.begin() as repos:
            return await repos.records.add_comment(
                number, author=author, body=body, now=self.clock.now(), public=public
            )

    def url_for(self, number: str) -> str:
        """The link that opens the record for whoever is texted it."""
        return self.links.url_for(number)
