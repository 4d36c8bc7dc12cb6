"""Seeding the demo: a number, accounts, incidents, a queue and two Workspace agents."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from textdesk.admin.agents import AgentAccounts
from textdesk.admin.numbers import Numbers
from textdesk.admin.users import Accounts
from textdesk.demo import DEMO_DIR
from textdesk.ports import Clock, DemoRepositories, ReadingUnitOfWork
from textdesk.topic_tools.topic_files import Document
from textdesk.topics.library import TopicLibrary

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


class DemoSeed:
    """Creates the demo data, idempotently, through the admin use cases."""

    def __init__(
        self,
        *,
        numbers: Numbers,
        accounts: Accounts,
        agents: AgentAccounts,
        uow: ReadingUnitOfWork[DemoRepositories],
        clock: Clock,
        topics: TopicLibrary | None = None,
        topic_documents: Callable[[], Sequence[Document]] = lambda: (),
    ) -> None:
        """``topics``, ``topic_documents``: the library the demo's topics are published
        to, and those topics (the packaged folder)."""
        self._topics = topics
        self._topic_documents = topic_documents
        self._numbers = numbers
        self._accounts = accounts
        self._agents = agents
        self._uow = uow
        self._clock = clock

    async def seed(self) -> list[str]:
        """Create what is missing; returns what was done, for the console."""
        number = await self._numbers.add(phone=DEMO_NUMBER, purpose="conversational")
        done = [f"number {number} (conversational)"]
        report = await self._accounts.import_csv(DEMO_DIR / "users.csv")
        done.append(f"accounts: {report.added} added, {report.skipped} already there")
        await self._agents.add_queue(name="Service desk", is_default=True)
        if self._topics is not None:
            imported = await self._topics.import_documents(
                self._topic_documents(), by="demo seed", publish_changed=False
            )
            done.append(
                f"topics: {len(imported.published)} published, "
                f"{len(imported.unchanged)} already there"
                + (
                    f", {len(imported.drafted)} changed ones kept as drafts"
                    if imported.drafted
                    else ""
                )
            )
        async with self._uow.read() as repos:
            existing = {a.email for a in await repos.agents.list_agents()}
            have_records = await repos.records.any()
            people = await repos.users.by_phones([p for p, *_ in DEMO_INCIDENTS])
        for name, email, role in DEMO_AGENTS:
            if email not in existing:
                await self._agents.add_agent(
                    name=name, email=email, password=DEMO_PASSWORD, role=role
                )
        done.append(
            "workspace sign-in: "
            + ", ".join(f"{email} ({role})" for _, email, role in DEMO_AGENTS)
            + f", password {DEMO_PASSWORD!r}"
        )
        if not have_records:
            async with self._uow.begin() as repos:
                for phone, title, state, urgency in DEMO_INCIDENTS:
                    user = people.get(phone)
                    record = await repos.records.create(
                        short_description=title,
                        urgency=urgency,
                        caller_id=user.id if user else None,
                        caller_phone=phone,
                        now=self._clock.now(),
                    )
                    if state != "New":
                        await repos.records.set_state(record, state, self._clock.now())
            done.append(f"incidents: {len(DEMO_INCIDENTS)} created")
        return done
