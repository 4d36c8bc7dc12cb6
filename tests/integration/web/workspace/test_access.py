"""No chat takeover: every Workspace action on a colleague's chat, over real HTTP.

Dana has the chat (or is being offered it); Lee is in the same queue, so he can see
it, but every action he tries is refused with 403 and changes nothing.  Dana (the chat
actions) and Sam the admin (all of them) still can.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.routing import APIRoute

from tests.integration.conftest import TEXTER, Desk
from tests.integration.phone_helpers import Phone, tiny_png
from tests.integration.workspace_helpers import AgentBrowser, new_agent
from textdesk.adapters.clock import SystemClock
from textdesk.adapters.db import records as record_store
from textdesk.bootstrap import admin_use_cases
from textdesk.channel.answering import Converser
from textdesk.web.workspace import home

PNG = {"file": ("screen.png", tiny_png(), "image/png")}


@pytest.fixture
def converser() -> Converser | None:
    """The real virtual agent: 'agent' hands the texter over."""
    return None


@dataclass
class Team:
    """Dana (available) has the chat; Lee, Kim and Sam (admin) are away, in the same queue."""

    desk: Desk
    ids: dict[str, int]
    browsers: dict[str, AgentBrowser]
    cid: int = 0
    record: str = ""
    phone: Phone | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def target(self, who: str) -> str:
        return f"agent:{self.ids[who]}"

    async def act(self, who: str, action: str, data: dict[str, str] | None = None) -> Any:
        files = PNG if action == "image" else None
        return await self.browsers[who].act(
            f"/workspace/conversations/{self.cid}/{action}", data, files=files
        )

    async def status(self) -> tuple[str, int | None, int | None]:
        row = (
            await self.desk.rows(
                "SELECT status, agent_id, offered_to FROM handoffs "
                "WHERE conversation_id = :c ORDER BY id DESC",
                c=self.cid,
            )
        )[0]
        return (row.status, row.agent_id, row.offered_to)

    async def snapshot(self) -> dict[str, list[Any]]:
        """Everything an action could change: the chat, the conversation, what was said."""
        by_conversation = {
            "handoffs": "SELECT * FROM handoffs WHERE conversation_id = :c ORDER BY id",
            "conversation": "SELECT state, mode, updated_at FROM conversations WHERE id = :c",
            "transcript": "SELECT * FROM transcript WHERE conversation_id = :c ORDER BY id",
        }
        found = {
            name: [tuple(r) for r in await self.desk.rows(sql, c=self.cid)]
            for name, sql in by_conversation.items()
        }
        found["outbox"] = [
            tuple(r) for r in await self.desk.rows("SELECT id FROM outbox ORDER BY id")
        ]
        found["media"] = [(await self.desk.scalar("SELECT count(*) FROM media"),)]
        for table, sql in (
            ("subscriptions", "SELECT * FROM subscriptions"),
            ("subscription_changes", "SELECT * FROM subscription_changes"),
        ):
            found[table] = [tuple(r) for r in await self.desk.rows(sql)]
        return found


@pytest.fixture
async def team(desk: Desk) -> AsyncIterator[Team]:
    clock = SystemClock()
    await admin_use_cases(desk.db, clock).accounts.add(name="Alice Example", phone=TEXTER)
    ids = {
        "dana": await new_agent(desk.db, "Dana Agent"),
        "lee": await new_agent(desk.db, "Lee Colleague", available=False),
        "kim": await new_agent(desk.db, "Kim Colleague", available=False),
        "sam": await new_agent(desk.db, "Sam Admin", role="admin", available=False),
    }
    async with desk.db.begin() as conn:
        record = await record_store.create(
            conn,
            short_description="VPN drops hourly",
            caller_id=None,
            caller_phone=TEXTER,
            now=clock.now(),
        )
    browsers: dict[str, AgentBrowser] = {}
    try:
        for name in ids:
            browsers[name] = AgentBrowser(desk.url)
            assert (await browsers[name].sign_in(f"{name}@example.com")).status_code == 303
        found = Team(desk=desk, ids=ids, browsers=browsers, record=str(record.number))
        found.phone = Phone(desk, TEXTER)
        await found.phone.say("hi")
        assert "Please stand by" in await found.phone.say("agent")
        found.cid = int(
            await desk.scalar("SELECT id FROM conversations WHERE phone = :p", p=TEXTER)
        )

        async def offered() -> bool:
            return await found.status() == ("offered", None, ids["dana"])

        await desk.eventually(offered, what="the offer to Dana")
        yield found
    finally:
        for browser in browsers.values():
            await browser.close()


async def _make(team: Team, state: str) -> None:
    """Bring the chat to ``state``: offered to Dana, active with her, or waiting in line."""
    if state == "offered":
        return
    assert (await team.act("dana", "accept")).status_code == 200
    if state == "waiting":
        # Dana steps away and puts the chat back in line: nobody is offered it.
        assert (
            await team.browsers["dana"].act("/workspace/presence", {"presence": "away"})
        ).status_code == 200
        queue = await team.desk.scalar("SELECT id FROM queues")
        moved = await team.act("dana", "transfer", {"target": f"queue:{queue}"})
        assert moved.status_code == 200
        assert (await team.status())[0] == "waiting"


@dataclass(frozen=True)
class Attempt:
    """One thing Lee tries on Dana's chat, and the refusal he must get."""

    name: str
    state: str  # what the chat is when he tries
    steps: tuple[tuple[str, dict[str, str]], ...]  # (action, form); targets by name
    refusal: str


ATTEMPTS = [
    Attempt("accept an offer made to Dana", "offered", (("accept", {}),), "offered to another"),
    Attempt("accept Dana's active chat", "active", (("accept", {}),), "another agent has"),
    Attempt("reply", "active", (("reply", {"body": "I'll take it"}),), "another agent has"),
    Attempt("send a card", "active", (("card", {"number": "{record}"}),), "another agent has"),
    Attempt("send an image", "active", (("image", {"caption": "hi"}),), "another agent has"),
    Attempt(
        "comment on the texter's record",
        "active",
        (("comment", {"number": "{record}", "body": "Mine now"}),),
        "another agent has",
    ),
    Attempt("end", "active", (("end", {}),), "another agent has"),
    Attempt(
        "transfer to a queue",
        "active",
        (("transfer", {"target": "queue:{queue}"}),),
        "another agent has",
    ),
    Attempt(
        "transfer to another colleague",
        "active",
        (("transfer", {"target": "agent:kim"}),),
        "another agent has",
    ),
    Attempt(
        "transfer the active chat to himself, then accept",
        "active",
        (("transfer", {"target": "agent:lee"}), ("accept", {})),
        "another agent has",
    ),
    Attempt(
        "transfer the offer to himself, then accept",
        "offered",
        (("transfer", {"target": "agent:lee"}), ("accept", {})),
        "offered to another",
    ),
    Attempt(
        "change the texter's notifications",
        "active",
        (("subscription", {"enabled": "true", "reason": "asked by phone"}),),
        "only an admin",
    ),
    Attempt(
        "transfer a chat waiting in line",
        "waiting",
        (("transfer", {"target": "agent:lee"}),),
        "accept it first",
    ),
]


def _posts(router: Any) -> set[str]:
    """The paths of every POST route of a router and of the routers it includes."""
    found: set[str] = set()
    for route in router.routes:
        included = getattr(route, "original_router", None)  # an included router
        if included is not None:
            found |= _posts(included)
        elif isinstance(route, APIRoute) and "POST" in route.methods:
            found.add(route.path)
    return found


async def _form(team: Team, form: dict[str, str]) -> dict[str, str]:
    queue = str(await team.desk.scalar("SELECT id FROM queues"))
    filled = {key: value.format(record=team.record, queue=queue) for key, value in form.items()}
    target = filled.get("target", "")
    if target.startswith("agent:"):
        filled["target"] = team.target(target.removeprefix("agent:"))
    return filled


def test_every_workspace_action_is_tried() -> None:
    """The table covers every action the Workspace has on a chat: a new one must join it."""
    tried = {action for attempt in ATTEMPTS for action, _ in attempt.steps}
    chat = "/conversations/{cid}/"
    posts = _posts(home.router)
    assert {p.removeprefix(chat) for p in posts if p.startswith(chat)} == tried
    # The others act on the agent themselves, never on a chat (the topic designer's
    # are admins' only, and tested so in test_topic_designer.py).
    designer = ("/workspace/topics", "/topics", "/{topic_id}")
    assert {p for p in posts if not p.startswith((chat, *designer))} == {
        "/workspace/login",
        "/workspace/logout",
        "/workspace/presence",
    }


@pytest.mark.parametrize("attempt", ATTEMPTS, ids=[a.name for a in ATTEMPTS])
async def test_a_colleague_cannot_take_over_a_chat(team: Team, attempt: Attempt) -> None:
    """Each action on a colleague's chat: 403, and the chat, transcript and outbox unchanged."""
    await _make(team, attempt.state)
    before = await team.snapshot()
    for action, form in attempt.steps:
        answer = await team.act("lee", action, await _form(team, form))
        assert answer.status_code == 403, (action, answer.status_code, answer.text)
        assert attempt.refusal in answer.text
    assert await team.snapshot() == before
    page = (await team.browsers["lee"].http.get(f"/workspace/conversations/{team.cid}")).text
    assert 'class="transfer"' not in page  # nor is he shown the buttons
    assert "/end" not in page


async def test_the_chats_agent_still_does_everything(team: Team) -> None:
    """Dana accepts, replies three ways, and hands the chat to Lee, who may then accept it."""
    assert team.phone is not None
    assert (await team.act("dana", "accept")).status_code == 200
    for action, form in (("reply", {"body": "Try a restart."}), ("card", {"number": team.record})):
        assert (await team.act("dana", action, form)).status_code == 200, action
    assert (await team.act("dana", "image", {"caption": "Like this"})).status_code == 200
    sent = await team.desk.fake.wait_for_messages(team.phone.seen + 4, to=TEXTER)
    assert sent[-3].body == "Try a restart."
    assert team.record in sent[-2].body
    assert (sent[-1].body, len(sent[-1].media_urls)) == ("Like this", 1)
    # Transferring to herself would only be a way round the offer rules.
    again = await team.act("dana", "transfer", {"target": team.target("dana")})
    assert again.status_code == 409
    # Lee has the Workspace open (an offer to someone not connected goes back in line).
    async with team.browsers["lee"].events():
        handed = await team.act("dana", "transfer", {"target": team.target("lee"), "note": "VPN"})
        assert handed.status_code == 200
        assert await team.status() == ("offered", None, team.ids["lee"])
        assert (await team.act("lee", "accept")).status_code == 200
    assert await team.status() == ("active", team.ids["lee"], None)
    assert (await team.act("lee", "end")).status_code == 200
    assert (await team.status())[0] == "ended"


async def test_an_admin_may_act_on_any_chat(team: Team) -> None:
    """Sam accepts an offer made to Dana, replies, takes over by transfer, and ends it."""
    assert team.phone is not None
    assert (await team.act("sam", "accept")).status_code == 200
    assert await team.status() == ("active", team.ids["sam"], None)
    handed = await team.act("sam", "transfer", {"target": team.target("dana")})
    assert handed.status_code == 200
    assert (await team.act("dana", "accept")).status_code == 200
    # Dana's chat now: the admin replies in it, then takes it back by transfer and accept.
    for action, form in (
        ("reply", {"body": "Sam here too."}),
        ("card", {"number": team.record}),
        ("image", {"caption": "Like this"}),
    ):
        assert (await team.act("sam", action, form)).status_code == 200, action
    assert (await team.act("sam", "transfer", {"target": team.target("sam")})).status_code == 200
    assert (await team.act("sam", "accept")).status_code == 200
    assert await team.status() == ("active", team.ids["sam"], None)
    assert (await team.act("sam", "end")).status_code == 200
    changed = await team.act("sam", "subscription", {"enabled": "true", "reason": "asked"})
    assert changed.status_code == 200
    sent = await team.desk.fake.wait_for_messages(team.phone.seen + 9, to=TEXTER)
    assert "Sam here too." in [m.body for m in sent]
    assert "Thanks for chatting" in sent[-1].body


async def test_state_conflicts_answer_409_for_everyone(team: Team) -> None:
    """Replying before anyone accepted, or accepting your own chat, is a conflict (409) for all."""
    before = await team.snapshot()
    for who in ("dana", "lee", "sam"):
        answer = await team.act(who, "reply", {"body": "too early"})
        assert (answer.status_code, answer.text) == (
            409,
            "this chat is not active: accept it first",
        )
    assert await team.snapshot() == before
    assert (await team.act("dana", "accept")).status_code == 200
    mine = await team.act("dana", "accept")
    assert (mine.status_code, mine.text) == (409, "you already have this chat")
