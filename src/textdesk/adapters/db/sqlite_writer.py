"""One SQLite transaction at a time per process, queued on the event loop.

Every transaction on SQLite here starts with ``BEGIN IMMEDIATE`` (see
``database.py``), so only one connection can be inside one at a time.  Left to
SQLite, the others wait in its busy handler, which polls by sleeping 1, 2, 5 … up
to 100 ms between tries: under load a waiter keeps sleeping long after the lock
is free, and the webhook's group commit, the inbox processor and the dispatcher
spend more time asleep than working.  Queuing them on an ``asyncio.Lock`` first
hands the database over the moment the previous transaction ends, in arrival
order, and costs the event loop nothing while they wait.

The lock only orders this process's transactions; SQLite's own locking still
guards against other processes (``textdesk worker``, the CLI).  A waiter that
cannot get the lock within ``timeout`` seconds goes ahead to SQLite, whose
busy timeout then decides, exactly as without this module.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.util import await_

log = logging.getLogger(__name__)

_HELD = "textdesk_sqlite_writer_held"


class WriterQueue:
    """Orders the transactions of one engine; install with :meth:`install`."""

    def __init__(self, *, timeout: float = 10.0) -> None:
        self._timeout = timeout
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = asyncio.Lock()

    def _current_lock(self) -> asyncio.Lock:
        # An engine can outlive its event loop (tests run one loop per test); a lock
        # bound to a closed loop could never be woken, so each loop gets its own.
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self._loop, self._lock = loop, asyncio.Lock()
        return self._lock

    async def _acquire(self) -> asyncio.Lock | None:
        lock = self._current_lock()
        try:
            # Not wait_for: on Python 3.11 it can swallow a cancel that arrives as the
            # lock is granted, and the cancelled task would carry on (a stopped
            # background loop that never stops).
            async with asyncio.timeout(self._timeout):
                await lock.acquire()
        except TimeoutError:
            log.warning("no SQLite transaction slot in %gs; leaving it to SQLite", self._timeout)
            return None
        return lock

    def begin(self, conn: Connection, sql: str) -> None:
        """Wait for our turn, then start the transaction with ``sql``."""
        lock = await_(self._acquire())
        if lock is not None:
            conn.info[_HELD] = lock
        try:
            conn.exec_driver_sql(sql)
        except BaseException:
            self._release(conn.info)
            raise

    def end(self, conn: Connection, sql: str) -> None:
        """Finish the transaction ourselves (``COMMIT``/``ROLLBACK``), then pass the turn on.

        SQLAlchemy's commit and rollback events fire *before* the driver's call; the
        turn must pass only once the transaction is really over, so we end it here.
        The driver's own call that follows then finds no transaction and does nothing.
        """
        if conn.invalidated:
            # A statement was interrupted (a task cancelled mid-transaction): the driver
            # connection is closed, which ended the transaction, and the pool's
            # invalidate hook has already passed the turn on.  Touching ``conn`` now
            # would raise PendingRollbackError in place of the CancelledError, and a
            # background loop would take the cancel for a failed step and carry on.
            return
        try:
            raw = conn.connection.dbapi_connection
            if raw is not None and _in_transaction(raw):
                conn.exec_driver_sql(sql)
        finally:
            self._release(conn.info)

    @staticmethod
    def _release(info: dict[Any, Any]) -> None:
        lock = info.pop(_HELD, None)
        if lock is not None and lock.locked():
            lock.release()

    def install(self, engine: Engine) -> None:
        """Hook the queue into ``engine`` (the sync side of an ``AsyncEngine``)."""
        event.listen(engine, "begin", lambda conn: self.begin(conn, "BEGIN IMMEDIATE"))
        event.listen(engine, "commit", lambda conn: self.end(conn, "COMMIT"))
        event.listen(engine, "rollback", lambda conn: self.end(conn, "ROLLBACK"))
        # Safety nets: a connection invalidated or returned mid-transaction passes the turn.
        event.listen(engine.pool, "checkin", lambda _dbapi, record: self._release(record.info))
        event.listen(
            engine.pool, "invalidate", lambda _dbapi, record, _exc: self._release(record.info)
        )


def _in_transaction(dbapi_connection: Any) -> bool:
    # SQLAlchemy's aiosqlite adapter wraps aiosqlite, which wraps sqlite3; each
    # exposes the flag without a round trip to the connection's thread.
    inner = getattr(dbapi_connection, "_connection", dbapi_connection)
    return bool(getattr(inner, "in_transaction", True))
