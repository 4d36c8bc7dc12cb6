"""Throw-away databases: a fresh one per scenario, so each row counts only its own texts.

SQLite is a new file in the scenario's folder; PostgreSQL a new database created
on the configured server and dropped afterwards (``WITH (FORCE)``, since a killed
process can leave a connection the server has not yet noticed is gone).  Redis
is one numbered database, flushed before each scenario that uses it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import redis
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


class Database(Protocol):
    """What a scenario needs of its database."""

    kind: str

    @property
    def url(self) -> str:
        """The URL textdesk is configured with (async driver)."""

    @property
    def sync_url(self) -> str:
        """The same database for the suite's own synchronous reads."""

    def create(self) -> None: ...

    def drop(self) -> None: ...


@dataclass
class SqliteFile:
    """A new SQLite file; ``textdesk migrate`` creates it."""

    path: Path
    kind: str = "SQLite"

    @property
    def url(self) -> str:
        return f"sqlite+aiosqlite:///{self.path}"

    @property
    def sync_url(self) -> str:
        return f"sqlite:///{self.path}"

    def create(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.drop()

    def drop(self) -> None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)


@dataclass
class PostgresDatabase:
    """A database of its own on the server ``admin_url`` points at."""

    admin_url: str
    name: str = ""
    kind: str = "PostgreSQL"

    def __post_init__(self) -> None:
        self.name = self.name or f"textdesk_faults_{secrets.token_hex(4)}"

    @property
    def url(self) -> str:
        return (
            make_url(self.admin_url).set(database=self.name).render_as_string(hide_password=False)
        )

    @property
    def sync_url(self) -> str:
        return self.url

    def _admin(self, statement: str) -> None:
        engine = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                conn.execute(text(statement))
        finally:
            engine.dispose()

    def create(self) -> None:
        self._admin(f'CREATE DATABASE "{self.name}"')

    def drop(self) -> None:
        self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def flush_redis(url: str) -> None:
    """Empty the one Redis database the suite was given (and nothing else)."""
    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    finally:
        client.close()
