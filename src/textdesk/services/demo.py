"""Seeding the demo: a conversational number, accounts (and, with the virtual agent, records)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from textdesk.demo import DEMO_DIR
from textdesk.ports import Clock
from textdesk.services.numbers import add_number
from textdesk.services.users import import_users

DEMO_NUMBER = "+15550100100"


async def seed(*, db: AsyncEngine, clock: Clock) -> list[str]:
    """Idempotently create the demo data; returns what was done, for the console."""
    number = await add_number(db=db, clock=clock, phone=DEMO_NUMBER, purpose="conversational")
    done = [f"number {number} (conversational)"]
    report = await import_users(db=db, clock=clock, path=DEMO_DIR / "users.csv")
    done.append(f"accounts: {report.added} added, {report.skipped} already there")
    return done
