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


@pytest.mark.parametrize("topic_id", ["404", "on", "null", "1.5"])
async def test_a_new_topic_whose_id_reads_as_a_yaml_value_is_made(
    desk: Desk, sam: AgentBrowser, topic_id: str
) -> None:
    """An id such as 404 or 'on' is a valid file name: its starter draft is text, not a number."""
    made = await sam.act("/workspace/topics/new", {"topic_id": topic_id})
    assert made.status_code == 303, made.text
    draft = await desk.scalar("SELECT draft FROM topics WHERE id = :t", t=topic_id)
    assert f'title: "{topic_id.capitalize()}"' in draft


async def test_a_copy_named_like_a_yaml_value_keeps_its_id_as_text(
    desk: Desk, sam: AgentBrowser
) -> None:
    """Duplicating a topic whose source says its id under the id '2024' makes '2024'."""
    source = "id: vpn\ntitle: VPN\nkeywords: [vpn]\nnodes:\n  - type: message\n    text: Hi.\n"
    saved = await sam.act("/workspace/topics/new", {"topic_id": "vpn"})
    assert saved.status_code == 303
    revision = await desk.scalar("SELECT revision FROM topics WHERE id = 'vpn'")
    await sam.act("/workspace/topics/vpn/draft", {"source": source, "revision": str(revision)})
    copied = await sam.act("/workspace/topics/vpn/duplicate", {"new_id": "2024"})
    assert copied.status_code == 303, copied.text
    assert (await desk.scalar("SELECT draft FROM topics WHERE id = '2024'")).startswith(
        'id: "2024"\n'
    )
