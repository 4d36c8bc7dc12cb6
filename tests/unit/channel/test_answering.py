"""Which just-stored texts may be answered at once without overtaking an earlier one."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from textdesk.channel.answering import ready_in_order
from textdesk.ports import InboundRow

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)
A, B = "+15551230001", "+15551230002"
OURS, OTHER_NUMBER = "+15550100100", "+15550100200"


def row(
    id_: int, from_: str, body: str, *, to: str = OURS, media: list[dict[str, Any]] | None = None
) -> InboundRow:
    return InboundRow(id_, f"SM{id_}", from_, to, body, media or [], NOW)


def test_every_wanted_text_is_ready_oldest_first() -> None:
    queued = [row(3, A, "c"), row(1, A, "a"), row(2, B, "b")]
    ready = ready_in_order(queued, {"SM1", "SM2", "SM3"})
    assert [r.id for r in ready] == [1, 2, 3]


def test_a_text_waits_behind_an_older_one_left_to_the_loop() -> None:
    queued = [row(1, A, "older, not ours"), row(2, A, "new"), row(3, B, "new too")]
    assert [r.id for r in ready_in_order(queued, {"SM2", "SM3"})] == [3]


def test_a_photo_stops_its_conversation_but_not_the_others() -> None:
    photo = [{"url": "https://api.twilio.com/m/1", "content_type": "image/png"}]
    queued = [row(1, A, "ok"), row(2, A, "pic", media=photo), row(3, A, "after"), row(4, B, "x")]
    ready = ready_in_order(queued, {"SM1", "SM2", "SM3", "SM4"})
    assert [r.id for r in ready] == [1, 4]


def test_one_texter_on_two_numbers_is_two_conversations() -> None:
    queued = [row(1, A, "to the other number", to=OTHER_NUMBER), row(2, A, "to ours")]
    assert [r.id for r in ready_in_order(queued, {"SM2"})] == [2]


def test_nothing_queued_nothing_ready() -> None:
    assert ready_in_order([], {"SM1"}) == []
