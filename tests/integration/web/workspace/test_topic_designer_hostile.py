"""The topic designer against forged and out-of-range requests: a clear answer, nothing changed."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.integration.conftest import Desk
from tests.integration.workspace_helpers import AgentBrowser, new_agent, signed_in


@pytest.fixture
async def sam(desk: Desk) -> AsyncIterator[AgentBrowser]:
    await new_agent(desk.db, "Sam Admin", role="admin", available=False)
    async with signed_in(desk.url, "sam") as browsers:
        yield browsers["sam"]


async def _state(desk: Desk) -> tuple[object, ...]:
    row = await desk.scalar("SELECT revision FROM topics WHERE id = 'greeting'")
    count = await desk.scalar("SELECT COUNT(*) FROM topic_versions WHERE topic_id = 'greeting'")
    return row, count


@pytest.mark.parametrize("version", ["99999999999", str(2**70), "-1", "0"])
async def test_a_rollback_to_a_version_out_of_range_says_there_is_none(
    desk: Desk, sam: AgentBrowser, version: str
) -> None:
    """A forged version number, however large, is 'no version', not a server error."""
    before = await _state(desk)
    refused = await sam.act("/workspace/topics/greeting/rollback", {"version": version})
    assert refused.status_code == 404, refused.text
    assert f"no version {version} of this topic" in refused.text
    assert await _state(desk) == before
