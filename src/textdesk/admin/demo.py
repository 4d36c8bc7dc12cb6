"""Seeding the demo: a number, accounts, incidents, a queue and two Workspace agents."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from textdesk.adapters.db import agents as agent_store
from textdesk.adapters.db import directory
from textdesk.adapters.db import records as record_store
from textdesk.adapters.db.admin import agent_accounts_uow, numbers_uow, users_uow
from textdesk.admin.agents import AgentAccounts
from textdesk.admin.numbers import Numbers
from textdesk.admin.users import Accounts
from textdesk.demo import DEMO_DIR
from textdesk.ports import Clock

DEMO_NUMBER = "+15550100100"
# Demo sign-ins, printed by `make run`; never created outside the demo.
DEMO_AGENTS = (
    ("Dana Agent", "dana@example.com", "agent"),
    ("Sam Admin", "sam@example.com", "admin"),
)
DEMO_PASSWORD = "textdesk-demo"  # noqa: S105 - a published demo credential, demo data only
DEMO_INCIDENTS = (
    ("+15551230001", "VPN disconnects every hour", "In Progress", 2),
    ("+15551230001", "New monitor for desk 4B", "New", 3),
    ("+15551230002", "Cannot open shared mailbox", "New", 2),
)


async def seed(*, db: AsyncEngine, clock: Clock) -> list[str]:
    """Idempotently create the demo data; returns what was done, for the console."""
    number = await Numbers(numbers_uow(db), clock).add(phone=DEMO_NUMBER, purpose="conversational")
    done = [f"number {number} (conversational)"]
    report = await Accounts(users_uow(db), clock).import_csv(DEMO_DIR / "users.csv")
    done.append(f"accounts: {report.added} added, {report.skipped} already there")
    agents = AgentAccounts(agent_accounts_uow(db), clock)
    await agents.add_queue(name="Service desk", is_default=True)
    async with db.connect() as conn:
        existing = {a.email for a in await agent_store.list_agents(conn)}
        have_records = bool(await record_store.list_records(conn, limit=1))
        people = await directory.users_by_phone(conn, [p for p, *_ in DEMO_INCIDENTS])
    for name, email, role in DEMO_AGENTS:
        if email not in existing:
            await agents.add_agent(name=name, email=email, password=DEMO_PASSWORD, role=role)
    done.append(
        "workspace sign-in: "
        + ", ".join(f"{email} ({role})" for _, email, role in DEMO_AGENTS)
        + f", password {DEMO_PASSWORD!r}"
    )
    if not have_records:
        async with db.begin() as conn:
            for phone, title, state, urgency in DEMO_INCIDENTS:
                user = people.get(phone)
                record = await record_store.create(
                    conn,
                    short_description=title,
                    urgency=urgency,
                    caller_id=user.id if user else None,
                    caller_phone=phone,
                    now=clock.now(),
                )
                if state != "New":
                    await record_store.apply_update(
                        conn, record.number, {"state": state}, clock.now()
                    )
        done.append(f"incidents: {len(DEMO_INCIDENTS)} created")
    return done
