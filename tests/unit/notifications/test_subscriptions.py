"""Notification/START/STOP and staff's changes on in-memory repositories."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

from textdesk.channel.answering import TextInContext
from textdesk.domain.agent.messages import InboundText, Texter
from textdesk.domain.agent.state import ConversationState
from textdesk.domain.subscriptions import Wording
from textdesk.notifications.subscriptions import (
    KEYWORD_SOURCE,
    Handled,
    StaffChange,
    SubscriptionCommands,
    SubscriptionSettings,
)
from textdesk.ports import ConversationRow, TexterProfile
from textdesk.testing.clock import FixedClock
from textdesk.testing.notifications import (
    FakeSubscriptionRepositories,
    FakeTemplates,
    NotificationTables,
    StoredUser,
    fake_subscription_settings,
)
from textdesk.testing.tables import FakeUnitOfWork

DESK = "+15550100100"
ALICE = StoredUser(1, "Alice", "+15551230001")
GUEST_PHONE = "+15551239999"
# A ServiceNow sys_user with no account here, as the user index knows her.
CAROL = TexterProfile(
    "+15551230003", "Carol Example", "carol@example.com", account="c3", link="https://i/u/c3"
)
WORDING = Wording()
# The bot asked a question the texter's next text answers.
MID_TOPIC = ConversationState(topic_id="report", node_id="ask_title").to_dict()


@dataclass
class Rig:
    uow: FakeUnitOfWork[NotificationTables, FakeSubscriptionRepositories] = field(
        default_factory=fake_subscription_settings
    )
    clock: FixedClock = field(default_factory=FixedClock)

    def __post_init__(self) -> None:
        self.tables.users[ALICE.id] = ALICE

    @property
    def tables(self) -> NotificationTables:
        return self.uow.tables

    async def text(
        self,
        body: str,
        *,
        texter: Texter | None = None,
        state: dict[str, Any] | None = None,
        mode: str = "bot",
    ) -> Handled | None:
        """``body`` from ``texter`` (Alice by default), answered in one transaction."""
        who = texter or Texter(ALICE.phone or "", ALICE.id, ALICE.name)
        async with self.uow.begin() as repos:
            commands = SubscriptionCommands(FakeTemplates(), repositories=lambda turn: repos)
            turn = TextInContext(
                repos=cast(Any, None),  # the commands are handed the repositories themselves
                conversation_id=7,
                texter=who,
                number=DESK,
                text=InboundText(body),
                media=[],
                now=self.clock.now(),
            )
            return await commands.handle(turn, state, mode)

    def settings(self) -> SubscriptionSettings:
        return SubscriptionSettings(uow=self.uow, clock=self.clock)


def carol() -> Texter:
    """Carol as her texts' batch read her: known by her profile, no account here."""
    return Texter(CAROL.phone, None, CAROL.name, account=CAROL.account)


def only_reply(handled: Handled | None) -> str:
    assert handled is not None
    [reply] = handled.replies
    return reply.body


async def test_an_ordinary_text_is_not_a_command_and_reads_nothing() -> None:
    r = Rig()
    assert await r.text("my printer is broken") is None
    assert r.uow.commits == 1
    assert r.tables.changes == {}


async def test_start_subscribes_an_account_holder_and_audits_it_as_sms() -> None:
    r = Rig()
    assert only_reply(await r.text("Start.")) == WORDING.subscribed
    assert r.tables.subscribed[ALICE.id] is True
    [change] = r.tables.changes[ALICE.id]
    assert (change.enabled, change.source, change.at) == (True, "sms", r.clock.now())


async def test_a_guest_cannot_subscribe_and_is_told_how_to_register() -> None:
    r = Rig()
    guest = Texter(GUEST_PHONE)
    body = only_reply(await r.text("START", texter=guest))
    assert body.startswith("SMS notifications are for registered users only.")
    assert WORDING.how_to_register in body
    assert r.tables.subscribed == {}
    assert r.tables.changes == {}
    assert only_reply(await r.text("notification", texter=guest)).startswith(
        "SMS notifications are for registered users"
    )
    assert list(r.tables.users) == [ALICE.id]  # no account made for a guest


async def test_a_texter_known_by_a_profile_there_is_subscribed_with_an_account_made_from_it() -> (
    None
):
    """START from a ServiceNow user with no account here: an account with the profile's
    name, number and email, subscribed, and the account holder's confirmation."""
    r = Rig()
    r.tables.profiles[CAROL.phone] = CAROL
    r.tables.conversations[7] = ConversationRow(7, CAROL.phone, DESK, None, "bot", None)
    handled = await r.text("START", texter=carol())
    assert only_reply(handled) == WORDING.subscribed
    [made] = [u for u in r.tables.users.values() if u.id != ALICE.id]
    assert (made.name, made.phone, made.email) == ("Carol Example", CAROL.phone, CAROL.email)
    assert r.tables.subscribed == {made.id: True}
    [change] = r.tables.changes[made.id]
    assert (change.enabled, change.source) == (True, "sms")
    # The conversation names the account now, so staff see the setting there.
    assert r.tables.conversations[7].user_id == made.id
    assert handled is not None
    assert handled.notes == [
        "Made a textdesk account from the texter's profile, to keep the setting.",
        "Texter turned SMS notifications on (START).",
    ]


async def test_a_profile_texters_later_commands_find_the_account_by_their_number() -> None:
    """A texter read before their account was made (an earlier text of the same batch)
    gets one account, and the answers of an account holder who is subscribed."""
    r = Rig()
    r.tables.profiles[CAROL.phone] = CAROL
    await r.text("start", texter=carol())
    assert only_reply(await r.text("notification", texter=carol())) == WORDING.status_on
    assert only_reply(await r.text("start", texter=carol())) == WORDING.already_on
    assert len(r.tables.users) == 2
    assert only_reply(await r.text("stop", texter=carol())) == WORDING.unsubscribed
    assert set(r.tables.subscribed.values()) == {False}


async def test_a_profile_texters_status_query_or_stop_makes_no_account() -> None:
    """Only turning notifications on needs an account: the others answer as for an
    account holder who never subscribed."""
    r = Rig()
    r.tables.profiles[CAROL.phone] = CAROL
    assert only_reply(await r.text("Notification", texter=carol())) == WORDING.status_off
    assert only_reply(await r.text("STOP", texter=carol())) == WORDING.unsubscribed
    assert r.tables.optouts == {CAROL.phone: KEYWORD_SOURCE}
    assert list(r.tables.users) == [ALICE.id]
    assert r.tables.changes == {}


async def test_a_profile_texters_start_after_their_stop_lifts_the_opt_out_too() -> None:
    r = Rig()
    r.tables.profiles[CAROL.phone] = CAROL
    await r.text("stop", texter=carol())
    assert only_reply(await r.text("start", texter=carol())) == WORDING.subscribed
    assert r.tables.optouts == {}
    assert set(r.tables.subscribed.values()) == {True}


async def test_stop_unsubscribes_and_records_the_carrier_opt_out() -> None:
    r = Rig()
    r.tables.subscribed[ALICE.id] = True
    handled = await r.text("stop")
    assert only_reply(handled) == WORDING.unsubscribed
    assert r.tables.subscribed[ALICE.id] is False
    assert r.tables.optouts == {ALICE.phone: KEYWORD_SOURCE}
    assert handled is not None
    assert handled.notes == [
        "Texter turned SMS notifications off (STOP).",
        "Texter opted out of all texts (STOP): the carrier blocks our texts now.",
    ]


async def test_stop_wins_mid_topic_with_no_hint_to_carry_on() -> None:
    """A STOP while the bot waits for an answer is a STOP, not an answer."""
    r = Rig()
    assert only_reply(await r.text("STOP", state=MID_TOPIC)) == WORDING.unsubscribed
    assert ALICE.phone in r.tables.optouts


async def test_a_guests_stop_is_recorded_as_a_carrier_opt_out() -> None:
    r = Rig()
    assert only_reply(await r.text("unsubscribe", texter=Texter(GUEST_PHONE))) == (
        WORDING.guest_stop
    )
    assert r.tables.optouts == {GUEST_PHONE: KEYWORD_SOURCE}


async def test_a_command_mid_topic_reminds_the_texter_of_the_open_question() -> None:
    r = Rig()
    body = only_reply(await r.text("notifications", state=MID_TOPIC))
    assert body == f"{WORDING.status_off}\n{WORDING.resume_hint}"


async def test_start_after_a_carrier_opt_out_lifts_it_and_subscribes() -> None:
    r = Rig()
    await r.text("stop")
    assert only_reply(await r.text("start")) == WORDING.subscribed
    assert r.tables.optouts == {}
    assert r.tables.opted_in == [ALICE.phone]
    assert r.tables.subscribed[ALICE.id] is True


async def test_yes_lifts_a_carrier_opt_out_but_never_subscribes() -> None:
    r = Rig()
    await r.text("stop")
    assert only_reply(await r.text("Yes")) == WORDING.resumed
    assert r.tables.optouts == {}
    assert not r.tables.subscribed.get(ALICE.id)


async def test_yes_mid_topic_lifts_the_opt_out_and_still_answers_the_question() -> None:
    r = Rig()
    await r.text("stop")
    assert await r.text("yes", state=MID_TOPIC) is None
    assert r.tables.optouts == {}


async def test_yes_is_no_command_when_the_number_is_not_opted_out() -> None:
    r = Rig()
    assert await r.text("yes") is None
    assert r.tables.opted_in == []


async def test_status_of_an_opted_out_subscriber_says_the_number_is_blocked() -> None:
    r = Rig()
    r.tables.subscribed[ALICE.id] = True
    r.tables.optouts[ALICE.phone or ""] = "21610"
    assert only_reply(await r.text("notification")) == WORDING.status_blocked


async def test_the_api_turning_notifications_on_leaves_a_carrier_opt_out_alone() -> None:
    r = Rig()
    await r.text("stop")
    view = await r.settings().change(ALICE.id, enabled=True, source="api")
    assert view is not None
    assert (view.enabled, view.carrier_opted_out) == (True, True)
    assert [(c.enabled, c.source) for c in view.changes] == [(True, "api")]


async def test_the_api_cannot_change_an_unknown_account() -> None:
    r = Rig()
    assert await r.settings().change(99, enabled=True, source="api") is None
    assert await r.settings().view(99) is None
    assert r.tables.changes == {}


async def test_an_admin_changes_a_texters_setting_with_the_reason_and_their_name() -> None:
    r = Rig()
    r.tables.conversations[7] = ConversationRow(7, ALICE.phone or "", DESK, ALICE.id, "bot", None)
    outcome = await r.settings().change_for_texter(
        7, enabled=True, reason="  asked on the phone ", actor="Ann", is_admin=True
    )
    assert outcome is StaffChange.CHANGED
    [change] = r.tables.changes[ALICE.id]
    assert (change.source, change.reason, change.actor) == (
        "workspace",
        "asked on the phone",
        "Ann",
    )


async def test_only_an_admin_with_a_reason_changes_a_texters_setting() -> None:
    r = Rig()
    r.tables.conversations[7] = ConversationRow(7, ALICE.phone or "", DESK, ALICE.id, "bot", None)
    settings = r.settings()

    async def change(reason: str, *, is_admin: bool = True) -> StaffChange:
        return await settings.change_for_texter(
            7, enabled=True, reason=reason, actor="Bo", is_admin=is_admin
        )

    assert await change("asked", is_admin=False) is StaffChange.NOT_ADMIN
    assert await change("   ") is StaffChange.NO_REASON
    assert await change("x" * 501) is StaffChange.NO_REASON
    assert await change("a\x00b") is StaffChange.NO_REASON
    assert r.tables.changes == {}


async def test_a_guests_conversation_has_no_setting_to_change() -> None:
    r = Rig()
    r.tables.conversations[8] = ConversationRow(8, GUEST_PHONE, DESK, None, "bot", None)
    settings = r.settings()
    assert (
        await settings.change_for_texter(8, enabled=True, reason="r", actor="A", is_admin=True)
        is StaffChange.GUEST
    )
    assert (
        await settings.change_for_texter(9, enabled=True, reason="r", actor="A", is_admin=True)
        is StaffChange.NO_CONVERSATION
    )


async def test_an_operator_reply_that_fails_to_render_falls_back_to_the_built_in() -> None:
    """A reworded reply stopped by its budget, or rendering empty, is not sent blank."""
    r = Rig()
    costly = "{% for i in range(4000) %}{{ 'y' * 50 }}{% endfor %}"
    templates = FakeTemplates(wording=Wording(subscribed=costly, status_off="{{ '' }}"))
    async with r.uow.begin() as repos:
        commands = SubscriptionCommands(templates, repositories=lambda turn: repos)

        async def answer(body: str) -> str:
            turn = TextInContext(
                repos=cast(Any, None),
                conversation_id=7,
                texter=Texter(ALICE.phone or "", ALICE.id, ALICE.name),
                number=DESK,
                text=InboundText(body),
                media=[],
                now=r.clock.now(),
            )
            return only_reply(await commands.handle(turn, None, "bot"))

        assert await answer("notification") == WORDING.status_off
        assert await answer("start") == WORDING.subscribed
