"""A turn waiting on a remote record store: kept on its inbox row, tried again, keyed."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from textdesk.domain.agent.awaiting import MAX_ATTEMPTS, Awaiting
from textdesk.domain.agent.messages import (
    AddComment,
    CreateRecord,
    Effect,
    GetRecord,
    QueryRecords,
    UpdateRecord,
)

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "effect",
    [
        QueryRecords("my_open_incidents", {"limit": 5}),
        GetRecord("INC0010001"),
        CreateRecord({"short_description": "Jammed 🖨️"}, attachments=("att/1", "att/2")),
        UpdateRecord("INC0010001", {"state": "Resolved"}),
        AddComment("INC0010001", "Still broken"),
    ],
)
def test_a_waiting_effect_comes_back_from_the_database_as_it_went_in(effect: Effect) -> None:
    awaiting = Awaiting(effect, 2, attempts=1, retry_at=NOW)
    stored = json.loads(json.dumps(awaiting.to_dict()))  # a JSON column's round trip
    assert Awaiting.from_dict(stored) == awaiting


def test_every_try_of_the_same_effect_carries_the_same_key() -> None:
    first = Awaiting(CreateRecord({"short_description": "x"}), 1)
    retried = first.failed(NOW)
    assert retried is not None
    sid, other = "SM" + "a" * 32, "SM" + "b" * 32
    assert retried.key(sid) == first.key(sid) == f"textdesk-{sid}-1"
    assert Awaiting(first.effect, 2).key(sid) != first.key(sid)  # the turn's next effect
    assert first.key(other) != first.key(sid)  # another text's


def test_a_failing_call_waits_longer_each_time_then_gives_up() -> None:
    awaiting: Awaiting | None = Awaiting(GetRecord("INC0010001"), 1)
    waits = []
    while awaiting is not None:
        assert awaiting.due(awaiting.retry_at or NOW)
        awaiting = awaiting.failed(NOW)
        if awaiting is not None:
            assert not awaiting.due(NOW)
            assert awaiting.retry_at is not None
            waits.append(awaiting.retry_at - NOW)
    assert waits == [timedelta(seconds=2), timedelta(seconds=4), timedelta(seconds=8)]
    assert len(waits) == MAX_ATTEMPTS - 1
