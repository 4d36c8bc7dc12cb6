"""Record use cases shared by the REST API, the virtual agent and (later) agents."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, tzinfo
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from textdesk.adapters.db import records as store
from textdesk.adapters.signed_urls import RecordLinkSigner
from textdesk.domain.records import Record


@dataclass(frozen=True)
class RecordViews:
    """Records as texters, cards, templates and the record page show them.

    One per desk (built at start): the record's signed link, and its dates in the
    desk's timezone (``TEXTDESK_TIMEZONE``).
    """

    links: RecordLinkSigner
    zone: tzinfo = UTC

    def view(self, record: Record) -> dict[str, Any]:
        """The record as a dict, with the texter-facing link and the desk's dates."""
        return record.as_dict(url=self.links.url_for(record.number), zone=self.zone)


async def open_records_of(
    conn: AsyncConnection, *, user_id: int | None, phone: str
) -> list[Record]:
    """A texter's open records: those naming their account or their phone (see
    :func:`textdesk.domain.records.belongs_to`)."""
    return await store.list_records(conn, caller_id=user_id, caller_phone=phone, open_only=True)
