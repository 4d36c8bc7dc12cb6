"""Seeding the demo on in-memory repositories: everything once, nothing twice."""

from __future__ import annotations

from dataclasses import dataclass, field

from argon2 import PasswordHasher

from textdesk.admin.agents import AgentAccounts
from textdesk.admin.demo import DEMO_AGENTS, DEMO_INCIDENTS, DEMO_NUMBER, DemoSeed
from textdesk.admin.numbers import Numbers
from textdesk.admin.users import Accounts
from textdesk.testing.admin import (
    AdminTables,
    fake_agent_accounts,
    fake_demo_seed,
    fake_numbers,
    fake_users,
)
from textdesk.testing.clock import FixedClock

# Cheap parameters: the tests are about what is seeded, not about argon2's cost.
HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@dataclass
class Rig:
    tables: AdminTables = field(default_factory=AdminTables)
    clock: FixedClock = field(default_factory=FixedClock)

    def seed(self) -> DemoSeed:
        return DemoSeed(
            numbers=Numbers(fake_numbers(self.tables), self.clock),
            accounts=Accounts(fake_users(self.tables), self.clock),
            agents=AgentAccounts(fake_agent_accounts(self.tables), self.clock, hasher=HASHER),
            uow=fake_demo_seed(self.tables),
            clock=self.clock,
        )


async def test_the_demo_gets_its_number_queue_agents_and_incidents() -> None:
    r = Rig()
    done = await r.seed().seed()

    assert r.tables.numbers == {DEMO_NUMBER: "conversational"}
    assert [(q.name, q.is_default) for q in r.tables.queues.values()] == [("Service desk", True)]
    assert sorted(a.email for a in r.tables.agents.values()) == sorted(
        email for _, email, _ in DEMO_AGENTS
    )
    assert len(r.tables.records) == len(DEMO_INCIDENTS)
    assert done[-1] == f"incidents: {len(DEMO_INCIDENTS)} created"


async def test_each_demo_incident_is_its_callers_and_in_its_state() -> None:
    r = Rig()
    await r.seed().seed()
    by_phone = {u.phone: u.id for u in r.tables.users.values()}
    assert [
        (i.caller_phone, i.short_description, i.state, i.urgency) for i in r.tables.records
    ] == [(phone, title, state, urgency) for phone, title, state, urgency in DEMO_INCIDENTS]
    assert [i.caller_id for i in r.tables.records] == [
        by_phone.get(phone) for phone, *_ in DEMO_INCIDENTS
    ]


async def test_seeding_again_adds_nothing() -> None:
    r = Rig()
    await r.seed().seed()
    agents, users = dict(r.tables.agents), dict(r.tables.users)

    done = await r.seed().seed()
    assert r.tables.agents == agents
    assert r.tables.users == users
    assert len(r.tables.records) == len(DEMO_INCIDENTS)
    assert not any(line.startswith("incidents") for line in done)
    assert "0 added" in done[1]


async def test_existing_records_are_left_alone_by_the_seed() -> None:
    r = Rig()
    await r.seed().seed()
    r.tables.records[1:] = []  # someone closed and purged two; one record remains

    await r.seed().seed()
    assert len(r.tables.records) == 1
