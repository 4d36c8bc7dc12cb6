"""Removing agents and queues on in-memory repositories: never while a chat needs them."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from textdesk.admin.agents import AgentError
from textdesk.admin.staff import Staff, StillInUse, refuse_default
from textdesk.ports import AgentRow, QueueRow
from textdesk.testing.admin import (
    AdminTables,
    FakeReadingUnitOfWork,
    FakeStaffRepositories,
    StoredChat,
    fake_staff,
)
from textdesk.testing.clock import FixedClock

DESK, BILLING = 1, 2
DANA, LEE = 10, 11


@dataclass
class Rig:
    uow: FakeReadingUnitOfWork[AdminTables, FakeStaffRepositories] = field(
        default_factory=fake_staff
    )
    clock: FixedClock = field(default_factory=FixedClock)

    def __post_init__(self) -> None:
        t = self.tables
        t.queues[DESK] = QueueRow(DESK, "Service desk", True, "UTC", None)
        t.queues[BILLING] = QueueRow(BILLING, "Billing", False, "UTC", None)
        t.agents[DANA] = AgentRow(DANA, "Dana", "dana@example.com", "agent", "available", 3, "h")
        t.agents[LEE] = AgentRow(LEE, "Lee", "lee@example.com", "agent", "offline", 3, "h")
        t.members |= {(DESK, DANA), (BILLING, DANA), (BILLING, LEE)}

    @property
    def tables(self) -> AdminTables:
        return self.uow.tables

    def staff(self) -> Staff:
        return Staff(self.uow, self.clock)

    def chat(self, status: str, queue_id: int = DESK, **who: int) -> None:
        self.tables.chats.append(
            StoredChat(f"+1555123{len(self.tables.chats):04d}", status, queue_id, **who)
        )


async def test_agents_are_listed_by_name_with_their_queues() -> None:
    listed = await Rig().staff().list_agents()
    assert [(a.name, a.queues) for a in listed] == [
        ("Dana", ("Billing", "Service desk")),
        ("Lee", ("Billing",)),
    ]


async def test_an_agent_is_found_by_email_whatever_its_case_and_spaces() -> None:
    r = Rig()
    assert (await r.staff().find_agent(email=" Dana@Example.com ")).id == DANA
    with pytest.raises(AgentError, match=r"no agent signs in as sam@example\.com"):
        await r.staff().find_agent(email="sam@example.com ")


async def test_an_agent_without_chats_is_removed_and_leaves_their_queues() -> None:
    r = Rig()
    r.chat("ended", agent_id=DANA)
    dana = r.tables.agents[DANA]
    await r.staff().remove_agent(agent=dana)

    assert DANA in r.tables.removed_agents
    assert [a.name for a in await r.staff().list_agents()] == ["Lee"]
    assert r.tables.members == {(BILLING, LEE)}


@pytest.mark.parametrize("who", [{"agent_id": DANA}, {"offered_to": DANA}])
async def test_an_agent_with_a_chat_or_an_offer_is_not_removed(who: dict[str, int]) -> None:
    r = Rig()
    r.chat("active" if "agent_id" in who else "offered", **who)
    with pytest.raises(StillInUse, match=r"dana@example\.com still has 1 chat\(s\) not over"):
        await r.staff().remove_agent(agent=r.tables.agents[DANA])

    assert DANA in r.tables.agents  # the removal was rolled back
    assert (DESK, DANA) in r.tables.members
    assert r.uow.rollbacks == 1


async def test_a_queue_with_a_waiting_chat_is_not_removed() -> None:
    r = Rig()
    r.chat("waiting", queue_id=BILLING)
    billing = await r.staff().find_queue(name="Billing")
    with pytest.raises(StillInUse, match=r"queue Billing still has 1 chat\(s\) .*\(waiting\)"):
        await r.staff().remove_queue(queue=billing)
    assert BILLING in r.tables.queues


async def test_the_default_queue_is_never_removed() -> None:
    r = Rig()
    desk = await r.staff().find_queue(name="Service desk")
    with pytest.raises(AgentError, match="is the default queue"):
        await r.staff().remove_queue(queue=desk)
    assert DESK in r.tables.queues


async def test_a_queue_made_the_default_since_it_was_found_is_not_removed() -> None:
    """The rule is checked on the queue as it is in the removal's transaction."""
    r = Rig()
    billing = await r.staff().find_queue(name="Billing")
    r.tables.queues[BILLING] = QueueRow(BILLING, "Billing", True, "UTC", None)
    with pytest.raises(AgentError, match="Billing is the default queue"):
        await r.staff().remove_queue(queue=billing)


async def test_a_queue_removed_meanwhile_is_reported_as_missing() -> None:
    r = Rig()
    billing = await r.staff().find_queue(name="Billing")
    await r.staff().remove_queue(queue=billing)
    with pytest.raises(AgentError, match="no queue named 'Billing'"):
        await r.staff().remove_queue(queue=billing)


async def test_a_queue_with_only_ended_chats_is_removed_and_keeps_them() -> None:
    r = Rig()
    r.chat("ended", queue_id=BILLING)
    billing = await r.staff().find_queue(name="Billing")
    held = await r.staff().queue_footprint(queue=billing)
    assert (held.open_chats, held.members, held.handoffs) == ([], 2, 1)

    await r.staff().remove_queue(queue=billing)
    assert BILLING in r.tables.removed_queues
    assert len(r.tables.chats) == 1


def test_only_the_default_queue_is_refused_by_the_default_rule() -> None:
    refuse_default(QueueRow(BILLING, "Billing", False, "UTC", None))
    with pytest.raises(AgentError, match="make another the default first"):
        refuse_default(QueueRow(DESK, "Service desk", True, "UTC", None))
