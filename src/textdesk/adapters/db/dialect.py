"""The few statements whose spelling differs between SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, func, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from textdesk.adapters.db.bulk import insert_rows


async def insert_ignoring_conflicts(
    conn: AsyncConnection, table: Table, rows: Sequence[dict[str, Any]], key: Sequence[str]
) -> None:
    """INSERT rows, silently skipping any whose ``key`` already exists."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        pg = postgresql.insert(table).on_conflict_do_nothing(index_elements=list(key))
        await conn.execute(pg, list(rows))
    else:
        lite = sqlite.insert(table).on_conflict_do_nothing(index_elements=list(key))
        await conn.execute(lite, list(rows))


async def insert_numbered(
    conn: AsyncConnection, table: Table, rows: Sequence[dict[str, Any]]
) -> list[int]:
    """INSERT rows into a table with an integer ``id``; their ids, in ``rows``' order.

    PostgreSQL returns them from one INSERT.  SQLite cannot promise the order of
    RETURNING rows, so SQLAlchemy would insert one row per statement there; instead
    the ids are given explicitly, after the table's largest.  Every SQLite write
    transaction here is ``BEGIN IMMEDIATE``, so no other writer can take them
    meanwhile (and if one did, the primary key would refuse, not mix them up).
    """
    if not rows:
        return []
    if conn.dialect.name == "postgresql":
        result = await conn.execute(
            table.insert().returning(table.c.id, sort_by_parameter_order=True), list(rows)
        )
        return [int(i) for i in result.scalars().all()]
    top = (await conn.execute(select(func.max(table.c.id)))).scalar() or 0
    ids = list(range(int(top) + 1, int(top) + 1 + len(rows)))
    await insert_rows(conn, table, [{**row, "id": i} for row, i in zip(rows, ids, strict=True)])
    return ids


async def upsert(
    conn: AsyncConnection,
    table: Table,
    rows: Sequence[dict[str, Any]],
    key: Sequence[str],
    update: Sequence[str],
) -> None:
    """INSERT rows, or update the ``update`` columns of the row with the same ``key``."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        pg = postgresql.insert(table)
        pg = pg.on_conflict_do_update(
            index_elements=list(key), set_={c: pg.excluded[c] for c in update}
        )
        await conn.execute(pg, list(rows))
    else:
        lite = sqlite.insert(table)
        lite = lite.on_conflict_do_update(
            index_elements=list(key), set_={c: lite.excluded[c] for c in update}
        )
        await conn.execute(lite, list(rows))


async def try_lock_keys(conn: AsyncConnection, keys: Sequence[str]) -> set[str]:
    """Take transaction-scoped locks on ``keys``; return the ones we got.

    PostgreSQL: advisory locks, so two processes never work on one conversation at
    once.  SQLite: a single process owns the database, and its writer lock already
    serialises transactions, so every key is ours.
    """
    if conn.dialect.name != "postgresql":
        return set(keys)
    result = await conn.execute(
        text(
            "SELECT k FROM unnest(CAST(:keys AS text[])) AS k "
            "WHERE pg_try_advisory_xact_lock(hashtextextended(k, 0))"
        ),
        {"keys": list(keys)},
    )
    return {row[0] for row in result}


async def lock_key(conn: AsyncConnection, key: str) -> None:
    """Wait for the transaction-scoped lock on ``key`` (see :func:`try_lock_keys`)."""
    await lock_keys(conn, [key])


async def lock_keys(conn: AsyncConnection, keys: Sequence[str]) -> None:
    """Wait for the locks on all ``keys``, in one statement and in sorted order.

    Sorted, so two transactions locking overlapping sets cannot deadlock.
    """
    if conn.dialect.name != "postgresql" or not keys:
        return
    await conn.execute(
        text(
            "SELECT pg_advisory_xact_lock(hashtextextended(k, 0)) "
            "FROM (SELECT DISTINCT k FROM unnest(CAST(:keys AS text[])) AS k ORDER BY k) AS s"
        ),
        {"keys": list(keys)},
    )


# PostgreSQL's codes for "gave up waiting for a lock" and "deadlock detected".
_LOCK_GIVEN_UP = {"55P03", "40P01"}


async def lock_keys_waiting_at_most(
    conn: AsyncConnection, keys: Sequence[str], milliseconds: int
) -> bool:
    """:func:`lock_keys`, giving up after ``milliseconds``; whether they were all taken.

    Giving up (or losing a deadlock) undoes only this attempt, under a savepoint; the
    transaction goes on, and nothing else in it inherits the short lock timeout.
    """
    if conn.dialect.name != "postgresql" or not keys:
        return True
    try:
        async with conn.begin_nested():
            before = (
                await conn.execute(
                    text(
                        "SELECT current_setting('lock_timeout'), "
                        "set_config('lock_timeout', :wait, true)"
                    ),
                    {"wait": f"{milliseconds}ms"},
                )
            ).scalar_one()
            await lock_keys(conn, keys)
            await conn.execute(
                text("SELECT set_config('lock_timeout', :was, true)"), {"was": str(before)}
            )
    except DBAPIError as exc:
        if getattr(exc.orig, "sqlstate", None) not in _LOCK_GIVEN_UP:
            raise
        return False
    return True
