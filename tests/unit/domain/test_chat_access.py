"""The rules of who may act on a live chat (domain/chat_access.py)."""

from __future__ import annotations

from textdesk.domain.chat_access import (
    Actor,
    OpenChat,
    Refusal,
    may_accept,
    may_talk,
    may_transfer,
)

DANA, LEE, SAM = Actor(1, False), Actor(2, False), Actor(3, True)
WAITING = OpenChat("waiting", None, None)
OFFERED = OpenChat("offered", None, DANA.id)
ACTIVE = OpenChat("active", DANA.id, None)


def _kind(decision: tuple[Refusal, str] | None) -> Refusal | None:
    return None if decision is None else decision[0]


def test_a_waiting_chat_is_anyones_to_accept_but_nobodys_to_talk_in() -> None:
    """Any member may pick a texter from the line; nobody replies before accepting."""
    assert may_accept(LEE, WAITING) is None
    assert _kind(may_talk(DANA, WAITING)) is Refusal.CONFLICT
    assert _kind(may_transfer(LEE, WAITING, None)) is Refusal.NOT_YOURS


def test_an_offer_is_accepted_by_its_agent_or_an_admin() -> None:
    """Lee cannot take Dana's offer, directly or by transferring it to himself."""
    assert may_accept(DANA, OFFERED) is None
    assert may_accept(SAM, OFFERED) is None
    assert _kind(may_accept(LEE, OFFERED)) is Refusal.NOT_YOURS
    assert _kind(may_transfer(LEE, OFFERED, LEE.id)) is Refusal.NOT_YOURS
    assert may_transfer(DANA, OFFERED, LEE.id) is None


def test_an_active_chat_is_its_agents_and_the_admins() -> None:
    """Only Dana (or an admin) talks in, ends or hands on her chat; an admin may take it."""
    assert may_talk(DANA, ACTIVE) is None
    assert may_talk(SAM, ACTIVE) is None
    assert _kind(may_talk(LEE, ACTIVE)) is Refusal.NOT_YOURS
    for target in (None, LEE.id, SAM.id):
        assert _kind(may_transfer(LEE, ACTIVE, target)) is Refusal.NOT_YOURS
    assert may_transfer(SAM, ACTIVE, SAM.id) is None
    assert _kind(may_transfer(DANA, ACTIVE, DANA.id)) is Refusal.CONFLICT
    assert _kind(may_accept(LEE, ACTIVE)) is Refusal.NOT_YOURS
    assert _kind(may_accept(DANA, ACTIVE)) is Refusal.CONFLICT


def test_without_an_open_chat_nobody_can_act() -> None:
    """No hand-off open: every action is a conflict, for an admin too."""
    for actor in (DANA, SAM):
        assert _kind(may_accept(actor, None)) is Refusal.CONFLICT
        assert _kind(may_talk(actor, None)) is Refusal.CONFLICT
        assert _kind(may_transfer(actor, None, None)) is Refusal.CONFLICT
