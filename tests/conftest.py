"""Shared fixtures: real databases (SQLite and PostgreSQL), a real server, the Twilio stand-in."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import ssl
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher
from sqlalchemy import Engine, text
from sqlalchemy import create_engine as create_sync_engine

from textdesk.adapters.db.database import migrate
from textdesk.adapters.db.tables import metadata
from textdesk.admin import agents

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
PG_ADMIN_URL = os.environ.get(
    "TEXTDESK_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _redis_url_of_this_worker() -> str:
    """The Redis database of this test process: each pytest-xdist worker gets its own,
    counted down from TEXTDESK_TEST_REDIS_URL's (15 by default), since the tests flush it."""
    url = os.environ.get("TEXTDESK_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    base, db = url.rsplit("/", 1)
    return f"{base}/{(int(db) - int(worker.removeprefix('gw'))) % 16}"


REDIS_URL = _redis_url_of_this_worker()


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashes() -> Iterator[None]:
    """argon2 costs a tenth of a second of CPU a hash by design, and the Workspace tests
    add and sign in agents by the hundred: the servers a test runs in this process hash
    cheaply.  Those the e2e tests start as `textdesk` hash at production's cost
    (tests/e2e/test_cli_staff.py checks it)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(agents, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
        yield


@pytest.fixture(autouse=True, scope="session")
def _one_tls_context() -> Iterator[None]:
    """httpx reads the CA bundle into a new TLS context for every client not given
    one (tens of milliseconds of CPU), and the tests make clients by the thousand (a
    browser per sign-in), nearly all to plain http on loopback.  In this process every
    client asking for the default verification gets the same default context.  It
    reaches into httpx's transport module, so an httpx without it is left as it is."""
    try:
        import httpx._transports.default as httpx_transports
    except ImportError:
        yield
        return
    made = getattr(httpx_transports, "create_ssl_context", None)
    if made is None:
        yield
        return
    shared = httpx.create_ssl_context()

    def default_once(
        verify: ssl.SSLContext | str | bool = True, cert: Any = None, trust_env: bool = True
    ) -> ssl.SSLContext:
        if verify is True and cert is None and trust_env:
            return shared
        return made(verify=verify, cert=cert, trust_env=trust_env)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(httpx_transports, "create_ssl_context", default_once)
        yield


@pytest.fixture(autouse=True)
def _no_settings_from_the_shell(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests choose their own settings: `make` exports TEXTDESK_DEMO=1, a developer's
    shell may hold real Twilio credentials, and neither may change what a test sees."""
    for name in list(os.environ):
        if name.startswith(("TEXTDESK_", "TWILIO_")) and not name.startswith("TEXTDESK_TEST_"):
            monkeypatch.delenv(name)


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def require_service(name: str, host: str, port: int) -> None:
    """Skip without the service on a laptop; fail under CI=true, where it is mandatory."""
    if _reachable(host, port):
        return
    message = f"{name} is not reachable on {host}:{port}"
    if IN_CI:
        pytest.fail(f"{message} (mandatory when CI=true)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (migrating once keeps tests fast)."""
    path = tmp_path_factory.mktemp("db") / "template.db"
    migrate(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A throw-away PostgreSQL database for this test session, migrated."""
    require_service("PostgreSQL", "127.0.0.1", 5432)
    name = f"textdesk_test_{uuid.uuid4().hex[:10]}"
    admin = create_sync_engine(
        PG_ADMIN_URL.replace("+asyncpg", "+psycopg"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        migrate(url)
        yield url
    finally:
        if url in _emptying:
            _emptying.pop(url)[0].dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# The sequences of the tables' identity and serial columns: what TRUNCATE's RESTART
# IDENTITY restarts.
_OWNED_SEQUENCES = """
SELECT s.oid::regclass::text FROM pg_class s
JOIN pg_depend d ON d.objid = s.oid AND d.deptype IN ('a', 'i')
JOIN pg_class t ON t.oid = d.refobjid
WHERE s.relkind = 'S' AND t.relname = ANY(:tables)
"""
_emptying: dict[str, tuple[Engine, str]] = {}


def empty_postgres(url: str) -> None:
    """Every table emptied and its ids started again, as TRUNCATE … RESTART IDENTITY
    does; but DELETE, since a test leaves a few rows in a few tables, and TRUNCATE
    makes new files for all of them (a tenth of a second or more per test)."""
    if url not in _emptying:
        engine = create_sync_engine(url)
        tables = [t.name for t in metadata.sorted_tables]
        with engine.connect() as conn:
            sequences = list(conn.execute(text(_OWNED_SEQUENCES), {"tables": tables}).scalars())
        # The names are our own tables' and their sequences', never input.
        statements = [f'DELETE FROM "{name}"' for name in reversed(tables)]  # noqa: S608
        statements += [f"ALTER SEQUENCE {sequence} RESTART" for sequence in sequences]
        _emptying[url] = (engine, ";\n".join(statements))
    engine, emptying = _emptying[url]
    with engine.begin() as conn:
        conn.exec_driver_sql(emptying)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty, migrated database: each test runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "textdesk.db"
        shutil.copy(template, path)
        return f"sqlite+aiosqlite:///{path}"
    url: str = request.getfixturevalue("postgres_database")
    empty_postgres(url)
    return url


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    """An empty, migrated SQLite database (for tests about one process only)."""
    path = tmp_path / "textdesk.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture
def redis_url() -> str:
    """Redis (database 15, flushed by the tests that use it)."""
    require_service("Redis", "127.0.0.1", 6379)
    return REDIS_URL


def run(coro: object) -> object:
    """Run a coroutine from synchronous test code."""
    return asyncio.run(coro)  # type: ignore[arg-type]
