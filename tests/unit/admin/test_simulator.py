"""The phone simulator on in-memory rows: its pickers, the thread, the delivered feed, files."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from textdesk.admin.simulator import NoSuchAttachment, PhoneSimulator
from textdesk.ports import ReceivedText, SentText, StoredMedia, UserRow
from textdesk.testing.admin import FakeReadingUnitOfWork
from textdesk.testing.simulator import FakeSimulatorRepositories, SimulatorTables, fake_simulator

DESK = "+15550100100"
ALERTS = "+15550100200"
ALICE = "+15551230001"
T0 = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)


class SignedLinks:
    def url_for(self, key: str) -> str:
        return f"https://desk.example/media/{key}"


@dataclass
class Rig:
    uow: FakeReadingUnitOfWork[SimulatorTables, FakeSimulatorRepositories] = field(
        default_factory=fake_simulator
    )
    draws: list[int] = field(default_factory=lambda: [4242])

    @property
    def tables(self) -> SimulatorTables:
        return self.uow.tables

    def simulator(self) -> PhoneSimulator:
        draws: Iterator[int] = iter(self.draws)
        return PhoneSimulator(self.uow, SignedLinks(), randbelow=lambda _: next(draws))

    def account(self, user_id: int, name: str, phone: str | None) -> None:
        self.tables.admin.users[user_id] = UserRow(user_id, name, None, phone)

    def received(
        self, sid: str, *, at: datetime = T0, media: list[dict[str, Any]] | None = None
    ) -> None:
        self.tables.received.append((ALICE, DESK, ReceivedText(sid, "hi", media or [], at)))

    def sent(self, outbox_id: int, *, at: datetime = T0, **extra: Any) -> SentText:
        values: dict[str, Any] = {
            "twilio_sid": f"SM{outbox_id}",
            "from_phone": DESK,
            "body": "Hello!",
            "media": [],
            "status": "delivered",
            "encoding": "GSM-7",
            "segments": 1,
            "error_code": None,
            "at": at,
        }
        text = SentText(outbox_id, **{**values, **extra})
        self.tables.sent.append((ALICE, text))
        return text


async def test_without_a_phone_the_simulator_texts_as_the_first_account_with_one() -> None:
    r = Rig()
    r.account(1, "Nobody", None)
    r.account(2, "Alice", ALICE)
    r.tables.admin.numbers.update({ALERTS: "notifications", DESK: "conversational"})
    setup = await r.simulator().setup(phone="", number="")
    assert [u.name for u in setup.accounts] == ["Alice"]
    assert (setup.phone, setup.number, setup.returning_guest) == (ALICE, DESK, None)
    assert setup.numbers == [DESK]


async def test_a_guest_phone_asked_for_is_kept_and_shown_as_a_returning_guest() -> None:
    r = Rig()
    r.account(1, "Alice", ALICE)
    setup = await r.simulator().setup(phone="+15550298765", number=ALERTS)
    assert (setup.phone, setup.returning_guest) == ("+15550298765", "+15550298765")
    assert setup.number == ""  # no conversational number: the page says how to add one


async def test_a_new_guest_phone_is_never_an_accounts_phone() -> None:
    r = Rig(draws=[1, 2])
    r.account(1, "Taken", "+15550200001")
    setup = await r.simulator().setup(phone="", number="")
    assert setup.guest == "+15550200002"


async def test_the_thread_runs_in_time_order_the_texter_first_at_the_same_moment() -> None:
    r = Rig()
    r.sent(1, at=T0)
    r.received("SM-in-2", at=T0)
    r.received("SM-in-1", at=T0 - timedelta(seconds=5))
    thread = await r.simulator().thread(phone=ALICE, number=DESK)
    assert [b.key for b in thread.bubbles] == ["SM-in-1", "SM-in-2", "out-1"]


async def test_a_bot_text_says_its_segments_encoding_error_and_other_number() -> None:
    r = Rig()
    r.sent(1, segments=3, encoding="UCS-2", error_code=30007, from_phone=ALERTS, media=["att/x"])
    (bubble,) = (await r.simulator().thread(phone=ALICE, number=DESK)).bubbles
    assert bubble.detail == "3 segments · UCS-2 · error 30007"
    assert bubble.via == ALERTS
    assert [a.url for a in bubble.media] == ["https://desk.example/media/att/x"]


async def test_the_version_moves_when_a_status_or_a_files_problem_does() -> None:
    r = Rig()
    text = r.sent(1, status="queued")
    r.received("MM1", media=[{"content_type": "application/pdf"}])
    first = (await r.simulator().thread(phone=ALICE, number=DESK)).version
    assert (await r.simulator().thread(phone=ALICE, number=DESK)).version == first
    r.tables.sent[0] = (ALICE, SentText(**{**vars(text), "status": "delivered"}))
    second = (await r.simulator().thread(phone=ALICE, number=DESK)).version
    r.tables.received[0] = (
        ALICE,
        DESK,
        ReceivedText("MM1", "hi", [{"content_type": "application/pdf", "error": "not_image"}], T0),
    )
    third = (await r.simulator().thread(phone=ALICE, number=DESK)).version
    assert len({first, second, third}) == 3


async def test_a_refused_file_is_linked_with_why_in_words() -> None:
    r = Rig()
    r.received("MM1", media=[{"content_type": "application/pdf", "error": "not_image"}])
    (bubble,) = (await r.simulator().thread(phone=ALICE, number=DESK)).bubbles
    (file,) = bubble.media
    assert (file.url, file.inline) == ("/simulator/media/MM1/0", False)
    assert file.problem_text is not None
    assert file.problem_text.startswith("it is not a photo")


async def test_without_a_cursor_the_feed_starts_from_now_and_leaves_unsent_texts_out() -> None:
    r = Rig()
    r.sent(1)
    r.sent(2)
    r.sent(3, twilio_sid=None)  # still waiting: seen once it goes
    delivered = await r.simulator().delivered(phone=ALICE, after=None)
    assert ([t.id for t in delivered.sent], delivered.cursor) == ([1, 2], 2)


async def test_after_a_cursor_the_feed_moves_it_on_or_keeps_it_when_nothing_is_new() -> None:
    r = Rig()
    r.sent(1)
    r.sent(2)
    simulator = r.simulator()
    newer = await simulator.delivered(phone=ALICE, after=1)
    assert ([t.id for t in newer.sent], newer.cursor) == ([2], 2)
    none = await simulator.delivered(phone=ALICE, after=2)
    assert (none.sent, none.cursor) == ([], 2)


@pytest.mark.parametrize(("sid", "index"), [("MM-none", 0), ("MM1", 1), ("MM1", -1)])
async def test_a_file_of_no_text_or_past_its_files_is_not_found(sid: str, index: int) -> None:
    r = Rig()
    r.received("MM1", media=[{"content_type": "image/png", "key": "att/a"}])
    with pytest.raises(NoSuchAttachment):
        await r.simulator().texter_file(sid, index)


async def test_a_kept_file_comes_from_the_store_and_a_refused_one_from_the_sandbox() -> None:
    r = Rig()
    photo = StoredMedia("att/a", "image/png", b"PNG")
    r.tables.images["att/a"] = photo
    r.received(
        "MM1",
        media=[
            {"content_type": "image/png", "key": "att/a", "url": "http://sandbox/1"},
            {"content_type": "application/pdf", "url": "http://sandbox/2"},
        ],
    )
    kept = await r.simulator().texter_file("MM1", 0)
    refused = await r.simulator().texter_file("MM1", 1)
    assert (kept.stored, refused.stored, refused.url) == (photo, None, "http://sandbox/2")
    assert r.uow.commits == 0  # the simulator only reads
