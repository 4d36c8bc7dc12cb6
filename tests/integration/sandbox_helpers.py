"""A textdesk in sandbox mode (no Twilio credentials), as the simulator tests run it."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from tests.integration.conftest import NUMBER, TEXTER
from textdesk.adapters.clock import SystemClock
from textdesk.adapters.db.database import create_engine
from textdesk.bootstrap import admin_use_cases
from textdesk.config import Settings


def sandbox_settings(url: str, database_url: str, **extra: Any) -> Settings:
    """Settings without Twilio credentials: the app carries texts through its sandbox."""
    values: dict[str, Any] = {
        "TEXTDESK_DATABASE_URL": database_url,
        "TEXTDESK_PUBLIC_URL": url,
        "TEXTDESK_DEMO": True,
        "TEXTDESK_SEND_RATE": 100,
    }
    values.update(extra)
    return Settings(**values)


async def seed_sandbox(database_url: str) -> AsyncEngine:
    """The desk's number and Alice's account, in a migrated database; its engine."""
    db = create_engine(database_url)
    clock = SystemClock()
    await admin_use_cases(db, clock).numbers.add(phone=NUMBER, purpose="conversational")
    await admin_use_cases(db, clock).accounts.add(name="Alice Example", phone=TEXTER)
    return db
