"""Database engine construction and migrations (one place for driver quirks)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from textdesk.adapters.db.sqlite_writer import WriterQueue

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _ensure_sqlite_dir(url: str) -> None:
    database = make_url(url).database
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers run beside the single writer; synchronous=FULL keeps every
    # acknowledged commit across a power cut (group commit pays the fsync once per batch).
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
    # We issue BEGIN ourselves (below) instead of the driver's implicit deferred BEGIN.
    dbapi_connection.isolation_level = None


def create_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    """An async engine for ``url`` with the settings each backend needs."""
    if is_sqlite(url):
        _ensure_sqlite_dir(url)
        engine = create_async_engine(url, pool_size=pool_size, max_overflow=pool_size)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        # BEGIN IMMEDIATE takes the write lock up front.  A deferred transaction that
        # reads and then writes while another connection commits fails at once with
        # SQLITE_BUSY (busy_timeout cannot help it), and this process runs several
        # writers: the group committer, the inbox processor, the dispatcher, the
        # assigner, agents' actions.  The queue makes them take turns without sleeping.
        WriterQueue().install(engine.sync_engine)
        return engine
    return create_async_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


class SqlDatabaseProbe:
    """``ports.DatabaseProbe``: ``SELECT 1`` on a connection of its own."""

    def __init__(self, db: AsyncEngine) -> None:
        self._db = db

    async def ping(self) -> None:
        async with self._db.connect() as conn:
            await conn.execute(text("SELECT 1"))


def sync_url(url: str) -> str:
    """The same database through a synchronous driver, for Alembic."""
    parsed = make_url(url)
    driver = parsed.drivername
    if driver == "sqlite+aiosqlite":
        parsed = parsed.set(drivername="sqlite")
    elif driver in ("postgresql+asyncpg", "postgresql"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def alembic_config(url: str) -> Config:
    # Imported here, not at the top: only `textdesk migrate` and the test set-up need
    # Alembic (and Mako under it), and loading it cost every other process ~0.3 s of
    # CPU at start: `python -c "import textdesk.cli.main"`, 6 paired runs, 2.85 s → 2.5 s.
    from alembic.config import Config  # noqa: PLC0415

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", sync_url(url).replace("%", "%%"))
    return config


def migrate(url: str, revision: str = "heads") -> None:
    """Upgrade the database at ``url`` to ``revision``."""
    if is_sqlite(url):
        _ensure_sqlite_dir(url)
    from alembic import command  # noqa: PLC0415

    command.upgrade(alembic_config(url), revision)
