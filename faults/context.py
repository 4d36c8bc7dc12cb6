"""What every scenario is given: where to write, which servers to use, how hard to push."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from faults.databases import Database, PostgresDatabase, SqliteFile
from faults.ledger import Row


@dataclass(frozen=True)
class Load:
    """The steady conversation driven while a fault strikes."""

    texters: int = 20
    texts: int = 30
    pause: float = 0.35  # seconds between one texter's texts


@dataclass(frozen=True)
class Context:
    """The suite's run: its folder, the PostgreSQL server and Redis database it may use."""

    folder: Path  # the scenarios' logs and SQLite files, removed afterwards unless kept
    postgres_admin_url: str
    redis_url: str
    load: Load = Load()
    keep: bool = False  # leave databases and logs behind, to look into a finding

    def sqlite(self, scenario: str) -> Database:
        return SqliteFile(self.folder / scenario / "textdesk.db")

    def postgres(self) -> Database:
        return PostgresDatabase(self.postgres_admin_url)

    def scenario_folder(self, scenario: str) -> Path:
        return self.folder / scenario

    def findings(self, scenario: str) -> Path:
        """Where a scenario writes inputs worth replaying; kept after the run."""
        return self.folder.parent / f"{scenario}-failures.jsonl"


Scenario = Callable[[Context], Coroutine[Any, Any, Row]]


T = TypeVar("T")


async def blocking(work: Callable[[], T]) -> T:
    """Run a blocking step (start, kill, read) without stalling the texters' loop."""
    return await asyncio.to_thread(work)
