"""The REST API's people pages on in-memory repositories: pages, each in one transaction."""

from __future__ import annotations

from datetime import timedelta

from textdesk.admin.people import People
from textdesk.ports import ConversationSummary, DeliveredLine, UserRow
from textdesk.testing.admin import AdminTables, fake_people
from textdesk.testing.clock import FixedClock

NOW = FixedClock().now()


def _line(n: int) -> DeliveredLine:
    return DeliveredLine(
        n, "texter", f"line {n}", [], NOW, None, None, None, None, None, None, None
    )


async def test_conversations_come_most_recently_active_first_a_page_at_a_time() -> None:
    tables = AdminTables(
        conversations=[
            ConversationSummary(i, f"+1555123000{i}", "+15550100100", None, "bot", NOW + delay)
            for i, delay in ((1, timedelta(0)), (2, timedelta(minutes=5)), (3, timedelta(0)))
        ]
    )
    uow = fake_people(tables)
    people = People(uow)

    assert [c.id for c in await people.conversations(limit=2, offset=0)] == [2, 3]
    assert [c.id for c in await people.conversations(limit=2, offset=2)] == [1]
    assert uow.commits == 2  # a transaction per page, as the API has always read them


async def test_a_transcript_is_paged_in_order() -> None:
    people = People(fake_people(AdminTables(lines={7: [_line(n) for n in range(1, 6)]})))
    assert [line.body for line in await people.transcript(7, limit=2, offset=1)] == [
        "line 2",
        "line 3",
    ]
    assert await people.transcript(8, limit=10, offset=0) == []


async def test_accounts_are_paged_in_the_order_they_were_added() -> None:
    tables = AdminTables(users={i: UserRow(i, f"Person {i}", None, None) for i in (3, 1, 2)})
    assert [u.id for u in await People(fake_people(tables)).users(limit=2, offset=1)] == [2, 3]
