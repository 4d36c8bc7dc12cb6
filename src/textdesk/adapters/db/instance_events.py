"""``ports.InstanceEventLog``: the ServiceNow record events already noted."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from textdesk.adapters.db.tables import instance_events

_KEY = ["sys_id", "event", "updated_on", "digest"]


class SqlInstanceEvents:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def first_time(
        self, *, sys_id: str, event: str, updated_on: str, digest: str, now: datetime
    ) -> bool:
        values = {
            "sys_id": sys_id,
            "event": event,
            "updated_on": updated_on,
            "digest": digest,
            "received_at": now,
        }
        # ON CONFLICT DO NOTHING: a concurrent post of the same event waits for this
        # one's transaction and then inserts nothing, so exactly one of them notifies.
        # RETURNING says whether a row went in (rowcount does not, through psycopg's
        # async cursor: it read 0 for an inserted row).
        if self._conn.dialect.name == "postgresql":
            pg = postgresql.insert(instance_events).values(values)
            pg_done = pg.on_conflict_do_nothing(index_elements=_KEY)
            result = await self._conn.execute(pg_done.returning(instance_events.c.sys_id))
        else:
            lite = sqlite.insert(instance_events).values(values)
            lite_done = lite.on_conflict_do_nothing(index_elements=_KEY)
            result = await self._conn.execute(lite_done.returning(instance_events.c.sys_id))
        return result.first() is not None
