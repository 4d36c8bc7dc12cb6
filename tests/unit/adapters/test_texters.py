"""Who texts when people are kept in two places: accounts here first, then profiles there."""

from __future__ import annotations

from collections.abc import Sequence

from textdesk.adapters.texters import TextersWithProfiles
from textdesk.channel.answering import texter_of
from textdesk.domain.agent.messages import Texter
from textdesk.ports import TexterProfile

ALICE = "+15551230001"
BOB = "+15551230002"
GUEST = "+15551239999"


class Accounts:
    """``ports.TexterDirectory`` over a dict: the accounts here."""

    def __init__(self, *profiles: TexterProfile) -> None:
        self._by_phone = {p.phone: p for p in profiles}

    async def profiles_by_phone(self, phones: Sequence[str]) -> dict[str, TexterProfile]:
        return {p: self._by_phone[p] for p in phones if p in self._by_phone}


class Profiles:
    """``ports.TexterProfiles`` over a dict: the other service's users, in memory."""

    def __init__(self, *profiles: TexterProfile) -> None:
        self._by_phone = {p.phone: p for p in profiles}
        self.looked_up: list[list[str]] = []

    def profile(self, phone: str) -> TexterProfile | None:
        return self._by_phone.get(phone)

    def settled(self, phone: str) -> bool:
        return True

    async def look_up(self, phones: Sequence[str]) -> None:
        self.looked_up.append(list(phones))


THERE_ALICE = TexterProfile(
    ALICE, "Alice Example", "alice@example.com", account="a1", link="https://i/u/a1"
)
THERE_BOB = TexterProfile(
    BOB, "Bob Example", "bob@example.com", account="b2", link="https://i/u/b2"
)


async def test_a_profile_there_is_the_texter_when_there_is_no_account_here() -> None:
    directory = TextersWithProfiles(Accounts(), Profiles(THERE_ALICE))
    assert await directory.profiles_by_phone([ALICE, GUEST]) == {ALICE: THERE_ALICE}


async def test_an_account_here_comes_first_and_gains_the_profiles_reference() -> None:
    here = TexterProfile(BOB, "Robert (desk name)", None, user_id=7)
    directory = TextersWithProfiles(Accounts(here), Profiles(THERE_ALICE, THERE_BOB))
    found = await directory.profiles_by_phone([BOB, ALICE])
    assert found[BOB] == TexterProfile(
        BOB, "Robert (desk name)", None, user_id=7, account="b2", link="https://i/u/b2"
    )
    assert found[ALICE] == THERE_ALICE


async def test_an_account_here_only_is_unchanged() -> None:
    here = TexterProfile(BOB, "Bob", "bob@here", user_id=7)
    directory = TextersWithProfiles(Accounts(here), Profiles())
    assert await directory.profiles_by_phone([BOB]) == {BOB: here}


async def test_the_directory_never_looks_up_the_service_itself() -> None:
    """Asked inside the answering transaction: memory only, never the service."""
    profiles = Profiles(THERE_ALICE)
    await TextersWithProfiles(Accounts(), profiles).profiles_by_phone([GUEST])
    assert profiles.looked_up == []


def test_the_texter_of_a_profile_is_known_by_its_reference() -> None:
    assert texter_of(ALICE, THERE_ALICE) == Texter(ALICE, name="Alice Example", account="a1")
    assert not texter_of(ALICE, THERE_ALICE).is_guest
    assert texter_of(GUEST, None) == Texter(GUEST)
    local = texter_of(BOB, TexterProfile(BOB, "Bob", None, user_id=7))
    assert local == Texter(BOB, user_id=7, name="Bob")  # as before: no reference
