"""The conversation list's paging and previews, on an in-memory read model."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from textdesk.live_agents.conversation_list import PAGE_SIZE, list_conversations
from textdesk.ports import AgentRow, ListedRow
from textdesk.testing.desk import FakeWorkspaceReads

AGENT = AgentRow(1, "Dana Agent", "dana@example.com", "agent", "available", 3, "x")
START = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)


def reads(count: int) -> FakeWorkspaceReads:
    """``count`` conversations, newest first, each with one line."""
    rows = [
        ListedRow(i, f"+1555123{i:04d}", None, "bot", START - timedelta(minutes=i))
        for i in range(1, count + 1)
    ]
    return FakeWorkspaceReads(listed=rows, lines={i: f"line {i}" for i in range(1, count + 1)})


async def test_a_full_page_with_more_behind_it_says_so() -> None:
    """One row past the page is read to know there is a next page; it is not shown."""
    found = reads(PAGE_SIZE + 1)
    page = await list_conversations(found, AGENT)
    assert [c.id for c in page.items] == list(range(1, PAGE_SIZE + 1))
    assert page.has_more
    assert found.queries[0] == (
        "conversations",
        {"state": None, "search": None, "limit": PAGE_SIZE + 1, "offset": 0},
    )


async def test_the_last_page_has_no_more_and_previews_only_its_own_rows() -> None:
    """Page 2 of 27 shows 2; previews are asked for those two alone."""
    found = reads(PAGE_SIZE + 2)
    page = await list_conversations(found, AGENT, page=2)
    assert [(c.id, c.last_line) for c in page.items] == [(26, "line 26"), (27, "line 27")]
    assert (page.page, page.has_more) == (2, False)
    assert found.queries[-1] == ("last_lines", {"ids": [26, 27]})


async def test_a_page_below_one_is_the_first_page() -> None:
    """Page 0 or -3 from a hand-edited URL is page 1, not a negative offset."""
    found = reads(3)
    page = await list_conversations(found, AGENT, page=-3)
    assert page.page == 1
    assert found.queries[0][1]["offset"] == 0


async def test_an_empty_page_asks_for_no_previews() -> None:
    """Nothing found: one query, not a second one for nobody's last lines."""
    found = reads(0)
    page = await list_conversations(found, AGENT, search="printer")
    assert (page.items, page.has_more) == ([], False)
    assert [name for name, _ in found.queries] == ["conversations"]


async def test_a_blank_search_searches_nothing() -> None:
    """Spaces in the search box list everything rather than match every line."""
    found = reads(1)
    await list_conversations(found, AGENT, search="   ")
    await list_conversations(found, AGENT, search=" 555 ")
    searched = [q[1]["search"] for q in found.queries if q[0] == "conversations"]
    assert searched == [None, " 555 "]


async def test_a_conversation_without_lines_has_no_preview() -> None:
    """A conversation whose transcript is empty is listed with no last line."""
    found = reads(2)
    del found.lines[2]
    page = await list_conversations(found, AGENT)
    assert [c.last_line for c in page.items] == ["line 1", None]
