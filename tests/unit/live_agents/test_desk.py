"""The agents' actions on in-memory repositories: who may act on a chat, and what it does."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.unit.domain.agent.chat_helpers import topic_set
from textdesk.domain.agent.engine import Engine
from textdesk.domain.records import Record
from textdesk.live_agents.desk import Conflict, Desk, Hidden, Invalid, NotYours
from textdesk.ports import AgentRow, ConversationRow, DeskRecords, QueueRow
from textdesk.testing.clock import FixedClock
from textdesk.testing.desk import DeskTables, FakeDesk, FakeImageChecker, fake_desk
from textdesk.testing.effects import LinkedViews
from textdesk.testing.records import FakeRecordStore, RecordTables
from textdesk.testing.tables import FakeUnitOfWork, StoredAgent, StoredHandoff
from textdesk.topics.live import FixedTopics

CID = 7
TEXTER = "+15551230001"
DESK = "+15550100100"
SERVICE, BILLING = 1, 2
DANA, LEE, ADA, KIM = 1, 2, 9, 4  # Kim is in Billing only; Ada is an admin


@dataclass
class Rig:
    uow: FakeUnitOfWork[DeskTables, FakeDesk] = field(default_factory=fake_desk)
    clock: FixedClock = field(default_factory=FixedClock)
    images: FakeImageChecker = field(default_factory=FakeImageChecker)

    def __post_init__(self) -> None:
        t = self.tables
        t.queues[SERVICE] = QueueRow(SERVICE, "Service desk", True, "UTC", None)
        t.queues[BILLING] = QueueRow(BILLING, "Billing", False, "UTC", None)
        for agent_id, name, role, queues in (
            (DANA, "Dana Agent", "agent", {SERVICE}),
            (LEE, "Lee Colleague", "agent", {SERVICE}),
            (ADA, "Ada Admin", "admin", set()),
            (KIM, "Kim Billing", "agent", {BILLING}),
        ):
            t.staff[agent_id] = AgentRow(agent_id, name, f"{agent_id}@x", role, "available", 3, "")
            t.agents[agent_id] = StoredAgent(agent_id, queues)
        t.conversations[CID] = ConversationRow(CID, TEXTER, DESK, 42, "queued", None)

    @property
    def tables(self) -> DeskTables:
        return self.uow.tables

    def desk(self, max_image_bytes: int = 1000, remote: DeskRecords | None = None) -> Desk:
        return Desk(
            uow=self.uow,
            clock=self.clock,
            engines=FixedTopics(Engine(topic_set())),
            record_views=LinkedViews(),
            images=self.images,
            max_image_bytes=max_image_bytes,
            max_image_pixels=2_000_000,
            remote_records=remote,
        )

    def chat(self, **extra: Any) -> StoredHandoff:
        handoff = StoredHandoff(1, CID, SERVICE, **extra)
        self.tables.handoffs.append(handoff)
        return handoff

    def agent(self, agent_id: int) -> AgentRow:
        return self.tables.staff[agent_id]

    def texts(self) -> list[str]:
        return [t.body for t in self.tables.outbox]

    def notes(self) -> list[str]:
        return [e.body for e in self.tables.transcript if e.author == "system"]


async def test_a_queue_member_accepts_a_waiting_texter_and_greets_them() -> None:
    """Active with the agent, the conversation in agent mode, the texter greeted by name."""
    r = Rig()
    chat = r.chat()
    await r.desk().accept(r.agent(DANA), CID)
    assert (chat.status, chat.agent_id, chat.accepted_at) == ("active", DANA, r.clock.now())
    assert r.tables.conversations[CID].mode == "agent"
    assert r.tables.agents[DANA].last_assigned_at == r.clock.now()
    assert r.notes() == ["Dana Agent joined"]
    assert r.texts() == ["Hi, this is Dana from the service desk. How can I help?"]
    assert [(t.kind, t.to_phone, t.from_phone) for t in r.tables.outbox] == [
        ("agent", TEXTER, DESK)
    ]
    assert r.tables.locked == [{(TEXTER, DESK)}]


async def test_an_offer_made_to_a_colleague_cannot_be_accepted_and_nothing_changes() -> None:
    """Refused as someone else's; the transaction rolls back: no text, no note."""
    r = Rig()
    chat = r.chat(status="offered", offered_to=LEE)
    with pytest.raises(NotYours, match="offered to another agent"):
        await r.desk().accept(r.agent(DANA), CID)
    assert (r.tables.handoff(chat.id).status, r.tables.outbox, r.tables.transcript) == (
        "offered",
        [],
        [],
    )
    assert r.uow.rollbacks == 1


async def test_an_admin_may_accept_an_offer_made_to_anyone() -> None:
    """An admin takes the chat, though offered to Lee and in no queue of hers."""
    r = Rig()
    chat = r.chat(status="offered", offered_to=LEE)
    await r.desk().accept(r.agent(ADA), CID)
    assert (r.tables.handoff(chat.id).agent_id, chat.offered_to) == (ADA, None)


async def test_an_agent_outside_the_chats_queue_may_not_act_on_it() -> None:
    """Kim sees the conversation (it may have been Billing's before), but it is not hers."""
    r = Rig()
    r.chat()
    with pytest.raises(NotYours, match="not in your queues"):
        await r.desk().accept(r.agent(KIM), CID)


async def test_a_conversation_the_agent_may_not_see_is_hidden_before_anything_is_read() -> None:
    """As for an id that does not exist: no lock taken, no chat looked up."""
    r = Rig()
    r.chat()
    r.tables.visible = set()
    with pytest.raises(Hidden, match="no such conversation"):
        await r.desk().accept(r.agent(DANA), CID)
    assert r.tables.locked == []


async def test_accepting_twice_or_with_nobody_waiting_is_a_conflict() -> None:
    """Nobody could accept: there is no chat, or it is already this agent's."""
    r = Rig()
    with pytest.raises(Conflict, match="nobody is waiting"):
        await r.desk().accept(r.agent(DANA), CID)
    r.chat(status="active", agent_id=DANA)
    with pytest.raises(Conflict, match="already have this chat"):
        await r.desk().accept(r.agent(DANA), CID)


async def test_a_reply_goes_to_the_texter_in_plain_characters_and_stops_the_wait() -> None:
    """Curly quotes become straight ones (GSM-7); the agent counts as having answered."""
    r = Rig()
    chat = r.chat(status="active", agent_id=DANA)
    await r.desk().reply_text(r.agent(DANA), CID, "  It\u2019s fixed \u2014 try now.  ")
    assert r.texts() == ["It's fixed - try now."]
    assert [(e.author, e.agent_id) for e in r.tables.transcript] == [("agent", DANA)]
    assert chat.last_agent_at == r.clock.now()


async def test_only_the_chats_agent_or_an_admin_may_reply_once_it_is_accepted() -> None:
    """A colleague is refused; before it is accepted, nobody may reply."""
    r = Rig()
    r.chat(status="active", agent_id=DANA)
    with pytest.raises(NotYours, match="another agent has this chat"):
        await r.desk().reply_text(r.agent(LEE), CID, "hello")
    await r.desk().reply_text(r.agent(ADA), CID, "An admin here.")
    chat = r.tables.handoff(1)  # a refusal rolled the tables back to copies
    chat.status, chat.agent_id = "waiting", None
    with pytest.raises(Conflict, match="accept it first"):
        await r.desk().reply_text(r.agent(DANA), CID, "hello")
    assert r.texts() == ["An admin here."]


async def test_an_empty_or_overlong_reply_is_refused() -> None:
    """Nothing to send, or more than ten segments' worth."""
    r = Rig()
    r.chat(status="active", agent_id=DANA)
    with pytest.raises(Invalid, match="empty"):
        await r.desk().reply_text(r.agent(DANA), CID, "   ")
    with pytest.raises(Invalid, match="at most 1600"):
        await r.desk().reply_text(r.agent(DANA), CID, "x" * 1601)
    assert r.tables.outbox == []


def _record(number: str, caller_id: int | None) -> Record:
    now = datetime(2025, 1, 6, tzinfo=UTC)
    return Record(
        1, number, "Printer jam", "", None, "New", 3, 3, caller_id, None, None, None, now, now
    )


async def test_a_card_is_sent_only_for_one_of_the_texters_own_records() -> None:
    """Someone else's record is refused by name; the texter's goes out with its link."""
    r = Rig()
    r.chat(status="active", agent_id=DANA)
    r.tables.records.extend([_record("INC0000001", 42), _record("INC0000002", 7)])
    with pytest.raises(Invalid, match="INC0000002 is not one of this texter's records"):
        await r.desk().reply_card(r.agent(DANA), CID, "INC0000002")
    with pytest.raises(Invalid, match="no record INC9"):
        await r.desk().reply_card(r.agent(DANA), CID, "INC9")
    await r.desk().reply_card(r.agent(DANA), CID, "inc0000001")
    [card] = r.texts()
    assert "INC0000001" in card
    assert "https://desk.example/r/INC0000001" in card


async def test_an_agent_comments_on_the_texters_record_under_their_name() -> None:
    """A comment or a work note on one of the texter's records, said in the transcript;
    nothing is texted, and someone else's record or an empty comment is refused."""
    r = Rig()
    r.chat(status="active", agent_id=DANA)
    r.tables.records.extend([_record("INC0000001", 42), _record("INC0000002", 7)])
    desk = r.desk()
    await desk.comment_on_record(r.agent(DANA), CID, "inc0000001", " On our way. ", public=True)
    await desk.comment_on_record(r.agent(DANA), CID, "INC0000001", "Needs a part", public=False)
    [record] = [x for x in r.tables.records if x.number == "INC0000001"]
    assert [(c.author, c.body, c.public) for c in record.comments] == [
        ("Dana Agent", "On our way.", True),
        ("Dana Agent", "Needs a part", False),
    ]
    assert r.notes()[-2:] == [
        "Dana Agent added a comment on INC0000001",
        "Dana Agent added a work note on INC0000001",
    ]
    assert r.texts() == []
    with pytest.raises(Invalid, match="INC0000002 is not one of this texter's records"):
        await desk.comment_on_record(r.agent(DANA), CID, "INC0000002", "Hi", public=True)
    with pytest.raises(Invalid, match="empty"):
        await desk.comment_on_record(r.agent(DANA), CID, "INC0000001", "  ", public=True)
    with pytest.raises(NotYours):
        await desk.comment_on_record(r.agent(LEE), CID, "INC0000001", "Me too", public=True)
    assert len(record.comments) == 2


async def test_a_comment_on_a_record_kept_elsewhere_is_written_there_not_here() -> None:
    """Records in another service: read and written there, outside the transaction."""
    r = Rig()
    r.chat(status="active", agent_id=DANA)
    there = RecordTables(records=[_record("INC0000001", 42), _record("INC0000002", 7)])
    remote = FakeRecordStore(there)
    desk = r.desk(remote=remote)
    await desk.comment_on_record(r.agent(DANA), CID, "INC0000001", "On our way.", public=True)
    assert [(c.author, c.body) for c in there.record("INC0000001").comments] == [
        ("Dana Agent", "On our way.")
    ]
    assert r.tables.records == []
    assert r.notes()[-1] == "Dana Agent added a comment on INC0000001"
    with pytest.raises(Invalid, match="not one of this texter's records"):
        await desk.comment_on_record(r.agent(DANA), CID, "INC0000002", "Hi", public=True)
    assert there.record("INC0000002").comments == ()


async def test_transfer_to_a_colleague_offers_them_the_chat_and_tells_the_texter() -> None:
    """Offered to Lee, with Dana counted as having declined it; the texter stands by."""
    r = Rig()
    chat = r.chat(status="active", agent_id=DANA)
    await r.desk().transfer(r.agent(DANA), CID, queue_id=None, to_agent_id=LEE, note=" VIP ")
    assert (chat.status, chat.offered_to, chat.agent_id, chat.declined) == (
        "offered",
        LEE,
        None,
        [DANA],
    )
    assert r.tables.notes[chat.id] == "VIP"
    assert r.tables.conversations[CID].mode == "queued"
    assert r.notes() == ["Dana Agent transferred the chat to Lee Colleague: VIP"]
    assert r.texts() == ["I'm passing you to a colleague. Please stand by."]


async def test_transfer_to_a_queue_puts_the_texter_back_in_its_line() -> None:
    """Waiting in Billing, held by nobody, the transfer named after the queue."""
    r = Rig()
    chat = r.chat(status="active", agent_id=DANA)
    await r.desk().transfer(r.agent(DANA), CID, queue_id=BILLING, to_agent_id=None, note="")
    assert (chat.status, chat.queue_id, chat.offered_to) == ("waiting", BILLING, None)
    assert r.tables.notes[chat.id] is None
    assert r.notes() == ["Dana Agent transferred the chat to Billing"]


async def test_transfers_to_yourself_to_nowhere_or_of_a_waiting_chat_are_refused() -> None:
    """Each refusal leaves the chat as it was."""
    r = Rig()
    r.chat(status="active", agent_id=DANA)
    desk, dana = r.desk(), r.agent(DANA)
    with pytest.raises(Conflict, match="already yours"):
        await desk.transfer(dana, CID, queue_id=None, to_agent_id=DANA, note="")
    with pytest.raises(Invalid, match="no such queue"):
        await desk.transfer(dana, CID, queue_id=99, to_agent_id=None, note="")
    with pytest.raises(Invalid, match="no such agent"):
        await desk.transfer(dana, CID, queue_id=None, to_agent_id=99, note="")
    chat = r.tables.handoff(1)  # each refusal rolled the tables back to copies
    chat.status, chat.agent_id = "waiting", None
    with pytest.raises(NotYours, match="accept it first"):
        await desk.transfer(dana, CID, queue_id=BILLING, to_agent_id=None, note="")
    chat = r.tables.handoff(1)
    assert (chat.queue_id, chat.status, r.tables.outbox, r.tables.transcript) == (
        SERVICE,
        "waiting",
        [],
        [],
    )


async def test_an_admin_takes_over_a_colleagues_chat_by_transferring_it_to_herself() -> None:
    """The one transfer to oneself allowed: the chat is offered to the admin."""
    r = Rig()
    chat = r.chat(status="active", agent_id=DANA)
    await r.desk().transfer(r.agent(ADA), CID, queue_id=None, to_agent_id=ADA, note="")
    assert (chat.status, chat.offered_to, chat.declined) == ("offered", ADA, [ADA])


async def test_ending_a_chat_hands_the_texter_back_to_the_bot() -> None:
    """Ended by the agent; the texter is thanked and told they are with the bot again."""
    r = Rig()
    chat = r.chat(status="active", agent_id=DANA)
    await r.desk().end(r.agent(DANA), CID)
    assert (chat.status, chat.ended_by, chat.ended_at) == ("ended", "agent", r.clock.now())
    assert r.tables.conversations[CID].mode == "bot"
    assert r.notes() == ["Chat ended by Dana Agent"]
    assert r.texts() == [
        "Thanks for chatting with the service desk.\n\n"
        "You're back with the virtual agent. Reply MENU for options."
    ]
    assert [t.kind for t in r.tables.outbox] == ["reply"]


async def test_a_colleague_may_not_end_a_chat_that_is_not_theirs() -> None:
    """Ending follows the reply rule: the chat's agent, or an admin."""
    r = Rig()
    r.chat(status="active", agent_id=DANA)
    with pytest.raises(NotYours):
        await r.desk().end(r.agent(LEE), CID)
    assert r.tables.handoff(1).status == "active"


async def test_the_timer_ends_an_idle_chat_on_the_assigners_transaction() -> None:
    """No agent, no access rule: "ended by timer"; with no open chat, nothing at all."""
    r = Rig()
    chat = r.chat(status="active", agent_id=DANA)
    desk = r.desk()
    async with r.uow.begin() as repositories:
        await desk.at(repositories).end(None, CID, r.clock.now(), ended_by="timeout")
    assert (chat.status, chat.ended_by) == ("ended", "timeout")
    assert r.notes() == ["Chat ended by timer"]
    async with r.uow.begin() as repositories:
        await desk.at(repositories).end(None, CID, r.clock.now(), ended_by="timeout")
        await desk.at(repositories).end(None, 404, r.clock.now(), ended_by="timeout")
    assert len(r.texts()) == 1


async def test_an_image_is_checked_before_the_transaction_and_sent_with_its_caption() -> None:
    """Too large is refused unread; a decoded image is stored and sent by MMS."""
    r = Rig()
    r.chat(status="active", agent_id=DANA)
    desk = r.desk(max_image_bytes=3 * 1024 * 1024)
    with pytest.raises(Invalid, match="larger than 3 MB"):
        await desk.decode_upload(b"x" * (3 * 1024 * 1024 + 1))
    image = await desk.decode_upload(b"png bytes")
    await desk.reply_image(r.agent(DANA), CID, b"png bytes", image, " the fix ")
    [(key, (stored, data))] = r.tables.uploads.items()
    assert (stored.content_type, data) == ("image/png", b"png bytes")
    assert [(t.body, t.media) for t in r.tables.outbox] == [("the fix", (key,))]


async def test_an_unusable_image_is_refused_only_after_whose_chat_it_is() -> None:
    """Not an image, or too many pixels: said as such, but a colleague hears "not yours"."""
    r = Rig(images=FakeImageChecker(refuse="too_many_pixels"))
    r.chat(status="active", agent_id=DANA)
    desk = r.desk()
    with pytest.raises(Invalid, match="more than 2 megapixels") as refused:
        await desk.decode_upload(b"huge")
    with pytest.raises(NotYours):
        await desk.reply_image(r.agent(LEE), CID, b"huge", refused.value, "")
    with pytest.raises(Invalid, match="more than 2 megapixels"):
        await desk.reply_image(r.agent(DANA), CID, b"huge", refused.value, "")
    r.images.refuse = "not_image"
    with pytest.raises(Invalid, match="only JPEG, PNG, GIF or WebP"):
        await desk.decode_upload(b"%PDF")
    assert (r.tables.uploads, r.tables.outbox) == ({}, [])
