"""Many rows in one statement, without SQLAlchemy's per-row bookkeeping on SQLite.

For an executemany, SQLAlchemy builds a dict of every row's bound values, checks
each against the statement and then runs it through its type's processor; on the
webhook's hot path that was about a fifth of the web process's CPU.  On SQLite,
the functions here compile the statement once, run the same type processors
column by column (a value the whole batch shares, such as its timestamp, once) and
hand the driver plain tuples.  What reaches the database is what SQLAlchemy would
have sent (a test compares the stored text).  PostgreSQL takes the ordinary path:
asyncpg already executes a batch in one round trip, and its rows are typed.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.compiler import Compiled, SQLCompiler
from sqlalchemy.sql.dml import UpdateBase


@dataclass(frozen=True)
class _Plan:
    sql: str
    keys: tuple[str, ...]
    processors: tuple[Callable[[Any], Any] | None, ...]
    # SQLAlchemy would do more than bind the rows' values (a Python-side column
    # default to fill in, a key that is no column to refuse): let it.
    ordinary: bool


_plans: weakref.WeakKeyDictionary[Dialect, dict[Hashable, _Plan]] = weakref.WeakKeyDictionary()


def _plan_for(
    dialect: Dialect, key: Hashable, given: set[str] | None, compile_: Callable[[], Compiled]
) -> _Plan:
    cache = _plans.setdefault(dialect, {})
    plan = cache.get(key)
    if plan is None:
        compiled = cast(SQLCompiler, compile_())
        names = tuple(compiled.positiontup or ())
        binds = compiled.binds
        plan = _Plan(
            sql=str(compiled),
            keys=names,
            processors=tuple(
                binds[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names
            ),
            ordinary=bool(compiled.insert_prefetch or compiled.update_prefetch)
            or (given is not None and given != set(names)),
        )
        cache[key] = plan
    return plan


def _parameters(plan: _Plan, rows: Sequence[dict[str, Any]]) -> list[tuple[Any, ...]]:
    columns: list[list[Any]] = []
    for name, process in zip(plan.keys, plan.processors, strict=True):
        values = [row[name] for row in rows]
        if process is not None:
            first = values[0]
            if all(v is first for v in values):  # the batch's one timestamp, say
                values = [process(first)] * len(values)
            else:
                values = [process(v) for v in values]
        columns.append(values)
    return list(zip(*columns, strict=True))


async def insert_rows(conn: AsyncConnection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """INSERT ``rows`` (dicts with the same keys) into ``table`` in one executemany."""
    if not rows:
        return
    keys = tuple(rows[0])
    if conn.dialect.name == "sqlite":
        plan = _plan_for(
            conn.dialect,
            (table, keys),
            set(keys),
            lambda: table.insert().compile(dialect=conn.dialect, column_keys=list(keys)),
        )
        if not plan.ordinary:
            await _run(conn, plan, rows)
            return
    await conn.execute(table.insert(), list(rows))


async def execute_rows(
    conn: AsyncConnection, statement: UpdateBase, rows: Sequence[dict[str, Any]]
) -> None:
    """Run ``statement`` once per row, in one executemany.

    ``statement`` is compiled once and kept (on SQLite), so it must be a module-level
    constant, and every bound parameter of it must come from the rows.
    """
    if not rows:
        return
    if conn.dialect.name == "sqlite":
        plan = _plan_for(
            conn.dialect, statement, None, lambda: statement.compile(dialect=conn.dialect)
        )
        if not plan.ordinary:
            await _run(conn, plan, rows)
            return
    await conn.execute(statement, list(rows))


async def _run(conn: AsyncConnection, plan: _Plan, rows: Sequence[dict[str, Any]]) -> None:
    width = len(set(plan.keys))
    if any(len(row) != width for row in rows):
        raise ValueError("every row of an executemany must have the same keys")
    await conn.exec_driver_sql(plan.sql, _parameters(plan, rows))
