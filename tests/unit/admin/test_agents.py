"""Agent accounts and sign-in on in-memory repositories: what is refused, where agents go."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import pytest
from argon2 import PasswordHasher

from textdesk.admin.agents import AgentAccounts, AgentError, Authenticator, TooManySignIns
from textdesk.domain.sign_in_throttle import SignInLimits, Tally, ThrottleVerdict
from textdesk.ports import AgentRow, QueueRow
from textdesk.testing.admin import (
    AdminTables,
    FakeAgentAccountRepositories,
    FakeReadingUnitOfWork,
    fake_agent_accounts,
)
from textdesk.testing.clock import FixedClock

PASSWORD = "correct horse battery"
# Cheap parameters: the tests are about decisions, not about argon2's cost.
HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@dataclass
class Rig:
    uow: FakeReadingUnitOfWork[AdminTables, FakeAgentAccountRepositories] = field(
        default_factory=fake_agent_accounts
    )
    clock: FixedClock = field(default_factory=FixedClock)

    @property
    def tables(self) -> AdminTables:
        return self.uow.tables

    def accounts(self) -> AgentAccounts:
        return AgentAccounts(self.uow, self.clock, hasher=HASHER)

    async def add(self, email: str = "dana@example.com", **extra: object) -> int:
        return await self.accounts().add_agent(
            name="Dana",
            email=email,
            password=PASSWORD,
            **extra,  # type: ignore[arg-type]
        )


class MemoryTallies:
    """``admin.agents.Tallies`` in a dict, decided on the rig's clock."""

    def __init__(self, clock: FixedClock) -> None:
        self.stored: dict[str, Tally] = {}
        self._clock = clock

    async def update(
        self,
        keys: Sequence[str],
        decide: Callable[[Mapping[str, Tally], datetime], ThrottleVerdict],
    ) -> ThrottleVerdict:
        verdict = decide({k: self.stored[k] for k in keys if k in self.stored}, self._clock.now())
        for key, tally in verdict.writes.items():
            if tally is None:
                self.stored.pop(key, None)
            else:
                self.stored[key] = tally
        return verdict


@pytest.mark.parametrize(
    ("change", "refusal"),
    [
        ({"role": "owner"}, "role must be one of agent, admin"),
        ({"password": "short"}, "at least 10 characters"),
        ({"email": "dana.example.com"}, "is not an email address"),
    ],
)
async def test_an_agent_account_that_would_not_work_is_refused(
    change: dict[str, str], refusal: str
) -> None:
    r = Rig()
    fields = {"name": "Dana", "email": "dana@example.com", "password": PASSWORD, **change}
    with pytest.raises(AgentError, match=refusal):
        await r.accounts().add_agent(**fields)  # type: ignore[arg-type]
    assert r.tables.agents == {}


async def test_a_new_agent_is_signed_out_with_a_hashed_password() -> None:
    r = Rig()
    agent = r.tables.agents[await r.add(" Dana@Example.com ")]
    assert (agent.email, agent.presence) == ("dana@example.com", "offline")
    assert agent.password_hash != PASSWORD
    assert HASHER.verify(agent.password_hash, PASSWORD)


async def test_an_agent_added_without_queues_joins_a_new_default_queue() -> None:
    r = Rig()
    agent_id = await r.add()
    [queue] = r.tables.queues.values()
    assert (queue.name, queue.is_default) == ("Service desk", True)
    assert r.tables.members == {(queue.id, agent_id)}


async def test_an_agent_added_without_queues_joins_the_existing_default() -> None:
    r = Rig()
    r.tables.queues[7] = QueueRow(7, "Helpdesk", True, "UTC", None)
    agent_id = await r.add()
    assert r.tables.members == {(7, agent_id)}
    assert list(r.tables.queues) == [7]


async def test_an_agent_in_an_unknown_queue_is_not_created() -> None:
    r = Rig()
    r.tables.queues[7] = QueueRow(7, "Hardware", True, "UTC", None)
    with pytest.raises(AgentError, match="no queue named 'Billing'"):
        await r.add(queues=["Hardware", "Billing"])
    assert r.tables.agents == {}
    assert r.tables.members == set()


async def test_a_second_agent_with_an_email_is_refused() -> None:
    r = Rig()
    await r.add()
    with pytest.raises(AgentError, match=r"an agent with the email DANA@example\.com already"):
        await r.add("DANA@example.com")
    assert len(r.tables.agents) == 1


@pytest.mark.parametrize(
    ("change", "refusal"),
    [
        ({"timezone": "Mars/Olympus"}, "unknown timezone 'Mars/Olympus'"),
        ({"hours": {"funday": ["09:00", "17:00"]}}, "funday"),
    ],
)
async def test_a_queue_with_unknown_hours_or_timezone_is_refused(
    change: dict[str, object], refusal: str
) -> None:
    r = Rig()
    with pytest.raises(AgentError, match=refusal):
        await r.accounts().add_queue(name="Billing", **change)  # type: ignore[arg-type]
    assert r.tables.queues == {}


async def test_the_first_queue_is_the_default_until_another_is_named_so() -> None:
    r = Rig()
    first = await r.accounts().add_queue(name="Service desk")
    second = await r.accounts().add_queue(name="Billing")
    assert [q.is_default for q in (r.tables.queues[first], r.tables.queues[second])] == [
        True,
        False,
    ]
    await r.accounts().add_queue(name="Billing", is_default=True)
    assert [q.name for q in r.tables.queues.values() if q.is_default] == ["Billing"]


async def test_queues_are_listed_by_name_with_their_agents() -> None:
    r = Rig()
    await r.accounts().add_queue(name="Service desk")
    await r.accounts().add_queue(name="Billing")
    await r.add(queues=["Billing"])
    listed = await r.accounts().queues_with_members()
    assert [(q.name, names) for q, names in listed] == [
        ("Billing", ["Dana"]),
        ("Service desk", []),
    ]


async def test_a_presence_that_does_not_exist_is_refused() -> None:
    r = Rig()
    agent_id = await r.add()
    with pytest.raises(AgentError, match="presence must be one of"):
        await r.accounts().set_presence(agent_id=agent_id, presence="asleep")
    await r.accounts().set_presence(agent_id=agent_id, presence="available")
    assert r.tables.agents[agent_id].presence == "available"


async def test_signing_out_voids_every_session_so_far() -> None:
    r = Rig()
    agent_id = await r.add()
    await r.accounts().set_presence(agent_id=agent_id, presence="available")
    auth = Authenticator(r.uow, MemoryTallies(r.clock), hasher=HASHER)
    assert await auth.session_agent(agent_id, 0) is not None

    await r.accounts().sign_out(agent_id=agent_id)
    assert r.tables.agents[agent_id].presence == "offline"
    assert await auth.session_agent(agent_id, 0) is None
    assert await auth.session_agent(agent_id, 1) is not None


async def test_a_removed_agents_session_is_over() -> None:
    r = Rig()
    agent_id = await r.add()
    auth = Authenticator(r.uow, MemoryTallies(r.clock), hasher=HASHER)
    r.tables.removed_agents[agent_id] = r.tables.agents.pop(agent_id)
    assert await auth.session_agent(agent_id, 0) is None


async def test_the_right_password_signs_in_and_a_wrong_one_or_email_does_not() -> None:
    r = Rig()
    agent_id = await r.add()
    auth = Authenticator(r.uow, MemoryTallies(r.clock), hasher=HASHER)
    signed_in = await auth.sign_in("Dana@example.com ", PASSWORD, "192.0.2.1")
    assert isinstance(signed_in, AgentRow)
    assert signed_in.id == agent_id
    assert await auth.sign_in("dana@example.com", "wrong password", "192.0.2.1") is None
    assert await auth.sign_in("nobody@example.com", PASSWORD, "192.0.2.1") is None
    assert await auth.sign_in("dana@example.com\x00", PASSWORD, "192.0.2.1") is None


async def test_too_many_failures_refuse_even_the_right_password_for_a_while() -> None:
    r = Rig()
    await r.add()
    limits = SignInLimits()
    auth = Authenticator(r.uow, MemoryTallies(r.clock), limits, hasher=HASHER)
    with pytest.raises(TooManySignIns):  # noqa: PT012 - the refusal comes after some tries
        for _ in range(100):
            await auth.sign_in("dana@example.com", "wrong password", "192.0.2.1")
    with pytest.raises(TooManySignIns):
        await auth.sign_in("dana@example.com", PASSWORD, "192.0.2.1")
