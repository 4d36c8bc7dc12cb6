"""Where sign-in tallies are kept: the database, or Redis when it is configured.

Both are shared by every process, so the limits of ``domain/sign_in_throttle.py`` hold
however many processes answer.  Each store reads an attempt's tallies, lets the
rule decide and writes what it decided as one atomic step, so concurrent attempts
are decided one after the other, each seeing the failures counted before it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime

from redis.asyncio import Redis
from redis.exceptions import WatchError
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncEngine

from textdesk.adapters.db.dialect import lock_keys, upsert
from textdesk.adapters.db.tables import sign_in_tallies as table
from textdesk.domain.sign_in_throttle import Tally, ThrottleVerdict
from textdesk.ports import Clock

Decide = Callable[[Mapping[str, Tally], datetime], ThrottleVerdict]


class DatabaseTallies:
    """Tallies in the ``sign_in_tallies`` table.

    PostgreSQL: the keys' advisory locks (taken in sorted order, so no deadlock)
    make concurrent attempts on one key take turns.  SQLite: every transaction here
    begins ``IMMEDIATE`` (see ``database.py``), which already makes them take turns,
    in this process and in any other on the same file.
    """

    def __init__(self, db: AsyncEngine, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def update(self, keys: Sequence[str], decide: Decide) -> ThrottleVerdict:
        """Read ``keys``' tallies, decide, write the decision: one transaction."""
        async with self._db.begin() as conn:
            await lock_keys(conn, [f"sign-in:{key}" for key in keys])
            rows = await conn.execute(select(table).where(table.c.key.in_(list(keys))))
            stored = {
                row.key: Tally(row.failures, row.first_at, row.last_at, row.expires_at)
                for row in rows
            }
            now = self._clock.now()
            outcome = decide(stored, now)
            forget = [key for key, tally in outcome.writes.items() if tally is None]
            keep = [
                {
                    "key": key,
                    "failures": tally.failures,
                    "first_at": tally.first_at,
                    "last_at": tally.last_at,
                    "expires_at": tally.expires_at,
                }
                for key, tally in outcome.writes.items()
                if tally is not None
            ]
            if forget:
                await conn.execute(delete(table).where(table.c.key.in_(forget)))
            await upsert(
                conn, table, keep, ["key"], ["failures", "first_at", "last_at", "expires_at"]
            )
            if outcome.writes:
                # Rows nobody remembers any more go while we hold the write lock anyway
                # (the index on expires_at makes it a short scan).
                await conn.execute(delete(table).where(table.c.expires_at <= now))
        return outcome


def _encode(tally: Tally) -> str:
    return json.dumps(
        [
            tally.failures,
            tally.first_at.timestamp(),
            tally.last_at.timestamp(),
            tally.expires_at.timestamp(),
        ]
    )


def _decode(raw: bytes | str) -> Tally:
    failures, first, last, expires = json.loads(raw)
    return Tally(
        int(failures),
        datetime.fromtimestamp(first, UTC),
        datetime.fromtimestamp(last, UTC),
        datetime.fromtimestamp(expires, UTC),
    )


class RedisTallies:
    """Tallies as Redis strings that expire when they are forgotten.

    ``WATCH`` the keys, read, decide, and write in ``MULTI``: if another process
    wrote one of them meanwhile the write is refused and the attempt is decided
    again on what it wrote.  Only attempts that go ahead write, so once a key is
    past its limit the rest are refused in one round trip each.
    """

    def __init__(self, redis: Redis, clock: Clock, *, prefix: str = "textdesk:sign-in:") -> None:
        self._redis = redis
        self._clock = clock
        self._prefix = prefix

    async def update(self, keys: Sequence[str], decide: Decide) -> ThrottleVerdict:
        """Read ``keys``' tallies, decide, write the decision: one optimistic transaction."""
        names = {key: self._prefix + key for key in keys}
        async with self._redis.pipeline(transaction=True) as pipe:
            while True:
                try:
                    await pipe.watch(*names.values())
                    raw = await pipe.mget(list(names.values()))
                    stored = {
                        key: _decode(value)
                        for key, value in zip(names, raw, strict=True)
                        if value is not None
                    }
                    now = self._clock.now()
                    outcome = decide(stored, now)
                    if not outcome.writes:
                        return outcome  # leaving the pipeline unwatches
                    pipe.multi()  # type: ignore[no-untyped-call]  # unannotated in redis-py
                    for key, tally in outcome.writes.items():
                        if tally is None:
                            pipe.delete(names[key])
                        else:
                            # Relative to our clock, not Redis's: the two need not agree.
                            ttl = max(1, int((tally.expires_at - now).total_seconds() * 1000))
                            pipe.set(names[key], _encode(tally), px=ttl)
                    await pipe.execute()
                    return outcome
                except WatchError:
                    continue
