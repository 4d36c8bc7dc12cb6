"""``ports.InstanceEventLog``: the ServiceNow record events already noted."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from textdesk.adapters.db.tables import instance_events
from textdesk.ports import EventKey

_KEY = ["sys_id", "event", "updated_on", "digest"]
_CHUNK = 500  # sys_ids per IN (…)


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

    async def noted(self, keys: Collection[EventKey]) -> set[EventKey]:
        wanted = set(keys)
        ids = sorted({key[0] for key in wanted})
        found: set[EventKey] = set()
        t = instance_events
        for start in range(0, len(ids), _CHUNK):
            rows = await self._conn.execute(
                select(t.c.sys_id, t.c.event, t.c.updated_on, t.c.digest).where(
                    t.c.sys_id.in_(ids[start : start + _CHUNK])
                )
            )
            found.update(
                key for r in rows if (key := (r.sys_id, r.event, r.updated_on, r.digest)) in wanted
            )
        return found
