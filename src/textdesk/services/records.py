"""Record use cases shared by the REST API, the virtual agent and (later) agents."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from textdesk.adapters.db import records as store
from textdesk.adapters.signed_urls import RecordLinkSigner
from textdesk.domain.records import Record


def record_view(record: Record, links: RecordLinkSigner) -> dict[str, Any]:
    """The record as a dict, with the texter-facing link."""
    return record.as_dict(url=links.url_for(record.number))


async def open_records_of(
    conn: AsyncConnection, *, user_id: int | None, phone: str
) -> list[Record]:
    """A texter's open records: those naming their account or their phone (see
    :func:`textdesk.domain.records.belongs_to`)."""
    return await store.list_records(conn, caller_id=user_id, caller_phone=phone, open_only=True)
