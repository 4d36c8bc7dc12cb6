"""Agent accounts: creation, sign-in (argon2, throttled), presence, queues."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from functools import partial
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from textdesk.domain.live_agents import PRESENCES, parse_hours
from textdesk.domain.sign_in_throttle import SignInLimits, Tally, ThrottleVerdict
from textdesk.ports import (
    AgentAccountRepositories,
    AgentRow,
    Clock,
    Duplicate,
    QueueRow,
    ReadingUnitOfWork,
)

ROLES = ("agent", "admin")
# argon2id at argon2-cffi's defaults (RFC 9106's second recommendation: 64 MiB, three
# passes, four lanes).  Read when a service is made, not bound as a default argument,
# so the test suite can make its own in-process servers' hashes cheap (tests/conftest.py);
# every process `textdesk` starts hashes at this cost.
_hasher = PasswordHasher()


class AgentError(ValueError):
    """A refused agent or queue change, with a message for the operator."""


class AgentAccounts:
    """Creates agents and queues, and changes an agent's presence or sessions."""

    def __init__(
        self,
        uow: ReadingUnitOfWork[AgentAccountRepositories],
        clock: Clock,
        *,
        hasher: PasswordHasher | None = None,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._hasher = hasher or _hasher

    async def add_agent(
        self,
        *,
        name: str,
        email: str,
        password: str,
        role: str = "agent",
        capacity: int = 3,
        queues: Sequence[str] = (),
    ) -> int:
        """Create a Workspace account in ``queues`` (none named: the default queue, made
        if there is none yet)."""
        if role not in ROLES:
            raise AgentError(f"role must be one of {', '.join(ROLES)}")
        if len(password) < 10:
            raise AgentError("the password needs at least 10 characters")
        if "@" not in email:
            raise AgentError(f"{email!r} is not an email address")
        try:
            async with self._uow.begin() as repos:
                agent_id = await repos.agents.insert_agent(
                    name=name.strip(),
                    email=email.strip(),
                    password_hash=self._hasher.hash(password),
                    role=role,
                    capacity=capacity,
                    now=self._clock.now(),
                )
                names = list(queues)
                if not names:
                    default = await repos.agents.default_queue()
                    if default is None:
                        default_id = await repos.agents.upsert_queue(
                            name="Service desk",
                            timezone="UTC",
                            hours=None,
                            is_default=True,
                            now=self._clock.now(),
                        )
                    else:
                        default_id = default.id
                    await repos.agents.add_member(default_id, agent_id)
                for queue_name in names:
                    queue = await repos.agents.queue_by_name(queue_name)
                    if queue is None:
                        raise AgentError(
                            f"no queue named {queue_name!r}; create it with 'textdesk queues add'"
                        )
                    await repos.agents.add_member(queue.id, agent_id)
        except Duplicate as exc:
            raise AgentError(f"an agent with the email {email} already exists") from exc
        return agent_id

    async def add_queue(
        self,
        *,
        name: str,
        timezone: str = "UTC",
        hours: dict[str, list[str]] | None = None,
        is_default: bool = False,
    ) -> int:
        """Create or update a queue; its timezone and hours are checked first."""
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise AgentError(f"unknown timezone {timezone!r}") from exc
        try:
            parse_hours(hours)
        except ValueError as exc:
            raise AgentError(str(exc)) from exc
        async with self._uow.begin() as repos:
            return await repos.agents.upsert_queue(
                name=name,
                timezone=timezone,
                hours=hours,
                is_default=is_default,
                now=self._clock.now(),
            )

    async def queues_with_members(self) -> list[tuple[QueueRow, list[str]]]:
        """Each queue, by name, with the names of its agents (removed ones left out)."""
        async with self._uow.read() as repos:
            people = {a.id: a.name for a in await repos.agents.list_agents()}
            listed = []
            for queue in await repos.agents.list_queues():
                loads = await repos.agents.loads(queue.id, seen_since=self._clock.now())
                listed.append((queue, [people[a.id] for a in loads if a.id in people]))
            return listed

    async def sign_out(self, *, agent_id: int) -> None:
        """The agent left: no more offers, and no session issued so far stays valid."""
        async with self._uow.begin() as repos:
            await repos.agents.sign_out(agent_id)

    async def set_presence(self, *, agent_id: int, presence: str) -> None:
        if presence not in PRESENCES:
            raise AgentError(f"presence must be one of {', '.join(PRESENCES)}")
        async with self._uow.begin() as repos:
            await repos.agents.set_presence(agent_id, presence)


class Tallies(Protocol):
    """Where sign-in attempts are counted (``adapters/sign_in_tallies.py``)."""

    async def update(
        self,
        keys: Sequence[str],
        decide: Callable[[Mapping[str, Tally], datetime], ThrottleVerdict],
    ) -> ThrottleVerdict: ...


class TooManySignIns(Exception):
    """Refused before the password was checked: wait ``wait`` seconds."""

    def __init__(self, wait: float) -> None:
        super().__init__(f"too many failed sign-ins; wait {wait:.0f} s")
        self.wait = wait


def _verify(hasher: PasswordHasher, password_hash: str, password: str) -> bool:
    try:
        return bool(hasher.verify(password_hash, password))
    except (VerificationError, InvalidHashError):
        return False


class Authenticator:
    """Checks passwords, within the limits of ``domain/sign_in_throttle.py``."""

    def __init__(
        self,
        uow: ReadingUnitOfWork[AgentAccountRepositories],
        tallies: Tallies,
        limits: SignInLimits | None = None,
        *,
        hasher: PasswordHasher | None = None,
    ) -> None:
        self._uow = uow
        self._hasher = hasher or _hasher
        self._tallies = tallies
        self._limits = limits or SignInLimits()
        # Verified against when the email is unknown, so a miss costs as long as a wrong
        # password.  Made here, when a server starts, not at import: every CLI command
        # imports this module, and a hash costs as much as a sign-in.
        self._dummy_hash = self._hasher.hash("textdesk-no-such-agent")

    async def sign_in(self, email: str, password: str, address: str) -> AgentRow | None:
        """The agent, or None for a wrong email or password; :class:`TooManySignIns`
        when the attempt may not be checked yet.

        The attempt is counted as a failure before the password is checked, so that
        attempts sent at once are counted one after the other; the right password
        then forgives it.  The refusal is the same whether the email exists or not.
        """
        keys = self._limits.keys(email, address)
        counted = await self._tallies.update(keys.all(), partial(self._limits.attempt, keys))
        if counted.wait > 0:
            raise TooManySignIns(counted.wait)
        agent = None
        # No agent's email holds a NUL or passes the column's 320 characters (and
        # PostgreSQL refuses a NUL in a query): such an email is simply a wrong one.
        if "\x00" not in email and len(email.strip()) <= 320:
            async with self._uow.read() as repos:
                agent = await repos.agents.agent_by_email(email.strip())
        # argon2 takes tens of milliseconds of CPU by design: off the event loop, so
        # webhooks are not held up while someone signs in.  An unknown email is
        # checked against a dummy hash so it takes as long as a wrong password.
        ok = await asyncio.to_thread(
            _verify, self._hasher, agent.password_hash if agent else self._dummy_hash, password
        )
        if not ok or agent is None:
            return None  # counted already
        await self._tallies.update(keys.all(), partial(self._limits.succeeded, keys))
        return agent

    async def session_agent(self, agent_id: int, epoch: object) -> AgentRow | None:
        """The agent of a session, read afresh: None once removed, or once signed out
        since the session began (its ``epoch`` is an older one)."""
        async with self._uow.read() as repos:
            agent = await repos.agents.agent_by_id(agent_id)
        if agent is None or epoch != agent.session_epoch:
            return None
        return agent
