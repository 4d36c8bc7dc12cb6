"""The Workspace's tests run the real virtual agent; the topic designer's sign in an agent
and two admins."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.integration.conftest import Desk
from tests.integration.workspace_helpers import AgentBrowser, new_agent, signed_in
from textdesk.channel.answering import Converser


@pytest.fixture
def converser() -> Converser | None:
    """The real virtual agent: published topics answer their keywords."""
    return None


@pytest.fixture
async def staff(desk: Desk) -> AsyncIterator[dict[str, AgentBrowser]]:
    """Dana, an agent, and Sam and Ada, admins, all away and signed in (by first name)."""
    await new_agent(desk.db, "Dana Agent", available=False)
    await new_agent(desk.db, "Sam Admin", role="admin", available=False)
    await new_agent(desk.db, "Ada Admin", role="admin", available=False)
    async with signed_in(desk.url, "dana", "sam", "ada") as browsers:
        yield browsers
