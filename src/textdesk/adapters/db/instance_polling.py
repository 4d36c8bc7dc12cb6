"""``ports.IncidentSnapshots`` and ``ports.PollRounds``: polling an instance, in SQL.

Every part of a snapshot moves forward only, in the statement that writes it
(``CASE WHEN state_on <= :on``), so a record event posted while a round runs and
the round's own write can come in either order.  A round is claimed by moving
``due_at`` past now with ``UPDATE … WHERE due_at <= now``: of several processes,
the one whose update finds the row due runs it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import BindParameter, bindparam, case, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from textdesk.adapters.db.tables import instance_poll, instance_snapshots
from textdesk.domain.instance_changes import PollClaim, Snapshot
from textdesk.domain.servicenow_events import InstanceEvent

POLLED = "incident"  # the row of instance_poll this desk's rounds use
_CHUNK = 500  # sys_ids per IN (…): well inside every driver's parameter limit
_t = instance_snapshots


def _forward(part: str, since: str) -> dict[str, Any]:
    """SET ``part`` and ``since`` from the bound values when those are not older."""
    newer = _t.c[since] <= bindparam(f"b_{since}")
    return {
        part: case((newer, bindparam(f"b_{part}")), else_=_t.c[part]),
        since: case((newer, bindparam(f"b_{since}")), else_=_t.c[since]),
    }


_THROUGH: BindParameter[str] = bindparam("b_comments_through")
# One statement for a whole round's incidents (executemany); SET expressions read the
# row as it was, so each CASE compares with the time kept before this update.
_MOVE_FORWARD = (
    update(_t)
    .where(_t.c.sys_id == bindparam("b_sys_id"))
    .values(
        **_forward("state", "state_on"),
        **_forward("assigned_to", "assigned_on"),
        comments_through=case(
            (_t.c.comments_through < _THROUGH, _THROUGH), else_=_t.c.comments_through
        ),
        kept_at=bindparam("b_kept_at"),
    )
)


class SqlIncidentSnapshots:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def of(self, sys_ids: Sequence[str]) -> dict[str, Snapshot]:
        found: dict[str, Snapshot] = {}
        wanted = sorted(set(sys_ids))
        for start in range(0, len(wanted), _CHUNK):
            rows = await self._conn.execute(
                select(_t).where(_t.c.sys_id.in_(wanted[start : start + _CHUNK]))
            )
            for r in rows:
                found[r.sys_id] = Snapshot(
                    r.sys_id, r.state, r.state_on, r.assigned_to, r.assigned_on, r.comments_through
                )
        return found

    async def keep(self, snapshots: Sequence[Snapshot], now: datetime) -> None:
        if not snapshots:
            return
        kept = await self.of([s.sys_id for s in snapshots])
        fresh = [s for s in snapshots if s.sys_id not in kept]
        known = [s for s in snapshots if s.sys_id in kept]
        if known:
            await self._conn.execute(
                _MOVE_FORWARD,
                [_bound(s, now) for s in known],
            )
        if fresh:
            rows = [_values(s, now) for s in {s.sys_id: s for s in fresh}.values()]
            # A concurrent round (a lease that ran out) may add one first: that is fine.
            if self._conn.dialect.name == "postgresql":
                pg = postgresql.insert(_t).on_conflict_do_nothing(index_elements=["sys_id"])
                await self._conn.execute(pg, rows)
            else:
                lite = sqlite.insert(_t).on_conflict_do_nothing(index_elements=["sys_id"])
                await self._conn.execute(lite, rows)

    async def advance(self, event: InstanceEvent) -> None:
        if event.event == "state_changed":
            part, since, value = "state", "state_on", event.state
        elif event.event == "assigned":
            part, since, value = "assigned_to", "assigned_on", event.assigned_to
        else:
            return  # a comment changes neither part
        await self._conn.execute(
            update(_t)
            .where(_t.c.sys_id == event.sys_id, _t.c[since] <= event.sys_updated_on)
            .values({part: value, since: event.sys_updated_on})
        )


def _values(snapshot: Snapshot, now: datetime) -> dict[str, Any]:
    return {
        "sys_id": snapshot.sys_id,
        "state": snapshot.state,
        "state_on": snapshot.state_on,
        "assigned_to": snapshot.assigned_to,
        "assigned_on": snapshot.assigned_on,
        "comments_through": snapshot.comments_through,
        "kept_at": now,
    }


def _bound(snapshot: Snapshot, now: datetime) -> dict[str, Any]:
    # Named apart from the columns: SQLAlchemy keeps a column's own name for SET.
    return {f"b_{k}": v for k, v in _values(snapshot, now).items()}


class SqlPollRounds:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def claim(self, *, now: datetime, lease: timedelta) -> PollClaim | None:
        first = {"name": POLLED, "cursor": None, "due_at": now}
        if self._conn.dialect.name == "postgresql":
            pg = postgresql.insert(instance_poll).values(first)
            await self._conn.execute(pg.on_conflict_do_nothing(index_elements=["name"]))
        else:
            lite = sqlite.insert(instance_poll).values(first)
            await self._conn.execute(lite.on_conflict_do_nothing(index_elements=["name"]))
        # On PostgreSQL a second process's update waits for this one's commit, then
        # finds the row no longer due and changes nothing.
        claimed = await self._conn.execute(
            update(instance_poll)
            .where(instance_poll.c.name == POLLED, instance_poll.c.due_at <= now)
            .values(due_at=now + lease)
            .returning(instance_poll.c.cursor)
        )
        row = claimed.first()
        return None if row is None else PollClaim(row.cursor)

    async def finish(self, *, cursor: str, due_at: datetime) -> None:
        column = instance_poll.c.cursor
        await self._conn.execute(
            update(instance_poll)
            .where(instance_poll.c.name == POLLED)
            .values(
                cursor=case((column.is_(None) | (column < cursor), cursor), else_=column),
                due_at=due_at,
            )
        )

    async def release(self, *, due_at: datetime) -> None:
        await self._conn.execute(
            update(instance_poll).where(instance_poll.c.name == POLLED).values(due_at=due_at)
        )
